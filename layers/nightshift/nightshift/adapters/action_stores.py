"""The actions function's items in the state table: each used token (so a link works once) and
each snoozed canary check. Both expire by DynamoDB's TTL (`expiration`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from nightshift.adapters.state_table import ConditionFailed, StateTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

USED_PK = "actions#used"  # the template's IAM names it
SNOOZE_PK = "canary#snooze"  # the canary reads it (adapters/canary_snoozes.py)
# A used token's record outlives the token by a day: TTL deletion is not instant, and a record
# deleted before the token's expiry would let it work twice.
USED_MARGIN = dt.timedelta(days=1)


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset({"dynamodb:PutItem"})


class UsedTokenTable:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = StateTable(table, client)

    def claim(self, nonce: str, expires: dt.datetime) -> bool:
        """One conditional PutItem: True when this nonce was not used before."""
        item = {
            "pk": {"S": USED_PK},
            "sk": {"S": nonce},
            "expiration": {"N": str(int((expires + USED_MARGIN).timestamp()))},
        }
        try:
            self._table.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True


class SnoozeTable:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = StateTable(table, client)

    def snooze(self, check: str, until: dt.datetime, by: str) -> None:
        self._table.put(
            {
                "pk": {"S": SNOOZE_PK},
                "sk": {"S": check},
                "until": {"S": until.astimezone(dt.UTC).isoformat()},
                "by": {"S": by},
                "expiration": {"N": str(int(until.timestamp()))},
            }
        )
