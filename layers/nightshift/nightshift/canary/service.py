"""The canary's service for one run: probe, publish metrics, keep the alarms, report when it
matters.

Every decision is made by the core (`plan`, with `verdict`, `metrics`, `alarms`, `status`) and
the report is built by `report`; this module carries the run out through its ports (`ports`),
which the handler fills with adapters and tests with fakes. A dry run probes and reports, but
publishes no metrics and changes no alarm. For checks with `depends_on`, the facts of what is
parked are read after the probe: the scheduler writes a parked record before its first stop
call, so a probe that saw the service going down is judged with the record that explains it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from aws_lambda_powertools import Logger

from nightshift.canary.alarms import AlarmAction, AlarmChange, AlarmRules, alarm_item
from nightshift.canary.checks import Check
from nightshift.canary.metrics import metric_points
from nightshift.canary.parking import ParkingFacts, Watch, WatchDecision, resources_matter
from nightshift.canary.plan import alarm_plan, report_decision, watch_plan
from nightshift.canary.ports import (
    AlarmStore,
    CheckMetricSink,
    ParkingFactsSource,
    Prober,
    Remembered,
    SnoozeSource,
    StatusMemory,
)
from nightshift.canary.report import AlarmUpkeep, down_checks, run_report
from nightshift.canary.status import PublishDecision, StatusBoard
from nightshift.canary.verdict import ProbeResults
from nightshift.errors import AwsError
from nightshift.ports import ReportSink
from nightshift.report import Outcome, Report, ReportItem
from nightshift.schedule.model import Schedule
from nightshift.trigger import ScheduledTrigger

logger = Logger(child=True)
_NO_SCHEDULES: Mapping[str, Schedule] = MappingProxyType({})


@dataclass(frozen=True)
class CanaryOutcome:
    report: Report
    results: ProbeResults
    decision: PublishDecision
    metric_documents: int = 0
    message_id: str | None = None
    watches: Mapping[str, WatchDecision] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def counts(self) -> dict[str, int]:
        """The function's own metrics of this run (Count), by the names the alarms and the
        dashboard use."""
        return {
            "ChecksDown": len(down_checks(self.results, self.watches)),
            "CanaryReportsPublished": int(self.decision.publish),
        }


class Canary:
    """One run through the ports. A plain class, not a data class: a service is never compared
    or shown, and a data class would be built at every cold start (tests/unit/test_cold_start.py).
    """

    def __init__(
        self,
        checks: tuple[Check, ...],
        rules: AlarmRules,  # also names the deployment's environment (rules.environment)
        probe: Prober,
        metrics: CheckMetricSink,
        alarms: AlarmStore,
        memory: StatusMemory,
        publisher: ReportSink,
        parking: ParkingFactsSource | None = None,  # None: no check has `depends_on`
        schedules: Mapping[str, Schedule] = _NO_SCHEDULES,
        snoozes: SnoozeSource | None = None,  # None: no check can be snoozed (docs/actions.md)
    ) -> None:
        self.checks = checks
        self.rules = rules
        self.probe = probe
        self.metrics = metrics
        self.alarms = alarms
        self.memory = memory
        self.publisher = publisher
        self.parking = parking
        self.schedules = schedules
        self.snoozes = snoozes

    def run(self, trigger: ScheduledTrigger, run_id: str) -> CanaryOutcome:
        # Read before the probe: nothing between the probe and its metrics may lose them (the
        # snoozes and the memory of earlier runs do not change with what the probe finds; the
        # parked resources are read after it, so that a check's phase is the probe's).
        snoozed, snooze_errors = self._snoozed(trigger)
        remembered, unremembered = self._recall(trigger)
        results = self.probe(self.checks, trigger.time)
        logger.info(
            "checks probed",
            checks=len(results.results),
            down=len(results.failing),
            wall_time_ms=round(results.wall_time_ms),
        )
        watches, watch_errors = self._watch(trigger, results, remembered, unremembered)
        documents = 0
        if not trigger.dry_run:
            points = metric_points(results, watches, snoozed)
            documents = self.metrics.emit(points, trigger.time)
        upkeep = self._keep_alarms(dry_run=trigger.dry_run)
        board = StatusBoard.of(results, upkeep.problem, watches)
        previous, memory_errors = self._previous(trigger, remembered, unremembered)
        decision = report_decision(
            previous, board, alarms_changed=upkeep.applied, dry_run=trigger.dry_run
        )
        report = run_report(
            trigger,
            run_id,
            self.rules.environment,
            results,
            upkeep,
            (*watch_errors, *snooze_errors, *upkeep.errors, *memory_errors),
            watches,
            # The alarms page only when they are in place: not in a dry run, not when they
            # could not be checked or kept this run.
            None if trigger.dry_run or upkeep.problem is not None else self.rules.name,
        )
        if watches and not trigger.dry_run:
            self._remember_watches(watches, trigger)
        message_id = None
        if decision.publish:
            message_id = self.publisher.publish(report)
            if not trigger.dry_run:
                self._remember(board, trigger, run_id)
        logger.info(
            "run reported" if decision.publish else "run not reported",
            reason=decision.reason,
            summary=report.summary,
        )
        return CanaryOutcome(report, results, decision, documents, message_id, watches)

    def _dependent(self) -> list[Check]:
        """The checks with `depends_on` (none when there is no source of parking facts)."""
        if self.parking is None:
            return []
        return [c for c in self.checks if c.depends_on is not None]

    def _recall(self, trigger: ScheduledTrigger) -> tuple[Remembered, AwsError | None]:
        """The memory of earlier runs, read once (when this run needs any of it: the last
        report unless in a dry run, the phases when a check has `depends_on`)."""
        if trigger.dry_run and not self._dependent():
            return Remembered(), None
        try:
            return self.memory.recall(), None
        except AwsError as exc:
            logger.error("canary memory unknown", error=str(exc))
            return Remembered(), exc

    def _watch(
        self,
        trigger: ScheduledTrigger,
        results: ProbeResults,
        remembered: Remembered,
        unremembered: AwsError | None,
    ) -> tuple[dict[str, WatchDecision], tuple[str, ...]]:
        """The phase of each check with `depends_on`, from facts read after the probe."""
        dependent = self._dependent()
        if not dependent or self.parking is None:
            return {}, ()
        errors: list[str] = []
        facts: ParkingFacts | None = None
        previous: Mapping[str, Watch] = remembered.watches
        if unremembered is not None:
            errors.append(f"last phases unknown, decided from the facts alone: {unremembered}")
        filters = sorted({c.depends_on.tag_filter for c in dependent if c.depends_on})
        names = [c.name for c in dependent]
        try:
            facts = self.parking.facts(
                filters,
                # Unknown phases: read everything, as a first run does.
                resources_if=None
                if unremembered is not None
                else lambda records: resources_matter(records, previous, names),
            )
        except AwsError as exc:
            logger.error("parked resources unknown", error=str(exc))
            errors.insert(0, f"parked resources unknown, parked checks kept parked: {exc}")
        watches = watch_plan(
            dependent,
            results,
            facts=facts,
            schedules=self.schedules,
            previous=previous,
            now=trigger.time,
        )
        for name, watch in watches.items():
            logger.info("check phase", check=name, phase=watch.phase.value, reason=watch.reason)
        return watches, tuple(errors)

    def _snoozed(self, trigger: ScheduledTrigger) -> tuple[frozenset[str], tuple[str, ...]]:
        """The checks snoozed now; when unknown, none (a page too many, never one missed)."""
        if self.snoozes is None:
            return frozenset(), ()
        try:
            snoozed = self.snoozes.snoozed(trigger.time)
        except AwsError as exc:
            logger.error("snoozed checks unknown", error=str(exc))
            return frozenset(), (f"snoozed checks unknown, every check counted: {exc}",)
        for name in sorted(snoozed):
            logger.info("check snoozed", check=name)
        return snoozed, ()

    def _remember_watches(
        self, watches: Mapping[str, WatchDecision], trigger: ScheduledTrigger
    ) -> None:
        try:
            self.memory.remember_watches(
                {name: w.watch for name, w in watches.items()}, at=trigger.time
            )
        except AwsError as exc:
            # The next run decides from the facts and the older phases: at worst a start is
            # timed from that run.
            logger.error("check phases not remembered", error=str(exc))

    def _keep_alarms(self, *, dry_run: bool) -> AlarmUpkeep:
        try:
            existing = self.alarms.existing(self.rules.prefix)
        except AwsError as exc:
            logger.error("alarms not checked", error=str(exc))
            return AlarmUpkeep(problem=str(exc), errors=(f"alarms not checked: {exc}",))
        plan = alarm_plan(self.checks, self.rules, existing)
        items: list[ReportItem] = []
        applied = 0
        problem: str | None = None
        for change in plan.changes:
            if dry_run:
                items.append(alarm_item(change, Outcome.PLANNED))
                continue
            try:
                self._apply(change)
            except AwsError as exc:
                logger.error("alarm change failed", alarm=change.name, error=str(exc))
                problem = problem or str(exc)
                items.append(alarm_item(change, Outcome.FAILED, str(exc)))
                continue
            applied += 1
            logger.info("alarm changed", alarm=change.name, action=change.action.value)
            items.append(alarm_item(change, Outcome.DONE))
        items.extend(
            alarm_item(change, Outcome.SKIPPED, f"deferred: at most {len(plan.changes)} per run")
            for change in plan.deferred
        )
        return AlarmUpkeep(items=tuple(items), applied=applied, problem=problem)

    def _apply(self, change: AlarmChange) -> None:
        if change.action is AlarmAction.DELETE:
            self.alarms.delete([change.name])
        elif change.spec is not None:
            self.alarms.put(change.spec)

    @staticmethod
    def _previous(
        trigger: ScheduledTrigger, remembered: Remembered, unremembered: AwsError | None
    ) -> tuple[StatusBoard | None, tuple[str, ...]]:
        if trigger.dry_run:
            return None, ()
        if unremembered is not None:
            return None, (f"last report unknown, reporting anyway: {unremembered}",)
        return remembered.board, ()

    def _remember(self, board: StatusBoard, trigger: ScheduledTrigger, run_id: str) -> None:
        try:
            self.memory.remember(board, at=trigger.time, run_id=run_id)
        except AwsError as exc:
            # The report is out; the next run will simply report again.
            logger.error("status not remembered", error=str(exc))
