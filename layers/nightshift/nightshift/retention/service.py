"""One pruner run through its ports: list → plan → load the cursor → delete (paced, until the
deadline) → report → save the cursor. docs/pruner.md, "A run", says why in this order."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from nightshift.pacing import Clock, Random, Sleep
from nightshift.report import Report
from nightshift.retention.apply import apply_deletions, pruner_pacers
from nightshift.retention.cursor import DeletionCursor
from nightshift.retention.model import SnapshotKind
from nightshift.retention.plan import plan_retention
from nightshift.retention.report import RunHeader, failure_report, run_report
from nightshift.trigger import ScheduledTrigger

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from nightshift.retention.ports import (
        CursorKeeper,
        Deleter,
        FailureGuard,
        MetricsSink,
        PolicySource,
        ReportSink,
        SnapshotSource,
    )

# Left when the last deletion may start: its call (15 s read timeout), saving the cursor and
# publishing the report all fit in it.
RESERVE_SECONDS = 30.0
# Deletions in flight at once: enough to keep both pacers' buckets busy while calls wait for AWS,
# and within the 10 connections botocore pools per client. Read when a Pruner is made.
DELETE_WORKERS = 8


@dataclass(frozen=True)
class Invocation:
    """One invocation: its run id, a clock of seconds since it began, and the time on that clock
    after which no deletion starts."""

    run_id: str
    clock: Clock
    deadline: float


class Pruner:
    """Carries out one run of the retention policy through injected ports."""

    def __init__(
        self,
        *,
        policy: PolicySource,
        environment: str,
        inventory: SnapshotSource,
        delete: Deleter,
        cursors: CursorKeeper,
        publisher: ReportSink,
        failures: FailureGuard,
        metrics: MetricsSink,
        logger: Logger,
        sleep: Sleep,
        rand: Random,
        workers: int | None = None,
    ) -> None:
        self._policy = policy
        self._environment = environment
        self._inventory = inventory
        self._delete = delete
        self._cursors = cursors
        self._publisher = publisher
        self._failures = failures
        self._metrics = metrics
        self._logger = logger
        self._sleep = sleep
        self._rand = rand
        self._workers = DELETE_WORKERS if workers is None else workers

    def run(self, trigger: ScheduledTrigger, invocation: Invocation) -> Report:
        """Plan, delete what the plan deletes until the deadline, report, save the cursor.

        A failure before anything is deleted (policy unusable, a listing refused) is reported
        and raised again, so the errors alarm fires and Lambda retries the run.
        """
        pacers = pruner_pacers(clock=invocation.clock, sleep=self._sleep, rand=self._rand)
        deadline = invocation.deadline
        header = RunHeader(invocation.run_id, trigger.label, self._environment, trigger.dry_run)
        with self._failures(partial(failure_report, header)):
            policy = self._policy()
            dry_run = policy.dry_run or trigger.dry_run
            listing = self._inventory.snapshots(
                pace_rds=partial(pacers[SnapshotKind.RDS].call, deadline=deadline)
            )
            plan = plan_retention(
                listing.snapshots,
                policy.rules,
                policy.protect,
                trigger.time,
                policy.options.max_delete_share,
                prices=policy.options.prices,
            )
            cursor = self._cursors.unfinished() or DeletionCursor(cycle=trigger.label)
        if not listing.locks_known:
            self._logger.warning("snapshot locks unknown: DescribeLockedSnapshots is not available")
        self._logger.info(
            "plan built", cycle=cursor.cycle, refused=plan.refused, extra=plan.summary.actions
        )
        result = apply_deletions(
            plan,
            cursor,
            delete=self._delete,
            pacers=pacers,
            clock=invocation.clock,
            deadline=deadline,
            dry_run=dry_run,
            workers=self._workers,
        )
        report = run_report(plan, result, replace(header, dry_run=dry_run))
        throttles = sum(pacer.throttled for pacer in set(pacers.values()))
        self._record_metrics(report, throttles)
        self._publisher.publish(report)
        if not dry_run:
            self._cursors.save(result.cursor, finished=result.finished, at=trigger.time)
        self._logger.info("run finished", cycle=result.cursor.cycle, stopped=result.stopped)
        return report

    def _record_metrics(self, report: Report, throttles: int) -> None:
        # The template's alarms and dashboard use these names and units.
        totals = report.totals
        self._metrics.add_metric(name="SnapshotsDeleted", unit="Count", value=totals["deleted"])
        self._metrics.add_metric(name="GiBDeleted", unit="Gigabytes", value=totals["deleted_gib"])
        self._metrics.add_metric(name="DeleteFailures", unit="Count", value=totals["failed"])
        self._metrics.add_metric(name="ApiThrottles", unit="Count", value=throttles)
