"""The reconciler's decision: for each resource, what its schedule wants now, what it is, and
what (if anything) to do about the difference, with the reason.

Pure: resources, parked records, policy and the run's time go in; a RunPlan comes out. The
handler carries out the plan in order: it writes a decision's `park` record before the start or
stop, `settled` after it, deletes the record when `unpark` once the start succeeded, and reports
every decision.

How a reconciler tells "stopped by hand" from "should be stopped" (docs/scheduler.md):
- the parked record is the scheduler's memory for one resource: it exists from the moment a
  stop begins (or the resource is found stopped as an off period begins) until the resource is
  restored; it carries the capacity to restore and the protocol's state (STOPPING, PARKED,
  STARTING);
- a record in STOPPING or STARTING is an interrupted stop or start (a failed call, a crash, a
  timeout): the run finishes it if the schedule still wants that, or undoes it, always towards
  the record's capacity, never taking what the half-switched resource shows as a change made
  by hand;
- an off-period resource that is running *with* a PARKED record was woken outside Nightshift
  (by hand, or by AWS after 7 days stopped): it is left alone unless the schedule enforces, an
  override holds it, or a schedule boundary was crossed since the last run;
- an off-period resource running *without* a record was never parked for this off period (a
  deferred stop, a resource just tagged, the first run): it is stopped;
- a resource that should run but is stopped without a record was stopped outside Nightshift:
  it is started only when a boundary was crossed since the last run, or under enforce/override.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from nightshift.policy import ProtectRule
from nightshift.report import Outcome, ReportItem
from nightshift.schedule.model import Schedule
from nightshift.schedule.override import InvalidOverride, Override, parse_override
from nightshift.schedule.policy import SchedulerPolicy
from nightshift.schedule.resources import (
    ASG_MEMBER_TAG,
    CAPACITY_KINDS,
    OVERRIDE_TAG,
    SCHEDULE_TAG,
    Capacity,
    ParkedRecord,
    ParkState,
    PowerState,
    ResourceKind,
    ScheduledResource,
)
from nightshift.schedule.timeline import (
    ScheduleState,
    format_local,
    is_running_at,
    next_start,
    transitions,
)


class Action(StrEnum):
    START = "start"
    STOP = "stop"
    NONE = "none"  # in scope, nothing to change
    REFUSE = "refuse"  # a safety rule forbids it (protect tag, breaker, unknown schedule, conflict)
    SKIP = "skip"  # out of scope or not actionable now (replica, cluster member, in transition)


DEFAULT_OUTCOME = MappingProxyType(
    {
        Action.START: Outcome.PLANNED,
        Action.STOP: Outcome.PLANNED,
        Action.NONE: Outcome.SKIPPED,
        Action.SKIP: Outcome.SKIPPED,
        Action.REFUSE: Outcome.REFUSED,
    }
)


@dataclass(frozen=True)
class Decision:
    """What to do with one resource this run, and why.

    START/STOP: the handler writes `park` (state STOPPING or STARTING) before the first call,
    then after the last one writes `settled` (a stop's record in state PARKED) or, if
    `unpark`, deletes the record. NONE: it writes `park` only where the resource has no record
    yet, `settled` over the existing one, and deletes it if `unpark`.
    `capacity_to_restore` is set on a start of an ECS service or ASG: set exactly that. A stop
    of one sets `target_capacity` (zeros).
    """

    resource: ScheduledResource
    action: Action
    reason: str
    schedule: str | None = None
    desired: PowerState | None = None
    park: ParkedRecord | None = None
    settled: ParkedRecord | None = None
    unpark: bool = False
    capacity_to_restore: Capacity | None = None
    conflict: str | None = None
    hours_saved: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def arn(self) -> str:
        return self.resource.arn

    @property
    def kind(self) -> ResourceKind:
        return self.resource.kind

    @property
    def capacity_to_store(self) -> Capacity | None:
        return None if self.park is None else self.park.capacity

    @property
    def target_capacity(self) -> Capacity | None:
        """The capacity the action sets on an ECS service or ASG (None for other kinds)."""
        if self.action is Action.START:
            return self.capacity_to_restore
        if self.action is Action.STOP and self.resource.capacity is not None:
            return self.resource.capacity.parked()
        return None

    def report_item(self, outcome: Outcome | None = None) -> ReportItem:
        """This decision as a report line; `outcome` defaults to what a dry run reports."""
        details: dict[str, Any] = {"schedule": self.schedule} if self.schedule else {}
        optional = {
            "desired": None if self.desired is None else self.desired.value,
            "capacity_stored": None
            if self.park is None or self.park.capacity is None
            else self.park.capacity.to_json(),
            "capacity_to_restore": None
            if self.capacity_to_restore is None
            else self.capacity_to_restore.to_json(),
            "conflict": self.conflict,
            "hours_saved": self.hours_saved,
            "notes": list(self.notes) or None,
        }
        details.update({key: value for key, value in optional.items() if value is not None})
        return ReportItem(
            resource=self.arn,
            kind=self.kind.value,
            action=self.action.value,
            outcome=outcome or DEFAULT_OUTCOME[self.action],
            reason=self.reason,
            details=MappingProxyType(details),
        )


@dataclass(frozen=True)
class RunPlan:
    """Every resource's decision for one run, in the order to carry them out: stops (compute,
    then databases), starts (databases, then compute), then the rest."""

    now: dt.datetime
    last_run: dt.datetime | None
    dry_run: bool
    decisions: tuple[Decision, ...]
    refused: str | None = None  # why the circuit breaker refused this run's stops
    orphaned: tuple[ParkedRecord, ...] = ()  # parked records whose resource was not found

    @property
    def actions(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.action in (Action.START, Action.STOP))

    @property
    def hours_saved(self) -> Mapping[str, float]:
        return MappingProxyType(
            {d.arn: d.hours_saved for d in self.decisions if d.hours_saved is not None}
        )

    @property
    def summary(self) -> str:
        counts = {action: 0 for action in Action}
        for decision in self.decisions:
            counts[decision.action] += 1
        text = ", ".join(f"{action.value} {counts[action]}" for action in Action)
        return f"{text}; circuit breaker: {self.refused}" if self.refused else text


def plan_run(
    resources: Iterable[ScheduledResource],
    parked: Mapping[str, ParkedRecord],
    policy: SchedulerPolicy,
    protect: ProtectRule,
    now: dt.datetime,
    last_run: dt.datetime | None,
) -> RunPlan:
    """Decide every resource's action for the run scheduled at `now`.

    `last_run` is the scheduled time of the previous run (None on the first run: everything is
    brought to its schedule). A resource known only from the tag sweep (`described` False) is
    decided from its tags, with the reason `plan_describes` gives for not reading it; one that
    `plan_describes` says must be read raises ValueError.

    >>> import datetime as dt
    >>> from nightshift.policy import DEFAULT_PROTECT
    >>> policy = SchedulerPolicy.from_sections({"office-hours": {"timezone": "Europe/Berlin",
    ...     "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}]}})
    >>> db = ScheduledResource("arn:aws:rds:eu-central-1:1:db:app", ResourceKind.RDS_INSTANCE,
    ...     {"nightshift:schedule": "office-hours"}, status="available")
    >>> now = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.UTC)  # Monday 19:00 in Berlin
    >>> plan = plan_run([db], {}, policy, DEFAULT_PROTECT, now, now - dt.timedelta(minutes=5))
    >>> [(d.action.value, d.hours_saved) for d in plan.decisions]
    [('stop', 12.5)]
    """
    at = _aware(now)
    previous = None if last_run is None else _aware(last_run)
    timelines = _Timelines(at, previous)
    every = sorted(resources, key=lambda r: r.arn)
    needs = {n.arn: n for n in _describe_needs(every, parked, policy, protect, timelines)}
    decisions = [
        _decide(
            resource, parked.get(resource.arn), policy, protect, timelines, needs.get(resource.arn)
        )
        for resource in every
    ]
    decisions = _wait_for_databases(decisions)
    decisions, refused = _circuit_breaker(decisions, policy)
    seen = {d.arn for d in decisions}
    return RunPlan(
        now=at,
        last_run=previous,
        dry_run=policy.settings.dry_run,
        decisions=tuple(sorted(decisions, key=_execution_order)),
        refused=refused,
        orphaned=tuple(parked[arn] for arn in sorted(parked) if arn not in seen),
    )


# -- what a run must read: the second phase of discovery ------------------------------------


@dataclass(frozen=True)
class DescribeNeed:
    """Whether a run must read the state and capacity of a resource the tag sweep found, and
    why (`plan_describes`)."""

    resource: ScheduledResource
    describe: bool
    reason: str

    @property
    def arn(self) -> str:
        return self.resource.arn


def plan_describes(
    resources: Iterable[ScheduledResource],
    parked: Mapping[str, ParkedRecord],
    policy: SchedulerPolicy,
    protect: ProtectRule,
    now: dt.datetime,
    last_run: dt.datetime | None,
) -> tuple[DescribeNeed, ...]:
    """For each resource known only from the tag sweep (`described` False), whether the run
    must describe it before `plan_run` can decide it, with the reason; in ARN order.

    A resource is read when its decision could change something: it has a parked record (to
    start it, to finish or undo an interrupted switch, or to notice a change made while
    parked); its schedule or override wants it stopped (to stop it, or to record it as parked);
    it is an RDS instance, Aurora cluster or EC2 instance wanted running under `enforce`, an
    active override, or a boundary crossed since the last run (or no last run: started if it
    is stopped); or it is a database of a schedule whose compute may start this run (the
    compute waits while one of them is starting). Otherwise its decision is the same whatever
    its state: a resource wanted running without a record is not started by this run (one
    stopped by hand stays so until the next transition, and an ECS service or Auto Scaling
    group is never started without a parked capacity), and a protected or unknown-schedule one
    is refused from its tags.

    >>> import datetime as dt
    >>> from nightshift.policy import DEFAULT_PROTECT
    >>> policy = SchedulerPolicy.from_sections({"office-hours": {"timezone": "Europe/Berlin",
    ...     "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}]}})
    >>> tags = {"nightshift:schedule": "office-hours"}
    >>> db = ScheduledResource.tagged("arn:aws:rds:eu-central-1:1:db:app",
    ...     ResourceKind.RDS_INSTANCE, tags)
    >>> noon = dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC)  # Monday 12:00 in Berlin
    >>> [need.describe for need in plan_describes([db], {}, policy, DEFAULT_PROTECT, noon,
    ...     noon - dt.timedelta(minutes=5))]
    [False]
    >>> evening = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.UTC)  # Monday 19:00 in Berlin
    >>> [need.describe for need in plan_describes([db], {}, policy, DEFAULT_PROTECT, evening,
    ...     evening - dt.timedelta(minutes=5))]
    [True]
    """
    at = _aware(now)
    timelines = _Timelines(at, None if last_run is None else _aware(last_run))
    every = sorted(resources, key=lambda r: r.arn)
    return tuple(_describe_needs(every, parked, policy, protect, timelines))


def _describe_needs(
    resources: Iterable[ScheduledResource],
    parked: Mapping[str, ParkedRecord],
    policy: SchedulerPolicy,
    protect: ProtectRule,
    timelines: _Timelines,
) -> list[DescribeNeed]:
    situations = [
        (resource, _situation(resource, parked.get(resource.arn), policy, protect, timelines))
        for resource in resources
    ]
    compute_may_start = {
        case.schedule.name
        for resource, case in situations
        if isinstance(case, _Case) and not resource.is_database and _may_start(case)
    }
    needs = []
    for resource, situation in situations:
        if resource.described:
            continue
        need = _describe_need(resource, situation)
        name = resource.schedule_name
        if not need.describe and resource.is_database and name in compute_may_start:
            need = DescribeNeed(
                resource,
                True,
                f"a database of {name}, whose compute may start this run and waits while one "
                "of its databases is starting: its status is read",
            )
        needs.append(need)
    return needs


def _may_start(case: _Case) -> bool:
    """Wanted running, and a start is possible: from a parked record, or (RDS, Aurora, EC2)
    under enforce, an override, or a boundary crossed."""
    if not case.running_wanted:
        return False
    if case.record is not None:
        return True
    return case.resource.kind not in CAPACITY_KINDS and (case.hold or case.crossed)


def _describe_need(resource: ScheduledResource, situation: Decision | _Case) -> DescribeNeed:
    if isinstance(situation, Decision):
        return DescribeNeed(resource, False, f"{situation.reason}: decided from its tags")
    case = situation
    if case.record is not None:
        return DescribeNeed(
            resource,
            True,
            f"parked record ({case.record.state.value}): its state and capacity are read to "
            "start it, to finish or undo an interrupted switch, or to notice a change made "
            "while parked",
        )
    if not case.running_wanted:
        return DescribeNeed(
            resource,
            True,
            "wanted stopped: its state is read to stop it if it runs, or to record it as "
            "parked if it is already stopped",
        )
    if resource.kind in CAPACITY_KINDS:
        return DescribeNeed(
            resource,
            False,
            "wanted running and not parked: without a parked capacity there is nothing to "
            "restore, and one stopped outside Nightshift is not started, so its state is not "
            "read",
        )
    if case.hold or case.crossed:
        why = case.hold_why if case.hold else "a boundary passed since the last run (or none ran)"
        return DescribeNeed(
            resource,
            True,
            f"wanted running and not parked, and {why}: its state is read to start it if it "
            "is stopped",
        )
    return DescribeNeed(
        resource,
        False,
        "wanted running and not parked: one stopped outside Nightshift is left stopped until "
        f"{case.next_change} ({case.schedule.name} does not enforce), so its state is not read",
    )


# -- scope: which resources the scheduler may touch at all ----------------------------------


def _cluster_member(resource: ScheduledResource) -> str | None:
    if resource.cluster:
        return (
            f"member of Aurora cluster {resource.cluster}; Aurora is stopped and started at "
            "cluster level (tag the cluster)"
        )
    return None


def _read_replica(resource: ScheduledResource) -> str | None:
    if resource.replica_of:
        return f"read replica of {resource.replica_of}; AWS cannot stop a read replica"
    return None


def _has_replicas(resource: ScheduledResource) -> str | None:
    if resource.replicas:
        return (
            f"has read replicas ({', '.join(resource.replicas)}); AWS cannot stop a database "
            "that has read replicas"
        )
    return None


def _group_member(resource: ScheduledResource) -> str | None:
    group = resource.tags.get(ASG_MEMBER_TAG)
    if group:
        return (
            f"instance of Auto Scaling group {group}, which would replace it if stopped "
            "(tag the group)"
        )
    return None


SCOPE_CHECKS: Mapping[ResourceKind, tuple[Callable[[ScheduledResource], str | None], ...]] = (
    MappingProxyType(
        {
            ResourceKind.RDS_INSTANCE: (_cluster_member, _read_replica, _has_replicas),
            ResourceKind.AURORA_CLUSTER: (_read_replica, _has_replicas),
            ResourceKind.EC2_INSTANCE: (_group_member,),
        }
    )
)


def scope_decision(
    resource: ScheduledResource, policy: SchedulerPolicy, protect: ProtectRule
) -> Decision | Schedule:
    """The resource's schedule, or the decision that keeps the scheduler's hands off it.

    The protect tag wins over everything; an unknown schedule name is refused, never guessed.
    """
    if protect.protects(resource.tags):
        return Decision(
            resource,
            Action.REFUSE,
            f"protected ({protect.tag}={resource.tags.get(protect.tag)}): never stopped or started",
            schedule=resource.schedule_name,
        )
    name = resource.schedule_name
    if name is None:
        return Decision(resource, Action.SKIP, f"no {SCHEDULE_TAG} tag")
    schedule = policy.schedules.get(name)
    if schedule is None:
        known = ", ".join(sorted(policy.schedules)) or "none"
        return Decision(
            resource,
            Action.REFUSE,
            f"unknown schedule {name!r} in {SCHEDULE_TAG} (defined: {known}); not guessed",
            schedule=name,
        )
    for check in SCOPE_CHECKS.get(resource.kind, ()):
        reason = check(resource)
        if reason:
            return Decision(resource, Action.SKIP, reason, schedule=name)
    return schedule


def read_override(
    resource: ScheduledResource, schedule: Schedule, now: dt.datetime
) -> tuple[Override | None, tuple[str, ...]]:
    """The resource's override tag, if any and valid, with notes on an invalid or expired one."""
    text = resource.override_text
    if text is None:
        return None, ()
    try:
        override = parse_override(text, schedule.zone)
    except InvalidOverride as exc:
        return None, (f"{OVERRIDE_TAG} ignored: {exc}",)
    if not override.active_at(now):
        expired = format_local(override.until.astimezone(schedule.zone))
        return override, (f"{OVERRIDE_TAG} {text!r} expired at {expired}; the tag can go",)
    return override, ()


# -- the decision ---------------------------------------------------------------------------


class _Timelines:
    """Each schedule's state, boundary crossing and next start for this run, computed once."""

    def __init__(self, now: dt.datetime, last_run: dt.datetime | None) -> None:
        self.now = now
        self.last_run = last_run
        self._states: dict[str, ScheduleState] = {}
        self._crossed: dict[str, bool] = {}

    def state(self, schedule: Schedule) -> ScheduleState:
        if schedule.name not in self._states:
            self._states[schedule.name] = is_running_at(schedule, self.now)
        return self._states[schedule.name]

    def crossed(self, schedule: Schedule, override: Override | None) -> bool:
        """A boundary passed since the last run: a transition, or an override's end."""
        if self.last_run is None:
            return True
        if override is not None and self.last_run < override.until <= self.now:
            return True
        if schedule.name not in self._crossed:
            self._crossed[schedule.name] = bool(transitions(schedule, self.last_run, self.now))
        return self._crossed[schedule.name]


@dataclass(frozen=True)
class _Case:
    """One resource's situation, as the rules below see it."""

    resource: ScheduledResource
    record: ParkedRecord | None
    schedule: Schedule
    now: dt.datetime
    running_wanted: bool
    why: str  # why that is the wanted state (schedule state or override)
    hold: bool  # enforce or an active override: the wanted state wins over a hand change
    hold_why: str
    crossed: bool
    next_change: str  # "the next scheduled transition (2026-03-03 07:30 CET)"
    override: Override | None
    notes: tuple[str, ...] = field(default=())

    def decision(self, action: Action, what: str, **changes: Any) -> Decision:
        return Decision(
            resource=self.resource,
            action=action,
            reason=f"{self.why}; {what}",
            schedule=self.schedule.name,
            desired=PowerState.RUNNING if self.running_wanted else PowerState.STOPPED,
            notes=self.notes,
            **changes,
        )

    def new_record(self, state: ParkState) -> ParkedRecord:
        return ParkedRecord(
            arn=self.resource.arn,
            kind=self.resource.kind,
            parked_at=self.now,
            schedule=self.schedule.name,
            capacity=self.resource.capacity,
            state=state,
        )

    def stop(self, what: str, record: ParkedRecord, **changes: Any) -> Decision:
        """A stop under the protocol: `record` (kept capacity) goes STOPPING, then PARKED."""
        return self.decision(
            Action.STOP,
            what,
            park=record.moved_to(ParkState.STOPPING),
            settled=record.moved_to(ParkState.PARKED),
            hours_saved=self.hours_until_running(),
            **changes,
        )

    def start(self, what: str, record: ParkedRecord, **changes: Any) -> Decision:
        """A start under the protocol: `record` goes STARTING, and is deleted once it ran."""
        return self.decision(
            Action.START, what, park=record.moved_to(ParkState.STARTING), unpark=True, **changes
        )

    @property
    def interruption(self) -> str:
        """What the interrupted record says was under way, for reasons."""
        assert self.record is not None
        verb = "stop" if self.record.state is ParkState.STOPPING else "start"
        since = format_local(self.record.parked_at.astimezone(self.schedule.zone))
        return f"a {verb} was interrupted (parked record {self.record.state.value}, since {since})"

    @property
    def half_switched(self) -> bool:
        """A capacity kind whose capacity is not the one its record says to restore."""
        assert self.record is not None
        stored, current = self.record.capacity, self.resource.capacity
        return (
            self.resource.kind in CAPACITY_KINDS
            and stored is not None
            and current is not None
            and current != stored
        )

    def hours_until_running(self) -> float | None:
        resume: dt.datetime | None
        if self.override is not None and self.override.active_at(self.now):
            until = self.override.until
            resume = until if is_running_at(self.schedule, until).running else None
            if resume is None:
                following = next_start(self.schedule, until)
                resume = following.at if following else None
        else:
            following = next_start(self.schedule, self.now)
            resume = following.at if following else None
        if resume is None:
            return None
        return round((resume - self.now).total_seconds() / 3600, 2)


def _situation(
    resource: ScheduledResource,
    record: ParkedRecord | None,
    policy: SchedulerPolicy,
    protect: ProtectRule,
    timelines: _Timelines,
) -> Decision | _Case:
    """The decision that keeps the scheduler's hands off the resource (from its tags), or its
    case: what its schedule or override wants now, and what may overrule a hand change."""
    scoped = scope_decision(resource, policy, protect)
    if isinstance(scoped, Decision):
        return scoped
    schedule, now = scoped, timelines.now
    override, notes = read_override(resource, schedule, now)
    state = timelines.state(schedule)
    active = override if override is not None and override.active_at(now) else None
    until = format_local(state.until.astimezone(schedule.zone)) if state.until else "none in sight"
    return _Case(
        resource=resource,
        record=record,
        schedule=schedule,
        now=now,
        running_wanted=active.running if active else state.running,
        why=f"{schedule.name}: {active.describe(schedule.zone)}" if active else state.reason,
        hold=active is not None or schedule.enforce,
        hold_why="the override holds it" if active else f"{schedule.name} enforces",
        crossed=timelines.crossed(schedule, override),
        next_change=f"the next scheduled transition ({until})",
        override=active,
        notes=notes,
    )


def _decide(
    resource: ScheduledResource,
    record: ParkedRecord | None,
    policy: SchedulerPolicy,
    protect: ProtectRule,
    timelines: _Timelines,
    need: DescribeNeed | None,
) -> Decision:
    situation = _situation(resource, record, policy, protect, timelines)
    if isinstance(situation, Decision):
        return situation
    case = situation
    if not resource.described:
        if need is None or need.describe:
            why = "none given" if need is None else need.reason
            raise ValueError(f"{resource.arn} was not described, but its plan needs it: {why}")
        return case.decision(Action.NONE, need.reason)
    if resource.power is PowerState.OTHER:
        return Decision(
            resource,
            Action.SKIP,
            f"status {resource.status or 'unknown'!r} is neither running nor stopped; "
            "decided again on the next run",
            schedule=case.schedule.name,
            notes=case.notes,
        )
    return RULES[(case.running_wanted, resource.power)](case)


def _stays_parked(case: _Case) -> Decision:
    """Wanted stopped, is stopped."""
    record = case.record
    if record is None:
        return case.decision(
            Action.NONE,
            "already stopped; recorded as parked so that a start by hand is recognised",
            park=case.new_record(ParkState.PARKED),
        )
    current, stored = case.resource.capacity, record.capacity
    if record.interrupted:
        if current is not None and stored is not None and current != current.parked():
            return case.stop(f"{case.interruption}; finish the stop", record)
        return case.decision(
            Action.NONE,
            f"{case.interruption}; it is stopped: parked",
            settled=record.moved_to(ParkState.PARKED),
        )
    since = format_local(record.parked_at.astimezone(case.schedule.zone))
    return case.decision(Action.NONE, f"parked since {since}")


def _park(case: _Case) -> Decision:
    """Wanted stopped, is running."""
    record = case.record
    if record is None:
        what = "stop"
        if case.resource.capacity is not None:
            what += f" and park its capacity ({case.resource.capacity})"
        return case.stop(what, case.new_record(ParkState.STOPPING))
    if record.interrupted:
        undo = "finish the stop" if record.state is ParkState.STOPPING else "undo the start"
        return case.stop(f"{case.interruption}; {undo}", record)
    parked_at = format_local(record.parked_at.astimezone(case.schedule.zone))
    woken = (
        f"running although parked since {parked_at} (started by hand, "
        "or by AWS after 7 days stopped)"
    )
    if case.hold:
        # Keep the capacity recorded when it was parked: that capacity is what comes back.
        return case.stop(f"{woken}; stop again: {case.hold_why}", record)
    if case.crossed:
        return case.stop(f"{woken}; stop: a schedule boundary passed since the last run", record)
    return case.decision(
        Action.NONE,
        f"{woken}; left running until {case.next_change}: {case.schedule.name} does not enforce",
    )


def _keep_running(case: _Case) -> Decision:
    """Wanted running, is running."""
    record = case.record
    if record is None:
        return case.decision(Action.NONE, "running")
    stored = record.capacity
    if record.interrupted:
        if case.half_switched:
            redo = "finish the start" if record.state is ParkState.STARTING else "undo the stop"
            return case.start(
                f"{case.interruption}; {redo}: restore the parked capacity ({stored})",
                record,
                capacity_to_restore=stored,
            )
        return case.decision(
            Action.NONE, f"{case.interruption}; it runs as parked: released", unpark=True
        )
    current = case.resource.capacity
    if stored is not None and current is not None and current != stored:
        conflict = f"changed while parked: now {current}, parked with {stored}; left as it is"
        return case.decision(
            Action.NONE,
            "already running (started outside Nightshift)",
            unpark=True,
            conflict=conflict,
        )
    return case.decision(Action.NONE, "already running (started outside Nightshift)", unpark=True)


def _restore(case: _Case) -> Decision:
    """Wanted running, is stopped."""
    kind = case.resource.kind
    record = case.record
    if record is not None:
        stored = record.capacity
        current = case.resource.capacity
        if kind not in CAPACITY_KINDS:
            return case.start("start", record)
        if stored is None or current is None:
            return case.decision(
                Action.SKIP,
                "parked without a capacity; Nightshift does not guess one: set it by hand",
                unpark=True,
            )
        if record.interrupted:
            # Whatever half of a stop or start the resource shows, the record says what it had.
            return case.start(
                f"{case.interruption}; restore the parked capacity ({stored})",
                record,
                capacity_to_restore=stored,
            )
        if current == stored:
            return case.decision(
                Action.NONE,
                f"parked at its current capacity ({stored}); nothing to restore",
                unpark=True,
            )
        if current != stored.parked():
            conflict = (
                f"changed while parked: now {current}, Nightshift left {stored.parked()}; "
                f"not restored to {stored}"
            )
            return case.decision(
                Action.REFUSE,
                "not restored: someone changed it while parked",
                unpark=True,
                conflict=conflict,
            )
        return case.start(
            f"restore the parked capacity ({stored})", record, capacity_to_restore=stored
        )
    stopped_by_hand = "stopped outside Nightshift"
    if not (case.hold or case.crossed):
        return case.decision(
            Action.NONE,
            f"{stopped_by_hand}; left stopped until {case.next_change}: "
            f"{case.schedule.name} does not enforce",
        )
    if kind in CAPACITY_KINDS:
        return case.decision(
            Action.SKIP,
            f"{stopped_by_hand} and no parked capacity is recorded; Nightshift does not guess "
            "one: set it by hand",
        )
    why = case.hold_why if case.hold else "a schedule boundary passed since the last run"
    return case.decision(Action.START, f"{stopped_by_hand}; start: {why}")


RULES: Mapping[tuple[bool, PowerState], Callable[[_Case], Decision]] = MappingProxyType(
    {
        (False, PowerState.STOPPED): _stays_parked,
        (False, PowerState.RUNNING): _park,
        (True, PowerState.RUNNING): _keep_running,
        (True, PowerState.STOPPED): _restore,
    }
)


# -- the run as a whole ---------------------------------------------------------------------


def _wait_for_databases(decisions: list[Decision]) -> list[Decision]:
    """Hold compute starts while a database of the same schedule is starting.

    Services started beside a database that is still booting fail their health checks; they
    start on the next run, once the databases are up (their parked record keeps them due).
    """
    booting: dict[str, list[str]] = {}
    for decision in decisions:
        resource = decision.resource
        starting = decision.action is Action.START or resource.status.lower() == "starting"
        if resource.is_database and starting and decision.schedule:
            booting.setdefault(decision.schedule, []).append(resource.name)
    return [
        replace(
            decision,
            action=Action.NONE,
            reason=(
                f"{decision.reason}; waits for the databases of {decision.schedule} to start "
                f"first ({', '.join(booting[decision.schedule])})"
            ),
            park=None,
            settled=None,
            unpark=False,
            capacity_to_restore=None,
        )
        if decision.action is Action.START
        and not decision.resource.is_database
        and decision.schedule in booting
        else decision
        for decision in decisions
    ]


def _circuit_breaker(
    decisions: list[Decision], policy: SchedulerPolicy
) -> tuple[list[Decision], str | None]:
    """Refuse every stop of a run that would stop too many resources at once."""
    stops = [d for d in decisions if d.action is Action.STOP]
    managed = [d for d in decisions if d.action not in (Action.REFUSE, Action.SKIP)]
    settings = policy.settings
    share = len(stops) / len(managed) if managed else 0.0
    if len(stops) > settings.max_stops:
        refused = (
            f"this run would stop {len(stops)} resources, more than max_stops "
            f"{settings.max_stops}; nothing was stopped"
        )
    elif share > settings.max_stop_share:
        refused = (
            f"this run would stop {len(stops)} of {len(managed)} scheduled resources "
            f"({share:.0%}), more than max_stop_share {settings.max_stop_share:.0%}; "
            "nothing was stopped"
        )
    else:
        return decisions, None
    return [
        replace(
            d,
            action=Action.REFUSE,
            reason=f"circuit breaker: {refused} (was: {d.reason})",
            park=None,
            settled=None,
            hours_saved=None,
        )
        if d.action is Action.STOP
        else d
        for d in decisions
    ], refused


def _execution_order(decision: Decision) -> tuple[int, int, str]:
    database = decision.resource.is_database
    if decision.action is Action.STOP:
        return (0, 1 if database else 0, decision.arn)
    if decision.action is Action.START:
        return (1, 0 if database else 1, decision.arn)
    return (2, 0, decision.arn)


def _aware(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware instant, got naive {instant.isoformat()}")
    return instant.astimezone(dt.UTC)
