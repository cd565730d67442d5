"""Redeploy's memory in the shared DynamoDB table (keys `pk`, `sk`; TTL attribute `expiration`).

- Last deployed push per service: `DeployedPushes` (adapters/last_pushes.py, re-exported here).
- Idempotency records of pushes (Powertools), pk `redeploy#push`, sk `push#<hash of the push key>`.
"""

from __future__ import annotations

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

from nightshift.adapters.last_pushes import LAST_PUSH_PK, LAST_PUSH_TTL, DeployedPushes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IDEMPOTENCY_PK = "redeploy#push"

__all__ = [
    "IDEMPOTENCY_PK",
    "LAST_PUSH_PK",
    "LAST_PUSH_TTL",
    "DeployedPushes",
    "PushIdempotency",
    "push_idempotency_store",
]


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md): the
# Powertools idempotency records it keeps (Get/Put/Update/DeleteItem).
IAM_ACTIONS = frozenset(
    {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
)


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
