"""What the pruner decides about: snapshots, the lineages they belong to, and decisions.

A snapshot is built by the adapters from DescribeSnapshots / DescribeDBSnapshots /
DescribeDBClusterSnapshots (plus DescribeImages and DescribeLockedSnapshots for `ami_refs` and
`locked`); the mapping of every field is in docs/pruner.md, "Snapshot model".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class SnapshotKind(StrEnum):
    """The resource kinds a retention rule can select (`resources:` in the policy)."""

    RDS = "rds-snapshot"  # RDS manual DB snapshot; lineage: DBInstanceIdentifier
    AURORA = "aurora-snapshot"  # Aurora DB cluster snapshot; lineage: DBClusterIdentifier
    EBS = "ebs-snapshot"  # EBS snapshot; lineage: VolumeId (copies: their source's volume)


class SnapshotAction(StrEnum):
    KEEP = "keep"  # a retention rule keeps it (or no rule governs it)
    PROTECT = "protect"  # a safety rule forbids deleting it, whatever the rules say
    DELETE = "delete"  # no rule keeps it and nothing protects it


RETAIN_TAG = "nightshift:retain"
BACKUP_SOURCE_TAG = "aws:backup:source-resource"  # set by AWS Backup on the recovery points
BACKUP_ID_PREFIX = "awsbackup:"  # RDS snapshots AWS Backup creates: awsbackup:job-...
DLM_TAG_PREFIX = "aws:dlm:"  # aws:dlm:lifecycle-policy-id, aws:dlm:lifecycle-schedule-name
# "Snapshots created by a copy snapshot operation have an arbitrary volume ID that you should
# not use for any purpose" (EC2 API reference, Snapshot.VolumeId); in practice vol-ffffffff.
EBS_COPY_VOLUME_ID = "vol-ffffffff"
# EBS State `completed`; RDS / Aurora Status `available`. Anything else (pending, creating,
# copying, deleting, error ...) is left alone and does not count as a kept copy.
USABLE_STATUSES = frozenset({"available", "completed"})

# The descriptions EC2 writes on copies when the caller gives none (CopySnapshot), and on the
# snapshots of a copied AMI (CopyImage). The only place EC2 records a copy's source.
_COPIED_SNAPSHOT = re.compile(r"^\[Copied (snap-[0-9a-f]+) from [a-z0-9-]+\]")
_COPIED_FOR_AMI = re.compile(
    r"^Copied for DestinationAmi ami-[0-9a-f]+ .*for SourceSnapshot (snap-[0-9a-f]+)"
)


def ebs_copy_source(description: str | None) -> str | None:
    """The snapshot an EBS snapshot was copied from, read from the description EC2 wrote.

    >>> ebs_copy_source("[Copied snap-0a1b2c3d from us-west-2] nightly")
    'snap-0a1b2c3d'
    >>> ebs_copy_source("Copied for DestinationAmi ami-01 from SourceAmi ami-02 "
    ...                 "for SourceSnapshot snap-0f. Task created on 1,700,000,000,000.")
    'snap-0f'
    >>> ebs_copy_source("nightly backup") is None
    True
    """
    if not description:
        return None
    for pattern in (_COPIED_SNAPSHOT, _COPIED_FOR_AMI):
        found = pattern.match(description)
        if found:
            return found.group(1)
    return None


@dataclass(frozen=True)
class Snapshot:
    """One snapshot as the planner sees it.

    `origin` is the resource the snapshot was taken of (VolumeId, DBInstanceIdentifier,
    DBClusterIdentifier; RDS and Aurora copies keep their source's identifier, EBS copies get
    vol-ffffffff). `copied_from` is the source snapshot of a copy when it is known (EBS: from
    the description, see `ebs_copy_source`). `size_gib` is the adapter's best size estimate
    (full snapshot size, else the volume's / allocated storage); `snapshot_type` is RDS's
    SnapshotType (manual, automated, awsbackup, shared, public), "manual" for EBS.
    """

    id: str
    kind: SnapshotKind
    origin: str | None
    created: datetime
    size_gib: float = 0.0
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    snapshot_type: str = "manual"
    status: str = "available"
    locked: bool = False
    ami_refs: frozenset[str] = frozenset()
    copied_from: str | None = None

    def __post_init__(self) -> None:
        if self.created.tzinfo is None or self.created.utcoffset() is None:
            raise ValueError(f"{self.id}: created must be an aware datetime")
        object.__setattr__(self, "kind", SnapshotKind(self.kind))
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))
        object.__setattr__(self, "ami_refs", frozenset(self.ami_refs))

    @property
    def usable(self) -> bool:
        return self.status in USABLE_STATUSES

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "origin": self.origin,
            "created": self.created.isoformat(),
            "size_gib": self.size_gib,
            "tags": dict(self.tags),
            "snapshot_type": self.snapshot_type,
            "status": self.status,
            "locked": self.locked,
            "ami_refs": sorted(self.ami_refs),
            "copied_from": self.copied_from,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        return cls(
            id=str(data["id"]),
            kind=SnapshotKind(data["kind"]),
            origin=data.get("origin"),
            created=datetime.fromisoformat(data["created"]),
            size_gib=float(data.get("size_gib", 0.0)),
            tags=dict(data.get("tags") or {}),
            snapshot_type=str(data.get("snapshot_type", "manual")),
            status=str(data.get("status", "available")),
            locked=bool(data.get("locked", False)),
            ami_refs=frozenset(data.get("ami_refs") or ()),
            copied_from=data.get("copied_from"),
        )


@dataclass(frozen=True, order=True)
class Lineage:
    """The history a snapshot belongs to: one EBS volume, one DB instance, one Aurora cluster.

    The kind is part of the key because an RDS instance and an Aurora cluster may share a name.
    """

    kind: SnapshotKind
    id: str

    def __str__(self) -> str:
        return self.id


def resolve_lineages(snapshots: Iterable[Snapshot]) -> dict[str, Lineage]:
    """Map each snapshot id to its lineage; copies join the lineage of their origin.

    An EBS copy (volume vol-ffffffff) follows `copied_from` through the snapshots given, so a copy
    of a copy still lands on the original volume. When the source is not among them (copied
    from another Region or account, or deleted since) the copies of one source form a lineage
    named after it; a copy with no known source is a lineage of its own, and so is never pruned.

    >>> from datetime import UTC
    >>> t = datetime(2026, 11, 19, tzinfo=UTC)
    >>> original = Snapshot("snap-1", SnapshotKind.EBS, "vol-1", t)
    >>> copy = Snapshot("snap-2", SnapshotKind.EBS, "vol-ffffffff", t, copied_from="snap-1")
    >>> resolve_lineages([original, copy])["snap-2"]
    Lineage(kind=<SnapshotKind.EBS: 'ebs-snapshot'>, id='vol-1')
    """
    by_id = {snapshot.id: snapshot for snapshot in snapshots}
    resolved: dict[str, Lineage] = {}
    for snapshot in by_id.values():
        resolved[snapshot.id] = _lineage(snapshot, by_id)
    return resolved


def _lineage(snapshot: Snapshot, by_id: Mapping[str, Snapshot]) -> Lineage:
    seen: set[str] = set()
    current = snapshot
    while True:
        if current.origin and current.origin != EBS_COPY_VOLUME_ID:
            return Lineage(current.kind, current.origin)
        source = current.copied_from
        if source is None:
            return Lineage(current.kind, current.id)
        seen.add(current.id)
        parent = by_id.get(source)
        if parent is None or parent.id in seen:
            return Lineage(current.kind, source)
        current = parent


@dataclass(frozen=True)
class SnapshotDecision:
    """What the plan does with one snapshot, and why.

    `reason` is the sentence people read ("keep: daily 2026-11-19", "protected: DLM",
    "delete: beyond retention"); `category` is the same without the variable part, for counting
    ("keep: daily"); `marks` lists every bucket that keeps the snapshot, with the rule's name
    when several rules apply; `rule` names the rule that kept it, if any; `governed` says the
    retention rules decided on it (it counts for the circuit breaker), rather than a protection
    or the absence of any rule.
    """

    snapshot: Snapshot
    lineage: Lineage
    action: SnapshotAction
    reason: str
    category: str
    rule: str | None = None
    marks: tuple[str, ...] = ()
    governed: bool = False

    @property
    def id(self) -> str:
        return self.snapshot.id


@dataclass(frozen=True)
class SnapshotListing:
    """Every snapshot found, and whether snapshot locks could be read.

    `locks_known` is False only when the endpoint or the SDK does not offer
    DescribeLockedSnapshots (an older botocore, a local emulator). Nothing is lost then: EC2
    itself refuses to delete a locked snapshot, and that refusal is reported with its code.
    """

    snapshots: tuple[Snapshot, ...]
    locks_known: bool = True

    def count(self, kind: SnapshotKind) -> int:
        return sum(1 for snapshot in self.snapshots if snapshot.kind is kind)
