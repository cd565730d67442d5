"""Held redeploys in the shared state table: pk `redeploy#held`, sk the held redeploy's key
(`<service ARN>@<digest>`), the record as JSON, its state (held, approved) and its expiry.

Redeploy writes a record when the policy holds a push; the actions function moves it from held
to approved with one conditional PutItem (still held, not expired), so an approval deploys at
most once however many links or buttons are clicked. TTL removes records a day after expiry.
Only a held push or an approval uses it, so the held record's model (`redeploy.approval`) is
imported by each call, not at a cold start (tests/unit/test_cold_start.py).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from nightshift.adapters.state_table import ConditionFailed, StateTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from nightshift.redeploy.approval import HeldRedeploy, HeldState

HELD_PK = "redeploy#held"  # the template's IAM conditions (dynamodb:LeadingKeys) name it
RECORD_MARGIN = dt.timedelta(days=1)

# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset({"dynamodb:GetItem", "dynamodb:PutItem"})


class HeldRedeploys:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._state = StateTable(table, client)

    def hold(self, held: HeldRedeploy) -> None:
        """Record (or renew, for a repeated delivery of the push) the held redeploy; an
        approved one is not put back on hold."""
        from nightshift.redeploy.approval import HeldState

        try:
            self._state.put(
                _item(held, HeldState.HELD),
                condition="attribute_not_exists(sk) OR hold_state = :held",
                values={":held": {"S": HeldState.HELD.value}},
            )
        except ConditionFailed:
            return

    def get(self, key: str) -> tuple[HeldRedeploy, HeldState] | None:
        from nightshift.redeploy.approval import HeldRedeploy, HeldState

        item = self._state.get(HELD_PK, key)
        if item is None:
            return None
        try:
            held = HeldRedeploy.from_json(json.loads(item["record"]["S"]))
            return held, HeldState(item["hold_state"]["S"])
        except (KeyError, TypeError, ValueError):
            return None  # written by another version: nothing this one can approve

    def approve(self, key: str, now: dt.datetime, by: str) -> bool:
        from nightshift.redeploy.approval import HeldState

        found = self.get(key)
        if found is None:
            return False
        held, _ = found
        item = {
            **_item(held, HeldState.APPROVED),
            "approved_at": {"S": now.astimezone(dt.UTC).isoformat()},
            "approved_by": {"S": by},
        }
        try:
            self._state.put(
                item,
                condition="hold_state = :held AND expires_at > :now",
                values={":held": {"S": HeldState.HELD.value}, ":now": _number(now)},
            )
        except ConditionFailed:
            return False
        return True


def _item(held: HeldRedeploy, state: HeldState) -> dict[str, Any]:
    return {
        "pk": {"S": HELD_PK},
        "sk": {"S": held.key},
        "record": {"S": json.dumps(held.to_json(), sort_keys=True)},
        "hold_state": {"S": state.value},
        "expires_at": _number(held.expires),
        "expiration": {"N": str(int((held.expires + RECORD_MARGIN).timestamp()))},
    }


def _number(moment: dt.datetime) -> dict[str, str]:
    return {"N": str(int(moment.timestamp()))}
