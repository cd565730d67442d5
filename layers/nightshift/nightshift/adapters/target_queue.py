"""The SQS engine's adapters (decision 24): the function's FIFO queue of targets, and the run's
ledger in the state table.

The ledger, under pk `<function>#fanout` (the template's IAM names it):
- `run#<run id>`: the run, written when it is queued: how many targets (`total`), their labels
  and the targets left out; `recorded`, the string set of the target indices whose outcome is
  recorded (added once each, conditionally: a redelivered message never counts twice);
  `published`, set by the one worker that publishes the report;
- `target#<run id>#<index>`: one target's outcome (JSON), written once;
- `open`: the string set of the runs queued and not yet published (the next runs publish one
  that is overdue, with the targets that never recorded an outcome named).
The runs and outcomes expire two days later (TTL `expiration`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.adapters.state_table import CONDITION_FAILED, ConditionFailed, StateTable
from nightshift.errors import AwsError
from nightshift.fanout.queue import TargetMessage, batches

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

IAM_ACTIONS = frozenset(
    {
        "sqs:SendMessage",  # SendMessageBatch is authorised as SendMessage
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
    }
)

logger = Logger(child=True)
SEND_ATTEMPTS = 3  # a failed entry is sent again, twice, before its target is reported
KEEP = dt.timedelta(days=2)


class TargetQueue:
    """The function's FIFO queue of targets."""

    def __init__(self, url: str, client: SQSClient) -> None:
        self._url = url
        self._client = client

    def send(self, messages: Sequence[TargetMessage]) -> dict[int, str]:
        """Send one message per target, 10 a call; each entry SQS refuses is sent again (up to
        SEND_ATTEMPTS in all). Returns the targets not sent (index -> why)."""
        unsent: dict[int, str] = {}
        for batch in batches(messages):
            pending = {str(m.index): m for m in batch}
            for _ in range(SEND_ATTEMPTS):
                entries: list[SendMessageBatchRequestEntryTypeDef] = [
                    {
                        "Id": key,
                        "MessageBody": m.body(),
                        "MessageGroupId": m.group,
                        "MessageDeduplicationId": m.deduplication_id,
                    }
                    for key, m in pending.items()
                ]
                try:
                    answer = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
                except ClientError as exc:
                    error = AwsError.from_client_error("SendMessageBatch", exc)
                    failed = {key: str(error) for key in pending}
                except BotoCoreError as exc:
                    error = AwsError.from_botocore_error("SendMessageBatch", exc)
                    failed = {key: str(error) for key in pending}
                else:
                    failed = {
                        f["Id"]: f"{f.get('Code', '')}: {f.get('Message', '')}"
                        for f in answer.get("Failed", [])
                    }
                for key in set(pending) - set(failed):
                    unsent.pop(pending[key].index, None)
                pending = {key: pending[key] for key in failed}
                unsent.update((pending[key].index, why) for key, why in failed.items())
                if not pending:
                    break
                logger.warning("targets not sent, sending again", count=len(pending))
        return unsent


@dataclass(frozen=True)
class RunRecord:
    """The run as the ledger holds it."""

    total: int
    labels: tuple[str, ...]
    excluded: tuple[str, ...]
    recorded: frozenset[int]
    published: bool


@dataclass(frozen=True)
class Recorded:
    """What recording one target's outcome found: whether this delivery counted it, and the
    run as it stands after."""

    counted_now: bool
    run: RunRecord


class FanOutLedger:
    """The run's targets' outcomes in the state table, each counted once."""

    def __init__(self, table: str, function: str, client: DynamoDBClient) -> None:
        self._state = StateTable(table, client)
        self._table = table
        self._pk = f"{function}#fanout"
        self._client = client

    def open_run(
        self, run: str, labels: Sequence[str], excluded: Sequence[str], at: dt.datetime
    ) -> None:
        """The run, before its messages are sent (a retried run keeps the first)."""
        try:
            self._state.put(
                {
                    "pk": {"S": self._pk},
                    "sk": {"S": f"run#{run}"},
                    "total": {"N": str(len(labels))},
                    "labels": {"L": [{"S": label} for label in labels]},
                    "excluded": {"L": [{"S": e} for e in excluded]},
                    "expiration": {"N": str(int((at + KEEP).timestamp()))},
                },
                condition="attribute_not_exists(sk)",
            )
        except ConditionFailed:
            logger.info("run already queued: its ledger kept", run=run)
        self._open_set("ADD", run)

    def _open_set(self, verb: str, run: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": self._pk}, "sk": {"S": "open"}},
                UpdateExpression=f"{verb} runs :run",
                ExpressionAttributeValues={":run": {"SS": [run]}},
            )
        except ClientError as exc:
            raise AwsError.from_client_error("UpdateItem", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("UpdateItem", exc) from exc

    def open_runs(self) -> frozenset[str]:
        """The runs queued and not yet published."""
        item = self._state.get(self._pk, "open")
        return frozenset() if item is None else frozenset(item.get("runs", {}).get("SS", []))

    def close_run(self, run: str) -> None:
        """The run's report is published: no longer open."""
        self._open_set("DELETE", run)

    def record(self, run: str, index: int, outcome: dict[str, Any], at: dt.datetime) -> Recorded:
        """Record target `index`'s outcome (the first one recorded is kept) and count it once."""
        try:
            self._state.put(
                {
                    "pk": {"S": self._pk},
                    "sk": {"S": f"target#{run}#{index:06d}"},
                    "index": {"N": str(index)},
                    "outcome": {"S": json.dumps(outcome, separators=(",", ":"))},
                    "expiration": {"N": str(int((at + KEEP).timestamp()))},
                },
                condition="attribute_not_exists(sk)",
            )
        except ConditionFailed:
            logger.info("target's outcome recorded already", run=run, index=index)
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": self._pk}, "sk": {"S": f"run#{run}"}},
                UpdateExpression="ADD recorded :index",
                ConditionExpression="attribute_exists(sk) AND NOT contains(recorded, :one)",
                ExpressionAttributeValues={
                    ":index": {"SS": [str(index)]},
                    ":one": {"S": str(index)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                raise AwsError.from_client_error("UpdateItem", exc) from exc
            held = self.run(run)
            if held is None:
                raise AwsError(
                    "UpdateItem", "NoRun", f"the run {run} is not in the ledger"
                ) from exc
            return Recorded(False, held)
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("UpdateItem", exc) from exc
        return Recorded(True, _run(answer["Attributes"]))

    def run(self, run: str) -> RunRecord | None:
        item = self._state.get(self._pk, f"run#{run}")
        return None if item is None else _run(item)

    def claim_publication(self, run: str, at: dt.datetime) -> bool:
        """Claim the run's one report; False: another worker has it."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": self._pk}, "sk": {"S": f"run#{run}"}},
                UpdateExpression="SET published = :at",
                ConditionExpression="attribute_exists(sk) AND attribute_not_exists(published)",
                ExpressionAttributeValues={":at": {"S": at.isoformat()}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == CONDITION_FAILED:
                return False
            raise AwsError.from_client_error("UpdateItem", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("UpdateItem", exc) from exc
        return True

    def release_publication(self, run: str) -> None:
        """Give the claim back (the report could not be published): a redelivery publishes."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": self._pk}, "sk": {"S": f"run#{run}"}},
                UpdateExpression="REMOVE published",
            )
        except (ClientError, BotoCoreError) as exc:
            logger.error("publication claim not released", run=run, error=str(exc))

    def outcomes(self, run: str) -> dict[int, dict[str, Any]]:
        """Every recorded target's outcome (one paginated Query)."""
        found: dict[int, dict[str, Any]] = {}
        try:
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={
                    ":pk": {"S": self._pk},
                    ":prefix": {"S": f"target#{run}#"},
                },
                ConsistentRead=True,
            )
            for page in pages:
                for item in page.get("Items", []):
                    found[int(item["index"]["N"])] = json.loads(item["outcome"]["S"])
        except ClientError as exc:
            raise AwsError.from_client_error("Query", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("Query", exc) from exc
        return found


def _run(item: dict[str, Any]) -> RunRecord:
    return RunRecord(
        total=int(item["total"]["N"]),
        labels=tuple(str(v["S"]) for v in item.get("labels", {}).get("L", [])),
        excluded=tuple(str(v["S"]) for v in item.get("excluded", {}).get("L", [])),
        recorded=frozenset(int(v) for v in item.get("recorded", {}).get("SS", [])),
        published="published" in item,
    )
