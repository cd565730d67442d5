"""The examples in the scheduler core's docstrings (and the week plan's, now in the tools) are true."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from nightshift.schedule import (
    events,
    heads_up,
    model,
    override,
    plan,
    resources,
    settings,
    timeline,
)
from nightshift_tools import week  # the week plan left the layer (tools/nightshift_tools)


@pytest.mark.parametrize(
    "module", [events, heads_up, model, override, plan, resources, settings, timeline, week]
)
def test_docstring_examples_hold(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)

    assert result.attempted > 0
    assert result.failed == 0
