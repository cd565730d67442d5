"""Carry out a plan's deletions: paced, one failure never stopping the rest, and stopping in time.

The deleting itself is a port (`Deleter`): the adapter calls DeleteSnapshot / DeleteDBSnapshot /
DeleteDBClusterSnapshot and raises AwsError with AWS's error code. This module decides what each
answer means, paces the calls and keeps the cursor.

Deletions run on `workers` threads at once: a delete call mostly waits for AWS, and the pacers'
buckets, not the round trip, are what should bound the rate. Every call still takes its token
from its API's pacer (they are thread-safe), none starts after the deadline, and the outcomes
are reported, and recorded in the cursor, in the plan's order whatever order they finished in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
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
"""Deletes one snapshot; raises AwsError (with AWS's error code) when AWS says no. Called from
several threads at once when the run has more than one worker."""

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
    workers: int = 1,
) -> ApplyResult:
    """Delete what the plan deletes and the cursor has not attempted, oldest first, `workers`
    at a time.

    `deadline` is a time on `clock` after which no deletion starts (the handler leaves itself
    room to save the cursor and publish the report). A refused plan deletes nothing. In a dry
    run nothing is called and the cursor does not move.

    >>> from datetime import UTC, datetime
    >>> nothing = RetentionPlan(datetime(2026, 11, 19, tzinfo=UTC), (), 0.5)
    >>> apply_deletions(nothing, DeletionCursor("c"), delete=lambda s: None, pacers={},
    ...                 clock=lambda: 0.0, deadline=10.0).finished
    True
    """
    if workers < 1:
        raise ValueError("workers must be >= 1")
    todo = cursor.remaining(plan)
    if dry_run:
        planned = tuple(
            DeletionOutcome(d.id, Outcome.PLANNED, f"dry run: would delete ({d.reason})")
            for d in todo
        )
        return ApplyResult(planned, cursor)

    run = _DeletionRun(todo, delete, pacers, clock, deadline)
    if workers == 1 or len(todo) <= 1:
        run.work()
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            running = [pool.submit(run.work) for _ in range(min(workers, len(todo)))]
        for future in running:
            future.result()  # a worker's unexpected error is the run's, as it was one at a time
    return run.result(cursor)


class _DeletionRun:
    """The deletions of one run, shared by its workers: each takes the next one not started
    until the list is done or one of them stops the run."""

    def __init__(
        self,
        todo: tuple[SnapshotDecision, ...],
        delete: Deleter,
        pacers: Mapping[SnapshotKind, Pacer],
        clock: Clock,
        deadline: float,
    ) -> None:
        self._todo = todo
        self._delete = delete
        self._pacers = pacers
        self._clock = clock
        self._deadline = deadline
        self._lock = threading.Lock()
        self._next: Iterator[int] = iter(range(len(todo)))
        self._outcomes: dict[int, DeletionOutcome] = {}
        self._stopped: str | None = None

    def work(self) -> None:
        try:
            while (index := self._take()) is not None:
                decision = self._todo[index]
                pacer = self._pacers[decision.snapshot.kind]
                try:
                    outcome = _delete_one(decision, self._delete, pacer, self._deadline)
                except DeadlineReached as exc:
                    self._stop(str(exc))
                    return
                with self._lock:
                    self._outcomes[index] = outcome
        except BaseException:
            self._stop("a deletion raised an unexpected error")
            raise

    def _take(self) -> int | None:
        """The index of the next deletion to start; None when none is to start any more."""
        with self._lock:
            if self._stopped is not None:
                return None
            if self._clock() >= self._deadline:
                self._stopped = "deadline reached"
                return None
            return next(self._next, None)

    def _stop(self, why: str) -> None:
        with self._lock:
            if self._stopped is None:
                self._stopped = why

    def result(self, cursor: DeletionCursor) -> ApplyResult:
        order = sorted(self._outcomes)
        outcomes = tuple(self._outcomes[index] for index in order)
        done = [o.snapshot_id for o in outcomes if o.outcome is Outcome.DONE]
        failed = {
            o.snapshot_id: o.code or "Unknown" for o in outcomes if o.outcome is not Outcome.DONE
        }
        left = tuple(d.id for i, d in enumerate(self._todo) if i not in self._outcomes)
        if not left:
            return ApplyResult(outcomes, cursor.record(done, failed))
        return ApplyResult(outcomes, cursor.record(done, failed), left, f"stopped: {self._stopped}")


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
