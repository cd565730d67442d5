"""Packages that re-export their modules' names lazily (nightshift.lazy): every name they list
resolves to the object its module defines, and the names imported for type checkers are the
names the package resolves at run time."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

LAZY_PACKAGES = [
    "nightshift.canary",
    "nightshift.policy",
    "nightshift.redeploy",
    "nightshift.schedule",
]


def type_checking_imports(package: str) -> dict[str, str]:
    """Name -> module, from the package's `if TYPE_CHECKING:` block."""
    tree = ast.parse(inspect.getsource(importlib.import_module(package)))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                assert statement.module
                found |= {alias.name: statement.module for alias in statement.names}
    return found


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_exported_name_resolves_to_its_modules_object(package: str) -> None:
    module = importlib.import_module(package)
    declared = type_checking_imports(package)

    assert sorted(declared) == sorted(module.__all__)
    for name, source in declared.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_an_unknown_name_is_an_attribute_error(package: str) -> None:
    module = importlib.import_module(package)

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018
