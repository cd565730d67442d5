"""A heads-up before a stop (pure): `schedules.<name>.heads_up_minutes` asks for one message that
many minutes before the schedule stops its resources, with actions to keep them running or to
stop them at once until the next start (nightshift.notify.actions). docs/scheduler.md.

The planner decides it from the tag sweep alone (no describe call): a schedule that runs now
and stops within its heads-up window, and has resources the stop will park (tagged with the
schedule, in scope and not protected, not held running past the stop by an override). The
service claims each heads-up once in the state table (`pk` `scheduler#heads-up`, `sk`
`<schedule>#<stop>`), so the first run inside the window sends it and the later runs do not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType
from zoneinfo import ZoneInfo

from nightshift.policy import ProtectRule
from nightshift.report import Outcome, ReportItem
from nightshift.schedule.model import Schedule
from nightshift.schedule.override import InvalidOverride, parse_override
from nightshift.schedule.plan import scope_decision
from nightshift.schedule.policy import SchedulerPolicy
from nightshift.schedule.resources import ScheduledResource
from nightshift.schedule.timeline import format_local, is_running_at

ACTION = "heads-up"  # the report item's action (nightshift.notify.actions.HEADS_UP)
KIND = "schedule"


@dataclass(frozen=True)
class HeadsUp:
    """One schedule's coming stop, the resources it will park, and why this run says so."""

    schedule: str
    stops_at: dt.datetime  # UTC
    resources: tuple[str, ...]  # ARNs
    reason: str
    starts_at: dt.datetime | None = None  # UTC: the schedule's next start after the stop

    @property
    def key(self) -> str:
        """What makes it once per stop (the state table's sort key)."""
        return f"{self.schedule}#{self.stops_at.astimezone(dt.UTC).isoformat()}"

    def report_item(self) -> ReportItem:
        details = {
            "schedule": self.schedule,
            "stops_at": self.stops_at.astimezone(dt.UTC).isoformat(),
            "resources": list(self.resources),
        }
        if self.starts_at is not None:  # "Stop now" holds it stopped until then
            details["starts_at"] = self.starts_at.astimezone(dt.UTC).isoformat()
        return ReportItem(
            self.schedule, KIND, ACTION, Outcome.DONE, self.reason, MappingProxyType(details)
        )


def plan_heads_ups(
    resources: Iterable[ScheduledResource],
    policy: SchedulerPolicy,
    protect: ProtectRule,
    now: dt.datetime,
) -> tuple[HeadsUp, ...]:
    """The heads-ups due at `now`, one per schedule whose stop is within its window.

    >>> from nightshift.policy import DEFAULT_PROTECT
    >>> from nightshift.schedule.resources import ResourceKind
    >>> policy = SchedulerPolicy.from_sections({"office-hours": {"timezone": "Europe/Berlin",
    ...     "heads_up_minutes": 30,
    ...     "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}]}})
    >>> db = ScheduledResource("arn:aws:rds:eu-central-1:1:db:app", ResourceKind.RDS_INSTANCE,
    ...     {"nightshift:schedule": "office-hours"})
    >>> at = dt.datetime(2026, 3, 2, 17, 35, tzinfo=dt.UTC)  # Monday 18:35 in Berlin
    >>> [h.reason for h in plan_heads_ups([db], policy, DEFAULT_PROTECT, at)]
    ['office-hours stops 1 resource at 2026-03-02 19:00 CET, in 25 min (heads-up 30 min before)']
    >>> plan_heads_ups([db], policy, DEFAULT_PROTECT, at - dt.timedelta(minutes=10))
    ()
    """
    by_schedule: dict[str, list[ScheduledResource]] = {}
    for resource in resources:
        name = resource.schedule_name
        if name is not None:
            by_schedule.setdefault(name, []).append(resource)
    found = []
    for name, schedule in policy.schedules.items():
        minutes = schedule.heads_up_minutes
        if not minutes or name not in by_schedule:
            continue
        state = is_running_at(schedule, now)
        if not state.running or state.until is None:
            continue
        left = state.until - now
        if not dt.timedelta(0) < left <= dt.timedelta(minutes=minutes):
            continue
        parked = tuple(
            sorted(
                r.arn
                for r in by_schedule[name]
                if isinstance(scope_decision(r, policy, protect), Schedule)
                and not _held_running(r, schedule.zone, state.until)
            )
        )
        if not parked:
            continue
        stop = format_local(state.until.astimezone(schedule.zone))
        count = f"{len(parked)} resource{'s' if len(parked) > 1 else ''}"
        reason = (
            f"{name} stops {count} at {stop}, in {int(left.total_seconds() // 60)} min "
            f"(heads-up {minutes} min before)"
        )
        after = is_running_at(schedule, state.until)
        starts = after.until.astimezone(dt.UTC) if after.until and not after.running else None
        found.append(HeadsUp(name, state.until.astimezone(dt.UTC), parked, reason, starts))
    return tuple(found)


def _held_running(resource: ScheduledResource, zone: ZoneInfo, stop: dt.datetime) -> bool:
    """An override that keeps it running past the stop: the stop does not park it."""
    text = resource.override_text
    if text is None:
        return False
    try:
        override = parse_override(text, zone)
    except InvalidOverride:
        return False
    return override.running and override.until > stop
