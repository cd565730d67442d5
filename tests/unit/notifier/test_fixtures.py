"""events/notifier/*.json are complete SQS Lambda events carrying SNS envelopes."""

from __future__ import annotations

import hashlib
import json

import pytest

from .fixtures import fixture_names, load_event

SNS_ENVELOPE_KEYS = {
    "Type",
    "MessageId",
    "TopicArn",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "UnsubscribeURL",
}
SQS_RECORD_KEYS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_is_an_sqs_event_with_a_correct_md5(name: str) -> None:
    (record,) = load_event(name)["Records"]

    assert set(record) == SQS_RECORD_KEYS
    assert record["eventSource"] == "aws:sqs"
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode("utf-8")).hexdigest()
    assert int(record["attributes"]["SentTimestamp"]) > 0


@pytest.mark.parametrize(
    "name", [name for name in fixture_names() if not name.startswith("raw-delivery")]
)
def test_fixture_body_is_an_sns_envelope(name: str) -> None:
    body = json.loads(load_event(name)["Records"][0]["body"])

    assert SNS_ENVELOPE_KEYS <= set(body) <= SNS_ENVELOPE_KEYS | {"Subject"}
    assert body["Type"] == "Notification"
    assert isinstance(body["Message"], str)


def test_there_is_a_fixture_for_every_case_the_issue_names() -> None:
    assert {
        "cloudwatch-alarm-metric",
        "cloudwatch-alarm-metric-ok",
        "cloudwatch-alarm-metric-insufficient-data",
        "cloudwatch-alarm-metric-math",
        "cloudwatch-alarm-anomaly-band",
        "cloudwatch-alarm-composite",
        "budgets-actual",
        "budgets-forecasted",
        "budgets-daily",
        "budgets-percentage-threshold",
        "budgets-whole-dollars",
        "cost-anomaly",
        "ecs-deployment-completed",
        "ecs-deployment-failed",
        "ecs-deployment-rollback-in-progress",
        "nightshift-report-scheduler",
        "unrecognised-text",
        "malformed-json",
    } <= set(fixture_names())
