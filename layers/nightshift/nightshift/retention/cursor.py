"""Where the deletions of one pruning cycle got to, so a run stopped by its deadline resumes.

A cycle is the work started by one scheduled run (its id is the handler's choice, e.g. the
schedule's time). Every run re-plans from what AWS lists now, which alone keeps a deleted
snapshot from being deleted again once it is gone; the cursor covers the rest: snapshots still
listed while AWS deletes them, and deletions that failed, are not attempted twice in one cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from nightshift.retention.model import SnapshotDecision
from nightshift.retention.plan import RetentionPlan


@dataclass(frozen=True)
class DeletionCursor:
    """The snapshots of one cycle whose deletion was attempted: `done` (AWS confirmed, or the
    snapshot was already gone) and `failed` (id -> AWS error code).

    >>> cursor = DeletionCursor("2026-11-19T03:00:00Z").record_done("snap-1")
    >>> DeletionCursor.from_json(cursor.to_json()) == cursor
    True
    """

    cycle: str
    done: frozenset[str] = frozenset()
    failed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "done", frozenset(self.done))
        object.__setattr__(self, "failed", MappingProxyType(dict(self.failed)))

    @property
    def attempted(self) -> frozenset[str]:
        return self.done | frozenset(self.failed)

    def remaining(self, plan: RetentionPlan) -> tuple[SnapshotDecision, ...]:
        """The plan's deletions not yet attempted in this cycle, oldest first."""
        attempted = self.attempted
        return tuple(d for d in plan.deletions if d.id not in attempted)

    def record_done(self, snapshot_id: str) -> DeletionCursor:
        failed = {k: v for k, v in self.failed.items() if k != snapshot_id}
        return DeletionCursor(self.cycle, self.done | {snapshot_id}, failed)

    def record_failed(self, snapshot_id: str, code: str) -> DeletionCursor:
        return DeletionCursor(self.cycle, self.done, {**self.failed, snapshot_id: code})

    def record(
        self, done: Iterable[str] = (), failed: Mapping[str, str] | None = None
    ) -> DeletionCursor:
        """Many at once, as `record_done` for each of `done` and then `record_failed` for each
        of `failed` would, in one copy rather than one per snapshot."""
        finished = self.done | frozenset(done)
        kept = {k: v for k, v in self.failed.items() if k not in finished}
        return DeletionCursor(self.cycle, finished, {**kept, **(failed or {})})

    def to_json(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle,
            "done": sorted(self.done),
            "failed": dict(sorted(self.failed.items())),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeletionCursor:
        return cls(
            cycle=str(data["cycle"]),
            done=frozenset(str(i) for i in data.get("done", ())),
            failed={str(k): str(v) for k, v in (data.get("failed") or {}).items()},
        )


def resume(saved: DeletionCursor | None, cycle: str) -> DeletionCursor:
    """The cursor to continue with: the saved one if it belongs to `cycle`, else a fresh one.

    >>> resume(DeletionCursor("monday", frozenset({"snap-1"})), "tuesday").done
    frozenset()
    """
    if saved is not None and saved.cycle == cycle:
        return saved
    return DeletionCursor(cycle)
