"""The canary's shell for one run: probe, publish metrics, keep the alarms, report when it matters.

Every decision is made by the core (`verdict`, `metrics`, `alarms`, `status`, `reporting`); this
module wires the ports, which the handler fills with adapters and tests with fakes. A dry run
probes and reports, but publishes no metrics and changes no alarm.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_lambda_powertools import Logger

from nightshift.canary.alarms import (
    AlarmAction,
    AlarmChange,
    AlarmRules,
    AlarmSpec,
    alarm_item,
    alarm_summary,
    desired_alarms,
    plan_alarms,
)
from nightshift.canary.checks import Check
from nightshift.canary.metrics import MetricPoint, metric_points
from nightshift.canary.reporting import report_items, run_summary
from nightshift.canary.status import PublishDecision, StatusBoard, publish_decision
from nightshift.canary.trigger import ScheduledRun
from nightshift.canary.verdict import ProbeResults
from nightshift.errors import AwsError
from nightshift.report import Outcome, Report, ReportItem

logger = Logger(child=True)

FUNCTION = "canary"


class Prober(Protocol):
    def __call__(self, checks: Sequence[Check], now: dt.datetime) -> ProbeResults: ...


class MetricSink(Protocol):
    def emit(self, points: Sequence[MetricPoint], at: dt.datetime) -> int: ...


class AlarmStore(Protocol):
    def existing(self, prefix: str) -> tuple[AlarmSpec, ...]: ...
    def put(self, spec: AlarmSpec) -> None: ...
    def delete(self, names: Sequence[str]) -> None: ...


class StatusMemory(Protocol):
    def last(self) -> StatusBoard | None: ...
    def remember(self, board: StatusBoard, *, at: dt.datetime, run_id: str) -> None: ...


class ReportSink(Protocol):
    def publish(self, report: Report) -> str: ...


@dataclass(frozen=True)
class AlarmUpkeep:
    """What keeping the alarms did: report lines, how many changes were made, the first problem."""

    items: tuple[ReportItem, ...] = ()
    applied: int = 0
    problem: str | None = None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunOutcome:
    report: Report
    results: ProbeResults
    decision: PublishDecision
    metric_documents: int = 0
    message_id: str | None = None


@dataclass
class Canary:
    checks: tuple[Check, ...]
    rules: AlarmRules
    environment: str
    probe: Prober
    metrics: MetricSink
    alarms: AlarmStore
    memory: StatusMemory
    publisher: ReportSink

    def run(self, trigger: ScheduledRun, run_id: str) -> RunOutcome:
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
        decision = publish_decision(
            previous, board, alarms_changed=upkeep.applied, dry_run=trigger.dry_run
        )
        report = self._report(trigger, run_id, results, upkeep, (*upkeep.errors, *memory_errors))
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
        return RunOutcome(report, results, decision, documents, message_id)

    def _keep_alarms(self, *, dry_run: bool) -> AlarmUpkeep:
        try:
            existing = self.alarms.existing(self.rules.prefix)
        except AwsError as exc:
            logger.error("alarms not checked", error=str(exc))
            return AlarmUpkeep(problem=str(exc), errors=(f"alarms not checked: {exc}",))
        plan = plan_alarms(desired_alarms(self.checks, self.rules), existing)
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

    def _previous(self, trigger: ScheduledRun) -> tuple[StatusBoard | None, tuple[str, ...]]:
        if trigger.dry_run:
            return None, ()
        try:
            return self.memory.last(), ()
        except AwsError as exc:
            logger.error("last report unknown", error=str(exc))
            return None, (f"last report unknown, reporting anyway: {exc}",)

    def _remember(self, board: StatusBoard, trigger: ScheduledRun, run_id: str) -> None:
        try:
            self.memory.remember(board, at=trigger.time, run_id=run_id)
        except AwsError as exc:
            # The report is out; the next run will simply report again.
            logger.error("status not remembered", error=str(exc))

    def _report(
        self,
        trigger: ScheduledRun,
        run_id: str,
        results: ProbeResults,
        upkeep: AlarmUpkeep,
        errors: tuple[str, ...],
    ) -> Report:
        summary = run_summary(results)
        alarms = alarm_summary(upkeep.items)
        if alarms:
            summary = f"{summary}; {alarms}"
        return Report(
            function=FUNCTION,
            run_id=run_id,
            time=trigger.iso_time,
            environment=self.environment,
            dry_run=trigger.dry_run,
            summary=summary,
            items=(*report_items(results), *upkeep.items),
            totals={
                "checks_count": len(results.results),
                "checks_down_count": len(results.failing),
                "alarms_changed_count": upkeep.applied,
            },
            errors=errors,
        )


def unprobed_report(
    trigger: ScheduledRun, run_id: str, environment: str, error: Exception
) -> Report:
    """The report of a run that could not start (the policy did not load): nothing probed,
    nothing changed, the error for people to fix."""
    return Report(
        function=FUNCTION,
        run_id=run_id,
        time=trigger.iso_time,
        environment=environment,
        dry_run=trigger.dry_run,
        summary="nothing probed: the canary could not load its policy",
        errors=(str(error),),
    )
