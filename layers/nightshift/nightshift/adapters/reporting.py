"""Publish a run's report to the ops topic, where the notifier renders it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from nightshift.errors import AwsError, NightshiftError
from nightshift.report import SCHEMA_ID, Report

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from mypy_boto3_sns import SNSClient

    from nightshift.ports import ReportSink

# SNS limits a message to 256 KiB; a report larger than this keeps its counts and first items.
MAX_REPORT_BYTES = 240 * 1024


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md): the ops
# topic is encrypted with a customer managed key.
IAM_ACTIONS = frozenset(
    {
        "sns:Publish",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    }
)


class ReportPublisher:
    def __init__(self, topic_arn: str, client: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = client or boto3.client("sns")

    def publish(self, report: Report) -> str:
        """Publish `report`; return the SNS MessageId."""
        body = fit(report)
        subject = f"Nightshift {report.function}: {report.summary}"[:100]
        try:
            response = self._client.publish(
                TopicArn=self._topic_arn,
                Subject=subject,
                Message=body,
                MessageAttributes={
                    "schema": {"DataType": "String", "StringValue": SCHEMA_ID},
                    "function": {"DataType": "String", "StringValue": report.function},
                },
            )
        except ClientError as exc:
            raise AwsError.from_client_error("Publish", exc) from exc
        return response["MessageId"]


def fit(report: Report) -> str:
    """The report's JSON, with items dropped from the end until it fits in one SNS message.
    Counts and totals always describe the whole run."""
    data = report.to_json()
    body = report.dumps()
    items = data["items"]
    while len(body.encode("utf-8")) > MAX_REPORT_BYTES and items:
        keep = len(items) // 2
        data["items"] = items[:keep]
        data["items_truncated"] = len(report.items) - keep
        items = data["items"]
        body = json.dumps(data, sort_keys=True)
    return body


@contextmanager
def failure_reported(
    publisher: ReportSink, failure: Callable[[str], Report], logger: Logger
) -> Iterator[None]:
    """Run the block; a NightshiftError from it is logged, reported to the ops topic as the
    report `failure(error)` builds, and raised again, so the errors alarm fires and Lambda
    retries. A report that cannot be published is logged; the first error is the one raised.
    """
    try:
        yield
    except NightshiftError as exc:
        logger.exception("run failed")
        try:
            publisher.publish(failure(str(exc)))
        except NightshiftError:
            logger.exception("failure report not published")
        raise
