"""The validated policy, as plain frozen data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class ProtectRule:
    """Which tag marks production. The protect tag wins over everything else.

    >>> ProtectRule("Environment", frozenset({"prod"})).protects({"Environment": "prod"})
    True
    """

    tag: str
    values: frozenset[str]

    def protects(self, tags: Mapping[str, str]) -> bool:
        return tags.get(self.tag) in self.values


DEFAULT_PROTECT = ProtectRule(tag="Environment", values=frozenset({"production", "prod"}))


@dataclass(frozen=True)
class Policy:
    """A policy file after validation: `sections` holds each section as validated JSON data,
    which the function that owns the section turns into its own typed model."""

    source: str
    version: int
    protect: ProtectRule
    sections: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def section(self, name: str, default: Any = None) -> Any:
        return self.sections.get(name, default)
