"""The built notifier in the local cloud: ops topic → SQS → notifier (Lambda RIE) → webhook."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud import Router, Stack, WebhookReceiver
from tests.conftest import event_names, load_event

pytestmark = pytest.mark.integration


def sns_message(name: str) -> tuple[str, str | None]:
    """The Message and Subject (EventBridge publishes none) an AWS service published, from the
    fixture's SNS envelope; a fixture of raw delivery holds the message itself."""
    body = load_event("notifier", name)["Records"][0]["body"]
    try:
        envelope = json.loads(body)
    except ValueError:
        return body, None
    if not isinstance(envelope, dict) or envelope.get("Type") != "Notification":
        return body, None
    return envelope["Message"], envelope.get("Subject")


def forget_alarm_memory(stack: Stack) -> None:
    """Empty the notifier's alarm memory, so a case is not suppressed as a repeat of another."""
    dynamodb = stack.endpoint.client("dynamodb")
    table = stack.physical_id("StateTable")
    items = dynamodb.scan(TableName=table, ProjectionExpression="pk, sk")["Items"]
    for item in items:
        if item["pk"]["S"] == "notifier#alarm":
            dynamodb.delete_item(TableName=table, Key=item)


def oncall_bodies(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [r.json for r in receiver.requests if r.destination == "oncall"]


def test_alarm_and_its_ok_reach_slack_through_the_built_notifier(
    router: Router, receiver: WebhookReceiver
) -> None:
    alarm = router.publish("OpsTopic", *sns_message("cloudwatch-alarm-metric"))
    ok = router.publish("OpsTopic", *sns_message("cloudwatch-alarm-metric-ok"))

    for report in (alarm, ok):
        (drain,) = report.drains
        assert drain.failed == ()
        assert len(drain.deleted) == 1
    first, second = oncall_bodies(receiver)
    shown = json.dumps(first, ensure_ascii=False)
    for fact in (
        "ALARM: todoapp-backend-high-cpu",
        "OK → ALARM",
        "CPUUtilization",
        "ServiceName=todoapp-backend-service",
        "91.4 vs threshold &gt; 80",
        "eu-central-1",
        "#alarmsV2:alarm/todoapp-backend-high-cpu",
    ):
        assert fact in shown
    assert second["text"].startswith("RESOLVED: todoapp-backend-high-cpu")


def test_delivery_failing_with_500_lands_in_the_dead_letter_queue_after_the_retries(
    stack: Stack, router: Router, receiver: WebhookReceiver
) -> None:
    receiver.always(500, destination="oncall")
    redrive = stack.template["Resources"]["NotifierQueue"]["Properties"]["RedrivePolicy"]
    dead_letters = stack.endpoint.client("sqs")
    dlq_url = stack.physical_id("NotifierDeadLetterQueue")
    dead_letters.purge_queue(QueueUrl=dlq_url)

    report = router.publish("OpsTopic", *sns_message("budgets-forecasted"))

    (drain,) = report.drains
    assert drain.deleted == ()
    assert len(drain.failed) == 1
    assert len(oncall_bodies(receiver)) == redrive["maxReceiveCount"]
    waiting = dead_letters.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert len(waiting) == 1
    assert "todoapp-monthly" in json.loads(waiting[0]["Body"])["Message"]


def test_unrecognised_message_is_delivered_raw_never_dropped(
    router: Router, receiver: WebhookReceiver
) -> None:
    report = router.publish("OpsTopic", "disk almost full on build agent 7", "Jenkins says")

    assert report.drains[0].failed == ()
    (body,) = oncall_bodies(receiver)
    assert "disk almost full on build agent 7" in json.dumps(body)


# A new alarm's first verdict is remembered, not posted (docs/notifications.md), whether it came
# as the alarm's SNS message or as a member account's EventBridge event.
FIRST_VERDICTS = ["cloudwatch-alarm-metric-first-verdict", "cloudwatch-alarm-event-first-verdict"]
POSTED = [name for name in event_names("notifier") if name not in FIRST_VERDICTS]


# The shipped policy (nightshift.yaml) routes the pruner's reports to the daily digest; of the
# fixtures, this one is routine (the others are pages, or posted as they happen).
DIGESTED = {"nightshift-report-pruner"}
DIGEST_SCHEDULE = "NotifierFunctionDigest"  # the notifier's Digest schedule, as SAM names it


@pytest.mark.parametrize("name", POSTED)
def test_every_fixture_published_to_the_ops_topic_reaches_the_receiver(
    stack: Stack, router: Router, receiver: WebhookReceiver, name: str
) -> None:
    forget_alarm_memory(stack)

    report = router.publish("OpsTopic", *sns_message(name))

    (drain,) = report.drains
    assert drain.failed == ()
    if name in DIGESTED:
        # Kept for the shipped policy's 08:00 digest: nothing yet, then the digest run sends it.
        assert oncall_bodies(receiver) == []
        (run,) = router.fire_schedule(DIGEST_SCHEDULE, "2027-01-04T07:00:00Z").deliveries
        assert run.result is not None
        assert not run.result.error
    (body,) = oncall_bodies(receiver)
    assert body["text"]
    assert body["blocks"]
    assert ("staging digest" in body["text"]) is (name in DIGESTED)


@pytest.mark.parametrize("name", FIRST_VERDICTS)
def test_a_new_alarms_first_verdict_is_drained_without_a_post(
    stack: Stack, router: Router, receiver: WebhookReceiver, name: str
) -> None:
    forget_alarm_memory(stack)

    report = router.publish("OpsTopic", *sns_message(name))

    (drain,) = report.drains
    assert drain.failed == ()
    assert oncall_bodies(receiver) == []
