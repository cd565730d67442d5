"""The SQS engine's queue adapter under moto (nightshift.adapters.target_queue.TargetQueue):
10 entries a SendMessageBatch, an entry SQS refuses sent again, one still refused after every
attempt returned as not sent. SQS's partial refusal (a `Failed` entry in a 200 answer) is
answered from a botocore before-call hook, the way botocore lets a handler answer a call."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from nightshift.adapters.target_queue import SEND_ATTEMPTS, TargetQueue
from nightshift.fanout import WorkItem
from nightshift.fanout.queue import TargetMessage, run_messages

REGION = "eu-central-1"
AT = dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC)


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def messages(count: int) -> tuple[TargetMessage, ...]:
    items = [WorkItem(f"{200000000000 + n}", REGION, None, f"t{n}") for n in range(count)]
    return run_messages("scheduler", items, AT, None)


def queue_url(sqs: Any) -> str:
    url: str = sqs.create_queue(QueueName="targets.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    return url


def received(sqs: Any, url: str) -> list[str]:
    bodies = []
    while found := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in found:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def entries_of(call: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries of a SendMessageBatch request (SQS's JSON protocol: the body is JSON)."""
    body = call["params"]["body"]
    entries: list[dict[str, Any]] = json.loads(body)["Entries"]
    return entries


def test_every_target_is_sent_ten_a_call(sqs: Any) -> None:
    url = queue_url(sqs)
    calls: list[int] = []
    sqs.meta.events.register(
        "before-call.sqs.SendMessageBatch",
        lambda **kwargs: calls.append(len(entries_of(kwargs))),
    )

    unsent = TargetQueue(url, sqs).send(messages(23))

    assert unsent == {}
    assert calls == [10, 10, 3]
    bodies = received(sqs, url)
    assert sorted(TargetMessage.from_body(b).index for b in bodies) == list(range(23))


def test_a_refused_entry_is_sent_again_and_reported_when_it_never_goes(sqs: Any) -> None:
    url = queue_url(sqs)
    sent: list[list[str]] = []
    refuse = {"always": "3", "once": "5"}
    refused_once: set[str] = set()

    def answer(**kwargs: Any) -> Any:
        entries = entries_of(kwargs)
        sent.append([entry["Id"] for entry in entries])
        failed = [
            e
            for e in entries
            if e["Id"] == refuse["always"] or (e["Id"] == refuse["once"] and not refused_once)
        ]
        if not failed:
            return None  # moto answers
        refused_once.add(refuse["once"])
        passing = [e for e in entries if e not in failed]
        for entry in passing:
            sqs.send_message(
                QueueUrl=url,
                MessageBody=entry["MessageBody"],
                MessageGroupId=entry["MessageGroupId"],
                MessageDeduplicationId=entry["MessageDeduplicationId"],
            )
        return AWSResponse(url, 200, {}, None), {
            "Successful": [
                {"Id": e["Id"], "MessageId": f"m{e['Id']}", "MD5OfMessageBody": ""} for e in passing
            ],
            "Failed": [
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "try"}
                for e in failed
            ],
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    sqs.meta.events.register("before-call.sqs.SendMessageBatch", answer)

    unsent = TargetQueue(url, sqs).send(messages(8))

    assert list(unsent) == [3]
    assert "InternalError" in unsent[3]
    assert sent[0] == [str(n) for n in range(8)]
    assert sent[1] == ["3", "5"]  # only the refused entries are sent again
    assert sent[1:] == [["3", "5"], *[["3"]] * (SEND_ATTEMPTS - 2)]
    bodies = received(sqs, url)
    assert sorted(TargetMessage.from_body(b).index for b in bodies) == [0, 1, 2, 4, 5, 6, 7]
