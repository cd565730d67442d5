"""The `plan` command's answer: when the scheduler will start and stop each resource.

For scripts/plan-schedule only (tools/plan_schedule.py), so kept out of the layer: the scheduler
plans one run at a time (`nightshift.schedule.plan`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nightshift.policy import ProtectRule
from nightshift.schedule.model import Schedule
from nightshift.schedule.plan import Action, Decision, read_override, scope_decision
from nightshift.schedule.policy import SchedulerPolicy
from nightshift.schedule.resources import ScheduledResource
from nightshift.schedule.timeline import (
    Transition,
    format_local,
    is_running_at,
    next_start,
    transitions,
)


@dataclass(frozen=True)
class PlannedAction:
    """One scheduled start or stop of one resource (or, at the plan's start, why a resource is
    left out: SKIP/REFUSE with the reason)."""

    at: dt.datetime  # UTC
    resource: ScheduledResource
    action: Action
    reason: str
    schedule: str | None = None
    timezone: str | None = None
    hours_saved: float | None = None  # stops: hours until the next start

    @property
    def local(self) -> str:
        """`at` on the schedule's wall clock, as people read it."""
        if self.timezone is None:
            return format_local(self.at)
        return format_local(self.at.astimezone(ZoneInfo(self.timezone)))


def plan_week(
    resources: Iterable[ScheduledResource],
    policy: SchedulerPolicy,
    start: dt.datetime,
    days: int = 7,
    *,
    protect: ProtectRule,
) -> list[PlannedAction]:
    """Every start and stop due in the `days` after `start`, in the order they will happen.

    Overrides hold until they end; from then on the schedule decides. Resources the scheduler
    will not touch appear once, at `start`, with the reason. This is the schedule's plan; what
    a run does now also depends on what the resources are (see plan_run).

    >>> from nightshift.policy import DEFAULT_PROTECT
    >>> from nightshift.schedule.resources import ResourceKind
    >>> policy = SchedulerPolicy.from_sections({"office-hours": {"timezone": "Europe/Berlin",
    ...     "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}]}})
    >>> db = ScheduledResource("arn:aws:rds:eu-central-1:1:db:app", ResourceKind.RDS_INSTANCE,
    ...     {"nightshift:schedule": "office-hours"}, status="available")
    >>> week = plan_week([db], policy, dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    ...                  protect=DEFAULT_PROTECT)
    >>> [(a.action.value, a.local) for a in week[:2]], len(week)
    ([('start', '2026-03-02 07:30 CET'), ('stop', '2026-03-02 19:00 CET')], 10)
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware instant, got naive {start.isoformat()}")
    begin = start.astimezone(dt.UTC)
    end = begin + dt.timedelta(days=days)
    planned: list[PlannedAction] = []
    for resource in resources:
        scoped = scope_decision(resource, policy, protect)
        if isinstance(scoped, Decision):
            planned.append(
                PlannedAction(begin, resource, scoped.action, scoped.reason, scoped.schedule)
            )
        else:
            planned.extend(_resource_week(resource, scoped, begin, end))
    return sorted(planned, key=_order)


def _resource_week(
    resource: ScheduledResource, schedule: Schedule, begin: dt.datetime, end: dt.datetime
) -> list[PlannedAction]:
    override, _ = read_override(resource, schedule, begin)
    changes: list[tuple[dt.datetime, bool, str]] = []
    held_until = begin
    if override is not None and override.active_at(begin):
        held_until = override.until
        resumes = is_running_at(schedule, held_until).running
        if held_until <= end and resumes != override.running:
            ended = f"{schedule.name}: override {override.text!r} ends"
            changes.append((held_until, resumes, ended))
    changes.extend(
        (t.at, t.running, t.reason) for t in transitions(schedule, begin, end) if t.at > held_until
    )
    return [
        PlannedAction(
            at=at,
            resource=resource,
            action=Action.START if running else Action.STOP,
            reason=reason,
            schedule=schedule.name,
            timezone=schedule.timezone,
            hours_saved=None if running else _hours_off(schedule, at),
        )
        for at, running, reason in changes
    ]


def _hours_off(schedule: Schedule, stop: dt.datetime) -> float | None:
    following: Transition | None = next_start(schedule, stop)
    if following is None:
        return None
    return round((following.at - stop).total_seconds() / 3600, 2)


def _order(action: PlannedAction) -> tuple[dt.datetime, int, int, str]:
    database = action.resource.is_database
    if action.action is Action.STOP:
        return (action.at, 0, 1 if database else 0, action.resource.arn)
    if action.action is Action.START:
        return (action.at, 1, 0 if database else 1, action.resource.arn)
    return (action.at, 2, 0, action.resource.arn)
