"""A heads-up before a stop, end to end under moto: the scheduler's run 30 minutes before the stop
publishes it once, and the notifier renders it with Slack buttons whose signed tokens the
actions function's verifier accepts (its GET answers with the confirmation page).

Policy: office-hours, Berlin, mon-fri 07:30-19:00, heads-up 30 min. 2026-11-20 is a Friday
(19:00 CET = 18:00 UTC)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from localcloud.receiver import WebhookReceiver
from nightshift.actions.http import Request, answer
from nightshift.actions.token import ActionKind, verify
from tests.conftest import FakeLambdaContext, load_handler
from tests.functional.test_scheduler import ACCOUNT, REGION, SCHEDULE, TABLE, TOPIC, Cloud
from tests.support.nightshift import function_environment

POLICY = """
version: 1
protect: {tag: Environment, values: [production, prod]}
schedules:
  office-hours:
    timezone: Europe/Berlin
    heads_up_minutes: 30
    periods: [{days: mon-fri, start: "07:30", stop: "19:00"}]
notify:
  destinations:
    oncall: {type: slack, secret: nightshift/slack-oncall}
  routes:
    - {to: [oncall]}
"""
HALF_AN_HOUR_BEFORE = "2026-11-20T17:30:00Z"  # 18:30 CET
NEXT_RUN = "2026-11-20T17:35:00Z"
KEY_SECRET = "nightshift/actions-staging-signing-key"
KEY = "k" * 64
ACTIONS_URL = "https://abc123.lambda-url.eu-central-1.on.aws/"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cloud]:
    policy = tmp_path / "nightshift.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    function_environment(
        monkeypatch,
        service="scheduler",
        policy_file=policy,
        table=TABLE,
        topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}",
        region=REGION,
        extra={"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"},
    )
    parameters.clear_caches()
    with mock_aws():
        made = Cloud(policy)
        made.create_nightshift()
        made.cluster("todoapp")
        made.service("todoapp", "api", 2, **SCHEDULE)
        made.database("todoapp-db", **SCHEDULE)
        yield made
    parameters.clear_caches()


def heads_ups(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for r in reports for item in r["items"] if item["action"] == "heads-up"]


def notify(monkeypatch: pytest.MonkeyPatch, cloud: Cloud, report: dict[str, Any]) -> None:
    """The notifier, as deployed with the actions function, handles the published report."""
    function_environment(
        monkeypatch,
        service="notifier",
        policy_file=cloud.policy,
        table=TABLE,
        topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}",
        region=REGION,
        extra={
            "NIGHTSHIFT_ACTIONS_URL": ACTIONS_URL,
            "NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET": KEY_SECRET,
        },
    )
    envelope = {
        "Type": "Notification",
        "MessageId": "m-heads-up",
        "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}",
        "Message": json.dumps(report),
    }
    event = {"Records": [{"messageId": "sqs-1", "body": json.dumps(envelope)}]}
    result = load_handler("notifier").lambda_handler(event, FakeLambdaContext())
    assert result == {"batchItemFailures": []}


def test_a_run_in_the_window_warns_once_and_slack_gets_buttons_the_actions_function_accepts(
    cloud: Cloud, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud.run(HALF_AN_HOUR_BEFORE)
    (report,) = cloud.reports()
    (item,) = heads_ups([report])
    assert item["resource"] == "office-hours"
    assert item["details"]["stops_at"] == "2026-11-20T18:00:00+00:00"
    assert len(item["details"]["resources"]) == 2
    assert "in 30 min" in item["reason"]
    # Nothing was stopped: the stop is still half an hour away.
    assert cloud.service_capacity("todoapp", "api")[0] == 2

    cloud.run(NEXT_RUN)
    assert heads_ups(cloud.reports()) == []  # sent once per stop

    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=KEY_SECRET, SecretString=KEY)
    secrets.create_secret(Name="nightshift/slack-oncall", SecretString=receiver.url_for("oncall"))
    notify(monkeypatch, cloud, report)

    (slack,) = [r.json for r in receiver.requests if r.destination == "oncall"]
    (block,) = [b for b in slack["blocks"] if b["type"] == "actions"]
    labels = [e["text"]["text"] for e in block["elements"]]
    assert labels == ["Keep running 1 h", "Keep running until 22:00", "Stop now"]
    links = [
        u
        for b in slack["blocks"]
        if b["type"] == "context"
        for e in b["elements"]
        for u in e["text"].split("<")
        if u.startswith(ACTIONS_URL)
    ]
    assert len(links) == 3
    now = dt.datetime(2026, 11, 20, 17, 31, tzinfo=dt.UTC)
    berlin = ZoneInfo("Europe/Berlin")
    for element, link in zip(block["elements"], links, strict=True):
        query = {k: v[0] for k, v in parse_qs(urlsplit(link.split("|")[0]).query).items()}
        assert query["token"] == element["value"]
        checked = verify(element["value"], KEY.encode(), now, expected_target="office-hours")
        assert checked.ok
        assert checked.token is not None
        assert checked.token.target == "office-hours"
        # The actions function's own answer to the link: the confirmation page, nothing done.
        shown = answer(
            Request("link", {}, b"", query),
            KEY.encode,
            lambda: b"unused",
            now,
            berlin,
            lambda token, via: pytest.fail("a GET never acts"),
        )
        assert (shown.status, shown.reason) == (200, "shown")
    hour, evening, stop_now = (
        verify(e["value"], KEY.encode(), now).token for e in block["elements"]
    )
    assert hour is not None
    assert evening is not None
    assert stop_now is not None
    assert hour.until == dt.datetime(2026, 11, 20, 19, 0, tzinfo=dt.UTC)
    assert evening.until == dt.datetime(2026, 11, 20, 22, 0, tzinfo=berlin)
    # stopped now, until Monday's start (the link itself works 24 h at most)
    assert stop_now.kind is ActionKind.STOP_NOW
    assert stop_now.until == dt.datetime(2026, 11, 23, 7, 30, tzinfo=berlin)


def test_a_run_before_the_window_says_nothing(cloud: Cloud) -> None:
    cloud.run("2026-11-20T17:25:00Z")  # 35 min before the stop
    assert heads_ups(cloud.reports()) == []
