"""The notifier handler under moto, posting to a real local webhook receiver."""

from __future__ import annotations

import copy
import json
import logging
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
from nightshift.errors import EventError
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


# A new alarm's first verdict is remembered and not posted (docs/notifications.md), whether it
# comes as the alarm's SNS message or as EventBridge's state change event (a member account's).
FIRST_VERDICT = "cloudwatch-alarm-metric-first-verdict"
EVENT_FIRST_VERDICT = "cloudwatch-alarm-event-first-verdict"
POSTED = [
    name for name in event_names("notifier") if name not in (FIRST_VERDICT, EVENT_FIRST_VERDICT)
]


@pytest.mark.parametrize("name", POSTED)
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
        "2026-11-20 18:04:12 UTC",  # since when
        "CPUUtilization",
        "ServiceName=todoapp-backend-service",
        "ClusterName=todoapp-cluster",
        "91.4 vs threshold &gt; 80",
        "eu-central-1",
        "https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1#alarmsV2:alarm/todoapp-backend-high-cpu",
    ):
        assert expected in text
    assert "Europe (Frankfurt)" not in slack["text"]


def test_a_new_alarms_first_verdict_is_acknowledged_remembered_and_not_posted(
    notifier: ModuleType, receiver: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    result = invoke(notifier, load_event("notifier", FIRST_VERDICT))

    assert result == {"batchItemFailures": []}
    assert receiver.requests == []
    assert '"NotificationsSuppressed"' in capsys.readouterr().out

    # Remembered as OK: the alarm's first real ALARM pages, and its OK is a resolution again.
    invoke(notifier, load_event("notifier", "cloudwatch-alarm-metric"))
    invoke(notifier, load_event("notifier", "cloudwatch-alarm-metric-ok"))
    titles = [body["blocks"][0]["text"]["text"] for body in slack_requests(receiver)]
    assert titles == [
        ":red_circle: ALARM: todoapp-backend-high-cpu",
        ":large_green_circle: RESOLVED: todoapp-backend-high-cpu",
    ]


def test_a_member_accounts_alarm_event_pages_with_its_account_and_region_then_resolves(
    notifier: ModuleType, receiver: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    # The spoke's EventBridge rule in staging (222222222222, eu-west-1) sends the hub's topic
    # the alarm's state changes: its first verdict, then ALARM, then OK.
    first = invoke(notifier, load_event("notifier", EVENT_FIRST_VERDICT))
    assert first == {"batchItemFailures": []}
    assert receiver.requests == []
    assert '"NotificationsSuppressed"' in capsys.readouterr().out

    invoke(notifier, load_event("notifier", "cloudwatch-alarm-event-metric"))
    invoke(notifier, load_event("notifier", "cloudwatch-alarm-event-metric-ok"))

    page, resolved = slack_requests(receiver)
    assert page["blocks"][0]["text"]["text"] == ":red_circle: ALARM: todoapp-backend-high-cpu"
    text = json.dumps(page, ensure_ascii=False)
    for expected in (
        "account 222222222222",
        "eu-west-1",
        "OK → ALARM",
        "91.4 vs threshold &gt; 80",
        "ServiceName=todoapp-backend-service",
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/todoapp-backend-high-cpu",
    ):
        assert expected in text
    assert [r.destination for r in receiver.requests].count("ops") == 2  # critical: Teams too
    assert resolved["blocks"][0]["text"]["text"] == (
        ":large_green_circle: RESOLVED: todoapp-backend-high-cpu"
    )
    assert "Resolved after" in json.dumps(resolved, ensure_ascii=False)
    assert "UNRECOGNISED" not in json.dumps([page, resolved])


def test_the_policys_targets_name_the_member_account_an_alarm_event_comes_from(
    notifier: ModuleType, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    targets = """
targets:
  accounts:
    - {account: "222222222222", name: staging, regions: [eu-central-1, eu-west-1]}
    - {account: "333333333333", name: prod-eu, production: true}
"""
    (tmp_path / "nightshift.yaml").write_text(POLICY + targets, encoding="utf-8")

    invoke(notifier, load_event("notifier", "cloudwatch-alarm-event-metric"))

    (page,) = slack_requests(receiver)
    fields = [f["text"] for block in page["blocks"] for f in block.get("fields", ())]
    assert fields[0] == "*Account*\nstaging (222222222222)"


def test_an_alarm_that_notifies_the_topic_and_sends_its_event_pages_once(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    # The same alarm's SNS message (its action is the hub's topic) and its EventBridge event (the
    # spoke's rule in the hub's own account): one memory, one page.
    invoke(notifier, load_event("notifier", "cloudwatch-alarm-metric"))
    sns_alarm = json.loads(
        json.loads(load_event("notifier", "cloudwatch-alarm-metric")["Records"][0]["body"])[
            "Message"
        ]
    )
    event = load_event("notifier", "cloudwatch-alarm-event-metric")
    record = event["Records"][0]
    envelope = json.loads(record["body"])
    state_change = json.loads(envelope["Message"])
    state_change.update(
        account=sns_alarm["AWSAccountId"],
        region="eu-central-1",
        resources=[sns_alarm["AlarmArn"]],
    )
    envelope["Message"] = json.dumps(state_change)
    record["body"] = json.dumps(envelope)

    result = invoke(notifier, event)

    assert result == {"batchItemFailures": []}
    assert len(slack_requests(receiver)) == 1


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


ROUTES_WITHOUT_CATCH_ALL = """
version: 1
notify:
  destinations:
    oncall: {type: slack, secret: nightshift/slack-oncall}
    ops: {type: teams, secret: nightshift/teams-ops}
  routes:
    - {match: {severity: [critical]}, to: [oncall]}
"""


def acknowledged_without_delivery(
    notifier: ModuleType, receiver: WebhookReceiver, name: str
) -> tuple[int, int, int]:
    """(records, batch item failures, acknowledged records nothing was delivered for) of one
    fixture; each record reaches at most one destination under these policies."""
    event = load_event("notifier", name)
    failed = invoke(notifier, event)["batchItemFailures"]
    acknowledged = len(event["Records"]) - len(failed)
    return len(event["Records"]), len(failed), acknowledged - len(receiver.requests)


@pytest.mark.parametrize("name", event_names("notifier"))
def test_routes_without_catch_all_or_fallback_never_acknowledge_a_record_undelivered(
    notifier: ModuleType, receiver: WebhookReceiver, tmp_path: Path, name: str
) -> None:
    (tmp_path / "nightshift.yaml").write_text(ROUTES_WITHOUT_CATCH_ALL, encoding="utf-8")

    records, failed, silent = acknowledged_without_delivery(notifier, receiver, name)

    assert silent == 0
    assert failed == records  # the policy is refused, so every record stays in the queue


@pytest.mark.parametrize("name", POSTED)
def test_message_no_route_matches_is_delivered_to_the_fallback_logged_and_counted(
    notifier: ModuleType,
    receiver: WebhookReceiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    (tmp_path / "nightshift.yaml").write_text(
        ROUTES_WITHOUT_CATCH_ALL + "  fallback: ops\n", encoding="utf-8"
    )

    _, failed, silent = acknowledged_without_delivery(notifier, receiver, name)

    assert (failed, silent) == (0, 0)
    fallbacks = [r for r in receiver.requests if r.destination == "ops"]
    logged = [r for r in caplog.records if r.getMessage() == "message sent to fallback"]
    assert len(logged) == len(fallbacks)
    assert ('"UnroutedMessages"' in capsys.readouterr().out) is bool(fallbacks)


def test_policy_without_a_notify_section_fails_every_record_instead_of_dropping_it(
    notifier: ModuleType, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    (tmp_path / "nightshift.yaml").write_text("version: 1\n", encoding="utf-8")
    event = load_event("notifier", "budgets-actual")

    result = invoke(notifier, event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert receiver.requests == []


SLACK_TOKEN = "T0NIGHTSHIFT/B0SECRET/xoxSlackWebhookToken0123456789"
TEAMS_TOKEN = "workflows/0123456789abcdef/triggers/manual/paths/invoke?sig=TeamsSignature0123"


def test_webhook_secrets_stay_out_of_every_log_even_with_the_root_logger_at_debug(
    notifier: ModuleType,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What Lambda's application log level DEBUG does: the root logger and Powertools at DEBUG.
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    secrets = boto3.client("secretsmanager")
    slack_url = f"{receiver.url_for('oncall')}/{SLACK_TOKEN}"
    teams_url = f"{receiver.url_for('ops')}/{TEAMS_TOKEN}"
    secrets.put_secret_value(SecretId="nightshift/slack-oncall", SecretString=slack_url)
    secrets.put_secret_value(
        SecretId="nightshift/teams-ops", SecretString=json.dumps({"url": teams_url})
    )
    caplog.set_level(logging.DEBUG)  # the root logger, and a handler that keeps every record
    handler = load_handler("notifier")  # a cold start with these settings

    result = invoke(handler, load_event("notifier", "cloudwatch-alarm-metric"))

    assert result == {"batchItemFailures": []}
    assert {r.destination for r in receiver.requests} == {"oncall", "ops"}
    output = capsys.readouterr()
    logged = "\n".join(
        [output.out, output.err, *(f"{r.getMessage()} {vars(r)}" for r in caplog.records)]
    )
    assert "message parsed" in logged  # Powertools' own lines are there, at DEBUG too
    fragments = [*SLACK_TOKEN.split("/"), *TEAMS_TOKEN.replace("?", "/").split("/")[1:]]
    leaked = [fragment for fragment in fragments if len(fragment) > 8 and fragment in logged]
    assert leaked == []


def test_record_whose_body_is_not_text_is_delivered_as_a_raw_message(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    event = load_event("notifier", "budgets-actual")
    record = event["Records"][0]
    record["body"] = {"Message": "not a string body"}
    del record["attributes"]  # and without SQS's SentTimestamp

    result = invoke(notifier, event)

    assert result == {"batchItemFailures": []}
    (slack,) = slack_requests(receiver)
    assert "not a string body" in json.dumps(slack)


@pytest.mark.parametrize(
    "event", [[], {"Records": []}, {"Records": "x"}, {"Records": [{"body": "no messageId"}]}]
)
def test_event_that_is_not_an_sqs_batch_is_an_event_error(
    notifier: ModuleType, receiver: WebhookReceiver, event: object
) -> None:
    with pytest.raises(EventError, match="SQS"):
        notifier.lambda_handler(event, FakeLambdaContext())

    assert receiver.requests == []
