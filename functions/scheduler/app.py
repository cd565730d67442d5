"""Scheduler: every 5 minutes, bring each tagged resource to the state its schedule wants.

EventBridge Scheduler invokes it with `{"time": "<aws.scheduler.scheduled-time>"}`; with
`"dry_run": true` it returns the plan, changing and publishing nothing. See docs/scheduler.md.
Its own target queue invokes it with one queued target per message (the SQS engine beyond the
in-invocation bound, docs/organization.md): a target's failure is its outcome, recorded and
reported once; a message that could not be worked and recorded fails (the batch of one fails
the invocation), is retried, then kept in the dead-letter queue."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, partial
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.adapters.parking import HeadsUpTable, ParkingStore
from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.power import PowerSwitch
from nightshift.adapters.reporting import ReportPublisher, failure_reported
from nightshift.adapters.scheduled_resources import ScheduledResources
from nightshift.adapters.scheduler_clients import RETRIES, SchedulerClients
from nightshift.adapters.task_sizes import TaskDefinitionSizes
from nightshift.errors import PolicyError
from nightshift.library_logs import quiet_library_loggers
from nightshift.schedule.events import ScheduledTrigger
from nightshift.schedule.report import policy_failure_report
from nightshift.schedule.service import Scheduler
from nightshift.schedule.settings import (
    SchedulerConfig,
    schedule_rate,
    settings_from_environ,
    target_queue_url,
)
from nightshift.tracing import traced_handler

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from nightshift.schedule.targets import TargetedScheduler

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger, metrics = Logger(), Metrics()
settings, clients = cache(settings_from_environ), cache(SchedulerClients.create)
publisher = cache(lambda: ReportPublisher(settings().ops_topic_arn, clients().sns))
policy = cache(lambda: load_deployed_policy(settings()))  # an error is not cached: read again
sqs = cache(lambda: boto3.client("sqs", config=RETRIES))


@cache
def scheduler() -> Scheduler:
    """The hub's own account and Region (a policy without targets), built once per container."""
    config, aws = SchedulerConfig.from_policy(policy()), clients()
    parking, switch = ParkingStore(settings().state_table, aws.dynamodb), PowerSwitch(aws)
    sizes, heads_ups = (
        TaskDefinitionSizes(aws.ecs),
        HeadsUpTable(settings().state_table, aws.dynamodb),
    )
    resources = ScheduledResources(aws)
    return Scheduler(config.policy, config.protect, resources, parking, switch, sizes, heads_ups)


def targeted(function_arn: str) -> TargetedScheduler:
    """Each of the policy's targets through its spoke role, queued on the function's own target
    queue when the template gives it one. The hub-and-spoke adapters, fan-out and queue are
    imported for a policy with targets only: a single account's cold start does not load them."""
    from nightshift.adapters.scheduler_targets import QueueWiring, targeted_scheduler

    url = target_queue_url()
    wiring = None if url is None else QueueWiring(url, sqs(), publisher().publish)
    aws = clients()
    return targeted_scheduler(policy(), settings(), aws, function_arn, schedule_rate(), wiring)


@logger.inject_lambda_context(correlation_id_path="time || Records[0].messageId")
@traced_handler
@metrics.log_metrics
def lambda_handler(event: object, context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, Mapping) and "Records" in event:
        return queued_targets(event, context)
    trigger, env = ScheduledTrigger.from_event(event, "scheduler"), settings().environment
    failure = partial(policy_failure_report, trigger.time, env, dry_run=trigger.dry_run)
    try:  # nothing was read or changed; people hear why, and the errors alarm fires
        with failure_reported(publisher(), failure, logger):
            hub = policy().targets is None  # else each target, through its spoke role
            runner = scheduler() if hub else targeted(context.invoked_function_arn)
    except PolicyError:
        metrics.add_metric(name="PolicyErrors", unit=MetricUnit.Count, value=1)
        raise
    outcome = runner.answer(trigger, env, context.get_remaining_time_in_millis)
    if outcome.published_because is not None:
        publisher().publish(outcome.report)
    for metric in outcome.metrics:
        metrics.add_metric(name=metric.name, unit=metric.unit, value=metric.value)
    return outcome.report.to_json()


def queued_targets(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One queued target per message: worked as in one invocation (isolated: its failure is
    its outcome), recorded once under its run; the last recorded publishes the run's report.
    Powertools' batch utility and the queue's modules are imported here: a scheduled run's cold
    start does not load them."""
    from aws_lambda_powertools.utilities.batch import (
        SqsFifoPartialProcessor,
        process_partial_response,
    )

    from nightshift.adapters.scheduler_targets import checked_message, queued_scheduler
    from nightshift.adapters.target_queue import FanOutLedger
    from nightshift.fanout.queue import TargetMessage
    from nightshift.schedule.queued import record_and_gather, work_message

    env = settings().environment
    partition = context.invoked_function_arn.split(":")[1]
    scheduler_for = queued_scheduler(policy(), settings(), clients())
    ledger = FanOutLedger(settings().state_table, "scheduler", clients().dynamodb)

    def work(record: SQSRecord) -> None:
        message = TargetMessage.from_body(record.body)
        checked_message(message, env, partition)
        logger.append_keys(target=message.item.label, run=message.run)
        try:
            result = work_message(message, scheduler_for, env, context.get_remaining_time_in_millis)
            combined = record_and_gather(message, result, env, ledger, publisher().publish)
        finally:
            logger.remove_keys(["target", "run"])
        # Every worked message, gathered or not (a redelivery counts again): the engine's
        # throughput beside the scheduled invocations' TargetsQueued.
        metrics.add_metric(name="TargetsWorked", unit=MetricUnit.Count, value=1)
        if combined is not None:  # this worker gathered the run: its metrics, once
            for metric in combined.metrics:
                metrics.add_metric(name=metric.name, unit=metric.unit, value=metric.value)

    return process_partial_response(dict(event), work, SqsFifoPartialProcessor(), context)  # type: ignore[return-value]
