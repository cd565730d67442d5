"""The notifier's trigger as typed events: an SQS record of the ops topic's queue, and the
message inside it, before anyone has looked at what it says.

The queue is subscribed to the ops topic without raw delivery, so an SQS record's body is the SNS
envelope (`Type`, `MessageId`, `TopicArn`, `Subject`, `Message`, `Timestamp`, ...). Anything
else (raw delivery, an EventBridge event sent straight to the queue, a hand-written test message)
is taken whole as the message body: nothing is refused here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.errors import EventError


@dataclass(frozen=True)
class Inbound:
    """One message as it came in: the SNS envelope's fields, or the whole body when there is none.

    `message_id` is SNS's MessageId (the same on every redelivery). Without an envelope it is the
    SQS message id when the caller passes one, else `sha256:<hex>` of the body, so a redelivery of
    the same body still has the same id.
    """

    message_id: str
    subject: str | None
    body: str
    topic_arn: str | None
    timestamp: str | None

    @classmethod
    def from_sqs_body(cls, body: str | bytes, sqs_message_id: str | None = None) -> Inbound:
        """Read an SQS record's body; never raises for what the body contains.

        >>> sns = '{"Type": "Notification", "MessageId": "m-1", "Message": "hi"}'
        >>> Inbound.from_sqs_body(sns).body
        'hi'
        >>> Inbound.from_sqs_body("plain text", "sqs-1").message_id
        'sqs-1'
        """
        text = readable(body)
        envelope = _sns_envelope(text)
        if envelope is None:
            return cls(
                message_id=sqs_message_id or content_id(text),
                subject=None,
                body=text,
                topic_arn=None,
                timestamp=None,
            )
        message = readable(envelope["Message"])
        return cls(
            message_id=_text(envelope, "MessageId") or sqs_message_id or content_id(message),
            subject=_text(envelope, "Subject"),
            body=message,
            topic_arn=_text(envelope, "TopicArn"),
            timestamp=_text(envelope, "Timestamp"),
        )


@dataclass(frozen=True)
class QueuedMessage:
    """One SQS record of the notifier's queue: the message it carries and when SQS received it
    (the event time of a message that does not say when it happened)."""

    inbound: Inbound
    arrived: dt.datetime

    @classmethod
    def from_sqs_record(cls, record: Mapping[str, Any], received: dt.datetime) -> QueuedMessage:
        """Read a record `check_sqs_batch` let through; `received` dates a record without SQS's
        SentTimestamp (the time it reached the function).

        >>> record = {"messageId": "sqs-1", "body": "hi", "attributes": {"SentTimestamp": "0"}}
        >>> queued = QueuedMessage.from_sqs_record(record, dt.datetime.min)
        >>> queued.inbound.message_id, queued.arrived.year
        ('sqs-1', 1970)
        """
        inbound = Inbound.from_sqs_body(record_text(record.get("body")), record["messageId"])
        return cls(inbound, sent_time(record.get("attributes"), otherwise=received))


def readable(value: str | bytes) -> str:
    """Text that can always be encoded as UTF-8: invalid bytes and lone surrogates become escapes.

    >>> readable(b"caf\\xe9")
    'caf\\\\xe9'
    """
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return value.encode("utf-8", errors="backslashreplace").decode("utf-8")


def content_id(text: str) -> str:
    """A stable id for a message that came without one."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sns_envelope(text: str) -> Mapping[str, Any] | None:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if (
        isinstance(document, dict)
        and document.get("Type") == "Notification"
        and isinstance(document.get("Message"), str)
    ):
        return document
    return None


def _text(envelope: Mapping[str, Any], key: str) -> str | None:
    value = envelope.get(key)
    return readable(value) if isinstance(value, str) and value else None


def check_sqs_batch(event: object) -> Mapping[str, Any]:
    """`event` when it is an SQS batch whose every record can be answered on its own (an object
    with a text `messageId`, the id a batch item failure names); EventError otherwise.

    >>> check_sqs_batch({"Records": [{"messageId": "m-1", "body": "hi"}]})["Records"][0]["body"]
    'hi'
    """
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list) or not records:
        raise EventError("the notifier handles SQS batches: an object with a list of Records")
    for index, record in enumerate(records):
        if not isinstance(record, Mapping) or not isinstance(record.get("messageId"), str):
            raise EventError(f"Records[{index}] is not an SQS record with a messageId")
    return event  # type: ignore[return-value]  # a Mapping, checked above


def record_text(body: object) -> str:
    """An SQS record's body as text: a string as it is, anything else as JSON, so a record with a
    body of the wrong type is still delivered as a raw message.

    >>> record_text("hi"), record_text({"a": 1}), record_text(None)
    ('hi', '{"a": 1}', 'null')
    """
    if isinstance(body, str | bytes):
        return readable(body)
    return readable(json.dumps(body, default=str))


def sent_time(attributes: object, otherwise: dt.datetime) -> dt.datetime:
    """When SQS received the record (`attributes.SentTimestamp`, epoch milliseconds), or
    `otherwise` when the record does not say.

    >>> sent_time({"SentTimestamp": "1795158175177"}, dt.datetime.min).isoformat()
    '2026-11-20T07:02:55.177000+00:00'
    """
    stamp = attributes.get("SentTimestamp") if isinstance(attributes, Mapping) else None
    if isinstance(stamp, str) and stamp.isdigit() and len(stamp) <= 13:
        return dt.datetime.fromtimestamp(int(stamp) / 1000, tz=dt.UTC)
    return otherwise
