"""Grandfather-father-son selection with restic's semantics (`restic forget --keep-*`).

A port of restic's ApplyPolicy (internal/data/snapshot_policy.go), for one lineage:
- snapshots are walked newest first;
- for each bucket kind with a count N (last, daily, weekly, monthly, yearly), a snapshot is kept
  when its bucket (its day, ISO week, month or year, in the rule's time zone) differs from the
  bucket of the snapshot this kind kept before it, i.e. the newest snapshot of each bucket,
  until N snapshots were kept;
- if a kind still has count left when the walk reaches the oldest snapshot, the oldest is kept
  too ("oldest daily ..."), which keeps the longest history while the count is not used up;
- a snapshot is kept if any kind keeps it, and it gets every kind's mark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from nightshift.retention.model import Snapshot
from nightshift.retention.rules import KeepPolicy

Bucket = tuple[int, ...]


def _day(t: datetime) -> Bucket:
    return (t.year, t.month, t.day)


def _iso_week(t: datetime) -> Bucket:
    iso = t.isocalendar()
    return (iso.year, iso.week)


def _month(t: datetime) -> Bucket:
    return (t.year, t.month)


def _year(t: datetime) -> Bucket:
    return (t.year,)


# bucket kind -> (bucket of a local time, label of that bucket)
CALENDAR_BUCKETS: dict[str, tuple[Callable[[datetime], Bucket], Callable[[Bucket], str]]] = {
    "daily": (_day, lambda b: f"{b[0]:04d}-{b[1]:02d}-{b[2]:02d}"),
    "weekly": (_iso_week, lambda b: f"{b[0]:04d}-W{b[1]:02d}"),
    "monthly": (_month, lambda b: f"{b[0]:04d}-{b[1]:02d}"),
    "yearly": (_year, lambda b: f"{b[0]:04d}"),
}


@dataclass(frozen=True)
class KeepMark:
    """One reason a snapshot is kept: `last 2/3`, `daily 2026-11-19`, `oldest weekly 2026-W40`."""

    kind: str
    label: str
    oldest: bool = False

    def __str__(self) -> str:
        prefix = "oldest " if self.oldest else ""
        return f"{prefix}{self.kind} {self.label}"


def newest_first(snapshots: Sequence[Snapshot]) -> list[Snapshot]:
    """Newest first; equal times by id, so the result never depends on input order."""
    return sorted(snapshots, key=lambda s: (s.created, s.id), reverse=True)


def select_keeps(
    snapshots: Sequence[Snapshot], keep: KeepPolicy, zone: ZoneInfo
) -> dict[str, tuple[KeepMark, ...]]:
    """The snapshots `keep` keeps, each with its marks (in the order last, daily, ... yearly).

    Snapshots not in the result are not kept by this policy.

    >>> from datetime import UTC, timedelta
    >>> from nightshift.retention.model import SnapshotKind
    >>> t = datetime(2026, 11, 19, 3, tzinfo=UTC)
    >>> snaps = [Snapshot(f"s{i}", SnapshotKind.EBS, "vol-1", t - timedelta(hours=12 * i))
    ...          for i in range(4)]
    >>> kept = select_keeps(snaps, KeepPolicy(daily=2), ZoneInfo("UTC"))
    >>> {snapshot_id: [str(mark) for mark in marks] for snapshot_id, marks in kept.items()}
    {'s0': ['daily 2026-11-19'], 's1': ['daily 2026-11-18']}
    """
    ordered = newest_first(snapshots)
    marks: dict[str, list[KeepMark]] = {}
    oldest_index = len(ordered) - 1
    for kind, count in keep.counts():
        if count <= 0:
            continue
        left = count
        previous: Bucket | None = None
        for index, snapshot in enumerate(ordered):
            if left == 0:
                break
            if kind == "last":
                bucket: Bucket = (index,)
                label = f"{count - left + 1}/{count}"
            else:
                bucket_of, label_of = CALENDAR_BUCKETS[kind]
                bucket = bucket_of(snapshot.created.astimezone(zone))
                label = label_of(bucket)
            is_oldest = index == oldest_index
            if bucket != previous or is_oldest:
                mark = KeepMark(kind, label, oldest=bucket == previous)
                marks.setdefault(snapshot.id, []).append(mark)
                previous = bucket
                left -= 1
    return {snapshot_id: tuple(found) for snapshot_id, found in marks.items()}
