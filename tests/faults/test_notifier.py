"""The notifier under faults: an SQS batch of four alarms (each to Slack, and to Teams when
critical, by the policy's routes), replayed with a fault at every AWS call (the
webhook secrets, the delivery ledger, the alarm memory), then redelivered by SQS, fault-free,
for as long as records come back as failures.

The policy and the local webhook receiver are the functional tier's
(`tests/functional/test_notifier.py`); its routes end with a catch-all.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from localcloud.receiver import WebhookReceiver
from tests.conftest import FakeLambdaContext, load_event, load_handler
from tests.faults.harness import (
    SEEDS,
    Ledger,
    assert_clean_and_documented,
    faulty_cloud,
    ledger,
    new_process,
    random_plan,
    run_armed,
    targeted_plans,
)
from tests.functional.test_notifier import POLICY, REGION, TABLE
from tests.support.faults import FaultInjector, FaultKind, ProcessCrash
from tests.support.nightshift import create_state_table, function_environment

ALARMS = 4
REDELIVERIES = 3  # SQS hands failed records back; more than the tier ever needs


def alarm_batch(round_: int) -> dict[str, Any]:
    """`ALARMS` distinct alarms in one SQS batch, from the metric-alarm fixture."""
    template = load_event("notifier", "cloudwatch-alarm-metric")["Records"][0]
    records = []
    for index in range(ALARMS):
        record = copy.deepcopy(template)
        envelope = json.loads(record["body"])
        alarm = json.loads(envelope["Message"])
        alarm["AlarmName"] = f"alarm-{round_}-{index}"
        # The ARN is the alarm's identity for repeat suppression.
        alarm["AlarmArn"] = alarm["AlarmArn"].rsplit(":", 1)[0] + ":" + alarm["AlarmName"]
        envelope["Message"] = json.dumps(alarm)
        envelope["MessageId"] = f"00000000-0000-4000-8000-{round_:06d}{index:06d}"
        record["body"] = json.dumps(envelope)
        record["messageId"] = f"sqs-{round_}-{index}"
        records.append(record)
    return {"Records": records}


class Deliveries:
    def __init__(self, book: Ledger, injector: FaultInjector, receiver: WebhookReceiver) -> None:
        self.book = book
        self.injector = injector
        self.receiver = receiver
        create_state_table(boto3.client("dynamodb"), TABLE)
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(
            Name="nightshift/slack-oncall", SecretString=receiver.url_for("oncall")
        )
        secrets.create_secret(
            Name="nightshift/teams-ops", SecretString=json.dumps({"url": receiver.url_for("ops")})
        )
        self.app = load_handler("notifier")
        self.round = 0

    def delivered(self) -> set[str]:
        """Alarm names that reached Slack (every record's route includes it)."""
        texts = [json.dumps(r.json) for r in self.receiver.requests if r.destination == "oncall"]
        return {
            f"alarm-{found}"
            for text in texts
            for found in re.findall(r"alarm-([0-9]+-[0-9]+)", text)
        }

    def play(self, faults: dict[int, dict[int, FaultKind]]) -> list[int]:
        self.round += 1
        batch = alarm_batch(self.round)
        pending = {r["messageId"]: r for r in batch["Records"]}
        names = {r["messageId"]: f"alarm-{self.round}-{i}" for i, r in enumerate(batch["Records"])}
        counts = []
        for delivery in range(1 + REDELIVERIES):
            if not pending:
                break
            event = {"Records": list(pending.values())}
            result, ended, calls = run_armed(
                self.book,
                self.injector,
                faults.get(delivery, {}),
                lambda event=event: self.app.lambda_handler(
                    copy.deepcopy(event), FakeLambdaContext()
                ),
            )
            counts.append(len(calls))
            if isinstance(ended, ProcessCrash):
                new_process(self.app)
                parameters.clear_caches()
            # An invocation that raised hands the whole batch back; else its failures.
            failed = (
                set(pending)
                if ended is not None
                else {item["itemIdentifier"] for item in result["batchItemFailures"]}
            )
            delivered = self.delivered()
            acknowledged = set(pending) - failed
            silent = sorted(m for m in acknowledged if names[m] not in delivered)
            self.book.check(
                "every record is delivered or returned as a failure, never acknowledged silently",
                not silent,
                lambda silent=silent: (
                    f"acknowledged without a delivery: {silent} ({self.injector.injected})"
                ),
            )
            pending = {m: r for m, r in pending.items() if m in failed}
        self.book.check(
            "every record is delivered once SQS has redelivered the failures",
            not pending,
            lambda: f"still failing: {sorted(pending)} ({self.injector.injected})",
        )
        return counts


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    policy = tmp_path / "nightshift.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    function_environment(
        monkeypatch,
        service="notifier",
        policy_file=policy,
        table=TABLE,
        topic_arn=f"arn:aws:sns:{REGION}:123456789012:nightshift-ops",
        region=REGION,
        extra={"POWERTOOLS_LOG_LEVEL": "WARNING"},
    )


def replays(calls: int) -> Iterator[dict[int, dict[int, FaultKind]]]:
    for plan in targeted_plans(calls):
        yield {0: plan}
    for seed in range(SEEDS):
        rng = random.Random(seed)
        yield {delivery: random_plan(rng, calls) for delivery in range(2)}


@pytest.mark.usefixtures("environment")
def test_every_batch_faulted_at_every_call_is_delivered_or_handed_back() -> None:
    book = ledger("notifier")
    injector = FaultInjector()
    with WebhookReceiver() as receiver, faulty_cloud(injector):
        parameters.clear_caches()
        deliveries = Deliveries(book, injector, receiver)
        [calls] = deliveries.play({})
        book.boundaries = calls
        for faults in replays(calls):
            book.replays += 1
            deliveries.play(faults)
    parameters.clear_caches()

    assert_clean_and_documented(book)
