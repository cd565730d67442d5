"""The notifier's memory in the shared DynamoDB table (keys `pk`, `sk`; TTL attribute `expiration`).

- Delivery ledger: one item per (SNS MessageId, destination) once delivered, so a redelivered
  message or a retried record never reaches the same destination twice, while a destination that
  failed is retried alone.
- Alarm memory: the last state sent per dedup key, for repeat suppression and OK-closes-ALARM.
- Digest: one item per message kept for a destination's daily digest, pk `notifier#digest`, sk
  `<due, UTC ISO>#<destination>#<message id>`, so one Query (sk up to now) finds every item due,
  oldest first. Writing the same message for the same destination again rewrites the same item.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from nightshift.adapters.state_table import StateTable
from nightshift.errors import AwsError
from nightshift.notify.digest import DigestEntry
from nightshift.notify.model import State
from nightshift.notify.plan import ledger_key
from nightshift.notify.suppression import AlarmMemory

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DELIVERY_PK = "notifier#delivery"
ALARM_PK = "notifier#alarm"
DIGEST_PK = "notifier#digest"
# Longer than SQS keeps a message (4 days) plus its dead-letter queue (14 days).
DELIVERY_TTL = dt.timedelta(days=19)
ALARM_TTL = dt.timedelta(days=30)
# A digest that cannot be sent is retried every run; after two weeks of failures (the errors
# alarm has long said so), the items expire.
DIGEST_TTL = dt.timedelta(days=14)


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
    }
)


class NotifierState:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._state = StateTable(table, client)
        self._table = table

    def delivered(self, message_id: str, destination: str) -> bool:
        return self._state.get(DELIVERY_PK, ledger_key(message_id, destination)) is not None

    def record_delivery(self, message_id: str, destination: str, at: dt.datetime) -> None:
        self._state.put(
            {
                "pk": {"S": DELIVERY_PK},
                "sk": {"S": ledger_key(message_id, destination)},
                "delivered_at": {"S": at.isoformat()},
                "expiration": {"N": str(int((at + DELIVERY_TTL).timestamp()))},
            }
        )

    def alarm_memory(self, dedup_key: str) -> AlarmMemory | None:
        item = self._state.get(ALARM_PK, dedup_key)
        if item is None:
            return None
        return AlarmMemory(
            dedup_key=dedup_key,
            state=State(item["state"]["S"]),
            since=dt.datetime.fromisoformat(item["since"]["S"]),
            message_id=item.get("message_id", {}).get("S"),
        )

    def remember(self, memory: AlarmMemory) -> None:
        item = {
            "pk": {"S": ALARM_PK},
            "sk": {"S": memory.dedup_key},
            "state": {"S": memory.state.value},
            "since": {"S": memory.since.isoformat()},
            "expiration": {"N": str(int((memory.since + ALARM_TTL).timestamp()))},
        }
        if memory.message_id:
            item["message_id"] = {"S": memory.message_id}
        self._state.put(item)

    def keep_for_digest(self, entry: DigestEntry) -> None:
        self._state.put(
            {
                "pk": {"S": DIGEST_PK},
                "sk": {"S": _digest_key(entry)},
                "message_id": {"S": entry.message_id},
                "destination": {"S": entry.destination},
                "due": {"S": _utc(entry.due)},
                "at": {"S": _utc(entry.at)},
                "title": {"S": entry.title},
                "body": {"S": entry.body},
                "expiration": {"N": str(int((entry.due + DIGEST_TTL).timestamp()))},
            }
        )

    def digest_due(self, now: dt.datetime) -> tuple[DigestEntry, ...]:
        """Every item kept for a digest due at or before `now`, oldest due first."""
        try:
            pages = self._state.client.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk <= :upto",
                # "~" sorts after every character of the rest of a key due exactly `now`.
                ExpressionAttributeValues={
                    ":pk": {"S": DIGEST_PK},
                    ":upto": {"S": _utc(now) + "~"},
                },
                ConsistentRead=True,
            )
            items = [item for page in pages for item in page.get("Items", [])]
        except ClientError as exc:
            raise AwsError.from_client_error("Query", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("Query", exc) from exc
        return tuple(
            DigestEntry(
                message_id=item["message_id"]["S"],
                destination=item["destination"]["S"],
                due=dt.datetime.fromisoformat(item["due"]["S"]),
                at=dt.datetime.fromisoformat(item["at"]["S"]),
                title=item["title"]["S"],
                body=item["body"]["S"],
            )
            for item in items
        )

    def forget_digest(self, entry: DigestEntry) -> None:
        self._state.delete(DIGEST_PK, _digest_key(entry))


def _utc(moment: dt.datetime) -> str:
    """A sortable UTC instant: `2026-11-24T07:00:00Z`."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest_key(entry: DigestEntry) -> str:
    return f"{_utc(entry.due)}#{entry.destination}#{entry.message_id}"
