"""Redeploy's memory in the shared DynamoDB table (keys `pk`, `sk`; TTL attribute `expiration`).

- Last deployed push per service: pk `redeploy#last-push`, sk the service ARN, with the push's
  time. The planner refuses a push older than it (stale), and `claim` moves it forward with a
  conditional write just before UpdateService, so of two pushes racing for one service the older
  one cannot overwrite the newer one.
- Idempotency records of pushes (Powertools), pk `redeploy#push`, sk `push#<hash of the push key>`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from botocore.exceptions import ClientError

from nightshift.adapters.state_table import ConditionFailed, StateTable
from nightshift.errors import AwsError
from nightshift.redeploy import ImagePush

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

LAST_PUSH_PK = "redeploy#last-push"
IDEMPOTENCY_PK = "redeploy#push"
# A service not redeployed for this long loses its record, and with it the stale check
# (ECS keeps no memory of pushes either); the record is renewed by every deployment.
LAST_PUSH_TTL = dt.timedelta(days=400)


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md), with the
# Powertools idempotency records it keeps (Get/Put/Update/DeleteItem).
IAM_ACTIONS = frozenset(
    {
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
)


class DeployedPushes:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = table
        self._client = client or boto3.client("dynamodb")
        self._state = StateTable(table, self._client)

    def last_pushes(self) -> dict[str, dt.datetime]:
        """Per service ARN, the time of the last push deployed to it (one paginated Query)."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": LAST_PUSH_PK}},
            ProjectionExpression="sk, pushed_at",
            ConsistentRead=True,
        )
        try:
            return {
                item["sk"]["S"]: _instant(item["pushed_at"])
                for page in pages
                for item in page.get("Items", ())
            }
        except ClientError as exc:
            raise AwsError.from_client_error("Query", exc) from exc

    def claim(self, service_arn: str, push: ImagePush) -> dt.datetime | None:
        """Record `push` as the last one deployed to the service, unless a newer push is already
        recorded: then return that push's time and change nothing. A push at the same time as
        the recorded one may claim (a retry of the same push, or a second tag on it)."""
        try:
            self._state.put(
                _record(service_arn, push),
                condition="attribute_not_exists(sk) OR pushed_at <= :pushed_at",
                values={":pushed_at": _number(push.time)},
                return_held=True,
            )
        except ConditionFailed as failed:
            held = failed.held or {}
            return _instant(held["pushed_at"]) if "pushed_at" in held else push.time
        return None


def push_idempotency_store(
    table: str, client: DynamoDBClient | None = None
) -> DynamoDBPersistenceLayer:
    """Powertools' idempotency store for pushes, in the shared table under redeploy's own pk."""
    return DynamoDBPersistenceLayer(
        table_name=table,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=IDEMPOTENCY_PK,
        expiry_attr="expiration",
        boto3_client=client or boto3.client("dynamodb"),
    )


class PushIdempotency:
    """Powertools idempotency keyed on the push: duplicate and concurrent deliveries of one push
    run its work once. A later delivery gets the stored result; while the work runs, another
    delivery gets None. A failed run releases the record, so a retry runs the work again.
    `config` is the handler's (it registers each invocation's context for the time left)."""

    def __init__(
        self, table: str, config: IdempotencyConfig, client: DynamoDBClient | None = None
    ) -> None:
        self._once = idempotent_function(
            data_keyword_argument="push_key",
            persistence_store=push_idempotency_store(table, client),
            config=config,
            key_prefix="push",
        )(_work)

    def once(self, push_key: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self._once(push_key=push_key, work=work)
        except IdempotencyAlreadyInProgressError:
            return None
        return result


def _work(*, push_key: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """What Powertools wraps: it hashes `push_key`; the work reads nothing of it."""
    del push_key
    return work()


def _record(service_arn: str, push: ImagePush) -> dict[str, Any]:
    return {
        "pk": {"S": LAST_PUSH_PK},
        "sk": {"S": service_arn},
        "pushed_at": _number(push.time),
        "pushed_at_iso": {"S": push.time.isoformat()},
        "push": {"S": push.key},
        "expiration": {"N": str(int((push.time + LAST_PUSH_TTL).timestamp()))},
    }


def _number(moment: dt.datetime) -> dict[str, str]:
    return {"N": repr(moment.timestamp())}


def _instant(value: AttributeValueTypeDef) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(value["N"]), tz=dt.UTC)
