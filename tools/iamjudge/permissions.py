"""The IAM actions each function's code declares, as Cloud Custodian's resources and actions
declare their permissions: every adapter module has an `IAM_ACTIONS` constant, and a function
needs the union over the adapters its handler imports (followed statically through the
`nightshift` package, so nothing is run).

`python -m iamjudge.permissions` rewrites the generated block of docs/iam.md; the tests check
that the block is current and that each role grants exactly what its function declares.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from iamjudge.judge import Verdict
from iamjudge.roles import ROOT

FUNCTIONS_DIR = ROOT / "functions"
PACKAGE_DIR = ROOT / "layers" / "nightshift"
DOC = ROOT / "docs" / "iam.md"
BEGIN, END = (
    "<!-- iam-actions:begin (python -m iamjudge.permissions) -->",
    "<!-- iam-actions:end -->",
)
ADAPTERS = "nightshift.adapters"


def _module_file(name: str) -> Path | None:
    base = PACKAGE_DIR.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """The `nightshift` modules `path` imports (at run time or for type checking alike)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(
            name for name in names if name.split(".")[0] == "nightshift" and _module_file(name)
        )
    return found


@cache
def modules_of(function: str) -> frozenset[str]:
    """Every `nightshift` module the handler of `function` reaches through its imports."""
    seen: set[str] = set()
    todo = list(_imports(FUNCTIONS_DIR / function / "app.py"))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is not None:
            todo.extend(_imports(path) - seen)
    return frozenset(seen)


@cache
def declared_actions(function: str) -> frozenset[str]:
    """The IAM actions the adapters `function` uses declare."""
    actions: set[str] = set()
    for name in sorted(modules_of(function)):
        if name.startswith(ADAPTERS + "."):
            module = importlib.import_module(name)
            if not hasattr(module, "IAM_ACTIONS"):
                raise AttributeError(
                    f"{name} declares no IAM_ACTIONS (an empty set if it needs none)"
                )
            actions.update(module.IAM_ACTIONS)
    return frozenset(actions)


def declared(verdict: Verdict) -> Verdict:
    """An allowed call whose action the function's code does not declare fails too: the
    declarations (IAM_ACTIONS of the adapters) must say what the code calls."""
    if verdict.allowed and verdict.action not in declared_actions(verdict.function):
        return dataclasses.replace(
            verdict,
            decision="Undeclared",
            detail=f"no adapter {verdict.function} uses declares it in IAM_ACTIONS",
        )
    return verdict


def functions() -> tuple[str, ...]:
    return tuple(sorted(path.parent.name for path in FUNCTIONS_DIR.glob("*/app.py")))


def granted_actions(policies: Iterable[Mapping[str, Any]], own_policy: str) -> frozenset[str]:
    """The actions the Allow statements of the function's own policy (`own_policy`, the
    template's statements, not the AWS managed ones or the destination policies SAM adds) and of
    the template's AWS::IAM::Policy resources attached to its role grant."""
    actions: set[str] = set()
    for policy in policies:
        if policy["name"] != own_policy and not policy.get("attached"):
            continue
        for statement in policy["policy"]["Statement"]:
            if statement["Effect"] == "Allow":
                listed = statement["Action"]
                actions.update([listed] if isinstance(listed, str) else listed)
    return frozenset(actions)


def render() -> str:
    """The generated block of docs/iam.md: each function's actions and the adapters declaring
    them."""
    lines = [
        BEGIN,
        "",
        "| function | IAM actions its code declares (each granted by its role, nothing more) |",
        "|---|---|",
    ]
    for function in functions():
        actions = ", ".join(f"`{action}`" for action in sorted(declared_actions(function)))
        lines.append(f"| {function} | {actions} |")
    lines += ["", END]
    return "\n".join(lines)


def current_doc_block() -> str | None:
    text = DOC.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return None
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def write_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = current_doc_block()
    if block is None:
        raise SystemExit(f"{DOC} has no generated block ({BEGIN} ... {END})")
    DOC.write_text(text.replace(block, render()), encoding="utf-8")


if __name__ == "__main__":
    write_doc()
    print(f"wrote the IAM actions of {', '.join(functions())} to {DOC}")
