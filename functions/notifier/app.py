"""Notifier: SQS batch of ops-topic messages in, chat and email messages out.

Each record is handled on its own; a record whose delivery failed is returned in
batchItemFailures, so SQS retries only it and its dead-letter queue keeps it in the end.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.adapters.email import EmailTopic
from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.secrets import SecretReader
from nightshift.adapters.state import NotifierState
from nightshift.adapters.webhook import post_json
from nightshift.errors import NightshiftError
from nightshift.library_logs import quiet_library_loggers
from nightshift.notifier import Notifier, UndeliveredError
from nightshift.notify.inbound import Inbound, check_sqs_batch, record_text, sent_time
from nightshift.notify.model import Source
from nightshift.notify.routing import NotifyPolicy
from nightshift.settings import CommonSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger = Logger()
tracer = Tracer()
metrics = Metrics()
# A batch whose every record failed is answered like any other (all in batchItemFailures):
# failed deliveries are reported per record and counted by the NotificationsFailed alarm, and
# the function's own Errors alarm stays for real crashes.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def notifier() -> Notifier:
    """Built once per warm container; a policy error fails every record (nothing is lost)."""
    settings = CommonSettings.from_environ()
    loaded = load_deployed_policy(settings)
    policy = NotifyPolicy.from_section(loaded.section("notify") or {}, loaded.source)
    secrets = SecretReader()
    return Notifier(
        policy=policy,
        ledger=NotifierState(settings.state_table),
        webhook_url=secrets.webhook_url,
        post=post_json,
        email=EmailTopic(),
    )


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    inbound = Inbound.from_sqs_body(record_text(record.get("body")), record.message_id)
    # A record without SQS's SentTimestamp is dated by its arrival here.
    arrived = sent_time(record.get("attributes"), otherwise=dt.datetime.now(dt.UTC))
    try:
        outcome = notifier().handle(inbound, arrived=arrived)
    except UndeliveredError as exc:
        sent = len(exc.outcome.delivered)
        metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=sent)
        metrics.add_metric(name="NotificationsFailed", unit=MetricUnit.Count, value=1)
        raise
    except NightshiftError:
        # The policy or a setting is wrong: the record stays in the queue, and then the DLQ.
        metrics.add_metric(name="NotificationsFailed", unit=MetricUnit.Count, value=1)
        raise
    if outcome.unrouted:
        metrics.add_metric(name="UnroutedMessages", unit=MetricUnit.Count, value=1)
    if outcome.notification is not None and outcome.notification.source is Source.UNRECOGNISED:
        metrics.add_metric(name="UnrecognisedMessages", unit=MetricUnit.Count, value=1)
    if outcome.suppressed_reason:
        metrics.add_metric(name="NotificationsSuppressed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name="NotificationsSent", unit=MetricUnit.Count, value=len(outcome.delivered)
    )


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: object, context: LambdaContext) -> PartialItemFailureResponse:
    batch = check_sqs_batch(event)
    return process_partial_response(
        event=dict(batch), record_handler=record_handler, processor=processor, context=context
    )
