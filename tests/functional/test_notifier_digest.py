"""The daily digest under moto: routine reports kept in the state table, sent by the digest
schedule's run once due, exactly once, and a failed send retried by the next run."""

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

from localcloud.receiver import WebhookReceiver
from nightshift.notify.service import UndeliveredError
from tests.conftest import FakeLambdaContext, load_event, load_handler
from tests.support.nightshift import create_state_table, function_environment

REGION = "eu-central-1"
TABLE = "nightshift-state"
POLICY = """
version: 1
notify:
  destinations:
    oncall: {type: slack, secret: nightshift/slack-oncall}
  digest: {at: "08:00", timezone: Europe/Berlin}
  routes:
    - {match: {source: [nightshift-report]}, to: [oncall], deliver: digest}
    - {to: [oncall]}
"""
# Both fixtures' digests are due by Monday 23 Nov 2026 08:00 in Berlin (07:00 UTC): the
# pruner ran Friday 03:00, staging was started Monday 07:30.
ROUTINE = ("nightshift-report-pruner", "nightshift-report-scheduler-start")
DUE = "2026-11-23T07:00:00Z"


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
        boto3.client("secretsmanager").create_secret(
            Name="nightshift/slack-oncall", SecretString=receiver.url_for("oncall")
        )
        yield load_handler("notifier")
    parameters.clear_caches()


def routine_batch() -> dict[str, Any]:
    return {"Records": [load_event("notifier", name)["Records"][0] for name in ROUTINE]}


def digest_run(handler: ModuleType, time: str = DUE) -> Any:
    event = {"digest": True, "time": time}
    return handler.lambda_handler(copy.deepcopy(event), FakeLambdaContext())


def kept_items() -> list[dict[str, Any]]:
    answer = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "notifier#digest"}},
    )
    return answer["Items"]


def posted_texts(receiver: WebhookReceiver) -> list[str]:
    return [json.dumps(r.json, ensure_ascii=False) for r in receiver.requests if r.status == 200]


def test_routine_reports_are_kept_with_a_ttl_and_posted_nowhere(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    result = notifier.lambda_handler(routine_batch(), FakeLambdaContext())

    assert result == {"batchItemFailures": []}
    assert receiver.requests == []
    items = kept_items()
    assert len(items) == 2
    assert all(int(item["expiration"]["N"]) > 0 for item in items)
    assert sorted(item["due"]["S"] for item in items) == [
        "2026-11-20T07:00:00Z",
        "2026-11-23T07:00:00Z",
    ]


def test_the_digest_is_sent_once_when_due_in_peoples_words(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    notifier.lambda_handler(routine_batch(), FakeLambdaContext())

    early = digest_run(notifier, "2026-11-20T06:45:00Z")
    due = digest_run(notifier)
    retried = digest_run(notifier)  # the same scheduled run again (a retry): nothing twice

    assert early == {"due": 0, "sent": []}
    assert due == {"due": 2, "sent": ["oncall"]}
    assert retried == {"due": 0, "sent": []}
    (text,) = posted_texts(receiver)
    assert "staging digest · Mon 23 Nov" in text
    # Friday's prune and Monday's start: a weekend, so the times say their weekdays.
    assert "Since Fri: staging parked until Mon 07:30 (60.5 h, ≈ $2.87 saved)" in text
    assert "3 snapshots pruned (60 GiB, $3.00/month)" in text
    assert kept_items() == []


def test_a_failed_digest_is_kept_and_sent_by_the_next_run(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    notifier.lambda_handler(routine_batch(), FakeLambdaContext())
    receiver.always(500, destination="oncall")

    with pytest.raises(UndeliveredError, match="oncall"):
        digest_run(notifier)
    assert len(kept_items()) == 2
    receiver.always(200, destination="oncall")
    later = digest_run(notifier, "2026-11-23T07:15:00Z")

    assert later == {"due": 2, "sent": ["oncall"]}
    assert len(posted_texts(receiver)) == 1
    assert kept_items() == []


def test_a_page_on_a_digest_route_is_posted_at_once_and_never_kept(
    notifier: ModuleType, receiver: WebhookReceiver
) -> None:
    result = notifier.lambda_handler(
        load_event("notifier", "nightshift-report-pruner-failed"), FakeLambdaContext()
    )

    assert result == {"batchItemFailures": []}
    assert len(posted_texts(receiver)) == 1
    assert kept_items() == []
