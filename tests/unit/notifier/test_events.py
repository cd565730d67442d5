"""Reading an SQS record's body: the SNS envelope, or the whole body when there is none."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nightshift.notify.events import Inbound, content_id, readable

from .fixtures import envelope, fixture_names, record
from .strategies import NOTIFIER_PROFILE


def test_sns_envelope_gives_message_id_subject_topic_and_timestamp() -> None:
    first = record("cloudwatch-alarm-metric")

    inbound = Inbound.from_sqs_body(first["body"], first["messageId"])

    assert inbound == Inbound(
        message_id="6f2c1a9e-0b5d-5e0c-9a77-2d1f0e8c4b10",
        subject='ALARM: "todoapp-backend-high-cpu" in EU (Frankfurt)',
        body=envelope("cloudwatch-alarm-metric")["Message"],
        topic_arn="arn:aws:sns:eu-central-1:111122223333:nightshift-ops",
        timestamp="2026-11-20T18:04:12.311Z",
    )


def test_envelope_without_subject_has_none() -> None:
    first = record("ecs-deployment-completed")

    assert Inbound.from_sqs_body(first["body"]).subject is None


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_is_read_without_losing_the_message(name: str) -> None:
    first = record(name)
    body = json.loads(first["body"]) if first["body"].lstrip().startswith("{") else None

    inbound = Inbound.from_sqs_body(first["body"], first["messageId"])

    if body is not None and body.get("Type") == "Notification":
        assert inbound.body == body["Message"]
        assert inbound.message_id == body["MessageId"]
    else:
        assert inbound.body == first["body"]
        assert inbound.message_id == first["messageId"]


def test_raw_delivery_uses_the_sqs_message_id_when_given() -> None:
    first = record("raw-delivery-cloudwatch-alarm")

    inbound = Inbound.from_sqs_body(first["body"], "sqs-id")

    assert (inbound.message_id, inbound.subject, inbound.topic_arn) == ("sqs-id", None, None)
    assert inbound.body == first["body"]


def test_without_any_id_a_redelivered_body_gets_the_same_content_id() -> None:
    one = Inbound.from_sqs_body("disk full")
    two = Inbound.from_sqs_body("disk full")

    assert one.message_id == two.message_id == content_id("disk full")
    assert one.message_id.startswith("sha256:")


@pytest.mark.parametrize(
    "body",
    [
        '{"Type": "SubscriptionConfirmation", "Message": "confirm"}',
        '{"Type": "Notification", "Message": {"not": "a string"}}',
        '{"Type": "Notification"}',
        "[1, 2]",
        "{not json",
    ],
)
def test_anything_but_an_sns_notification_envelope_is_taken_whole(body: str) -> None:
    assert Inbound.from_sqs_body(body).body == body


def test_invalid_utf8_bytes_become_escapes() -> None:
    inbound = Inbound.from_sqs_body(b"caf\xe9 \xff")

    assert inbound.body == "caf\\xe9 \\xff"


def test_lone_surrogates_in_the_sns_message_become_escapes() -> None:
    body = json.dumps({"Type": "Notification", "MessageId": "m", "Message": "a\ud800b"})

    inbound = Inbound.from_sqs_body(body)

    assert inbound.body == "a\\ud800b"
    inbound.body.encode("utf-8")


def test_readable_leaves_valid_text_alone() -> None:
    assert readable("Grüße → 🟢") == "Grüße → 🟢"


@NOTIFIER_PROFILE
@given(body=st.one_of(st.text(max_size=1_000), st.binary(max_size=1_000)))
def test_from_sqs_body_never_raises_and_always_gives_utf8(body: str | bytes) -> None:
    inbound = Inbound.from_sqs_body(body)

    inbound.body.encode("utf-8")
    assert inbound.message_id
