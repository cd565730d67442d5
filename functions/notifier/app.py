"""Notifier: SQS batch of ops-topic messages in, chat and email messages out. A record whose
delivery failed is returned in batchItemFailures: SQS retries only it, then its DLQ keeps it.

Its digest schedule (`{"digest": true, "time": "<aws.scheduler.scheduled-time>"}`) sends the
daily digests due at that time; a digest that fails fails the run (the next one sends it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import batch
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.adapters import email, policy_parameter, secrets, state, webhook
from nightshift.library_logs import quiet_library_loggers
from nightshift.notify.events import QueuedMessage, check_sqs_batch
from nightshift.notify.ports import ActionLinks
from nightshift.notify.service import Notifier, Tally, counted
from nightshift.notify.settings import (
    NotifierSettings,
    named_accounts,
    notify_policy,
    schedule_zones,
)
from nightshift.tracing import traced_handler, traced_method
from nightshift.trigger import ScheduledTrigger

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger, metrics = Logger(), Metrics()
# An all-failed batch is answered too: NotificationsFailed alarms on it, Errors stays for crashes.
processor = batch.BatchProcessor(batch.EventType.SQS, raise_on_entire_batch_failure=False)
OUTCOME_METRICS = {
    Tally.UNROUTED: "UnroutedMessages",
    Tally.UNRECOGNISED: "UnrecognisedMessages",
    Tally.SUPPRESSED: "NotificationsSuppressed",
    Tally.SENT: "NotificationsSent",
    Tally.DIGESTED: "NotificationsDigested",
    Tally.FAILED: "NotificationsFailed",
}
DIGEST_FIELD = "digest"


@cache  # once per warm container; a policy error fails every record (nothing is lost)
def notifier() -> Notifier:
    full = NotifierSettings.from_environ()
    settings, reader = full.common, secrets.SecretReader()
    deployed = policy_parameter.load_deployed_policy(settings)
    ledger, urls = state.NotifierState(settings.state_table), reader.webhook_url
    links = None
    if full.offers_actions:  # the signing key is read only when a message offers an action
        key = lambda: reader.value(full.signing_key_secret).encode()  # noqa: E731
        links = ActionLinks(full.actions_url, key, schedule_zones(deployed))
    policy = notify_policy(deployed)
    return Notifier(
        policy,
        ledger,
        urls,
        webhook.post_json,
        email.EmailTopic(),
        environment=settings.environment,
        action_links=links,
        accounts=named_accounts(deployed),
    )


def count(tally: Tally, value: int) -> None:
    metrics.add_metric(name=OUTCOME_METRICS[tally], unit=MetricUnit.Count, value=value)


@traced_method
def record_handler(record: SQSRecord) -> None:
    message = QueuedMessage.from_sqs_record(record, received=dt.datetime.now(dt.UTC))
    with counted(count) as tally:  # a failure is counted, and the record stays in the queue
        tally(notifier().handle(message))


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId")
@traced_handler
@metrics.log_metrics
def lambda_handler(
    event: object, context: LambdaContext
) -> PartialItemFailureResponse | dict[str, Any]:
    if isinstance(event, Mapping) and event.get(DIGEST_FIELD) is True:
        return send_digests(event)
    records = dict(check_sqs_batch(event))
    return batch.process_partial_response(records, record_handler, processor, context)


def send_digests(event: Mapping[str, Any]) -> dict[str, Any]:
    """The digest schedule's run: every digest due at the scheduled time (not the clock, so a
    retry of the same run decides the same)."""
    trigger = ScheduledTrigger.from_event({"time": event.get("time")}, "notifier digest")
    with counted(count):  # a failed digest counts as NotificationsFailed, then raises
        run = notifier().send_digests(trigger.time)
    metrics.add_metric(name="DigestsSent", unit=MetricUnit.Count, value=len(run.sent))
    logger.info("digests sent", due=run.due, sent=list(run.sent))
    return {"due": run.due, "sent": list(run.sent)}
