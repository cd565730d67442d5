"""The events AWS services hand to Lambda, built from what moto returns: a pure core.

Shapes follow the Lambda developer guide (SQS, SNS, EventBridge Scheduler, EventBridge targets);
the partial batch response rules follow "Handling errors for an SQS event source in Lambda".
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Message system attributes Lambda copies into an SQS record's `attributes`.
_SQS_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "DeadLetterQueueSourceArn",
    "AWSTraceHeader",
)
SCHEDULER_PLACEHOLDERS = (
    "<aws.scheduler.schedule-arn>",
    "<aws.scheduler.scheduled-time>",
    "<aws.scheduler.execution-id>",
    "<aws.scheduler.attempt-number>",
)


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event from one message of sqs.receive_message.

    >>> message = {"MessageId": "m1", "ReceiptHandle": "r", "Body": "hi", "MD5OfBody": "x"}
    >>> sqs_record(message, "arn:aws:sqs:eu-central-1:123456789012:q", "eu-central-1")["body"]
    'hi'
    """
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {k: attributes[k] for k in _SQS_RECORD_ATTRIBUTES if k in attributes},
        "messageAttributes": {
            name: _sqs_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _sqs_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    # The SQS API says StringValue/DataType; the Lambda event says stringValue/dataType.
    converted: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": list(value.get("BinaryListValues", [])),
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        binary = value["BinaryValue"]
        converted["binaryValue"] = (
            binary if isinstance(binary, str) else base64.b64encode(binary).decode()
        )
    return converted


def sns_record(
    *,
    subscription_arn: str,
    topic_arn: str,
    message_id: str,
    message: str,
    subject: str | None,
    timestamp: str,
    message_attributes: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """One record of Lambda's SNS event (what a `lambda` subscription delivers)."""
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": timestamp,
            "SignatureVersion": "1",
            "Signature": "bG9jYWxjbG91ZA==",  # moto does not sign; nobody verifies locally
            "SigningCertUrl": "https://sns.amazonaws.com/localcloud.pem",
            "UnsubscribeUrl": f"https://sns.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}",
            "MessageAttributes": dict(message_attributes or {}),
        },
    }


def scheduler_input(
    template: str | None,
    *,
    schedule_arn: str,
    scheduled_time: str,
    execution_id: str,
    attempt: int = 1,
) -> Any:
    """The payload a Scheduler target receives: the schedule's Input with its context
    attributes substituted (an absent Input delivers `{}`).

    >>> scheduler_input('{"at": "<aws.scheduler.scheduled-time>"}', schedule_arn="arn:s",
    ...                 scheduled_time="2026-03-29T01:00:00Z", execution_id="e1")
    {'at': '2026-03-29T01:00:00Z'}
    """
    if template is None:
        return {}
    values = dict(
        zip(
            SCHEDULER_PLACEHOLDERS,
            (schedule_arn, scheduled_time, execution_id, str(attempt)),
            strict=True,
        )
    )
    text = template
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def target_input(event: Mapping[str, Any], target: Mapping[str, Any]) -> Any:
    """What an EventBridge rule's target receives: the event, or its Input / InputPath /
    InputTransformer rendering.

    >>> target_input({"detail": {"a": 1}}, {"InputPath": "$.detail"})
    {'a': 1}
    """
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        return json_path(event, target["InputPath"])
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        text = transformer["InputTemplate"]
        for name, path in transformer.get("InputPathsMap", {}).items():
            value = json_path(event, path)
            # In a JSON template a string placeholder sits inside quotes already.
            rendered = value if isinstance(value, str) else json.dumps(value)
            text = text.replace(f"<{name}>", rendered)
        text = text.replace("<aws.events.event>", json.dumps(event))
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return dict(event)


def json_path(document: Any, path: str) -> Any:
    """A simple JSONPath (`$`, `$.a.b`, `$.a[0]`) as EventBridge target paths use them."""
    if not path.startswith("$"):
        raise ValueError(f"not a JSONPath: {path!r}")
    value = document
    for part in path[1:].replace("[", ".").replace("]", "").split("."):
        if not part:
            continue
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value


def invocation_record(
    *,
    function_arn: str,
    request_id: str,
    condition: str,
    attempts: int,
    request_payload: Any,
    response_payload: Any,
    function_error: bool,
    timestamp: str,
) -> dict[str, Any]:
    """The record Lambda sends to an asynchronous invocation's OnSuccess / OnFailure destination.

    `condition` is "Success" or "RetriesExhausted" (or "EventAgeExceeded").
    """
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error:
        response["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": timestamp,
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": request_payload,
        "responseContext": response,
        "responsePayload": response_payload,
    }


def dead_letter_attributes(request_id: str, error_message: str) -> dict[str, dict[str, str]]:
    """The message attributes Lambda puts on an event it sends to a function's dead-letter
    queue (SQS API shape): the request id, an HTTP-like error code, and the error's first KB."""
    return {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": error_message[:1024] or "-"},
    }


@dataclass(frozen=True)
class BatchOutcome:
    """Which messages of an SQS batch Lambda deletes, and why."""

    succeeded: tuple[str, ...]
    failed: tuple[str, ...]
    reason: str


def batch_outcome(
    message_ids: Sequence[str],
    payload: Any,
    *,
    function_error: bool,
    reports_item_failures: bool,
) -> BatchOutcome:
    """Apply Lambda's partial batch response rules to one invocation's result.

    A function error fails the whole batch. Without ReportBatchItemFailures any success
    deletes the whole batch. With it, the listed identifiers fail; an identifier that is
    empty, missing or not in the batch makes the whole batch fail.

    >>> batch_outcome(["a", "b"], {"batchItemFailures": [{"itemIdentifier": "b"}]},
    ...               function_error=False, reports_item_failures=True).failed
    ('b',)
    """
    everything = tuple(message_ids)
    if function_error:
        return BatchOutcome((), everything, "the function returned an error")
    if not reports_item_failures:
        return BatchOutcome(everything, (), "the function succeeded")
    failures = payload.get("batchItemFailures") if isinstance(payload, Mapping) else None
    if not failures:
        return BatchOutcome(everything, (), "the function reported no failed items")
    identifiers = [
        item.get("itemIdentifier") if isinstance(item, Mapping) else None for item in failures
    ]
    if any(identifier not in everything for identifier in identifiers):
        return BatchOutcome(
            (), everything, "a batchItemFailures identifier is empty or not in the batch"
        )
    failed = tuple(i for i in everything if i in identifiers)
    succeeded = tuple(i for i in everything if i not in identifiers)
    return BatchOutcome(succeeded, failed, f"the function reported {len(failed)} failed item(s)")
