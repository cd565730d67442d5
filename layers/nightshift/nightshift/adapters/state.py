"""The notifier's memory in the shared DynamoDB table (keys `pk`, `sk`; TTL attribute `expiration`).

- Delivery ledger: one item per (SNS MessageId, destination) once delivered, so a redelivered
  message or a retried record never reaches the same destination twice, while a destination that
  failed is retried alone.
- Alarm memory: the last state sent per dedup key, for repeat suppression and OK-closes-ALARM.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from nightshift.adapters.state_table import StateTable
from nightshift.notify.model import State
from nightshift.notify.plan import ledger_key
from nightshift.notify.suppression import AlarmMemory

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DELIVERY_PK = "notifier#delivery"
ALARM_PK = "notifier#alarm"
# Longer than SQS keeps a message (4 days) plus its dead-letter queue (14 days).
DELIVERY_TTL = dt.timedelta(days=19)
ALARM_TTL = dt.timedelta(days=30)


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }
)


class NotifierState:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._state = StateTable(table, client)

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
