"""Notifier: SQS batch of ops-topic messages in, chat and email messages out. A record whose
delivery failed is returned in batchItemFailures: SQS retries only it, then its DLQ keeps it."""

from __future__ import annotations

import datetime as dt
from functools import cache

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
from nightshift.notify.settings import NotifierSettings, notify_policy, schedule_zones
from nightshift.tracing import traced_handler, traced_method

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger, metrics = Logger(), Metrics()
# An all-failed batch is answered too: NotificationsFailed alarms on it, Errors stays for crashes.
processor = batch.BatchProcessor(batch.EventType.SQS, raise_on_entire_batch_failure=False)
OUTCOME_METRICS = {
    Tally.UNROUTED: "UnroutedMessages",
    Tally.UNRECOGNISED: "UnrecognisedMessages",
    Tally.SUPPRESSED: "NotificationsSuppressed",
    Tally.SENT: "NotificationsSent",
    Tally.FAILED: "NotificationsFailed",
}


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
    return Notifier(policy, ledger, urls, webhook.post_json, email.EmailTopic(), links)


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
def lambda_handler(event: object, context: LambdaContext) -> PartialItemFailureResponse:
    records = dict(check_sqs_batch(event))
    return batch.process_partial_response(records, record_handler, processor, context)
