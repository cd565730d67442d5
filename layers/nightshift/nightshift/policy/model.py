"""The validated policy, as plain frozen data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nightshift.policy.targets import Targets


@dataclass(frozen=True)
class ProtectRule:
    """Which tag marks production. The protect tag wins over everything else.

    The one meaning of "production" (docs/decisions.md): the tag's value, compared
    case-insensitively, is one of `values`; or the value has leading or trailing whitespace. IAM
    can compare without case (StringEqualsIgnoreCase) but cannot trim, so a padded value is
    ambiguous and counts as protected (the roles deny it with StringLike [" *", "* "]).

    >>> rule = ProtectRule("Environment", frozenset({"production", "prod"}))
    >>> [rule.protects({"Environment": v}) for v in ("prod", "PROD", "prod ", "prod-eu")]
    [True, True, True, False]
    """

    tag: str
    values: frozenset[str]

    def protects(self, tags: Mapping[str, str]) -> bool:
        value = tags.get(self.tag)
        if not isinstance(value, str):
            return False
        return value != value.strip() or value.lower() in self._lowered

    @property
    def _lowered(self) -> frozenset[str]:
        return frozenset(v.lower() for v in self.values)


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

    @property
    def targets(self) -> Targets | None:
        """Where the functions act (`targets`); None: the hub's own account and Region."""
        from nightshift.policy.targets import Targets  # only the functions that have targets

        return Targets.from_section(self.section("targets"))


# The functions that act in the accounts of a policy's targets (docs/organization.md), and those
# a production target never gets: production is never scheduled or pruned.
TARGET_FUNCTIONS = ("scheduler", "pruner", "redeploy")
NEVER_IN_PRODUCTION = frozenset({"scheduler", "pruner"})
