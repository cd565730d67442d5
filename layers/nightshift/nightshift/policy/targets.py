"""The policy's `targets` section: where the functions act (docs/organization.md).

Its own module, apart from the policy model, so that a function without targets (the canary,
the notifier, the actions) builds none of these classes at a cold start
(tests/unit/test_cold_start.py); `Policy.targets` imports it when asked (the notifier asks at
its first message when the policy has `targets`, to name the member accounts its messages
come from: notify.accounts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.policy.model import NEVER_IN_PRODUCTION, TARGET_FUNCTIONS

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
    >>> targets.max_concurrency, targets.entries[0].regions, targets.queue_above
    (8, (), None)
    >>> Targets.from_section(None) is None
    True
    """

    entries: tuple[Target, ...]
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    queue_above: int | None = None  # the scheduler's SQS engine (docs/organization.md)

    @classmethod
    def from_section(cls, section: Mapping[str, Any] | None) -> Targets | None:
        if section is None:
            return None
        return cls(
            entries=tuple(Target.from_entry(entry) for entry in section["accounts"]),
            max_concurrency=section.get("max_concurrency", DEFAULT_MAX_CONCURRENCY),
            queue_above=section.get("queue_above"),
        )
