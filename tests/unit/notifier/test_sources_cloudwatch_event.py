"""EventBridge's CloudWatch Alarm State Change events (a member account's alarms, sent to the
hub's topic by the spoke), read as the same alarm notification as an alarm's SNS message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nightshift.notify.events import Inbound
from nightshift.notify.model import Notification, Severity, Source, State
from nightshift.notify.sources import parse
from nightshift.notify.suppression import decide
from tests.conftest import REFERENCE

from .fixtures import envelope, notification

WINDOW = timedelta(minutes=60)


def event(case: str) -> dict[str, Any]:
    return json.loads(envelope(case)["Message"])


def parsed(document: dict[str, Any]) -> Notification:
    return parse(Inbound("m-1", None, json.dumps(document), None, None))


def facts(n: Notification) -> dict[str, str]:
    return {fact.label: fact.value for fact in n.facts}


@pytest.mark.parametrize("kind", ["metric", "metric-math", "anomaly-band", "composite"])
def test_each_fixture_carries_its_reference_event_as_eventbridge_publishes_it(kind: str) -> None:
    reference = json.loads(
        (REFERENCE / f"eventbridge-cloudwatch-alarm-{kind}.json").read_text(encoding="utf-8")
    )

    assert event(f"cloudwatch-alarm-event-{kind}") == reference
    assert "Subject" not in envelope(f"cloudwatch-alarm-event-{kind}")  # EventBridge sets none


@pytest.mark.parametrize(
    ("case", "state", "previous", "title", "kind"),
    [
        ("cloudwatch-alarm-event-metric", State.ALARM, State.OK, "ALARM: todoapp-backend-high-cpu", None),
        ("cloudwatch-alarm-event-metric-ok", State.OK, State.ALARM, "RESOLVED: todoapp-backend-high-cpu", None),
        ("cloudwatch-alarm-event-metric-math", State.ALARM, State.OK, "ALARM: todoapp-alb-5xx-rate", "metric math"),
        ("cloudwatch-alarm-event-anomaly-band", State.ALARM, State.OK, "ALARM: todoapp-request-count-anomaly", "anomaly detection"),
        ("cloudwatch-alarm-event-composite", State.ALARM, State.OK, "ALARM: todoapp-service-degraded", "composite"),
    ],
)  # fmt: skip
def test_every_kind_of_alarm_is_read_in_its_member_account_and_region(
    case: str, state: State, previous: State, title: str, kind: str | None
) -> None:
    n = notification(case)

    assert (n.source, n.state, n.previous_state, n.title) == (
        Source.CLOUDWATCH_ALARM,
        state,
        previous,
        title,
    )
    assert (n.account, n.region) == ("222222222222", "eu-west-1")
    assert n.severity is Severity.CRITICAL
    assert facts(n).get("Alarm type") == kind
    assert n.links[0].url.startswith("https://eu-west-1.console.aws.amazon.com/cloudwatch/")


def test_the_value_threshold_and_metric_read_as_an_sns_alarms_are() -> None:
    said = facts(notification("cloudwatch-alarm-event-metric"))

    assert said["Value"] == "91.4 vs threshold > 80"
    assert said["Threshold"] == "> 80"
    assert said["Metric"] == (
        "AWS/ECS CPUUtilization · Average over 5 min · "
        "ClusterName=todoapp-cluster, ServiceName=todoapp-backend-service"
    )
    assert "Reason" not in said


def test_an_anomaly_alarm_compares_with_its_band_and_a_composite_names_its_children() -> None:
    assert facts(notification("cloudwatch-alarm-event-anomaly-band"))["Threshold"] == (
        "outside the band"
    )
    composite = facts(notification("cloudwatch-alarm-event-composite"))
    assert composite["Rule"] == "ALARM(todoapp-canary-api-failed) AND ALARM(todoapp-alb-5xx-rate)"
    assert composite["Triggered by"].startswith("todoapp-canary-api-failed (ALARM since ")


def test_its_dedup_key_is_the_sns_messages_so_both_share_one_memory() -> None:
    sns = notification("cloudwatch-alarm-metric")
    document = event("cloudwatch-alarm-event-metric")
    document.update(account="111122223333", region="eu-central-1")
    document["resources"] = [f"arn:aws:cloudwatch:eu-central-1:111122223333:alarm:{sns.name}"]

    n = parsed(document)
    at = datetime(2026, 11, 20, 18, 4, 12, tzinfo=UTC)
    first = decide(sns, None, at, WINDOW, "sns-1")
    again = decide(n, first.remember, at + timedelta(seconds=1), WINDOW, "event-1")

    assert n.dedup_key == sns.dedup_key
    assert (first.send, again.send) == (True, False)


def test_a_new_alarms_first_verdict_is_remembered_and_not_sent() -> None:
    n = notification("cloudwatch-alarm-event-first-verdict")

    decision = decide(n, None, datetime(2026, 11, 20, 17, 5, tzinfo=UTC), WINDOW)

    assert (n.previous_state, n.state) == (State.INSUFFICIENT_DATA, State.OK)
    assert decision.send is False
    assert decision.remember is not None


def test_without_the_alarm_arn_the_region_is_the_events_not_the_hub_topics() -> None:
    document = event("cloudwatch-alarm-event-metric")
    document["resources"] = []

    n = parse(
        Inbound(
            "m-1", None, json.dumps(document), "arn:aws:sns:eu-central-1:111122223333:ops", None
        )
    )

    assert n.region == "eu-west-1"
    assert n.dedup_key == "cloudwatch-alarm:eu-west-1:todoapp-backend-high-cpu"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["detail"].pop("state"), "field 'detail.state': expected an object"),
        (lambda d: d["detail"]["state"].update(value=7), "field 'value': expected a non-empty"),
        (lambda d: d["detail"].pop("alarmName"), "field 'alarmName'"),
        (lambda d: d.update(detail="ALARM"), "field 'detail': expected an object"),
    ],
)
def test_a_broken_event_reaches_people_raw_saying_why(change: Any, problem: str) -> None:
    document = event("cloudwatch-alarm-event-metric")
    change(document)

    n = parsed(document)

    assert n.source is Source.UNRECOGNISED
    assert "looks like a CloudWatch alarm state change event" in n.facts[0].value
    assert problem in n.facts[0].value


def test_unreadable_reason_data_costs_only_the_threshold() -> None:
    document = event("cloudwatch-alarm-event-metric-math")
    document["detail"]["state"]["reasonData"] = "{not json"

    n = parsed(document)

    assert n.source is Source.CLOUDWATCH_ALARM
    assert facts(n)["Value"] == "12.5 vs threshold > 5.0"
