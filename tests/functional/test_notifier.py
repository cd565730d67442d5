"""The notifier handler under moto, posting to a real local webhook receiver."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from iamjudge.pytest_plugin import JudgedCalls
from localcloud.receiver import ScriptedResponse, WebhookReceiver
from tests.conftest import FakeLambdaContext, event_names, load_event, load_handler
from tests.support.nightshift import create_state_table, function_environment, subscribe_queue

REGION = "eu-central-1"
TABLE = "nightshift-state"
POLICY = """
version: 1
notify:
  destinations:
    oncall: {type: slack, secret: nightshift/slack-oncall}
    ops: {type: teams, secret: nightshift/teams-ops}
  routes:
    - {match: {severity: [critical]}, to: [oncall, ops]}
    - {to: [oncall]}
  repeat_window_minutes: 60
"""


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def notifier(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, receiver: WebhookReceiver
) -> Iterator[ModuleType]:
    policy_file = tmp_path / "nightshift.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    function_environment(
        monkeypatch,
        service="notifier",
        policy_file=policy_file,
        table=TABLE,
        topic_arn=f"arn:aws:sns:{REGION}:123456789012:nightshift-ops",
        region=REGION,
    )
    parameters.clear_caches()
    with mock_aws():
        create_state_table(boto3.client("dynamodb"), TABLE)
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(
            Name="nightshift/slack-oncall", SecretString=receiver.url_for("oncall")
        )
        secrets.create_secret(
            Name="nightshift/teams-ops", SecretString=json.dumps({"url": receiver.url_for("ops")})
        )
        yield load_handler("notifier")
    parameters.clear_caches()


def invoke(handler: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    return handler.lambda_handler(copy.deepcopy(event), FakeLambdaContext())


def slack_requests(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [r.json for r in receiver.requests if r.destination == "oncall"]


@pytest.mark.parametrize("name", event_names("notifier"))
def test_every_fixture_is_delivered_and_nothing_fails(
    notifier: ModuleType, receiver: WebhookReceiver, name: str
) -> None:
    event = load_event("notifier", name)

    result = invoke(notifier, event)

    assert result == {"batchItemFailures": []}
    slack = slack_requests(receiver)
    assert len(slack) == len(event["Records"])
    assert all(body["text"] and body["blocks"] for body in slack)


def test_metric_alarm_reaches_slack_with_every_fact_a_responder_needs(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    invoke(notifier, load_event("notifier", "cloudwatch-alarm-metric"))

    (slack,) = slack_requests(receiver)
    text = json.dumps(slack, ensure_ascii=False)
    for expected in (
        "todoapp-backend-high-cpu",
        "OK → ALARM",
        "Threshold Crossed: 2 out of the last 2 datapoints",
        "CPUUtilization",
        "ServiceName=todoapp-backend-service",
        "ClusterName=todoapp-cluster",
        "91.4 vs threshold &gt; 80",
        "eu-central-1",
        "https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1#alarmsV2:alarm/todoapp-backend-high-cpu",
    ):
        assert expected in text
    assert "Europe (Frankfurt)" not in slack["text"]


def test_critical_alarm_also_reaches_teams_as_an_adaptive_card(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    invoke(notifier, load_event("notifier", "cloudwatch-alarm-metric"))

    (teams,) = [r.json for r in receiver.requests if r.destination == "ops"]
    attachment = teams["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "todoapp-backend-high-cpu" in json.dumps(attachment["content"])


def test_ok_after_alarm_renders_as_resolved(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    invoke(notifier, load_event("notifier", "cloudwatch-alarm-metric"))
    invoke(notifier, load_event("notifier", "cloudwatch-alarm-metric-ok"))

    resolved = [r for r in slack_requests(receiver) if r["text"].startswith("RESOLVED:")]
    assert len(resolved) == 1
    assert "Resolved after" in json.dumps(resolved[0], ensure_ascii=False)


def test_sns_redelivery_of_the_same_message_reaches_nobody_twice(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    event = load_event("notifier", "cloudwatch-alarm-metric")

    invoke(notifier, event)
    second = invoke(notifier, event)

    assert second == {"batchItemFailures": []}
    assert len(slack_requests(receiver)) == 1


def test_failing_destination_fails_only_its_record_and_does_not_block_the_others(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    receiver.always(500, destination="ops")
    alarm = load_event("notifier", "cloudwatch-alarm-metric")
    budget = load_event("notifier", "budgets-actual")
    event = {"Records": alarm["Records"] + budget["Records"]}

    result = invoke(notifier, event)

    assert result == {"batchItemFailures": [{"itemIdentifier": alarm["Records"][0]["messageId"]}]}
    assert len(slack_requests(receiver)) == 2


def test_retry_after_a_failure_sends_only_to_the_destination_that_failed(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    receiver.always(500, destination="ops")
    event = load_event("notifier", "cloudwatch-alarm-metric")
    invoke(notifier, event)
    receiver.always(200, destination="ops")

    result = invoke(notifier, event)

    assert result == {"batchItemFailures": []}
    assert len(slack_requests(receiver)) == 1
    assert [r.status for r in receiver.requests if r.destination == "ops"] == [500, 200]


def test_rate_limited_webhook_is_retried_after_its_retry_after(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    receiver.script(ScriptedResponse(429, {"Retry-After": "0"}), 200, destination="oncall")

    result = invoke(notifier, load_event("notifier", "budgets-actual"))

    assert result == {"batchItemFailures": []}
    assert [r.status for r in receiver.requests if r.destination == "oncall"] == [429, 200]


def test_policy_with_unknown_destination_fails_every_record_so_nothing_is_lost(
    notifier: ModuleType, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    (tmp_path / "nightshift.yaml").write_text(
        POLICY.replace("to: [oncall]}", "to: [on-call]}"), encoding="utf-8"
    )
    event = load_event("notifier", "budgets-actual")

    result = invoke(notifier, event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert receiver.requests == []


def test_webhook_urls_never_appear_in_logs(
    notifier: ModuleType,
    receiver: WebhookReceiver,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.always(500, destination="ops")

    invoke(notifier, load_event("notifier", "cloudwatch-alarm-metric"))

    output = capsys.readouterr()
    # Every record with its extra keys, as well as whatever reached stdout and stderr.
    logged = output.out + output.err + "\n".join(str(vars(r)) for r in caplog.records)
    assert "delivery failed" in logged
    assert receiver.url not in logged


def test_email_destination_publishes_plain_text_to_its_topic(
    notifier: ModuleType, receiver: WebhookReceiver, tmp_path: Path, iam_judge: JudgedCalls
) -> None:
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    topic_arn = sns.create_topic(Name="ops-email")["TopicArn"]
    # Deployed with the topic in NotifierEmailTopicArns, as docs/iam.md says.
    iam_judge.parameters["NotifierEmailTopicArns"] = [topic_arn]
    inbox = subscribe_queue(sns, sqs, topic_arn, "inbox", raw=True)
    (tmp_path / "nightshift.yaml").write_text(
        "version: 1\nnotify:\n  destinations:\n"
        f"    mail: {{type: email, topic_arn: '{topic_arn}'}}\n"
        "  routes: [{to: [mail]}]\n",
        encoding="utf-8",
    )

    result = invoke(notifier, load_event("notifier", "budgets-forecasted"))

    assert result == {"batchItemFailures": []}
    (mail,) = sqs.receive_message(QueueUrl=inbox)["Messages"]
    assert "todoapp-monthly" in mail["Body"]
    assert "$63.12" in mail["Body"]
    assert not mail["Body"].lstrip().startswith("{")
    assert receiver.requests == []
