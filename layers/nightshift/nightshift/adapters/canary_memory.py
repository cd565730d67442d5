"""The canary's memory in the shared DynamoDB table: the status board of its last published report.

One item (`pk` = `canary#status`, `sk` = `last-report`), read on every run and written only
after a report was published, so a report that failed to go out is tried again next run.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from nightshift.adapters.state_table import StateTable
from nightshift.canary.status import StatusBoard

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATUS_PK = "canary#status"  # the template's IAM condition (dynamodb:LeadingKeys) names it
STATUS_SK = "last-report"


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }
)


class CanaryMemory:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._state = StateTable(table, client)

    def last(self) -> StatusBoard | None:
        item = self._state.get(STATUS_PK, STATUS_SK)
        if item is None:
            return None
        try:
            return StatusBoard.from_json(json.loads(item["board"]["S"]))
        except (KeyError, TypeError, ValueError):
            # Written by another version: as if nothing were remembered, so this run reports.
            return None

    def remember(self, board: StatusBoard, *, at: dt.datetime, run_id: str) -> None:
        self._state.put(
            {
                "pk": {"S": STATUS_PK},
                "sk": {"S": STATUS_SK},
                "board": {"S": json.dumps(board.to_json(), sort_keys=True)},
                "reported_at": {"S": at.isoformat()},
                "run_id": {"S": run_id},
            }
        )
