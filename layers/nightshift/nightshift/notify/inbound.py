"""What arrives on the notifier's queue, before anyone has looked inside it.

The queue is subscribed to the ops topic without raw delivery, so an SQS record's body is the SNS
envelope (`Type`, `MessageId`, `TopicArn`, `Subject`, `Message`, `Timestamp`, ...). Anything
else (raw delivery, an EventBridge event sent straight to the queue, a hand-written test message)
is taken whole as the message body: nothing is refused here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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
