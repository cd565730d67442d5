"""The canary checks snoozed from chat (written by the actions function, `adapters.action_stores`):
one consistent `Query` on `pk` = `canary#snooze` in the state table; each item names a check
(`sk`) and the instant it is snoozed until (`until`). DynamoDB's TTL removes them later; an
item past its `until` but not yet removed is ignored here."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SNOOZE_PK = "canary#snooze"  # the template's IAM condition (dynamodb:LeadingKeys) names it


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset({"dynamodb:Query"})


class CanarySnoozes:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = table
        self._client = client or boto3.client("dynamodb")

    def snoozed(self, now: dt.datetime) -> frozenset[str]:
        """The checks snoozed at `now`."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": SNOOZE_PK}},
            ConsistentRead=True,
        )
        names = set()
        try:
            for page in pages:
                for item in page.get("Items", ()):
                    try:
                        until = dt.datetime.fromisoformat(item["until"]["S"])
                    except (KeyError, ValueError):
                        continue
                    if until.tzinfo is not None and until > now:
                        names.add(item["sk"]["S"])
        except ClientError as exc:
            raise AwsError.from_client_error("Query", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("Query", exc) from exc
        return frozenset(names)
