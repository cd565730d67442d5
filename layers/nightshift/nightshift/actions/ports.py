"""What the actions service talks to (adapters in nightshift.adapters; fakes in tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from nightshift.actions.plan import TaggedResource
from nightshift.ports import ReportSink
from nightshift.report import ReportItem

__all__ = [
    "Approvals",
    "Overrides",
    "ReportSink",
    "ServiceFacts",
    "Services",
    "Snoozes",
    "UsedTokens",
]


class UsedTokens(Protocol):
    """Records a token's use once (adapter: `adapters.action_tokens.UsedTokenTable`)."""

    def claim(self, nonce: str, expires: dt.datetime) -> bool:
        """True the first time for a nonce; False when it was used already."""
        ...


class Overrides(Protocol):
    """The scheduled resources of a schedule and their override tag
    (adapter: `adapters.overrides.OverrideTagger`)."""

    def resources(self, schedule: str) -> Sequence[TaggedResource]: ...

    def set_override(self, arn: str, value: str) -> None: ...


class Snoozes(Protocol):
    """Canary checks snoozed until a time (adapter: `adapters.snoozes.SnoozeTable`)."""

    def snooze(self, check: str, until: dt.datetime, by: str) -> None: ...


@dataclass(frozen=True)
class ServiceFacts:
    arn: str
    task_definition: str
    tags: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))


class Services(Protocol):
    """ECS services and their task definition revisions
    (adapter: `adapters.rollback.EcsRollback`)."""

    def describe(self, arn: str) -> ServiceFacts: ...

    def revisions(self, family: str) -> Sequence[str]: ...

    def update(self, arn: str, task_definition: str) -> None: ...


class Approvals(Protocol):
    """Held redeploys, approved (adapter: `nightshift.redeploy.service.HeldRedeployApprover`
    over redeploy's own ECS and state-table adapters)."""

    def approve(self, key: str, now: dt.datetime, by: str) -> ReportItem: ...
