"""Scheduler: every 5 minutes, bring each tagged resource to the state its schedule wants.

EventBridge Scheduler invokes it with `{"time": "<aws.scheduler.scheduled-time>"}`; add
`"dry_run": true` to get the plan without changing anything (the report is returned, not
published). See docs/scheduler.md.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.adapters.parking import ParkingStore
from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.power import PowerSwitch
from nightshift.adapters.reporting import ReportPublisher
from nightshift.adapters.scheduled_resources import ScheduledResources
from nightshift.adapters.scheduler_clients import SchedulerClients
from nightshift.errors import PolicyError
from nightshift.library_logs import quiet_library_loggers
from nightshift.schedule import SchedulerPolicy
from nightshift.schedule.reporting import (
    SchedulerRun,
    policy_failure_report,
    publication_reason,
    run_report,
    stale_event_report,
)
from nightshift.scheduler import ScheduledRun, Scheduler, StaleEventError
from nightshift.settings import CommonSettings
from nightshift.trigger import ScheduledTrigger

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def settings() -> CommonSettings:
    return CommonSettings.from_environ()


@cache
def clients() -> SchedulerClients:
    return SchedulerClients.create()


@cache
def publisher() -> ReportPublisher:
    return ReportPublisher(settings().ops_topic_arn, clients().sns)


@cache
def scheduler() -> Scheduler:
    """Built once per warm container; a policy error is not cached, the next run reads again."""
    loaded = load_deployed_policy(settings())
    return Scheduler(
        policy=SchedulerPolicy.from_policy(loaded),
        protect=loaded.protect,
        resources=ScheduledResources(clients()),
        parking=ParkingStore(settings().state_table, clients().dynamodb),
        switch=PowerSwitch(clients()),
    )


@logger.inject_lambda_context(correlation_id_path="time")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: object, context: LambdaContext) -> dict[str, Any]:
    trigger = ScheduledTrigger.from_event(event, "scheduler")
    run = ScheduledRun(time=trigger.time, dry_run=trigger.dry_run)
    environment = settings().environment
    try:
        runner = scheduler()
    except PolicyError as exc:
        # Nothing was read or changed; people hear why, and the errors alarm fires.
        metrics.add_metric(name="PolicyErrors", unit=MetricUnit.Count, value=1)
        publisher().publish(policy_failure_report(run.time, environment, str(exc), run.dry_run))
        raise
    try:
        result = runner.run(run, context.get_remaining_time_in_millis)
    except StaleEventError as exc:
        logger.warning("stale event refused", error=str(exc))
        metrics.add_metric(name="StaleEvents", unit=MetricUnit.Count, value=1)
        return stale_event_report(run.time, exc.last_run, environment, run.dry_run).to_json()
    report = run_report(result, environment)
    # A dry run asked for in the event is a question; its answer is the result, not a message.
    reason = None if run.dry_run else publication_reason(result)
    if reason is not None:
        publisher().publish(report)
    logger.info("run reported", summary=report.summary, published_because=reason)
    add_run_metrics(result)
    return report.to_json()


def add_run_metrics(result: SchedulerRun) -> None:
    metrics.add_metric(name="Stopped", unit=MetricUnit.Count, value=result.stopped)
    metrics.add_metric(name="Started", unit=MetricUnit.Count, value=result.started)
    metrics.add_metric(name="Failed", unit=MetricUnit.Count, value=result.failed)
    metrics.add_metric(name="HoursSaved", unit=MetricUnit.NoUnit, value=result.hours_saved)
