"""The built notifier in the local cloud: ops topic → SQS → notifier (Lambda RIE) → webhook."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud import Router, Stack, WebhookReceiver
from tests.conftest import load_event

pytestmark = pytest.mark.integration


def sns_message(name: str) -> tuple[str, str]:
    """The Message and Subject an AWS service published, from the fixture's SNS envelope."""
    envelope = json.loads(load_event("notifier", name)["Records"][0]["body"])
    return envelope["Message"], envelope["Subject"]


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
