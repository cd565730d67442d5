"""Applying a plan: outcomes per deletion, pacing, the deadline, the cursor, and the report."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from nightshift.pacing import Pacer, RateLimit
from nightshift.policy import DEFAULT_PROTECT
from nightshift.report import Outcome, Report
from nightshift.retention import (
    DeletionCursor,
    KeepPolicy,
    RetentionRule,
    Snapshot,
    SnapshotKind,
    apply_deletions,
    plan_retention,
    pruner_pacers,
    report_items,
    report_summary,
    report_totals,
    resume,
)

NOW = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)
KEEP_ONE = RetentionRule(
    "staging", frozenset(SnapshotKind), KeepPolicy(last=1), {"Environment": "staging"}
)


def make_plan(snapshot, count: int = 5, kind: SnapshotKind = SnapshotKind.EBS, share: float = 1.0):
    snaps = [
        snapshot(f"snap-{i}", kind=kind, age=timedelta(days=i), size_gib=10) for i in range(count)
    ]
    return plan_retention(snaps, [KEEP_ONE], DEFAULT_PROTECT, NOW, max_delete_share=share)


def run(plan, cursor, deleter, clock, *, deadline: float = 1e9, dry_run: bool = False):
    pacers = pruner_pacers(clock=clock, sleep=clock.sleep, rand=lambda: 0.5)
    return apply_deletions(
        plan, cursor, delete=deleter, pacers=pacers, clock=clock, deadline=deadline, dry_run=dry_run
    )


def test_plan_deletions_are_carried_out_oldest_first_and_reported_done(
    snapshot, clock, new_deleter
) -> None:
    plan = make_plan(snapshot)
    deleter = new_deleter(clock)

    result = run(plan, DeletionCursor("c1"), deleter, clock)

    assert deleter.ids == ["snap-4", "snap-3", "snap-2", "snap-1"]
    assert [o.outcome for o in result.outcomes] == [Outcome.DONE] * 4
    assert result.finished
    assert result.cursor.done == {"snap-1", "snap-2", "snap-3", "snap-4"}


def test_not_found_counts_as_done_and_one_failure_never_stops_the_rest(
    snapshot, clock, new_deleter
) -> None:
    plan = make_plan(snapshot)
    deleter = new_deleter(
        clock, errors={"snap-4": ["InvalidSnapshot.NotFound"], "snap-3": ["InvalidSnapshot.InUse"]}
    )

    result = run(plan, DeletionCursor("c1"), deleter, clock)

    by_id = {o.snapshot_id: o for o in result.outcomes}
    assert by_id["snap-4"].outcome is Outcome.DONE
    assert by_id["snap-4"].reason == "already deleted (InvalidSnapshot.NotFound)"
    assert by_id["snap-3"].outcome is Outcome.FAILED
    assert by_id["snap-3"].code == "InvalidSnapshot.InUse"
    assert by_id["snap-2"].outcome is by_id["snap-1"].outcome is Outcome.DONE
    assert result.cursor.failed == {"snap-3": "InvalidSnapshot.InUse"}


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (SnapshotKind.RDS, "DBSnapshotNotFound"),
        (SnapshotKind.AURORA, "DBClusterSnapshotNotFoundFault"),
    ],
)
def test_rds_and_aurora_not_found_codes_count_as_done(
    snapshot, clock, new_deleter, kind, code
) -> None:
    plan = make_plan(snapshot, count=2, kind=kind)
    deleter = new_deleter(clock, errors={"snap-1": [code]})

    result = run(plan, DeletionCursor("c1"), deleter, clock)

    assert result.outcomes[0].outcome is Outcome.DONE


def test_throttled_deletion_is_retried_and_succeeds(snapshot, clock, new_deleter) -> None:
    plan = make_plan(snapshot, count=2)
    deleter = new_deleter(
        clock, errors={"snap-1": ["RequestLimitExceeded", "RequestLimitExceeded"]}
    )

    result = run(plan, DeletionCursor("c1"), deleter, clock)

    assert deleter.ids == ["snap-1"] * 3
    assert result.outcomes[0].outcome is Outcome.DONE


def test_deletions_are_paced_to_the_documented_rate_after_the_burst(
    snapshot, clock, new_deleter
) -> None:
    plan = make_plan(snapshot, count=131, share=1.0)  # 130 EBS deletions: burst 100, then 5/s
    deleter = new_deleter(clock, seconds=0.0)

    result = run(plan, DeletionCursor("c1"), deleter, clock)

    times = [t for t, _ in deleter.calls]
    assert result.finished
    assert times[99] == times[0]  # the burst goes out at once
    assert times[129] - times[0] == pytest.approx(30 / 5.0)  # then one every 0.2 s


def test_rds_and_aurora_share_one_pacer_because_aws_counts_them_together(clock) -> None:
    pacers = pruner_pacers(clock=clock, sleep=clock.sleep, rand=lambda: 0.5)

    assert pacers[SnapshotKind.RDS] is pacers[SnapshotKind.AURORA]
    assert pacers[SnapshotKind.EBS] is not pacers[SnapshotKind.RDS]


def test_run_stops_at_the_deadline_and_the_next_run_resumes_without_repeats(
    snapshot, clock, new_deleter
) -> None:
    plan = make_plan(snapshot, count=6)
    deleter = new_deleter(clock, seconds=1.0)

    first = run(plan, DeletionCursor("c1"), deleter, clock, deadline=clock() + 2.5)
    saved = DeletionCursor.from_json(first.cursor.to_json())
    second = run(plan, resume(saved, "c1"), deleter, clock)

    assert first.stopped == "stopped: deadline reached"
    assert first.remaining == ("snap-2", "snap-1")  # calls started at +0, +1, +2 s
    assert not first.finished
    assert second.finished
    assert deleter.ids == ["snap-5", "snap-4", "snap-3", "snap-2", "snap-1"]


def test_failed_deletion_is_not_retried_in_the_same_cycle_but_is_in_the_next(
    snapshot, clock, new_deleter
) -> None:
    plan = make_plan(snapshot, count=2)
    deleter = new_deleter(clock, errors={"snap-1": ["InvalidSnapshot.InUse"]})

    first = run(plan, DeletionCursor("monday"), deleter, clock)
    same_cycle = run(plan, resume(first.cursor, "monday"), deleter, clock)
    next_cycle = run(plan, resume(first.cursor, "tuesday"), deleter, clock)

    assert same_cycle.outcomes == ()
    assert [o.outcome for o in next_cycle.outcomes] == [Outcome.DONE]
    assert deleter.ids == ["snap-1", "snap-1"]


def test_dry_run_deletes_nothing_and_leaves_the_cursor(snapshot, clock, new_deleter) -> None:
    plan = make_plan(snapshot, count=3)
    deleter = new_deleter(clock)
    cursor = DeletionCursor("c1")

    result = run(plan, cursor, deleter, clock, dry_run=True)

    assert deleter.calls == []
    assert [o.outcome for o in result.outcomes] == [Outcome.PLANNED, Outcome.PLANNED]
    assert result.cursor == cursor


def test_refused_plan_deletes_nothing(snapshot, clock, new_deleter) -> None:
    plan = make_plan(snapshot, count=10, share=0.5)
    deleter = new_deleter(clock)

    result = run(plan, DeletionCursor("c1"), deleter, clock)

    assert plan.refused is not None
    assert deleter.calls == []
    assert result.outcomes == ()


def test_report_has_an_item_per_snapshot_with_outcomes_codes_and_totals(
    snapshot, clock, new_deleter
) -> None:
    plan = make_plan(snapshot, count=5)
    deleter = new_deleter(clock, seconds=1.0, errors={"snap-3": ["InvalidSnapshot.InUse"]})
    result = run(plan, DeletionCursor("c1"), deleter, clock, deadline=clock() + 2.5)

    items = {item.resource: item for item in report_items(plan, result)}
    totals = report_totals(plan, result)

    assert items["snap-0"].outcome is Outcome.SKIPPED
    assert items["snap-0"].reason == "keep: last 1/1"
    assert items["snap-4"].outcome is Outcome.DONE
    assert items["snap-3"].outcome is Outcome.FAILED
    assert items["snap-3"].details["code"] == "InvalidSnapshot.InUse"
    assert items["snap-1"].reason.startswith("deferred:")
    assert totals["deleted"] == 2  # snap-4 and snap-2; snap-3 failed; snap-1 deferred
    assert totals["failed"] == 1
    assert totals["deferred"] == 1
    assert totals["deleted_gib"] == 20
    assert totals["monthly_savings_usd"] == 1.0
    assert totals["delete: beyond retention"] == 4
    assert report_summary(plan, result) == (
        "Deleted 2 of 4 planned snapshots (20.0 GiB, up to $1.00/month), 1 failed,"
        " 1 deferred to the next run; keep 1, protect 0."
    )


def test_report_items_fit_the_shared_report_schema(snapshot) -> None:
    plan = make_plan(snapshot, count=3, share=0.5)
    report = Report(
        function="pruner",
        run_id="r1",
        time=NOW.isoformat(),
        environment="staging",
        dry_run=False,
        summary=report_summary(plan),
        items=report_items(plan),
        totals=report_totals(plan),
    )

    again = Report.from_json(report.to_json())

    assert again.counts["refused"] == 2
    assert [i.resource for i in report_items(plan, include_kept=False)] == ["snap-1", "snap-2"]
    assert again.severity.value == "warning"
    assert again.summary.startswith("Nothing deleted, circuit breaker:")


class ThreadedDeleter:
    """Deletes by remembering, from many threads at once, on the real clock: each call takes
    `seconds` (later snapshots quicker, so calls finish out of the order they started in)."""

    def __init__(self, seconds: float = 0.004) -> None:
        self.seconds = seconds
        self.starts: list[tuple[float, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, snapshot: Snapshot) -> None:
        with self._lock:
            self.starts.append((time.monotonic(), snapshot.id))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.seconds * (1 + len(self.starts) % 3))
        with self._lock:
            self.in_flight -= 1

    @property
    def ids(self) -> list[str]:
        return [snapshot_id for _, snapshot_id in self.starts]


def real_time_pacers(limit: RateLimit | None = None) -> dict[SnapshotKind, Pacer]:
    pacers = pruner_pacers(clock=time.monotonic, sleep=time.sleep, rand=lambda: 0.5)
    if limit is None:
        return pacers
    one = Pacer(limit, clock=time.monotonic, sleep=time.sleep, rand=lambda: 0.5)
    return dict.fromkeys(pacers, one)


def mixed_plan(snapshot, count: int):
    snaps = [
        snapshot(
            f"snap-{i}",
            kind=(SnapshotKind.EBS, SnapshotKind.RDS)[i % 2],
            origin=("vol-0a1", "db-1")[i % 2],
            age=timedelta(days=i),
        )
        for i in range(count)
    ]
    return plan_retention(snaps, [KEEP_ONE], DEFAULT_PROTECT, NOW, max_delete_share=1.0)


def test_concurrent_deletions_happen_once_each_and_are_reported_in_plan_order(snapshot) -> None:
    plan = mixed_plan(snapshot, 40)
    deleter = ThreadedDeleter()

    result = apply_deletions(
        plan,
        DeletionCursor("c1"),
        delete=deleter,
        pacers=real_time_pacers(),
        clock=time.monotonic,
        deadline=time.monotonic() + 60,
        workers=8,
    )

    planned = [d.id for d in plan.deletions]
    assert sorted(deleter.ids) == sorted(planned)  # each once
    assert deleter.most_in_flight > 1
    assert [o.snapshot_id for o in result.outcomes] == planned
    assert result.finished
    assert result.cursor.done == set(planned)


def test_concurrent_deletions_still_take_one_token_each_from_their_pacer(snapshot) -> None:
    plan = mixed_plan(snapshot, 25)  # 24 deletions: a burst of 4, then 20 at 200 a second
    deleter = ThreadedDeleter(seconds=0.001)
    limit = RateLimit("test:Delete", burst=4, rate=200.0, source="test")
    started = time.monotonic()

    result = apply_deletions(
        plan,
        DeletionCursor("c1"),
        delete=deleter,
        pacers=real_time_pacers(limit),
        clock=time.monotonic,
        deadline=started + 60,
        workers=8,
    )

    assert result.finished
    starts = sorted(at for at, _ in deleter.starts)
    # However many threads call, the n-th call starts no earlier than its token is there.
    for n, at in enumerate(starts):
        assert at - started >= max(0, n + 1 - 4) / 200.0 - 0.002


def test_concurrent_run_starts_nothing_after_the_deadline_and_the_next_resumes_the_rest(
    snapshot,
) -> None:
    plan = mixed_plan(snapshot, 61)
    deleter = ThreadedDeleter(seconds=0.01)
    deadline = time.monotonic() + 0.08

    first = apply_deletions(
        plan,
        DeletionCursor("c1"),
        delete=deleter,
        pacers=real_time_pacers(),
        clock=time.monotonic,
        deadline=deadline,
        workers=4,
    )
    saved = DeletionCursor.from_json(first.cursor.to_json())
    second = apply_deletions(
        plan,
        resume(saved, "c1"),
        delete=deleter,
        pacers=real_time_pacers(),
        clock=time.monotonic,
        deadline=time.monotonic() + 60,
        workers=4,
    )

    planned = [d.id for d in plan.deletions]
    assert first.stopped == "stopped: deadline reached"
    assert all(at < deadline for at, id_ in deleter.starts if id_ not in first.remaining)
    done_first = [o.snapshot_id for o in first.outcomes]
    assert sorted(done_first + list(first.remaining)) == sorted(planned)
    assert list(first.remaining) == [i for i in planned if i in first.remaining]  # plan order
    assert [o.snapshot_id for o in second.outcomes] == list(first.remaining)
    assert sorted(deleter.ids) == sorted(planned)  # nothing twice, nothing missed
    assert second.finished
