"""Is a check's environment intentionally parked? (pure) The schedule-aware canary's decision.

A check may say what it depends on (`depends_on` in the policy): a schedule (the resources the
scheduler parks under `nightshift:schedule=<name>`) or resources by tag. Every run then decides,
from facts only, which phase the check is in:

- PARKED: at least one resource it depends on has a parked record of the scheduler (stopping,
  parked or starting) and is meant to be off now: its active `nightshift:override` says
  `stopped-until`, or, without one, its schedule is off at the run's instant. The probe does not
  count: no Success datapoint, no page.
- STARTING: no longer parked (the schedule started, an override ended or holds it running, the
  scheduler is still starting a resource), not healthy yet, and the start was less than
  `healthy_within` ago. The probe does not count either (a service is not warm at 07:30:00).
- LATE: started, and not healthy `healthy_within` after the start: the run that finds it pages
  (once: `page`), the check's start alarm stays in ALARM until the first healthy probe.
- LIVE: every probe counts, as for a check with no dependency.

The start is the latest schedule start or override end since the last run that found the check
parked (or within one bound, without memory), else the run that first found it not parked.
The first healthy probe after a start gives `healthy_after` (time to healthy). The memory is
one `Watch` per check, kept by the service between runs. Reference: docs/canary.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from nightshift.schedule.model import Schedule
from nightshift.schedule.override import InvalidOverride, Override, parse_override
from nightshift.schedule.resources import OVERRIDE_TAG, SCHEDULE_TAG, ParkedRecord
from nightshift.schedule.timeline import format_local, is_running_at, transitions

DEFAULT_HEALTHY_WITHIN = dt.timedelta(minutes=15)
UTC_ZONE = ZoneInfo("UTC")


class Phase(StrEnum):
    LIVE = "live"
    PARKED = "parked"
    STARTING = "starting"
    LATE = "late"


@dataclass(frozen=True)
class Dependency:
    """What a check's environment depends on: one schedule, or the resources carrying all of
    `tags` (and a schedule tag), and how soon after a start it must be healthy.

    >>> Dependency(schedule="office-hours").describe()
    'schedule office-hours'
    >>> Dependency(tags=(("app", "todoapp"),)).describe()
    'resources tagged app=todoapp'
    """

    schedule: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    healthy_within: dt.timedelta = DEFAULT_HEALTHY_WITHIN
    # Hub and spoke: where the schedule's parked resources are (a target's account and Region);
    # None: every account's, every Region's (the hub's state table holds every target's records).
    account: str | None = None
    region: str | None = None

    def describe(self) -> str:
        """>>> Dependency(schedule="office-hours", account="222222222222").describe()
        'schedule office-hours in account 222222222222'
        """
        if self.schedule is not None:
            where = [f"account {self.account}"] if self.account else []
            where += [f"Region {self.region}"] if self.region else []
            return f"schedule {self.schedule}" + (" in " + ", ".join(where) if where else "")
        return "resources tagged " + ", ".join(f"{k}={v}" for k, v in self.tags)

    def holds(self, arn: str) -> bool:
        """Whether a resource's ARN is in this dependency's account and Region.

        >>> staging = Dependency(schedule="office-hours", account="222222222222",
        ...                      region="eu-west-1")
        >>> staging.holds("arn:aws:ecs:eu-west-1:222222222222:service/todoapp/backend")
        True
        >>> staging.holds("arn:aws:ecs:eu-central-1:222222222222:service/todoapp/backend")
        False
        """
        parts = arn.split(":", 5)
        region, account = (parts[3], parts[4]) if len(parts) == 6 else ("", "")
        return (self.account is None or account == self.account) and (
            self.region is None or region == self.region
        )

    @property
    def tag_filter(self) -> tuple[tuple[str, str], ...]:
        """The tags a resource of this dependency carries (the Tagging API's filter)."""
        if self.schedule is not None:
            return ((SCHEDULE_TAG, self.schedule),)
        return self.tags

    def covers(self, tags: Mapping[str, str]) -> bool:
        """Whether a resource with `tags` belongs to this dependency."""
        return all(tags.get(key) == value for key, value in self.tag_filter)


@dataclass(frozen=True)
class TaggedResource:
    """A resource found by its tags (Tagging API), with all of them."""

    arn: str
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ParkingFacts:
    """What the run found after probing: the scheduler's parked records, and the resources the
    checks' dependencies name, with their tags (schedule, override)."""

    records: tuple[ParkedRecord, ...] = ()
    resources: tuple[TaggedResource, ...] = ()

    def tags_of(self, arn: str) -> Mapping[str, str] | None:
        return next((r.tags for r in self.resources if r.arn == arn), None)


@dataclass(frozen=True)
class Watch:
    """A check's phase as the last run left it: `since` is when it was first parked (PARKED),
    the start (STARTING, LATE) or when it went live (LIVE); `seen_at` the run that wrote it."""

    phase: Phase
    since: dt.datetime
    seen_at: dt.datetime

    def to_json(self) -> dict[str, str]:
        return {
            "phase": self.phase.value,
            "since": self.since.isoformat(),
            "seen_at": self.seen_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Watch:
        return cls(
            phase=Phase(data["phase"]),
            since=dt.datetime.fromisoformat(str(data["since"])),
            seen_at=dt.datetime.fromisoformat(str(data["seen_at"])),
        )


@dataclass(frozen=True)
class WatchDecision:
    """The phase of one check in this run, and why.

    `counts` says whether the probe counts (Success datapoint, down alarm); `page` is True only
    in the run that finds a start late; `healthy_after` is set in the run that saw the first
    healthy probe after a start.
    """

    check: str
    phase: Phase
    reason: str
    watch: Watch
    start: dt.datetime | None = None
    healthy_after: dt.timedelta | None = None
    page: bool = False

    @property
    def counts(self) -> bool:
        return self.phase is Phase.LIVE


def resources_matter(
    records: Sequence[ParkedRecord], previous: Mapping[str, Watch], checks: Iterable[str]
) -> bool:
    """Whether the tagged resources (their override tags) can change any of `checks`' phases:
    only when the scheduler holds a parked record, or a check was last found parked, starting or
    late (its start may be an override's end). With no record and every check live, `decide`
    finds each live whatever the tags say, so a run need not read them.

    >>> resources_matter((), {}, ["backend"])
    False
    """
    if records:
        return True
    return any(
        (watch := previous.get(name)) is not None and watch.phase is not Phase.LIVE
        for name in checks
    )


def decide(
    check: str,
    dependency: Dependency,
    *,
    up: bool,
    now: dt.datetime,
    facts: ParkingFacts | None,
    schedules: Mapping[str, Schedule],
    previous: Watch | None,
) -> WatchDecision:
    """The check's phase at `now`, from the probe (`up`), the facts (None: they could not be
    read), the policy's schedules and the previous run's `Watch`.

    >>> import datetime as dt
    >>> now = dt.datetime(2026, 12, 7, 18, 30, tzinfo=dt.UTC)
    >>> decide("backend", Dependency(schedule="office-hours"), up=False, now=now,
    ...        facts=ParkingFacts(), schedules={}, previous=None).phase
    <Phase.LIVE: 'live'>
    """
    zone = _zone(dependency, schedules)
    if facts is None:
        # What is parked could not be read: keep a parked check parked, and take an off
        # schedule for parking, for this run only (a false page at night is the worse error).
        if previous is not None and previous.phase is Phase.PARKED:
            return _parked(check, now, previous, "parked (kept: what is parked could not be read)")
        schedule = schedules.get(dependency.schedule or "")
        state = is_running_at(schedule, now) if schedule is not None else None
        if state is not None and not state.running:
            why = f"parked (assumed: what is parked could not be read; {state.reason})"
            return _parked(check, now, previous, why)
        facts = ParkingFacts()
    records = _records_of(dependency, facts)
    intended = [(record, _intent(record, facts, schedules, now)) for record in records]
    held = [(record, why) for record, (running, why) in intended if not running]
    if held:
        names = ", ".join(sorted(_name(record.arn) for record, _ in held))
        return _parked(check, now, previous, f"parked: {names} ({held[0][1]})")
    starting = [record for record, (running, _) in intended if running]
    was = previous.phase if previous is not None else Phase.LIVE
    if not starting and was is Phase.LIVE:
        since = previous.since if previous is not None else now
        return WatchDecision(check, Phase.LIVE, "live", Watch(Phase.LIVE, since, now))
    if was in (Phase.STARTING, Phase.LATE) and previous is not None:
        start = previous.since
    else:
        after = previous.seen_at if previous is not None else now - dependency.healthy_within
        start = _started_at(after, now, _schedules_of(dependency, records, schedules), facts, zone)
    at = format_local(start.astimezone(zone))
    if up:
        took = now - start
        return WatchDecision(
            check,
            Phase.LIVE,
            f"healthy {_minutes(took)} after the start at {at}",
            Watch(Phase.LIVE, now, now),
            start=start,
            healthy_after=took,
        )
    bound = dependency.healthy_within
    if now - start < bound:
        waiting = f"; {len(starting)} resource(s) still starting" if starting else ""
        return WatchDecision(
            check,
            Phase.STARTING,
            f"starting since {at}: not healthy yet, allowed {_minutes(bound)}{waiting}",
            Watch(Phase.STARTING, start, now),
            start=start,
        )
    return WatchDecision(
        check,
        Phase.LATE,
        f"not healthy {_minutes(now - start)} after the start at {at} (allowed {_minutes(bound)})",
        Watch(Phase.LATE, start, now),
        start=start,
        page=was is not Phase.LATE,
    )


def _parked(check: str, now: dt.datetime, previous: Watch | None, reason: str) -> WatchDecision:
    since = previous.since if previous is not None and previous.phase is Phase.PARKED else now
    return WatchDecision(check, Phase.PARKED, reason, Watch(Phase.PARKED, since, now))


def _records_of(dependency: Dependency, facts: ParkingFacts) -> list[ParkedRecord]:
    if dependency.schedule is not None:
        return [
            r
            for r in facts.records
            if r.schedule == dependency.schedule and dependency.holds(r.arn)
        ]
    tagged = {r.arn for r in facts.resources if dependency.covers(r.tags)}
    return [r for r in facts.records if r.arn in tagged]


def _intent(
    record: ParkedRecord,
    facts: ParkingFacts,
    schedules: Mapping[str, Schedule],
    now: dt.datetime,
) -> tuple[bool, str]:
    """Whether the scheduler means the record's resource to run at `now`, and why."""
    schedule = schedules.get(record.schedule)
    zone = schedule.zone if schedule is not None else UTC_ZONE
    override = _override(facts.tags_of(record.arn), zone)
    if override is not None and override.active_at(now):
        return override.running, override.describe(zone)
    if schedule is None:
        return False, f"its schedule {record.schedule!r} is not in the policy"
    state = is_running_at(schedule, now)
    return state.running, state.reason


def _override(tags: Mapping[str, str] | None, zone: ZoneInfo) -> Override | None:
    text = (tags or {}).get(OVERRIDE_TAG, "").strip()
    if not text:
        return None
    try:
        return parse_override(text, zone)
    except InvalidOverride:
        return None  # the scheduler ignores it too (and says so in its report)


def _schedules_of(
    dependency: Dependency, records: Iterable[ParkedRecord], schedules: Mapping[str, Schedule]
) -> list[Schedule]:
    names = {dependency.schedule} if dependency.schedule else {r.schedule for r in records}
    return [schedules[name] for name in sorted(n for n in names if n) if name in schedules]


def _started_at(
    after: dt.datetime,
    now: dt.datetime,
    schedules: Sequence[Schedule],
    facts: ParkingFacts,
    zone: ZoneInfo,
) -> dt.datetime:
    """The latest schedule start or override end in (after, now]; `now` if there is none (an
    override set by hand, the scheduler's records released)."""
    starts = [t.at for s in schedules for t in transitions(s, after, now) if t.running]
    for resource in facts.resources:
        override = _override(resource.tags, zone)
        if override is not None and not override.running and after < override.until <= now:
            starts.append(override.until)
    return max(starts, default=now)


def _zone(dependency: Dependency, schedules: Mapping[str, Schedule]) -> ZoneInfo:
    schedule = schedules.get(dependency.schedule or "")
    return schedule.zone if schedule is not None else UTC_ZONE


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _minutes(span: dt.timedelta) -> str:
    """>>> _minutes(dt.timedelta(minutes=4, seconds=10)), _minutes(dt.timedelta(seconds=30))
    ('4 min', '0.5 min')
    """
    minutes = span.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes >= 1 else f"{minutes:.1f} min"
