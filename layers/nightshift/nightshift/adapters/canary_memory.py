"""The canary's memory in the shared DynamoDB table, under `pk` = `canary#status`:

- the status board of its last published report (`sk` = `last-report`), read on every run and
  written only after a report was published, so a report that failed to go out is tried again;
- the phase of each check with `depends_on` (`sk` = `phases`: parked, starting, late, live, and
  since when), read and written by every run that has such checks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from nightshift.adapters.state_table import StateTable
from nightshift.canary.parking import Watch
from nightshift.canary.status import StatusBoard

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATUS_PK = "canary#status"  # the template's IAM condition (dynamodb:LeadingKeys) names it
STATUS_SK = "last-report"
PHASES_SK = "phases"


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

    def watches(self) -> dict[str, Watch]:
        item = self._state.get(STATUS_PK, PHASES_SK)
        if item is None:
            return {}
        try:
            data = json.loads(item["phases"]["S"])
            return {str(name): Watch.from_json(watch) for name, watch in data.items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            # Written by another version: decided from the facts alone, as on a first run.
            return {}

    def remember_watches(self, watches: Mapping[str, Watch], *, at: dt.datetime) -> None:
        phases = {name: watch.to_json() for name, watch in watches.items()}
        self._state.put(
            {
                "pk": {"S": STATUS_PK},
                "sk": {"S": PHASES_SK},
                "phases": {"S": json.dumps(phases, sort_keys=True)},
                "written_at": {"S": at.isoformat()},
            }
        )
