"""The examples in the pruner core's docstrings are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "nightshift.pacing",
    "nightshift.retention.apply",
    "nightshift.retention.cursor",
    "nightshift.retention.events",
    "nightshift.retention.gfs",
    "nightshift.retention.model",
    "nightshift.retention.plan",
    "nightshift.retention.render",
    "nightshift.retention.report",
    "nightshift.retention.rules",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)

    assert result.failed == 0
    assert result.attempted > 0
