"""Email through an SNS topic with email subscriptions (SES can sit behind the same port)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from nightshift.errors import DeliveryError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "sns:Publish",
    }
)


class EmailTopic:
    def __init__(self, client: SNSClient | None = None) -> None:
        self._client = client or boto3.client("sns")

    def send(self, topic_arn: str, subject: str, text: str, *, destination: str) -> str:
        try:
            response = self._client.publish(TopicArn=topic_arn, Subject=subject, Message=text)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            raise DeliveryError(destination, f"SNS Publish failed with {code}") from exc
        return response["MessageId"]
