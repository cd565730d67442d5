"""The pruner's AWS side: list the snapshots it decides about, delete them, keep its cursor.

- `SnapshotInventory` lists EBS snapshots (ours), RDS DB snapshots and Aurora DB cluster
  snapshots (manual, automated and AWS Backup ones, so protected snapshots appear in the report
  with their reason), with every EBS snapshot's AMI references (disabled and deprecated AMIs
  included) and snapshot locks. The field mapping is in docs/pruner.md, "Snapshot model".
- `SnapshotDeleter` is the core's `Deleter` port: one delete call per snapshot, AWS's error code
  in the `AwsError` it raises (NotFound is the core's to read as done).
- `CursorStore` keeps the deletion cursor of an unfinished cycle in the state table.

RDS counts every API call, Describe ones included, against one account-wide bucket, so the RDS
listing goes through the caller's pacer (`pace_rds`), one page per paced call. Clients that a
pacer drives must not retry on their own (`PACED`): botocore's retries would spend tokens the
pacer never counted.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from nightshift.adapters.state_table import StateTable
from nightshift.errors import AwsError
from nightshift.retention import (
    DeletionCursor,
    Snapshot,
    SnapshotKind,
    SnapshotListing,
    ebs_copy_source,
)

if TYPE_CHECKING:
    from botocore.paginate import Paginator
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_rds import RDSClient

Page = dict[str, Any]
Pace = Callable[[Callable[[], Page]], Page]
"""Runs one AWS call when the rate limit allows, retrying it on throttling (a Pacer's `call`)."""

# A call through a pacer is tried once by botocore (total_max_attempts counts the first try;
# max_attempts would count retries only); the pacer waits, backs off and retries.
# The timeouts bound the last call before the Lambda deadline (docs/pruner.md, "Deadline and
# cycles").
PACED = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=15
)
# EC2 Describe calls have a bucket of their own that the pruner's few pages never empty; botocore's
# standard retries cover the rare throttle there.
DESCRIBE = Config(
    retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=5, read_timeout=30
)

EC2_PAGE = 1000  # DescribeSnapshots / DescribeImages / DescribeLockedSnapshots: at most 1000
RDS_PAGE = 100  # DescribeDBSnapshots / DescribeDBClusterSnapshots: MaxRecords at most 100
GIB = 2**30
# A lock in any of these states forbids deleting the snapshot; `expired` no longer does.
LOCKED_STATES = frozenset({"governance", "compliance", "compliance-cooloff"})
# A DescribeDB*Snapshots call without SnapshotType returns manual and automated snapshots;
# AWS Backup's own (`awsbackup`) only when asked for. Shared and public ones are not ours.
RDS_LISTINGS: tuple[Mapping[str, str], ...] = ({}, {"SnapshotType": "awsbackup"})


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md), with the
# deletion cursor it keeps in the state table.
IAM_ACTIONS = frozenset(
    {
        "ec2:DescribeSnapshots",
        "ec2:DescribeImages",
        "ec2:DescribeLockedSnapshots",
        "ec2:DeleteSnapshot",
        "rds:DescribeDBSnapshots",
        "rds:DescribeDBClusterSnapshots",
        "rds:DeleteDBSnapshot",
        "rds:DeleteDBClusterSnapshot",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }
)


def _unpaced(call: Callable[[], Page]) -> Page:
    return call()


class SnapshotInventory:
    """Lists every snapshot the pruner decides about, as the core's `Snapshot`."""

    def __init__(self, *, ec2: EC2Client | None = None, rds: RDSClient | None = None) -> None:
        self._ec2 = ec2 or boto3.client("ec2", config=DESCRIBE)
        self._rds = rds or boto3.client("rds", config=PACED)

    def snapshots(self, *, pace_rds: Pace = _unpaced) -> SnapshotListing:
        """EBS, RDS and Aurora snapshots; RDS calls go through `pace_rds`."""
        locked = self.locked_snapshot_ids()
        references = self.ami_references()
        ebs = self.ebs_snapshots(references, locked or frozenset())
        rds = self.rds_snapshots(pace_rds)
        aurora = self.aurora_snapshots(pace_rds)
        return SnapshotListing(tuple([*ebs, *rds, *aurora]), locks_known=locked is not None)

    def ebs_snapshots(
        self, ami_references: Mapping[str, frozenset[str]], locked: frozenset[str]
    ) -> list[Snapshot]:
        return [
            ebs_snapshot(item, ami_references.get(item["SnapshotId"], frozenset()), locked)
            for page in _pages(
                self._ec2.get_paginator("describe_snapshots"),
                "DescribeSnapshots",
                OwnerIds=["self"],
                PaginationConfig={"PageSize": EC2_PAGE},
            )
            for item in page.get("Snapshots", ())
        ]

    def rds_snapshots(self, pace_rds: Pace = _unpaced) -> list[Snapshot]:
        return _unique(
            rds_snapshot(item)
            for listing in RDS_LISTINGS
            for page in self._paced_pages(
                self._rds.get_paginator("describe_db_snapshots"),
                "DescribeDBSnapshots",
                pace_rds,
                listing,
            )
            for item in page.get("DBSnapshots", ())
        )

    def aurora_snapshots(self, pace_rds: Pace = _unpaced) -> list[Snapshot]:
        return _unique(
            aurora_snapshot(item)
            for listing in RDS_LISTINGS
            for page in self._paced_pages(
                self._rds.get_paginator("describe_db_cluster_snapshots"),
                "DescribeDBClusterSnapshots",
                pace_rds,
                listing,
            )
            for item in page.get("DBClusterSnapshots", ())
        )

    def ami_references(self) -> dict[str, frozenset[str]]:
        """Snapshot id -> the ids of our AMIs whose block devices use it.

        Disabled and deprecated AMIs are listed too: they still hold their snapshots, and
        re-enabling one whose snapshot is gone is impossible.
        """
        found: dict[str, set[str]] = defaultdict(set)
        pages = _pages(
            self._ec2.get_paginator("describe_images"),
            "DescribeImages",
            Owners=["self"],
            IncludeDisabled=True,
            IncludeDeprecated=True,
            PaginationConfig={"PageSize": EC2_PAGE},
        )
        for page in pages:
            for image in page.get("Images", ()):
                for mapping in image.get("BlockDeviceMappings", ()):
                    snapshot_id = (mapping.get("Ebs") or {}).get("SnapshotId")
                    if snapshot_id:
                        found[snapshot_id].add(image["ImageId"])
        return {snapshot_id: frozenset(images) for snapshot_id, images in found.items()}

    def locked_snapshot_ids(self) -> frozenset[str] | None:
        """Ids of snapshots under a lock that forbids deleting them; None when the SDK or the
        endpoint does not offer DescribeLockedSnapshots."""
        if "DescribeLockedSnapshots" not in self._ec2.meta.service_model.operation_names:
            return None
        locked: set[str] = set()
        arguments: dict[str, Any] = {"MaxResults": EC2_PAGE}
        # botocore has no paginator for DescribeLockedSnapshots, so its NextToken is followed here.
        while True:
            try:
                page = self._ec2.describe_locked_snapshots(**arguments)
            except ClientError as exc:
                raise AwsError.from_client_error("DescribeLockedSnapshots", exc) from exc
            except ResponseParserError:
                # Not an AWS answer at all (AWS answers errors in its own XML): an emulator
                # that does not implement the call. Real endpoints never get here.
                return None
            locked.update(
                item["SnapshotId"]
                for item in page.get("Snapshots", ())
                if item.get("LockState") in LOCKED_STATES
            )
            token = page.get("NextToken")
            if not token:
                return frozenset(locked)
            arguments["NextToken"] = token

    @staticmethod
    def _paced_pages[R](
        paginator: Paginator[R], operation: str, pace: Pace, arguments: Mapping[str, Any]
    ) -> Iterator[Page]:
        """One page per paced call, resumed with the paginator's own resume token, so the pacer
        can retry a throttled page without starting the listing over."""
        token: str | None = None
        while True:
            page = pace(partial(_one_page, paginator, operation, arguments, token))
            yield page
            token = page.get("NextToken")
            if not token:
                return


class SnapshotDeleter:
    """Deletes one snapshot (the core's `Deleter`); raises AwsError with AWS's error code."""

    def __init__(self, *, ec2: EC2Client | None = None, rds: RDSClient | None = None) -> None:
        ec2 = ec2 or boto3.client("ec2", config=PACED)
        rds = rds or boto3.client("rds", config=PACED)
        self._calls: dict[SnapshotKind, tuple[str, Callable[[str], object]]] = {
            SnapshotKind.EBS: (
                "DeleteSnapshot",
                lambda snapshot_id: ec2.delete_snapshot(SnapshotId=snapshot_id),
            ),
            SnapshotKind.RDS: (
                "DeleteDBSnapshot",
                lambda snapshot_id: rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot_id),
            ),
            SnapshotKind.AURORA: (
                "DeleteDBClusterSnapshot",
                lambda snapshot_id: rds.delete_db_cluster_snapshot(
                    DBClusterSnapshotIdentifier=snapshot_id
                ),
            ),
        }

    def __call__(self, snapshot: Snapshot) -> None:
        operation, delete = self._calls[snapshot.kind]
        try:
            delete(snapshot.id)
        except ClientError as exc:
            raise AwsError.from_client_error(operation, exc) from exc


# ------------------------------------------------------------------------------ the cursor
CURSOR_PK = "pruner#cursor"
CURSOR_SK = "cycle"
# An unfinished cycle nobody continued for this long is forgotten (DynamoDB TTL); the next run
# starts a fresh one, which is always safe: it re-plans from what AWS lists.
CURSOR_TTL = timedelta(days=14)


class CursorStore:
    """The deletion cursor of the current cycle, one item in the state table.

    The cursor is stored compressed (`cursor`, zlib of its JSON): a cycle over a backlog of
    thousands of snapshots lists them all, and a DynamoDB item holds 400 KB. Plain attributes
    beside it (`cycle`, `finished`, `done_count`, `failed_count`) are for people reading the table.
    """

    def __init__(
        self, table: str, client: DynamoDBClient | None = None, *, target: str | None = None
    ) -> None:
        self._state = StateTable(table, client)
        # Each target of a run across accounts (hub and spoke) has its own cycle: its sort key
        # names the account and Region (`cycle#222222222222#eu-west-1`); the hub's own, `cycle`.
        self._sk = CURSOR_SK if target is None else f"{CURSOR_SK}#{target}"

    def unfinished(self) -> DeletionCursor | None:
        """The cursor of a cycle that stopped before its end (the deadline), to continue; None
        when the last cycle finished or nothing is stored."""
        item = self._state.get(CURSOR_PK, self._sk)
        if item is None or item.get("finished", {}).get("BOOL", True):
            return None
        data = json.loads(zlib.decompress(bytes(item["cursor"]["B"])).decode("utf-8"))
        return DeletionCursor.from_json(data)

    def save(self, cursor: DeletionCursor, *, finished: bool, at: datetime) -> None:
        """Store the cursor; `at` is the run's scheduled time (for people and the TTL)."""
        body = json.dumps(cursor.to_json(), separators=(",", ":")).encode("utf-8")
        item = {
            "pk": {"S": CURSOR_PK},
            "sk": {"S": self._sk},
            "cycle": {"S": cursor.cycle},
            "finished": {"BOOL": finished},
            "done_count": {"N": str(len(cursor.done))},
            "failed_count": {"N": str(len(cursor.failed))},
            "saved_for": {"S": at.isoformat()},
            "cursor": {"B": zlib.compress(body, 9)},
            "expiration": {"N": str(int((at + CURSOR_TTL).timestamp()))},
        }
        self._state.put(item)


# ----------------------------------------------------------------------- AWS shapes → Snapshot
def ebs_snapshot(
    item: Mapping[str, Any], ami_refs: frozenset[str], locked: frozenset[str]
) -> Snapshot:
    """A DescribeSnapshots item as a Snapshot."""
    snapshot_id = item["SnapshotId"]
    return Snapshot(
        id=snapshot_id,
        kind=SnapshotKind.EBS,
        origin=item.get("VolumeId"),
        created=_utc(item.get("StartTime")),
        size_gib=_size_gib(item.get("FullSnapshotSizeInBytes"), item.get("VolumeSize")),
        tags=_tags(item.get("Tags")),
        snapshot_type="manual",
        status=item.get("State", "unknown"),
        locked=snapshot_id in locked,
        ami_refs=ami_refs,
        copied_from=ebs_copy_source(item.get("Description")),
    )


def rds_snapshot(item: Mapping[str, Any]) -> Snapshot:
    """A DescribeDBSnapshots item as a Snapshot."""
    return Snapshot(
        id=item["DBSnapshotIdentifier"],
        kind=SnapshotKind.RDS,
        origin=item.get("DBInstanceIdentifier"),
        created=_utc(item.get("SnapshotCreateTime") or item.get("OriginalSnapshotCreateTime")),
        size_gib=_size_gib(item.get("FullSnapshotSizeInBytes"), item.get("AllocatedStorage")),
        tags=_tags(item.get("TagList")),
        snapshot_type=item.get("SnapshotType", "manual"),
        status=item.get("Status", "unknown"),
        copied_from=item.get("SourceDBSnapshotIdentifier"),
    )


def aurora_snapshot(item: Mapping[str, Any]) -> Snapshot:
    """A DescribeDBClusterSnapshots item as a Snapshot."""
    return Snapshot(
        id=item["DBClusterSnapshotIdentifier"],
        kind=SnapshotKind.AURORA,
        origin=item.get("DBClusterIdentifier"),
        created=_utc(item.get("SnapshotCreateTime")),
        size_gib=_size_gib(None, item.get("AllocatedStorage")),
        tags=_tags(item.get("TagList")),
        snapshot_type=item.get("SnapshotType", "manual"),
        status=item.get("Status", "unknown"),
        copied_from=item.get("SourceDBClusterSnapshotArn"),
    )


def _utc(moment: datetime | None) -> datetime:
    # A snapshot still being created may have no time yet; it is protected by its status
    # anyway, and "now" keeps it out of every older bucket.
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _size_gib(full_bytes: int | None, provisioned_gib: int | None) -> float:
    if full_bytes:
        return round(full_bytes / GIB, 3)
    return float(provisioned_gib or 0)


def _tags(pairs: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    return {pair["Key"]: pair.get("Value", "") for pair in pairs or ()}


def _unique(snapshots: Iterable[Snapshot]) -> list[Snapshot]:
    # The listings do not overlap today; if AWS ever returned a snapshot in two of them, it is
    # still one snapshot.
    seen: dict[str, Snapshot] = {}
    for snapshot in snapshots:
        seen.setdefault(snapshot.id, snapshot)
    return list(seen.values())


def _pages[R](paginator: Paginator[R], operation: str, **arguments: Any) -> Iterator[R]:
    try:
        yield from paginator.paginate(**arguments)
    except ClientError as exc:
        raise AwsError.from_client_error(operation, exc) from exc


def _one_page[R](
    paginator: Paginator[R], operation: str, arguments: Mapping[str, Any], token: str | None
) -> Page:
    config: dict[str, Any] = {"PageSize": RDS_PAGE, "MaxItems": RDS_PAGE}
    if token:
        config["StartingToken"] = token
    try:
        return paginator.paginate(**arguments, PaginationConfig=config).build_full_result()
    except ClientError as exc:
        raise AwsError.from_client_error(operation, exc) from exc
