"""The canary's memory in the shared DynamoDB table, under `pk` = `canary#status`:

- the status board of its last published report (`sk` = `last-report`), written only after a
  report was published, so a report that failed to go out is tried again;
- the phase of each check with `depends_on` (`sk` = `phases`: parked, starting, late, live, and
  since when), written by every run that has such checks.

A canary run reads both with one consistent `Query` on the partition (`recall`: one request, not
a `GetItem` for each); the status page and the chat actions read the board alone (`last`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from nightshift.adapters.state_table import StateTable
from nightshift.canary.parking import Watch
from nightshift.canary.ports import Remembered
from nightshift.canary.status import StatusBoard
from nightshift.errors import AwsError

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
        "dynamodb:Query",
    }
)


class CanaryMemory:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = table
        self._state = StateTable(table, client)

    def recall(self) -> Remembered:
        """The last reported board and the checks' phases, in one consistent Query."""
        pages = self._state.client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": STATUS_PK}},
            ConsistentRead=True,
        )
        try:
            items = {item["sk"]["S"]: item for page in pages for item in page.get("Items", ())}
        except ClientError as exc:
            raise AwsError.from_client_error("Query", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("Query", exc) from exc
        return Remembered(_board(items.get(STATUS_SK)), _watches(items.get(PHASES_SK)))

    def last(self) -> StatusBoard | None:
        """The last reported board alone (one GetItem)."""
        return _board(self._state.get(STATUS_PK, STATUS_SK))

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


def _board(item: Mapping[str, Any] | None) -> StatusBoard | None:
    if item is None:
        return None
    try:
        return StatusBoard.from_json(json.loads(item["board"]["S"]))
    except (KeyError, TypeError, ValueError):
        # Written by another version: as if nothing were remembered, so this run reports.
        return None


def _watches(item: Mapping[str, Any] | None) -> dict[str, Watch]:
    if item is None:
        return {}
    try:
        data = json.loads(item["phases"]["S"])
        return {str(name): Watch.from_json(watch) for name, watch in data.items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        # Written by another version: decided from the facts alone, as on a first run.
        return {}
