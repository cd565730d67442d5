"""Carry out a plan's deletions: paced, one failure never stopping the rest, and stopping in time.

The deleting itself is a port (`Deleter`): the adapter calls DeleteSnapshot / DeleteDBSnapshot /
DeleteDBClusterSnapshot and raises AwsError with AWS's error code. This module decides what each
answer means, paces the calls and keeps the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from nightshift.errors import AwsError
from nightshift.pacing import (
    EC2_DELETE_SNAPSHOT,
    RDS_API,
    Clock,
    DeadlineReached,
    Pacer,
    Random,
    Sleep,
)
from nightshift.report import Outcome
from nightshift.retention.cursor import DeletionCursor
from nightshift.retention.model import Snapshot, SnapshotDecision, SnapshotKind
from nightshift.retention.plan import RetentionPlan

Deleter = Callable[[Snapshot], None]
"""Deletes one snapshot; raises AwsError (with AWS's error code) when AWS says no."""

# The snapshot is already gone: what we wanted, so it counts as done.
NOT_FOUND_CODES = frozenset(
    {
        "InvalidSnapshot.NotFound",  # EC2 DeleteSnapshot
        "DBSnapshotNotFound",  # RDS DeleteDBSnapshot (DBSnapshotNotFoundFault)
        "DBClusterSnapshotNotFoundFault",  # RDS DeleteDBClusterSnapshot
    }
)

DEFERRED = "deferred: the run stopped before its deadline; the next run resumes"


@dataclass(frozen=True)
class DeletionOutcome:
    """What happened when we asked AWS to delete one snapshot."""

    snapshot_id: str
    outcome: Outcome  # DONE, FAILED, or PLANNED in a dry run
    reason: str
    code: str | None = None  # AWS's error code, when AWS answered with one


@dataclass(frozen=True)
class ApplyResult:
    """The outcomes of this run, the cursor to save, and what is left for the next run."""

    outcomes: tuple[DeletionOutcome, ...]
    cursor: DeletionCursor
    remaining: tuple[str, ...] = ()
    stopped: str | None = None  # why the run stopped early; None when it got through

    @property
    def finished(self) -> bool:
        return not self.remaining


def pruner_pacers(*, clock: Clock, sleep: Sleep, rand: Random) -> dict[SnapshotKind, Pacer]:
    """One pacer per API bucket: EC2 DeleteSnapshot for EBS, and one shared by RDS and Aurora,
    since RDS counts every RDS API call, Aurora's included, against the same bucket."""
    rds = Pacer(RDS_API, clock=clock, sleep=sleep, rand=rand)
    return {
        SnapshotKind.EBS: Pacer(EC2_DELETE_SNAPSHOT, clock=clock, sleep=sleep, rand=rand),
        SnapshotKind.RDS: rds,
        SnapshotKind.AURORA: rds,
    }


def apply_deletions(
    plan: RetentionPlan,
    cursor: DeletionCursor,
    *,
    delete: Deleter,
    pacers: Mapping[SnapshotKind, Pacer],
    clock: Clock,
    deadline: float,
    dry_run: bool = False,
) -> ApplyResult:
    """Delete what the plan deletes and the cursor has not attempted, oldest first.

    `deadline` is a time on `clock` after which no deletion starts (the handler leaves itself
    room to save the cursor and publish the report). A refused plan deletes nothing. In a dry
    run nothing is called and the cursor does not move.

    >>> from datetime import UTC, datetime
    >>> nothing = RetentionPlan(datetime(2026, 11, 19, tzinfo=UTC), (), 0.5)
    >>> apply_deletions(nothing, DeletionCursor("c"), delete=lambda s: None, pacers={},
    ...                 clock=lambda: 0.0, deadline=10.0).finished
    True
    """
    todo = cursor.remaining(plan)
    if dry_run:
        planned = tuple(
            DeletionOutcome(d.id, Outcome.PLANNED, f"dry run: would delete ({d.reason})")
            for d in todo
        )
        return ApplyResult(planned, cursor)

    outcomes: list[DeletionOutcome] = []
    for index, decision in enumerate(todo):
        if clock() >= deadline:
            return _stopped(outcomes, cursor, todo[index:], "deadline reached")
        try:
            outcome = _delete_one(decision, delete, pacers[decision.snapshot.kind], deadline)
        except DeadlineReached as exc:
            return _stopped(outcomes, cursor, todo[index:], str(exc))
        outcomes.append(outcome)
        if outcome.outcome is Outcome.DONE:
            cursor = cursor.record_done(decision.id)
        else:
            cursor = cursor.record_failed(decision.id, outcome.code or "Unknown")
    return ApplyResult(tuple(outcomes), cursor)


def _delete_one(
    decision: SnapshotDecision, delete: Deleter, pacer: Pacer, deadline: float
) -> DeletionOutcome:
    snapshot = decision.snapshot
    try:
        pacer.call(lambda: delete(snapshot), deadline=deadline)
    except AwsError as exc:
        if exc.code in NOT_FOUND_CODES:
            return DeletionOutcome(
                snapshot.id, Outcome.DONE, f"already deleted ({exc.code})", exc.code
            )
        return DeletionOutcome(snapshot.id, Outcome.FAILED, str(exc), exc.code)
    return DeletionOutcome(snapshot.id, Outcome.DONE, "deleted")


def _stopped(
    outcomes: list[DeletionOutcome],
    cursor: DeletionCursor,
    left: tuple[SnapshotDecision, ...],
    why: str,
) -> ApplyResult:
    return ApplyResult(tuple(outcomes), cursor, tuple(d.id for d in left), f"stopped: {why}")
