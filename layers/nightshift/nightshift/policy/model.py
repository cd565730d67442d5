"""The validated policy, as plain frozen data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


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
        return Targets.from_section(self.section("targets"))


# The functions that act in the accounts of a policy's targets (docs/organization.md), and those
# a production target never gets: production is never scheduled or pruned.
TARGET_FUNCTIONS = ("scheduler", "pruner", "redeploy")
NEVER_IN_PRODUCTION = frozenset({"scheduler", "pruner"})
DEFAULT_MAX_CONCURRENCY = 8


@dataclass(frozen=True)
class Target:
    """One entry of the policy's `targets.accounts`: an account, or the accounts of an OU (`ou`,
    listed by the hub at run time), the Regions acted in there (empty: the hub's Region), and
    which functions act there.

    >>> staging = Target(account="111122223333", name="staging", functions=frozenset({"scheduler"}))
    >>> staging.acts("scheduler"), staging.acts("pruner"), staging.label
    (True, False, 'staging')
    >>> Target(ou="ou-ab12-cdef3456", production=True).acts("scheduler")
    False
    """

    account: str | None = None
    ou: str | None = None
    name: str = ""
    regions: tuple[str, ...] = ()
    production: bool = False
    functions: frozenset[str] = frozenset(TARGET_FUNCTIONS)

    def acts(self, function: str) -> bool:
        """Whether `function` acts in this target; never the scheduler or pruner in production."""
        if self.production and function in NEVER_IN_PRODUCTION:
            return False
        return function in self.functions

    @property
    def label(self) -> str:
        return self.name or self.account or self.ou or "?"

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Target:
        production = bool(entry.get("production", False))
        default = ("redeploy",) if production else TARGET_FUNCTIONS
        return cls(
            account=entry.get("account"),
            ou=entry.get("ou"),
            name=entry.get("name", ""),
            regions=tuple(entry.get("regions", ())),
            production=production,
            functions=frozenset(entry.get("functions", default)),
        )


@dataclass(frozen=True)
class Targets:
    """The policy's `targets` section: where the functions act, and how many targets one run
    works at once. A policy without it has no Targets: the hub's own account and Region.

    >>> targets = Targets.from_section({"accounts": [{"account": "111122223333"}]})
    >>> targets.max_concurrency, targets.entries[0].regions
    (8, ())
    >>> Targets.from_section(None) is None
    True
    """

    entries: tuple[Target, ...]
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY

    @classmethod
    def from_section(cls, section: Mapping[str, Any] | None) -> Targets | None:
        if section is None:
            return None
        return cls(
            entries=tuple(Target.from_entry(entry) for entry in section["accounts"]),
            max_concurrency=section.get("max_concurrency", DEFAULT_MAX_CONCURRENCY),
        )
