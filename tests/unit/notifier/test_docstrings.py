"""The examples in the notifier core's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import nightshift.notify

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(nightshift.notify.__path__, "nightshift.notify.")
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_hold(module_name: str) -> None:
    result = doctest.testmod(importlib.import_module(module_name), optionflags=doctest.ELLIPSIS)

    assert result.failed == 0
