"""The canary's memory in the shared DynamoDB table: the status board of its last published report.

One item (`pk` = `canary#status`, `sk` = `last-report`), read on every run and written only
after a report was published, so a report that failed to go out is tried again next run.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from nightshift.canary.status import StatusBoard
from nightshift.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATUS_PK = "canary#status"  # the template's IAM condition (dynamodb:LeadingKeys) names it
STATUS_SK = "last-report"


class CanaryMemory:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = table
        self._client = client or boto3.client("dynamodb")

    def last(self) -> StatusBoard | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": STATUS_PK}, "sk": {"S": STATUS_SK}},
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise AwsError.from_client_error("GetItem", exc) from exc
        item = response.get("Item")
        if item is None:
            return None
        try:
            return StatusBoard.from_json(json.loads(item["board"]["S"]))
        except (KeyError, TypeError, ValueError):
            # Written by another version: as if nothing were remembered, so this run reports.
            return None

    def remember(self, board: StatusBoard, *, at: dt.datetime, run_id: str) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": STATUS_PK},
                    "sk": {"S": STATUS_SK},
                    "board": {"S": json.dumps(board.to_json(), sort_keys=True)},
                    "reported_at": {"S": at.isoformat()},
                    "run_id": {"S": run_id},
                },
            )
        except ClientError as exc:
            raise AwsError.from_client_error("PutItem", exc) from exc
