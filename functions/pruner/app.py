"""Pruner: once a day, delete the snapshots the retention policy no longer keeps.

EventBridge Scheduler invokes it with `{"time": "<aws.scheduler.scheduled-time>"}`; add
`"dry_run": true` for a plan that deletes nothing. Plan (pure core) → delete, paced, until the
Lambda deadline → save the cursor → report to the ops topic. See docs/pruner.md.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.reporting import ReportPublisher
from nightshift.adapters.snapshots import CursorStore, SnapshotDeleter, SnapshotInventory
from nightshift.errors import ConfigurationError, NightshiftError
from nightshift.library_logs import quiet_library_loggers
from nightshift.pacing import Pacer
from nightshift.policy import ProtectRule
from nightshift.report import Report
from nightshift.retention import (
    ApplyResult,
    DeletionCursor,
    PrunerSettings,
    RetentionPlan,
    RetentionPolicy,
    SnapshotAction,
    SnapshotKind,
    apply_deletions,
    plan_retention,
    pruner_pacers,
    report_items,
    report_summary,
    report_totals,
)
from nightshift.settings import CommonSettings, flag, required
from nightshift.trigger import ScheduledTrigger

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger = Logger()
tracer = Tracer()
metrics = Metrics()

FUNCTION = "pruner"
# Left when the last deletion may start: its call (15 s read timeout), saving the cursor and
# publishing the report all fit in it.
RESERVE_SECONDS = 30.0
# Template parameter (environment variable) -> the policy's `pruner.prices` key it provides.
PRICE_VARIABLES = {
    "NIGHTSHIFT_PRUNER_PRICE_EBS_SNAPSHOT": "ebs_snapshot",
    "NIGHTSHIFT_PRUNER_PRICE_RDS_SNAPSHOT": "rds_snapshot",
    "NIGHTSHIFT_PRUNER_PRICE_AURORA_SNAPSHOT": "aurora_snapshot",
}


@dataclass(frozen=True)
class PruneRequest:
    """The schedule's input: the time the run was scheduled for, and whether only to plan."""

    time: datetime
    dry_run: bool = False

    @classmethod
    def from_event(cls, event: object) -> PruneRequest:
        trigger = ScheduledTrigger.from_event(event, FUNCTION)
        return cls(trigger.time, trigger.dry_run)

    @property
    def label(self) -> str:
        return self.time.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class PrunerEnvironment:
    """What the template sets: the common settings, the deployment's dry-run switch
    (parameter PrunerDryRun) and storage prices for the savings estimate (USD per GiB-month)."""

    common: CommonSettings
    dry_run: bool
    prices: Mapping[str, float]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> PrunerEnvironment:
        prices: dict[str, float] = {}
        for variable, key in PRICE_VARIABLES.items():
            try:
                prices[key] = float(required(variable, environ))
            except ValueError as exc:
                raise ConfigurationError(
                    f"environment variable {variable} must be a number"
                ) from exc
        return cls(
            common=CommonSettings.from_environ(environ),
            dry_run=flag("NIGHTSHIFT_PRUNER_DRY_RUN", environ),
            prices=prices,
        )


class InvocationClock:
    """Seconds since the invocation began, read from Lambda's own deadline, so the pacers' waits
    and the deadline use one clock: `deadline()` is on this clock."""

    def __init__(self, context: LambdaContext) -> None:
        self._context = context
        self._budget = context.get_remaining_time_in_millis() / 1000

    def __call__(self) -> float:
        return self._budget - self._context.get_remaining_time_in_millis() / 1000

    def deadline(self, reserve: float = RESERVE_SECONDS) -> float:
        return self._budget - reserve


@dataclass(frozen=True)
class Pruner:
    """Everything a run needs, built once per warm container."""

    rules: RetentionPolicy
    protect: ProtectRule
    options: PrunerSettings
    dry_run: bool  # the deployment's switch, or the policy's pruner.dry_run
    inventory: SnapshotInventory
    delete: SnapshotDeleter
    cursors: CursorStore


@cache
def environment() -> PrunerEnvironment:
    return PrunerEnvironment.from_environ()


@cache
def publisher() -> ReportPublisher:
    return ReportPublisher(environment().common.ops_topic_arn)


@cache
def pruner() -> Pruner:
    """Raises PolicyError when the policy cannot be used (not cached: the next run reads again)."""
    env = environment()
    policy = load_deployed_policy(env.common)
    section = dict(policy.section("pruner") or {})
    # Prices: the policy's own, where it sets them; the deployment's parameters otherwise.
    section["prices"] = {**env.prices, **(section.get("prices") or {})}
    options = PrunerSettings.from_section(section)
    return Pruner(
        rules=RetentionPolicy.from_policy(policy),
        protect=policy.protect,
        options=options,
        dry_run=env.dry_run or options.dry_run,
        inventory=SnapshotInventory(),
        delete=SnapshotDeleter(),
        cursors=CursorStore(env.common.state_table),
    )


@logger.inject_lambda_context(correlation_id_path="time")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: object, context: LambdaContext) -> dict[str, Any]:
    request = PruneRequest.from_event(event)
    clock = InvocationClock(context)
    deadline = clock.deadline()
    pacers = pruner_pacers(clock=clock, sleep=time.sleep, rand=random.random)
    with failure_reported(request, context):
        deps = pruner()
        dry_run = deps.dry_run or request.dry_run
        listing = deps.inventory.snapshots(
            pace_rds=partial(pacers[SnapshotKind.RDS].call, deadline=deadline)
        )
        plan = plan_retention(
            listing.snapshots,
            deps.rules,
            deps.protect,
            request.time,
            deps.options.max_delete_share,
            prices=deps.options.prices,
        )
        cursor = deps.cursors.unfinished() or DeletionCursor(cycle=request.label)
    if not listing.locks_known:
        logger.warning("snapshot locks unknown: DescribeLockedSnapshots is not available")
    logger.info("plan built", cycle=cursor.cycle, refused=plan.refused, extra=plan.summary.actions)
    result = apply_deletions(
        plan,
        cursor,
        delete=deps.delete,
        pacers=pacers,
        clock=clock,
        deadline=deadline,
        dry_run=dry_run,
    )
    report = run_report(request, context, plan, result, dry_run)
    record_metrics(report, pacers)
    publisher().publish(report)
    if not dry_run:
        deps.cursors.save(result.cursor, finished=result.finished, at=request.time)
    logger.info("run finished", cycle=result.cursor.cycle, stopped=result.stopped)
    return report.to_json()


def run_report(
    request: PruneRequest,
    context: LambdaContext,
    plan: RetentionPlan,
    result: ApplyResult,
    dry_run: bool,
) -> Report:
    """Deletions, then protected snapshots with their reason, as items; kept snapshots are only
    counted in the totals (an SNS message holds 256 KiB). Deletions come first so that a report
    cut to fit one message keeps them."""
    # A dry run's summary is the plan's ("Plan: delete 12 of 23 ..."); the notifier adds
    # "dry run" to the title from the report's flag.
    summary = report_summary(plan, None if dry_run else result)
    items = [item for item in report_items(plan, result) if item.action != SnapshotAction.KEEP]
    return Report(
        function=FUNCTION,
        run_id=run_id(context),
        time=request.label,
        environment=environment().common.environment,
        dry_run=dry_run,
        summary=summary,
        items=tuple(sorted(items, key=lambda item: item.action != SnapshotAction.DELETE)),
        totals=report_totals(plan, result),
        # A refusal that held back deletions needs people (circuit breaker); a policy without
        # retention rules plans none and is only said in the summary.
        errors=(plan.refused,) if plan.refused and plan.planned_deletions else (),
    )


def record_metrics(report: Report, pacers: Mapping[SnapshotKind, Pacer]) -> None:
    totals = report.totals
    metrics.add_metric(name="SnapshotsDeleted", unit=MetricUnit.Count, value=totals["deleted"])
    metrics.add_metric(name="GiBDeleted", unit=MetricUnit.Gigabytes, value=totals["deleted_gib"])
    metrics.add_metric(name="DeleteFailures", unit=MetricUnit.Count, value=totals["failed"])
    throttled = sum(pacer.throttled for pacer in set(pacers.values()))
    metrics.add_metric(name="ApiThrottles", unit=MetricUnit.Count, value=throttled)


def run_id(context: LambdaContext) -> str:
    # Lambda keeps the request id across the retries of one event; the start second tells a
    # retry's report from the first attempt's, so the notifier does not take it for a repeat.
    return f"{context.aws_request_id}-{int(time.time())}"


@contextmanager
def failure_reported(request: PruneRequest, context: LambdaContext) -> Iterator[None]:
    """A run that cannot plan (policy unusable, a listing refused) deletes nothing: it reports
    why, then raises, so the errors alarm fires and Lambda retries it."""
    try:
        yield
    except NightshiftError as exc:
        logger.exception("run failed", cycle=request.label)
        try:
            publisher().publish(
                Report(
                    function=FUNCTION,
                    run_id=run_id(context),
                    time=request.label,
                    environment=environment().common.environment,
                    dry_run=request.dry_run,
                    summary="Nothing deleted: the pruner could not make a plan.",
                    errors=(str(exc),),
                )
            )
        except NightshiftError:
            logger.exception("failure report not published")
        raise
