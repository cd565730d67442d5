"""The scheduler's shell for one run: find, plan, carry out in order, remember, and say what
became of every decision.

Every decision is made by the core (`nightshift.schedule.plan_run`); this module wires the
ports and carries the plan out:
- an event older than the last run is refused (StaleEventError), before anything is read;
- the parking protocol (docs/scheduler.md): a stop's record is written in state STOPPING
  *before* the first stop call and moved to PARKED after the last; a start's record is moved
  to STARTING before the first start call and deleted only after the last succeeded. A failed
  call, a timeout or a crash anywhere leaves the record in STOPPING or STARTING, with the
  capacity to restore: the next run finishes or undoes the switch from it. No failure deletes
  a record;
- a failed start or stop (or record write) is reported and the run goes on; the next run takes
  it up again, because the record says it is unfinished;
- starts and stops not begun a few seconds before the Lambda deadline are deferred to the next
  run, so the run still reports and stores `last_run`;
- a dry run writes nothing, not even `last_run`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from nightshift.errors import AwsError, EventError, NightshiftError
from nightshift.policy import ProtectRule
from nightshift.report import Outcome
from nightshift.schedule import (
    Decision,
    ParkedRecord,
    ScheduledResource,
    SchedulerPolicy,
    plan_run,
)
from nightshift.schedule.reporting import SWITCHES, DecisionOutcome, SchedulerRun

logger = Logger(child=True)

# Starts and stops are not begun with less than this left before the Lambda deadline.
DEADLINE_RESERVE_MS = 10_000


class ResourceFinder(Protocol):
    def find(self) -> Sequence[ScheduledResource]: ...


class ParkingPort(Protocol):
    def parked(self) -> Mapping[str, ParkedRecord]: ...
    def park(self, record: ParkedRecord, *, keep_existing: bool = False) -> bool: ...
    def release(self, arn: str) -> None: ...
    def last_run(self) -> dt.datetime | None: ...
    def record_run(self, scheduled_time: dt.datetime) -> bool: ...


class SwitchPort(Protocol):
    def apply(self, decision: Decision) -> None: ...


@dataclass(frozen=True)
class ScheduledRun:
    """The scheduler's event: the time the schedule fired for, and whether to only plan.

    EventBridge Scheduler delivers the input `{"time": "<aws.scheduler.scheduled-time>"}` with
    the time filled in; an EventBridge scheduled event's `time` works too.

    >>> run = ScheduledRun.from_event({"time": "2026-11-20T19:00:00+01:00", "dry_run": True})
    >>> (run.time.isoformat(), run.dry_run)
    ('2026-11-20T18:00:00+00:00', True)
    """

    time: dt.datetime
    dry_run: bool = False

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> ScheduledRun:
        text = event.get("time")
        if not isinstance(text, str):
            raise EventError(
                'the scheduler expects {"time": "<ISO 8601 instant>"} (the schedule\'s '
                f"<aws.scheduler.scheduled-time>), got time={text!r}"
            )
        try:
            at = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise EventError(f"time {text!r} is not an ISO 8601 instant") from exc
        if at.tzinfo is None or at.utcoffset() is None:
            raise EventError(f"time {text!r} has no offset; expected e.g. 2026-11-20T18:00:00Z")
        dry_run = event.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise EventError(f"dry_run must be true or false, got {dry_run!r}")
        return cls(time=at.astimezone(dt.UTC), dry_run=dry_run)


class StaleEventError(NightshiftError):
    """The event is older than the last run; replayed, it would see no schedule boundary
    crossed and could undo what the later run did."""

    def __init__(self, scheduled_time: dt.datetime, last_run: dt.datetime) -> None:
        self.scheduled_time = scheduled_time
        self.last_run = last_run
        super().__init__(
            f"event for {scheduled_time.isoformat()} is older than the last run "
            f"({last_run.isoformat()}); refused"
        )


@dataclass
class Scheduler:
    policy: SchedulerPolicy
    protect: ProtectRule
    resources: ResourceFinder
    parking: ParkingPort
    switch: SwitchPort

    def run(self, run: ScheduledRun, time_left_ms: Callable[[], int]) -> SchedulerRun:
        last_run = self.parking.last_run()
        if last_run is not None and run.time < last_run:
            raise StaleEventError(run.time, last_run)
        policy = self.policy
        if run.dry_run:
            policy = replace(policy, settings=replace(policy.settings, dry_run=True))
        plan = plan_run(
            self.resources.find(), self.parking.parked(), policy, self.protect, run.time, last_run
        )
        logger.info(
            "run planned",
            summary=plan.summary,
            dry_run=plan.dry_run,
            last_run=None if last_run is None else last_run.isoformat(),
            circuit_breaker=plan.refused,
            orphaned=len(plan.orphaned),
        )
        if plan.dry_run:
            return SchedulerRun.planned(plan)
        outcomes = tuple(self._carry_out(decision, time_left_ms) for decision in plan.decisions)
        errors: tuple[str, ...] = ()
        try:
            self.parking.record_run(run.time)
        except AwsError as exc:
            logger.error("last run not stored", error=str(exc))
            errors = (f"the run's time was not stored: {exc}",)
        return SchedulerRun(plan, outcomes, errors)

    def _carry_out(self, decision: Decision, time_left_ms: Callable[[], int]) -> DecisionOutcome:
        if decision.action not in SWITCHES:
            return self._settle(decision)
        if time_left_ms() < DEADLINE_RESERVE_MS:
            return DecisionOutcome(
                decision,
                Outcome.SKIPPED,
                "deferred: the run ran out of time; the next run carries it out",
            )
        action = decision.action.value
        try:
            if decision.park is not None:
                self.parking.park(decision.park)
        except AwsError as exc:
            logger.warning("parked record not written", arn=decision.arn, error=str(exc))
            return DecisionOutcome(
                decision, Outcome.FAILED, f"{action} not begun: parked record not written: {exc}"
            )
        try:
            self.switch.apply(decision)
        except AwsError as exc:
            logger.warning("switch failed", arn=decision.arn, action=action, error=str(exc))
            return DecisionOutcome(
                decision,
                Outcome.FAILED,
                f"{action} failed: {exc}; the parked record keeps the capacity and the next "
                "run finishes or undoes it",
            )
        try:
            if decision.settled is not None:
                self.parking.park(decision.settled)
            if decision.unpark:
                self.parking.release(decision.arn)
        except AwsError as exc:
            logger.warning("parked record not updated", arn=decision.arn, error=str(exc))
            return DecisionOutcome(
                decision,
                Outcome.FAILED,
                f"{action} done, but the parked record was not updated: {exc}; the next run "
                "settles it",
            )
        return DecisionOutcome(decision, Outcome.DONE)

    def _settle(self, decision: Decision) -> DecisionOutcome:
        """Keep the parked records of a decision without a start or stop up to date."""
        outcome = decision.report_item().outcome
        try:
            if decision.park is not None:
                self.parking.park(decision.park, keep_existing=True)
            if decision.settled is not None:
                self.parking.park(decision.settled)
            if decision.unpark:
                self.parking.release(decision.arn)
        except AwsError as exc:
            logger.warning("parked record not updated", arn=decision.arn, error=str(exc))
            return DecisionOutcome(decision, Outcome.FAILED, f"parked record not updated: {exc}")
        return DecisionOutcome(decision, outcome)
