"""The pruner's service (nightshift.retention.service.Pruner) on in-memory ports: what it
deletes, reports, counts and leaves for the next run. tests/functional/test_pruner.py runs the
same through the handler and the real adapters under moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from aws_lambda_powertools import Logger

from nightshift.adapters.reporting import failure_reported
from nightshift.errors import AwsError, PolicyError
from nightshift.fanout import WorkItem
from nightshift.report import Outcome, Report
from nightshift.retention import Snapshot, SnapshotKind, SnapshotListing
from nightshift.retention.ports import Pace
from nightshift.retention.service import Invocation, Pruner
from nightshift.retention.targets import PrunerRun, PrunerTargets, TargetSinks, raised_as_is
from nightshift.trigger import ScheduledTrigger
from tests.support.fakes.pruner import (
    FakeClock,
    FakePruner,
    MemoryCursorStore,
    MemoryDeleter,
    MemorySnapshots,
    RecordingMetrics,
    RecordingPublisher,
    fake_pruner,
    pruner_policy,
)

NOW = datetime(2026, 11, 19, 3, 0, tzinfo=UTC)
POLICY = """\
version: 1
retention:
  - name: staging-volumes
    resources: [ebs-snapshot]
    match: {tags: {Environment: staging}}
    keep: {last: 3}
pruner:
  max_delete_share: 0.9
"""


def daily_snapshots(count: int) -> list[Snapshot]:
    """`count` daily EBS snapshots of one staging volume, snap-00 the newest."""
    return [
        Snapshot(
            id=f"snap-{n:02d}",
            kind=SnapshotKind.EBS,
            origin="vol-0a1",
            created=NOW - timedelta(days=n + 1),
            size_gib=10.0,
            tags={"Environment": "staging"},
        )
        for n in range(count)
    ]


def run(
    pruner: FakePruner, at: datetime = NOW, *, dry_run: bool = False, deadline: float = 870
) -> Report:
    trigger = ScheduledTrigger(at, dry_run)
    return pruner.service.run(trigger, Invocation("req-1-1763521200", pruner.clock, deadline))


def test_snapshots_beyond_retention_are_deleted_reported_counted_and_the_cycle_finishes() -> None:
    pruner = fake_pruner(pruner_policy(POLICY), daily_snapshots(6))

    report = run(pruner)

    assert pruner.deleter.deleted == ["snap-05", "snap-04", "snap-03"]  # oldest first
    assert sorted(pruner.account.snapshots_by_id) == ["snap-00", "snap-01", "snap-02"]
    assert pruner.publisher.reports == [report]
    assert report.function == "pruner"
    assert report.time == "2026-11-19T03:00:00Z"
    assert report.environment == "staging"
    assert report.run_id == "req-1-1763521200"
    assert not report.dry_run
    assert report.totals["deleted"] == 3
    assert report.totals["deleted_gib"] == 30.0
    assert sorted(item.resource for item in report.items) == ["snap-03", "snap-04", "snap-05"]
    assert {item.outcome for item in report.items} == {Outcome.DONE}
    assert report.summary.startswith("Deleted 3 of 3 planned snapshots (30.0 GiB")
    assert pruner.metrics.added == [
        ("SnapshotsDeleted", "Count", 3),
        ("GiBDeleted", "Gigabytes", 30.0),
        ("DeleteFailures", "Count", 0),
        ("ApiThrottles", "Count", 0),
    ]
    (saved, finished, at) = pruner.cursors.saves[0]
    assert (saved.cycle, finished, at) == ("2026-11-19T03:00:00Z", True, NOW)


def test_a_refused_deletion_is_reported_failed_and_counted_and_the_rest_go_on() -> None:
    pruner = fake_pruner(
        pruner_policy(POLICY), daily_snapshots(5), refuse={"snap-04": "SnapshotInUse"}
    )

    report = run(pruner)

    assert pruner.deleter.deleted == ["snap-03"]
    failed = [item for item in report.items if item.outcome is Outcome.FAILED]
    assert [(item.resource, item.details["code"]) for item in failed] == [
        ("snap-04", "SnapshotInUse")
    ]
    assert pruner.metrics.value("DeleteFailures") == 1
    assert pruner.metrics.value("SnapshotsDeleted") == 1


def test_a_dry_run_deletes_nothing_reports_the_plan_and_leaves_the_cursor() -> None:
    pruner = fake_pruner(pruner_policy(POLICY), daily_snapshots(5))

    report = run(pruner, dry_run=True)

    assert pruner.deleter.deleted == []
    assert report.dry_run
    assert report.summary.startswith("Plan: delete 2 of 5 snapshots (20.0 GiB")
    assert sorted((i.resource, i.outcome) for i in report.items) == [
        ("snap-03", Outcome.PLANNED),
        ("snap-04", Outcome.PLANNED),
    ]
    assert pruner.cursors.saves == []
    assert pruner.metrics.value("SnapshotsDeleted") == 0


def test_the_policys_dry_run_switch_makes_every_run_a_dry_run() -> None:
    pruner = fake_pruner(pruner_policy(POLICY + "  dry_run: true\n"), daily_snapshots(5))

    report = run(pruner)

    assert report.dry_run
    assert pruner.deleter.deleted == []
    assert pruner.cursors.saves == []


def test_a_run_stopped_by_its_deadline_saves_the_cursor_and_the_next_run_resumes_its_cycle() -> (
    None
):
    pruner = fake_pruner(pruner_policy(POLICY), daily_snapshots(13), seconds_per_delete=1.0)

    first = run(pruner, deadline=4.5)

    assert len(pruner.deleter.deleted) == 5
    assert first.totals["deferred"] == 5
    assert "5 deferred to the next run" in first.summary
    cursor, finished, _ = pruner.cursors.saves[-1]
    assert not finished
    assert cursor.cycle == "2026-11-19T03:00:00Z"

    pruner.clock.now = 0.0  # a new invocation
    second = run(pruner, NOW + timedelta(days=1))

    assert len(pruner.deleter.deleted) == 10
    assert second.time == "2026-11-20T03:00:00Z"
    assert second.totals["deferred"] == 0
    cursor, finished, _ = pruner.cursors.saves[-1]
    assert finished
    assert cursor.cycle == "2026-11-19T03:00:00Z"  # the cycle the first run started


def test_a_listing_that_fails_is_reported_and_raised_and_nothing_is_deleted() -> None:
    pruner = fake_pruner(pruner_policy(POLICY), daily_snapshots(5))
    pruner.account.failure = AwsError("DescribeSnapshots", "UnauthorizedOperation", "denied")

    with pytest.raises(AwsError, match="UnauthorizedOperation"):
        run(pruner, dry_run=True)

    (report,) = pruner.publisher.reports
    assert report.summary == "Nothing deleted: the pruner could not make a plan."
    assert report.errors == ("DescribeSnapshots failed with UnauthorizedOperation: denied",)
    assert report.dry_run  # the trigger's
    assert report.time == "2026-11-19T03:00:00Z"
    assert pruner.deleter.deleted == []
    assert pruner.cursors.saves == []
    assert pruner.metrics.added == []


def test_an_unusable_policy_is_reported_and_raised_before_anything_is_listed() -> None:
    pruner = fake_pruner(
        PolicyError("nightshift.yaml", "retention[0].keep", "keeps nothing"), daily_snapshots(5)
    )
    pruner.account.failure = AssertionError("listed")  # type: ignore[assignment]

    with pytest.raises(PolicyError):
        run(pruner)

    (report,) = pruner.publisher.reports
    assert report.errors == ("nightshift.yaml: retention[0].keep: keeps nothing",)
    assert pruner.deleter.deleted == []


def test_a_failure_report_that_cannot_be_published_leaves_the_first_error_raised() -> None:
    pruner = fake_pruner(pruner_policy(POLICY), daily_snapshots(5))
    pruner.account.failure = AwsError("DescribeDBSnapshots", "Throttling", "slow down")
    pruner.publisher.failure = AwsError("Publish", "AuthorizationError", "no")

    with pytest.raises(AwsError, match="Throttling"):
        run(pruner)

    assert pruner.publisher.reports == []


# ---------------------------------------------------------------- across targets (hub and spoke)
TARGETED_POLICY = (
    POLICY
    + """targets:
  accounts:
    - {account: "222222222222", name: staging, regions: [eu-central-1, eu-west-1]}
    - {account: "444444444444", name: sandbox}
"""
)


class RefusedListing(MemorySnapshots):
    def snapshots(self, *, pace_rds: Pace) -> SnapshotListing:
        raise AwsError("DescribeSnapshots", "UnauthorizedOperation", "not this account")


def test_across_targets_one_failure_is_reported_the_others_pruned_one_report_published() -> None:
    policy = pruner_policy(TARGETED_POLICY)
    items = (
        WorkItem("222222222222", "eu-central-1", "arn:aws:iam::222222222222:role/r", "staging"),
        WorkItem("222222222222", "eu-west-1", "arn:aws:iam::222222222222:role/r", "staging"),
        WorkItem("444444444444", "eu-central-1", "arn:aws:iam::444444444444:role/r", "sandbox"),
    )
    accounts = {
        items[0]: MemorySnapshots(daily_snapshots(6)),
        items[1]: MemorySnapshots(daily_snapshots(5)),
        items[2]: RefusedListing(daily_snapshots(6)),
    }
    cursors = {item: MemoryCursorStore() for item in items}
    clock, publisher, metrics = FakeClock(), RecordingPublisher(), RecordingMetrics()
    logger = Logger(service="pruner")

    def pruner_for(item: WorkItem, sinks: TargetSinks) -> Pruner:
        return Pruner(
            policy=lambda: policy,
            environment="staging",
            inventory=accounts[item],
            delete=MemoryDeleter(accounts[item], clock, seconds=0.1),
            cursors=cursors[item],
            publisher=sinks,
            failures=raised_as_is,
            metrics=sinks,
            logger=logger,
            sleep=clock.sleep,
            rand=lambda: 0.5,
            workers=1,
        )

    def single() -> Pruner:
        raise AssertionError("a policy with targets never runs the hub's own pruner")

    run_across = PrunerRun(
        policy=lambda: policy,
        environment="staging",
        single=single,
        targets=lambda: PrunerTargets(
            items, ("production 333333333333: production",), 2, pruner_for
        ),
        publisher=publisher,
        failures=partial(failure_reported, publisher, logger=logger),
        metrics=metrics,
    )

    report = run_across.run(ScheduledTrigger(NOW), Invocation("req-1", clock, 870))

    for kept in (accounts[items[0]], accounts[items[1]]):
        assert sorted(kept.snapshots_by_id) == ["snap-00", "snap-01", "snap-02"]
    assert publisher.reports == [report]  # one report for the run, not one a target
    assert report.totals["deleted"] == 5
    assert metrics.value("SnapshotsDeleted") == 5
    assert metrics.value("TargetsFailed") == 1
    (error,) = report.errors
    assert error.startswith("sandbox 444444444444 eu-central-1: not worked: AwsError: Describe")
    regions = {(i.details["account"], i.details["region"]) for i in report.items}
    assert regions == {("222222222222", "eu-central-1"), ("222222222222", "eu-west-1")}
    assert report.summary.startswith("3 targets: 2 worked, 1 failed; staging 222222222222")
    assert report.summary.endswith("left out: production 333333333333: production")
    # Each target's own cursor, saved finished; the failed target's cycle is not begun.
    assert [cursors[item].saves[-1][1] for item in items[:2]] == [True, True]
    assert cursors[items[2]].saves == []
