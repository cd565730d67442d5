"""A package's re-exports, imported when first asked for (PEP 562).

A package whose `__init__` imports all of its modules makes every importer of one of them pay
for all: `import nightshift.canary.status` runs `nightshift/canary/__init__.py` first. A
package that re-exports through `lazy_exports` loads only the module a name lives in, at the
first `from package import name` (or attribute access), and keeps it in the package's
namespace, so later look-ups are plain attribute reads. The same names are imported under
`TYPE_CHECKING` in the package, so type checkers see them as before (tests/unit/test_lazy.py
checks that both lists agree).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, namespace: dict[str, Any], modules: Mapping[str, tuple[str, ...]]
) -> Callable[[str], Any]:
    """The module `__getattr__` of `package` (whose globals are `namespace`): each name in
    `modules[module]` is `package.module`'s attribute of that name.

    >>> get = lazy_exports("json", {}, {"decoder": ("JSONDecodeError",)})
    >>> get("JSONDecodeError").__name__
    'JSONDecodeError'
    """
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    return __getattr__
