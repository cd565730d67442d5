"""The examples in the redeploy core's docstrings are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["image", "events", "facts", "policy", "report"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(f"nightshift.redeploy.{name}")

    result = doctest.testmod(module)

    assert result.attempted > 0
    assert result.failed == 0
