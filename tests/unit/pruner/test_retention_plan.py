"""plan_retention by example: protections, lineages, rules, the circuit breaker and the summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nightshift.policy import DEFAULT_PROTECT, ProtectRule
from nightshift.retention import (
    KeepPolicy,
    Lineage,
    RetentionPolicy,
    RetentionRule,
    SnapshotAction,
    SnapshotKind,
    StoragePrices,
    ebs_copy_source,
    plan_retention,
    resolve_lineages,
)

NOW = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)
ALL_KINDS = frozenset(SnapshotKind)


def rule(name: str = "staging", **keep: int) -> RetentionRule:
    return RetentionRule(
        name, ALL_KINDS, KeepPolicy(**keep), {"Environment": "staging"}, timezone=ZoneInfo("UTC")
    )


def days(n: float) -> timedelta:
    return timedelta(days=n)


def plan(snapshots, rules, share: float = 1.0, protect: ProtectRule = DEFAULT_PROTECT):
    return plan_retention(snapshots, rules, protect, NOW, max_delete_share=share)


def test_policy_without_rules_is_refused_and_deletes_nothing(snapshot) -> None:
    result = plan([snapshot("snap-1"), snapshot("snap-2", age=days(2))], RetentionPolicy())

    assert result.refused == "the policy has no retention rules, so the pruner deletes nothing"
    assert result.deletions == ()
    assert {d.reason for d in result.decisions} == {"keep: no retention rule"}


def test_rule_that_keeps_nothing_refuses_the_whole_plan(snapshot) -> None:
    snaps = [snapshot(f"snap-{i}", age=days(i)) for i in range(1, 5)]

    result = plan(snaps, [rule("useful", last=1), rule("empty")])

    assert result.refused is not None
    assert "every keep count is 0 in rule empty" in result.refused
    assert result.planned_deletions
    assert result.deletions == ()


@pytest.mark.parametrize(("share", "refused"), [(0.5, False), (0.49, True)])
def test_circuit_breaker_refuses_only_more_than_the_allowed_share(snapshot, share, refused) -> None:
    snaps = [snapshot(f"snap-{i}", age=days(i)) for i in range(1, 5)]  # keep 2, delete 2

    result = plan(snaps, [rule(last=2)], share=share)

    assert (result.refused is not None) is refused
    assert len(result.deletions) == (0 if refused else 2)
    assert len(result.planned_deletions) == 2


def test_circuit_breaker_counts_only_snapshots_the_rules_govern(snapshot) -> None:
    governed = [snapshot(f"snap-{i}", age=days(i)) for i in range(1, 5)]
    protected = [
        snapshot(f"dlm-{i}", age=days(i), tags={"Environment": "staging", "aws:dlm:x": "y"})
        for i in range(10)
    ]
    ungoverned = [snapshot(f"other-{i}", age=days(i), tags={}) for i in range(10)]

    result = plan(governed + protected + ungoverned, [rule(last=1)], share=0.7)

    assert result.summary.governed == 4
    assert result.summary.delete_share == 0.75
    assert result.refused is not None
    assert "deletes 3 of 4 governed snapshots (75%), more than the allowed 70%" in result.refused


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"tags": {"Environment": "production", "nightshift:retain": "true"}},
            "protected: production (Environment=production)",
        ),
        (
            {"tags": {"Environment": "staging", "nightshift:retain": "True"}},
            "protected: retain tag",
        ),
        (
            {"tags": {"Environment": "staging", "aws:backup:source-resource": "vol-1:job"}},
            "protected: AWS Backup",
        ),
        ({"snapshot_type": "awsbackup"}, "protected: AWS Backup"),
        ({"snapshot_type": "automated"}, "protected: automated"),
        ({"snapshot_type": "shared"}, "protected: shared snapshot"),
        (
            {"tags": {"Environment": "staging", "aws:dlm:lifecycle-policy-id": "policy-1"}},
            "protected: DLM",
        ),
        ({"ami_refs": frozenset({"ami-0b", "ami-0a"})}, "protected: in use by ami-0a, ami-0b"),
        ({"locked": True}, "protected: locked"),
        ({"status": "creating"}, "protected: status creating"),
        ({"status": "error"}, "protected: status error"),
    ],
)
def test_protected_snapshot_is_never_deleted_and_says_why(snapshot, fields, reason) -> None:
    old = snapshot("snap-old", age=days(30), **fields)
    newer = [snapshot(f"snap-{i}", age=days(i)) for i in range(1, 4)]

    result = plan([old, *newer], [rule(last=1)])

    decision = result.decision("snap-old")
    assert decision.action is SnapshotAction.PROTECT
    assert decision.reason == reason


def test_aws_backup_rds_snapshot_is_recognised_by_its_identifier(snapshot) -> None:
    backup = snapshot("awsbackup:job-1a2b", kind=SnapshotKind.RDS, origin="orders", age=days(9))
    manual = snapshot("orders-1", kind=SnapshotKind.RDS, origin="orders")

    result = plan([backup, manual], [rule(last=1)])

    assert result.decision("awsbackup:job-1a2b").reason == "protected: AWS Backup"


def test_protect_rule_of_the_policy_is_honoured_whatever_its_tag(snapshot) -> None:
    protect = ProtectRule("Stage", frozenset({"live"}))
    live = snapshot("snap-live", age=days(20), tags={"Environment": "staging", "Stage": "live"})

    result = plan([live, snapshot("snap-1")], [rule(last=1)], protect=protect)

    assert result.decision("snap-live").reason == "protected: production (Stage=live)"


def test_protected_snapshots_do_not_take_a_retention_slot(snapshot) -> None:
    backup = snapshot(
        "snap-backup",
        age=days(1),
        tags={"Environment": "staging", "aws:backup:source-resource": "v"},
    )
    manual = [snapshot("snap-2", age=days(2)), snapshot("snap-3", age=days(3))]

    result = plan([backup, *manual], [rule(last=1)])

    assert result.decision("snap-2").reason == "keep: last 1/1"
    assert result.decision("snap-3").action is SnapshotAction.DELETE


def test_newest_snapshot_of_a_lineage_survives_max_age(snapshot) -> None:
    aged = RetentionRule(
        "aged", ALL_KINDS, KeepPolicy(last=5), {"Environment": "staging"}, max_age_days=30
    )
    snaps = [snapshot("snap-40", age=days(40)), snapshot("snap-50", age=days(50))]

    result = plan(snaps, [aged])

    assert result.decision("snap-40").reason == "protected: last of lineage"
    assert result.decision("snap-50").reason == "delete: older than 30 days"


def test_max_age_wins_over_keep_counts(snapshot) -> None:
    aged = RetentionRule(
        "aged", ALL_KINDS, KeepPolicy(monthly=12), {"Environment": "staging"}, max_age_days=60
    )
    snaps = [snapshot("snap-now", age=days(1)), snapshot("snap-90", age=days(90))]

    result = plan(snaps, [aged])

    assert result.decision("snap-now").reason == "keep: monthly 2026-11"
    assert result.decision("snap-90").reason == "delete: older than 60 days"


def test_snapshot_is_kept_if_any_matching_rule_keeps_it(snapshot) -> None:
    snaps = [snapshot(f"snap-{i}", age=days(i) + timedelta(hours=1)) for i in range(40)]

    result = plan(snaps, [rule("recent", last=2), rule("monthly", monthly=2)])

    kept = {d.id: d for d in result.decisions if d.action is SnapshotAction.KEEP}
    assert set(kept) == {"snap-0", "snap-1", "snap-19"}  # last 2; newest of November, October
    assert kept["snap-0"].rule == "recent"
    assert kept["snap-0"].marks == ("recent: last 1/2", "monthly: monthly 2026-11")
    assert kept["snap-19"].reason == "keep: monthly 2026-10"
    assert kept["snap-19"].rule == "monthly"


def test_time_zone_decides_which_day_a_snapshot_belongs_to(snapshot) -> None:
    late = snapshot("snap-late", age=NOW - datetime(2026, 11, 18, 23, 30, tzinfo=UTC))
    early = snapshot("snap-early", age=NOW - datetime(2026, 11, 18, 20, 0, tzinfo=UTC))
    berlin = RetentionRule("b", ALL_KINDS, KeepPolicy(daily=2), timezone=ZoneInfo("Europe/Berlin"))
    utc = RetentionRule("u", ALL_KINDS, KeepPolicy(daily=2), timezone=ZoneInfo("UTC"))

    in_berlin = plan([late, early], [berlin])
    in_utc = plan([late, early], [utc])

    assert in_berlin.decision("snap-late").reason == "keep: daily 2026-11-19"
    assert in_berlin.decision("snap-early").reason == "keep: daily 2026-11-18"
    assert in_utc.decision("snap-late").reason == "keep: daily 2026-11-18"
    assert in_utc.decision("snap-early").reason == "keep: oldest daily 2026-11-18"


def test_unmatched_snapshots_are_kept_and_outside_the_breaker(snapshot) -> None:
    result = plan([snapshot("snap-x", tags={"Team": "data"})], [rule(last=1)], share=0.01)

    assert result.decision("snap-x").reason == "keep: no retention rule"
    assert not result.decision("snap-x").governed
    assert result.summary.governed == 0
    assert result.refused is None


def test_rds_instance_and_aurora_cluster_of_one_name_are_separate_lineages(snapshot) -> None:
    instance = snapshot("db-instance", kind=SnapshotKind.RDS, origin="orders", age=days(3))
    cluster = snapshot("db-cluster", kind=SnapshotKind.AURORA, origin="orders", age=days(1))

    result = plan([instance, cluster], [rule(last=1)])

    assert result.decision("db-instance").lineage == Lineage(SnapshotKind.RDS, "orders")
    assert result.decision("db-instance").reason == "keep: last 1/1"
    assert result.decision("db-cluster").reason == "keep: last 1/1"


def test_ebs_copies_join_the_lineage_of_their_source(snapshot) -> None:
    source = snapshot("snap-src", origin="vol-0a1", age=days(5))
    copy = snapshot("snap-copy", origin="vol-ffffffff", copied_from="snap-src", age=days(4))
    copy_of_copy = snapshot(
        "snap-copy2", origin="vol-ffffffff", copied_from="snap-copy", age=days(3)
    )
    remote_a = snapshot("snap-ra", origin="vol-ffffffff", copied_from="snap-0remote", age=days(2))
    remote_b = snapshot("snap-rb", origin="vol-ffffffff", copied_from="snap-0remote", age=days(1))
    orphan = snapshot("snap-orphan", origin="vol-ffffffff", age=days(9))

    lineages = resolve_lineages([source, copy, copy_of_copy, remote_a, remote_b, orphan])

    assert lineages["snap-copy"] == Lineage(SnapshotKind.EBS, "vol-0a1")
    assert lineages["snap-copy2"] == Lineage(SnapshotKind.EBS, "vol-0a1")
    assert lineages["snap-ra"] == lineages["snap-rb"] == Lineage(SnapshotKind.EBS, "snap-0remote")
    assert lineages["snap-orphan"] == Lineage(SnapshotKind.EBS, "snap-orphan")


def test_copy_cycle_in_descriptions_does_not_loop(snapshot) -> None:
    a = snapshot("snap-a", origin="vol-ffffffff", copied_from="snap-b")
    b = snapshot("snap-b", origin="vol-ffffffff", copied_from="snap-a")

    lineages = resolve_lineages([a, b])

    assert lineages["snap-a"].kind is SnapshotKind.EBS


@pytest.mark.parametrize(
    ("description", "source"),
    [
        ("[Copied snap-0a1b2c3d4e5f60718 from us-west-2]", "snap-0a1b2c3d4e5f60718"),
        (
            "[Copied snap-0cd3830327c2545fc from eu-north-1] nightly-20240425",
            "snap-0cd3830327c2545fc",
        ),
        (
            (
                "Copied for DestinationAmi ami-0e6b2df6143644570 from SourceAmi ami-0895d2b50444605b2"
                " for SourceSnapshot snap-090514a1fc3449642. Task created on 1,629,998,298,383."
            ),
            "snap-090514a1fc3449642",
        ),
        ("Created by CreateImage(i-0123) for ami-0456", None),
        ("copy of [Copied snap-01 from us-east-1]", None),
        ("", None),
        (None, None),
    ],
)
def test_ebs_copy_source_is_read_from_the_description_ec2_writes(description, source) -> None:
    assert ebs_copy_source(description) == source


def test_summary_counts_size_and_savings_per_kind(snapshot) -> None:
    snaps = [
        snapshot("ebs-new", size_gib=100, age=days(1)),
        snapshot("ebs-old", size_gib=100, age=days(2)),
        snapshot("rds-new", kind=SnapshotKind.RDS, origin="db", size_gib=20, age=days(1)),
        snapshot("rds-old", kind=SnapshotKind.RDS, origin="db", size_gib=20, age=days(2)),
        snapshot("aur-new", kind=SnapshotKind.AURORA, origin="c", size_gib=50, age=days(1)),
        snapshot("aur-old", kind=SnapshotKind.AURORA, origin="c", size_gib=50, age=days(2)),
    ]
    prices = StoragePrices(ebs=0.05, rds=0.1, aurora=0.02)

    result = plan_retention(snaps, [rule(last=1)], DEFAULT_PROTECT, NOW, 1.0, prices=prices)

    assert result.summary.actions == {"keep": 3, "protect": 0, "delete": 3}
    assert result.summary.categories == {"delete: beyond retention": 3, "keep: last": 3}
    assert result.summary.delete_gib == 170
    assert result.summary.monthly_savings == round(100 * 0.05 + 20 * 0.1 + 50 * 0.02, 2)
    assert [d.id for d in result.deletions] == ["aur-old", "ebs-old", "rds-old"]


def test_deletions_come_oldest_first(snapshot) -> None:
    snaps = [snapshot(f"snap-{i}", age=days(i)) for i in (3, 9, 1, 5)]

    result = plan(snaps, [rule(last=1)])

    assert [d.id for d in result.deletions] == ["snap-9", "snap-5", "snap-3"]


def test_naive_time_and_duplicate_snapshots_are_rejected(snapshot) -> None:
    with pytest.raises(ValueError, match="aware"):
        plan_retention([], [rule(last=1)], DEFAULT_PROTECT, datetime(2026, 11, 19), 0.5)
    with pytest.raises(ValueError, match="listed twice"):
        plan([snapshot("snap-1"), snapshot("snap-1")], [rule(last=1)])
    with pytest.raises(ValueError, match="aware"):
        snapshot("snap-naive", now=datetime(2026, 11, 19))
