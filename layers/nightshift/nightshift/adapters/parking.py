"""The scheduler's memory in the shared DynamoDB table (keys `pk`, `sk`).

- Parked records: pk `scheduler#parked`, sk the resource's ARN, one item per parked resource with
  its capacity as readable attributes (kind, parked_at, schedule, state, capacity.{desired,
  minimum,maximum}), so people can read and fix them in the console during an incident. `state`
  is the parking protocol's step (stopping, parked, starting; an item without one is parked).
- The last run: pk `scheduler#run`, sk `last`, attribute `scheduled_time` (ISO 8601, UTC). It
  only moves forward: the write is conditional, so a replayed or late event cannot move it back.

Reading costs one Query (paginated) and one GetItem per run, however many resources are parked.
The unconditional writes of the parking protocol (a record moved to STOPPING, STARTING or PARKED,
a restored record deleted) go out as BatchWriteItem, 25 a call: DynamoDB writes each item or
hands it back unprocessed, and what it hands back (or what a failed call held) is written again
item by item, so that each resource gets its own outcome and botocore's retries. The one
conditional write, a record of a resource found stopped that must not overwrite an existing one
(`keep_existing`), stays a conditional PutItem: batch writes take no conditions.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.adapters.state_table import ConditionFailed, StateTable
from nightshift.errors import AwsError
from nightshift.schedule import ParkedRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

logger = Logger(child=True)

PARKED_PK = "scheduler#parked"
RUN_PK = "scheduler#run"
LAST_RUN_SK = "last"

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }
)

BATCH_WRITE_LIMIT = 25  # BatchWriteItem's maximum of items per call


def _instant(at: dt.datetime) -> str:
    """One fixed format (UTC, seconds) so that stored times also compare correctly as text."""
    return at.astimezone(dt.UTC).isoformat(timespec="seconds")


class ParkingStore:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = table
        self._client = client or boto3.client("dynamodb")
        self._state = StateTable(table, self._client)

    # -- parked records -----------------------------------------------------------------------

    def parked(self) -> dict[str, ParkedRecord]:
        """Every parked record, by ARN."""
        return self._query("pk = :pk", {":pk": {"S": PARKED_PK}})

    def parked_under(self, prefixes: Sequence[str]) -> dict[str, ParkedRecord]:
        """The parked records whose ARN begins with one of `prefixes` (one Query each)."""
        records: dict[str, ParkedRecord] = {}
        for prefix in prefixes:
            records.update(
                self._query(
                    "pk = :pk AND begins_with(sk, :prefix)",
                    {":pk": {"S": PARKED_PK}, ":prefix": {"S": prefix}},
                )
            )
        return records

    def _query(self, condition: str, values: dict[str, Any]) -> dict[str, ParkedRecord]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ConsistentRead=True,
        )
        records: dict[str, ParkedRecord] = {}
        try:
            for page in pages:
                for item in page.get("Items", ()):
                    record = _record(item)
                    records[record.arn] = record
        except ClientError as exc:
            raise AwsError.from_client_error("Query", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("Query", exc) from exc
        return records

    def park(self, record: ParkedRecord, *, keep_existing: bool = False) -> bool:
        """Write `record`; with `keep_existing`, only if the resource has no record yet (a
        record of a real stop is never overwritten by one of a resource found stopped).
        Returns False when an existing record was kept."""
        try:
            self._state.put(
                _item(record), condition="attribute_not_exists(sk)" if keep_existing else None
            )
        except ConditionFailed:
            return False
        return True

    def write(self, parks: Sequence[ParkedRecord], releases: Sequence[str]) -> dict[str, AwsError]:
        """Write `parks` and delete the records of `releases` (ARNs, none there is fine), 25 a
        BatchWriteItem; returns the error of each ARN whose write failed (none: all written).
        Items DynamoDB leaves unprocessed, and those of a call that failed, are written one by
        one, each with its own error."""
        requests: list[tuple[str, WriteRequestTypeDef]] = []
        for record in parks:
            requests.append((record.arn, {"PutRequest": {"Item": _item(record)}}))
        for arn in releases:
            requests.append((arn, {"DeleteRequest": {"Key": _key(arn)}}))
        failures: dict[str, AwsError] = {}
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            batch = dict(requests[start : start + BATCH_WRITE_LIMIT])
            for arn in self._batch_write(list(batch.values())):
                try:
                    self._write_one(batch[arn])
                except AwsError as exc:
                    failures[arn] = exc
        return failures

    def _batch_write(self, requests: list[WriteRequestTypeDef]) -> list[str]:
        """One BatchWriteItem; the ARNs it did not write (all of them when the call failed)."""
        try:
            response = self._client.batch_write_item(RequestItems={self._table: requests})
        except (ClientError, BotoCoreError) as exc:
            logger.warning("batch write failed; writing item by item", error=str(exc))
            return [_request_arn(request) for request in requests]
        unprocessed = response.get("UnprocessedItems", {}).get(self._table, [])
        return [_request_arn(dict(request)) for request in unprocessed]

    def _write_one(self, request: Mapping[str, Any]) -> None:
        if "PutRequest" in request:
            self._state.put(request["PutRequest"]["Item"])
        else:
            self._state.delete(PARKED_PK, request["DeleteRequest"]["Key"]["sk"]["S"])

    def release(self, arn: str) -> None:
        """Delete the resource's parked record (none is fine)."""
        self._state.delete(PARKED_PK, arn)

    # -- the last run ---------------------------------------------------------------------------

    def last_run(self) -> dt.datetime | None:
        item = self._state.get(RUN_PK, LAST_RUN_SK)
        if item is None:
            return None
        return dt.datetime.fromisoformat(item["scheduled_time"]["S"])

    def last_record(self) -> tuple[dt.datetime | None, str | None]:
        """The last run's time and the fingerprint of its refusals ("" when it refused nothing;
        None when no run stored one), in one GetItem."""
        item = self._state.get(RUN_PK, LAST_RUN_SK)
        if item is None:
            return None, None
        refusals = item.get("refusals")
        return (
            dt.datetime.fromisoformat(item["scheduled_time"]["S"]),
            None if refusals is None else str(refusals["S"]),
        )

    def record_run(self, scheduled_time: dt.datetime, refusals: str = "") -> bool:
        """Store the run's scheduled time, and the fingerprint of its refusals, unless a later
        run is stored already (returns False)."""
        at = _instant(scheduled_time)
        try:
            self._state.put(
                {
                    "pk": {"S": RUN_PK},
                    "sk": {"S": LAST_RUN_SK},
                    "scheduled_time": {"S": at},
                    "refusals": {"S": refusals},
                },
                condition="attribute_not_exists(sk) OR scheduled_time <= :at",
                values={":at": {"S": at}},
            )
        except ConditionFailed:
            logger.warning("a later run is already recorded", scheduled_time=at)
            return False
        return True


def _item(record: ParkedRecord) -> dict[str, Any]:
    return {
        **_key(record.arn),
        **{key: _serialize(value) for key, value in record.to_json().items() if key != "arn"},
        "parked_at": {"S": _instant(record.parked_at)},
    }


def _key(arn: str) -> dict[str, Any]:
    return {"pk": {"S": PARKED_PK}, "sk": {"S": arn}}


def _request_arn(request: Mapping[str, Any]) -> str:
    key = (
        request["PutRequest"]["Item"]
        if "PutRequest" in request
        else request["DeleteRequest"]["Key"]
    )
    return str(key["sk"]["S"])


def _record(item: Mapping[str, Any]) -> ParkedRecord:
    data = {key: _deserialize(value) for key, value in item.items()}
    return ParkedRecord.from_json({**data, "arn": data["sk"]})


class ParkedSnapshot:
    """The parked records read once for a run across many targets (one paginated Query, not
    one per target), shared by the targets' stores; thread-safe, read on first use."""

    def __init__(self, store: ParkingStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._records: dict[str, ParkedRecord] | None = None

    def records(self) -> dict[str, ParkedRecord]:
        with self._lock:
            if self._records is None:
                self._records = self._store.parked()
            return self._records


class TargetParkingStore(ParkingStore):
    """The hub's parking store as one target sees it (hub and spoke): the parked records of that
    account and Region only, so one target's run never takes another's records for its own
    (orphans, or records to settle). Records are keyed by ARN, which names the account and
    Region, so every target shares the hub's one table; the last run is the hub's. With a
    `snapshot`, the records are those the run read once for every target."""

    def __init__(
        self,
        table: str,
        account: str,
        region: str,
        client: DynamoDBClient | None = None,
        snapshot: ParkedSnapshot | None = None,
    ) -> None:
        super().__init__(table, client)
        self._account, self._region = account, region
        self._snapshot = snapshot

    def parked(self) -> dict[str, ParkedRecord]:
        records = super().parked() if self._snapshot is None else self._snapshot.records()
        return {
            arn: record
            for arn, record in records.items()
            if arn.split(":")[3:5] == [self._region, self._account]
        }


HEADS_UP_PK = "scheduler#heads-up"  # the template's IAM names it


class HeadsUpTable:
    """Each heads-up before a stop, claimed once (`pk` `scheduler#heads-up`, `sk`
    `<schedule>#<stop>`), gone a day after the stop by TTL (`expiration`)."""

    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._state = StateTable(table, client)

    def claim(self, key: str, stops_at: dt.datetime) -> bool:
        """One conditional PutItem: True the first time for this stop."""
        expiration = int((stops_at + dt.timedelta(days=1)).timestamp())
        item = {"pk": {"S": HEADS_UP_PK}, "sk": {"S": key}, "expiration": {"N": str(expiration)}}
        try:
            self._state.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True
