"""The scheduler's view of the policy: the named schedules and its own `scheduler` section.

Apart from `model` (the schedules), so that the canary, which reads the schedules only, does
not build these classes at a cold start (tests/unit/test_cold_start.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from nightshift.schedule.model import Schedule, schedules_from_section

if TYPE_CHECKING:
    from nightshift.policy import Policy

DEFAULT_MAX_STOPS = 50
DEFAULT_MAX_STOP_SHARE = 1.0


@dataclass(frozen=True)
class SchedulerSettings:
    """How the scheduler acts (the `scheduler` section).

    >>> SchedulerSettings.from_section(None).max_stops
    50
    """

    dry_run: bool = False
    max_stops: int = DEFAULT_MAX_STOPS
    max_stop_share: float = DEFAULT_MAX_STOP_SHARE
    # The policy's `scheduler.pricing` as written. Laid over the shipped price table only by a
    # run that prices a start or stop (`nightshift.schedule.savings.price_table`): a steady-state
    # run loads no price table.
    pricing: Mapping[str, Any] | None = None

    @classmethod
    def from_section(cls, data: Mapping[str, Any] | None) -> SchedulerSettings:
        data = data or {}
        return cls(
            dry_run=bool(data.get("dry_run", False)),
            max_stops=int(data.get("max_stops", DEFAULT_MAX_STOPS)),
            max_stop_share=float(data.get("max_stop_share", DEFAULT_MAX_STOP_SHARE)),
            pricing=data.get("pricing"),
        )


@dataclass(frozen=True)
class SchedulerPolicy:
    """Everything the scheduler reads from the policy: the named schedules and its settings."""

    schedules: Mapping[str, Schedule] = field(default_factory=lambda: MappingProxyType({}))
    settings: SchedulerSettings = SchedulerSettings()

    @classmethod
    def from_sections(
        cls,
        schedules: Mapping[str, Any] | None,
        scheduler: Mapping[str, Any] | None = None,
        source: str = "<policy>",
    ) -> SchedulerPolicy:
        return cls(
            schedules=schedules_from_section(schedules, source),
            settings=SchedulerSettings.from_section(scheduler),
        )

    @classmethod
    def from_policy(cls, policy: Policy) -> SchedulerPolicy:
        """The scheduler's view of a loaded policy.

        >>> from nightshift.policy import parse_policy
        >>> dict(SchedulerPolicy.from_policy(parse_policy("version: 1")).schedules)
        {}
        """
        return cls.from_sections(
            policy.section("schedules"), policy.section("scheduler"), policy.source
        )
