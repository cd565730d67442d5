"""The canary's service for one run: probe, publish metrics, keep the alarms, report when it
matters.

Every decision is made by the core (`plan`, with `verdict`, `metrics`, `alarms`, `status`) and
the report is built by `report`; this module carries the run out through its ports (`ports`),
which the handler fills with adapters and tests with fakes. A dry run probes and reports, but
publishes no metrics and changes no alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger

from nightshift.canary.alarms import AlarmAction, AlarmChange, AlarmRules, alarm_item
from nightshift.canary.checks import Check
from nightshift.canary.metrics import metric_points
from nightshift.canary.plan import alarm_plan, report_decision
from nightshift.canary.ports import AlarmStore, CheckMetricSink, Prober, StatusMemory
from nightshift.canary.report import AlarmUpkeep, run_report
from nightshift.canary.status import PublishDecision, StatusBoard
from nightshift.canary.verdict import ProbeResults
from nightshift.errors import AwsError
from nightshift.ports import ReportSink
from nightshift.report import Outcome, Report, ReportItem
from nightshift.trigger import ScheduledTrigger

logger = Logger(child=True)


@dataclass(frozen=True)
class CanaryOutcome:
    report: Report
    results: ProbeResults
    decision: PublishDecision
    metric_documents: int = 0
    message_id: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        """The function's own metrics of this run (Count), by the names the alarms and the
        dashboard use."""
        return {
            "ChecksDown": len(self.results.failing),
            "CanaryReportsPublished": int(self.decision.publish),
        }


@dataclass
class Canary:
    checks: tuple[Check, ...]
    rules: AlarmRules  # also names the deployment's environment (rules.environment)
    probe: Prober
    metrics: CheckMetricSink
    alarms: AlarmStore
    memory: StatusMemory
    publisher: ReportSink

    def run(self, trigger: ScheduledTrigger, run_id: str) -> CanaryOutcome:
        results = self.probe(self.checks, trigger.time)
        logger.info(
            "checks probed",
            checks=len(results.results),
            down=len(results.failing),
            wall_time_ms=round(results.wall_time_ms),
        )
        documents = 0
        if not trigger.dry_run:
            documents = self.metrics.emit(metric_points(results), trigger.time)
        upkeep = self._keep_alarms(dry_run=trigger.dry_run)
        board = StatusBoard.of(results, upkeep.problem)
        previous, memory_errors = self._previous(trigger)
        decision = report_decision(
            previous, board, alarms_changed=upkeep.applied, dry_run=trigger.dry_run
        )
        report = run_report(
            trigger,
            run_id,
            self.rules.environment,
            results,
            upkeep,
            (*upkeep.errors, *memory_errors),
        )
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
        return CanaryOutcome(report, results, decision, documents, message_id)

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

    def _previous(self, trigger: ScheduledTrigger) -> tuple[StatusBoard | None, tuple[str, ...]]:
        if trigger.dry_run:
            return None, ()
        try:
            return self.memory.last(), ()
        except AwsError as exc:
            logger.error("last report unknown", error=str(exc))
            return None, (f"last report unknown, reporting anyway: {exc}",)

    def _remember(self, board: StatusBoard, trigger: ScheduledTrigger, run_id: str) -> None:
        try:
            self.memory.remember(board, at=trigger.time, run_id=run_id)
        except AwsError as exc:
            # The report is out; the next run will simply report again.
            logger.error("status not remembered", error=str(exc))
