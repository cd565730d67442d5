"""The layer holds only what the deployed functions run: every module under
layers/nightshift/nightshift is imported, directly or through other layer modules, by one of the
six handlers (functions/<fn>/app.py). What only scripts, tests, the demo or bench use lives under
tools/ (issue #18). The imports are read from the source, so renames need no change here; an
import under `if TYPE_CHECKING:` counts (a port's Protocol is part of what the function runs
against)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

LAYER = ROOT / "layers" / "nightshift"
PACKAGE = "nightshift"


def layer_modules() -> dict[str, Path]:
    """Every module of the layer's package by dotted name (a package by its own name)."""
    modules: dict[str, Path] = {}
    for path in sorted((LAYER / PACKAGE).rglob("*.py")):
        parts = path.relative_to(LAYER).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported_names(path: Path, module: str) -> Iterator[str]:
    """The dotted names `path` (module `module`) imports anywhere in its body: `import a.b`,
    `from a import b` (b may be a submodule, so both `a` and `a.b`), relative imports resolved."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            yield origin
            yield from (f"{origin}.{alias.name}" for alias in node.names)


def with_parents(name: str) -> Iterator[str]:
    """Importing `a.b.c` runs `a`, `a.b` and `a.b.c`."""
    parts = name.split(".")
    yield from (".".join(parts[:end]) for end in range(1, len(parts) + 1))


def reached_from_handlers(modules: dict[str, Path]) -> set[str]:
    reached: set[str] = set()
    pending = [
        name
        for handler in sorted((ROOT / "functions").glob("*/app.py"))
        for name in imported_names(handler, f"{handler.parent.name}.app")
    ]
    while pending:
        for name in with_parents(pending.pop()):
            if name in modules and name not in reached:
                reached.add(name)
                pending.extend(imported_names(modules[name], name))
    return reached


def test_the_walk_finds_the_handlers_and_the_layer() -> None:
    modules = layer_modules()
    assert len(list((ROOT / "functions").glob("*/app.py"))) == 6
    assert {"nightshift", "nightshift.report", "nightshift.settings"} <= set(modules)
    assert {"nightshift", "nightshift.report"} <= reached_from_handlers(modules)


def test_relative_and_submodule_imports_are_followed(tmp_path: Path) -> None:
    source = tmp_path / "__init__.py"
    source.write_text("from . import render\nfrom .model import Notification\nimport a.b\n")

    names = set(imported_names(source, "nightshift.notify"))

    assert {"nightshift.notify.render", "nightshift.notify.model", "a.b"} <= names
    assert list(with_parents("a.b.c")) == ["a", "a.b", "a.b.c"]


def test_every_layer_module_is_run_by_some_function() -> None:
    modules = layer_modules()

    unreached = sorted(set(modules) - reached_from_handlers(modules))

    assert not unreached, (
        "layer modules no function imports (only scripts, tests, the demo or bench use them; "
        f"move them under tools/): {unreached}"
    )
