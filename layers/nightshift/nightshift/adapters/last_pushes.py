"""The last push deployed to each service, in the shared state table: pk `redeploy#last-push`,
sk the service ARN, with the push's time. The planner refuses a push older than it (stale), and
`claim` moves it forward with a conditional write just before UpdateService, so of two pushes
racing for one service the older one cannot overwrite the newer one. Used by redeploy and by the
actions function when it deploys an approved held redeploy.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from nightshift.adapters.state_table import ConditionFailed, StateTable
from nightshift.errors import AwsError
from nightshift.redeploy import ImagePush

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

LAST_PUSH_PK = "redeploy#last-push"
# A service not redeployed for this long loses its record, and with it the stale check
# (ECS keeps no memory of pushes either); the record is renewed by every deployment.
LAST_PUSH_TTL = dt.timedelta(days=400)


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset({"dynamodb:Query", "dynamodb:PutItem"})


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
