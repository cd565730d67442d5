"""The shared DynamoDB state table (keys `pk`, `sk`; TTL attribute `expiration`), item by item.

Each function keeps its memory there under its own `pk` (the notifier's ledger, the canary's
status board, the scheduler's parked records, redeploy's last pushes, the pruner's cursor). This
is the one place that reads, writes and deletes single items and turns `ClientError` into
`AwsError` named after the operation. Queries and anything with its own expressions stay in the
store that needs them.

A conditional write that finds its condition false raises `ConditionFailed`, an `AwsError` whose
code is DynamoDB's `ConditionalCheckFailedException`: a store that expects it catches it, any
other caller sees the same `AwsError` as for every other failed write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONDITION_FAILED = "ConditionalCheckFailedException"


# The IAM actions this module needs: none of its own; each user of the table declares the
# item operations it makes (the role grants them per partition key).
IAM_ACTIONS = frozenset[str]()


class ConditionFailed(AwsError):
    """A conditional PutItem found its condition false; `held` is the item kept in the table
    when the write asked for it (`return_held`), else None."""

    def __init__(self, message: str, held: dict[str, Any] | None) -> None:
        super().__init__("PutItem", CONDITION_FAILED, message)
        self.held = held


class StateTable:
    """Single-item reads and writes of the state table, with our errors."""

    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = table
        self._client = client or boto3.client("dynamodb")

    @property
    def client(self) -> DynamoDBClient:
        """The client, for a store that queries with its own expressions."""
        return self._client

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        """The item at (`pk`, `sk`), read consistently; None when there is none."""
        try:
            response = self._client.get_item(
                TableName=self._table, Key=_key(pk, sk), ConsistentRead=True
            )
        except ClientError as exc:
            raise AwsError.from_client_error("GetItem", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("GetItem", exc) from exc
        return response.get("Item")

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        values: Mapping[str, Any] | None = None,
        return_held: bool = False,
    ) -> None:
        """Write `item`; with `condition` (and its `values`), only when it holds, else raise
        `ConditionFailed` (carrying the item held, with `return_held`)."""
        extra: dict[str, Any] = {}
        if condition is not None:
            extra["ConditionExpression"] = condition
        if values is not None:
            extra["ExpressionAttributeValues"] = values
        if return_held:
            extra["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            self._client.put_item(TableName=self._table, Item=item, **extra)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if condition is not None and error.get("Code") == CONDITION_FAILED:
                # DynamoDB returns the held item beside the error; botocore's type of the error
                # response does not declare "Item", hence the check.
                held = exc.response.get("Item") if return_held else None
                raise ConditionFailed(
                    error.get("Message", ""), held if isinstance(held, dict) else None
                ) from exc
            raise AwsError.from_client_error("PutItem", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("PutItem", exc) from exc

    def delete(self, pk: str, sk: str) -> None:
        """Delete the item at (`pk`, `sk`); none there is fine."""
        try:
            self._client.delete_item(TableName=self._table, Key=_key(pk, sk))
        except ClientError as exc:
            raise AwsError.from_client_error("DeleteItem", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("DeleteItem", exc) from exc


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}
