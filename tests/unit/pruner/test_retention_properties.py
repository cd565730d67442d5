"""Properties of the planner and the cursor that must hold for any snapshots and any policy."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nightshift.policy import DEFAULT_PROTECT
from nightshift.retention import (
    DeletionCursor,
    KeepPolicy,
    RetentionRule,
    Snapshot,
    SnapshotAction,
    SnapshotKind,
    apply_deletions,
    plan_retention,
    pruner_pacers,
    resolve_lineages,
    resume,
)
from nightshift.retention.gfs import CALENDAR_BUCKETS

PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NOW = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
THREE_YEARS = 3 * 365 * 24 * 60
# Most snapshots are plain; some carry one protection each.
FLAVOURS = [None] * 8 + [
    "production",
    "retain",
    "backup-tag",
    "backup-type",
    "backup-id",
    "dlm",
    "automated",
    "ami",
    "locked",
    "pending",
    "deleting",
]


def flavoured(
    index: int, flavour: str | None, kind: SnapshotKind, origin: str, age: int
) -> Snapshot:
    tags = {"Environment": "staging"}
    fields: dict[str, object] = {}
    snapshot_id = f"s{index:03d}"
    match flavour:
        case "production":
            tags["Environment"] = "production"
        case "retain":
            tags["nightshift:retain"] = "true"
        case "backup-tag":
            tags["aws:backup:source-resource"] = f"{origin}:job"
        case "backup-type":
            fields["snapshot_type"] = "awsbackup"
        case "backup-id":
            snapshot_id = f"awsbackup:job-{index:03d}"
        case "dlm":
            tags["aws:dlm:lifecycle-policy-id"] = "policy-1"
        case "automated":
            fields["snapshot_type"] = "automated"
        case "ami":
            fields["ami_refs"] = frozenset({"ami-0abc"})
        case "locked":
            fields["locked"] = True
        case "pending" | "deleting":
            fields["status"] = flavour
    return Snapshot(
        snapshot_id,
        kind,
        origin,
        NOW - timedelta(minutes=age),
        size_gib=float(index % 7 + 1),
        tags=tags,
        **fields,  # type: ignore[arg-type]
    )


def is_protected(snapshot: Snapshot) -> bool:
    """Independent statement of the protections, to check the planner's table against."""
    tags = snapshot.tags
    return (
        tags.get("Environment") in {"production", "prod"}
        or tags.get("nightshift:retain") == "true"
        or "aws:backup:source-resource" in tags
        or any(key.startswith("aws:dlm:") for key in tags)
        or snapshot.snapshot_type != "manual"
        or snapshot.id.startswith("awsbackup:")
        or bool(snapshot.ami_refs)
        or snapshot.locked
        or snapshot.status not in {"available", "completed"}
    )


@st.composite
def snapshot_sets(
    draw: st.DrawFn, plain: bool = False, one_lineage: bool = False
) -> list[Snapshot]:
    count = draw(st.integers(min_value=0, max_value=40))
    snaps = []
    for index in range(count):
        kind = SnapshotKind.EBS if one_lineage else draw(st.sampled_from(list(SnapshotKind)))
        origin = "vol-a" if one_lineage else draw(st.sampled_from(["a", "b", "c"]))
        age = draw(st.integers(min_value=0, max_value=THREE_YEARS))
        flavour = None if plain else draw(st.sampled_from(FLAVOURS))
        snaps.append(flavoured(index, flavour, kind, origin, age))
        if not one_lineage and kind is SnapshotKind.EBS and draw(st.integers(0, 9)) == 0:
            source = draw(st.sampled_from([s.id for s in snaps] + ["snap-remote"]))
            copy = Snapshot(
                f"c{index:03d}",
                kind,
                "vol-ffffffff",
                NOW - timedelta(minutes=age // 2),
                size_gib=1.0,
                tags={"Environment": "staging"},
                copied_from=source,
            )
            snaps.append(copy)
    return snaps


keep_policies = st.builds(
    KeepPolicy,
    last=st.integers(0, 5),
    daily=st.integers(0, 8),
    weekly=st.integers(0, 5),
    monthly=st.integers(0, 13),
    yearly=st.integers(0, 3),
).filter(lambda keep: not keep.is_empty)


@st.composite
def rule_lists(draw: st.DrawFn) -> list[RetentionRule]:
    rules = []
    for index in range(draw(st.integers(1, 3))):
        kinds = draw(st.sets(st.sampled_from(list(SnapshotKind)), min_size=1))
        rules.append(
            RetentionRule(
                name=f"rule-{index}",
                kinds=frozenset(kinds),
                keep=draw(keep_policies),
                match_tags=draw(st.sampled_from([{}, {"Environment": "staging"}])),
                max_age_days=draw(st.one_of(st.none(), st.integers(1, 800))),
                timezone=ZoneInfo(draw(st.sampled_from(ZONES))),
            )
        )
    return rules


def plan(snaps, rules, share: float = 1.0):
    return plan_retention(snaps, rules, DEFAULT_PROTECT, NOW, max_delete_share=share)


@PROPERTY
@given(snaps=snapshot_sets(), rules=rule_lists())
def test_every_snapshot_gets_exactly_one_decision(snaps, rules) -> None:
    result = plan(snaps, rules)

    assert sorted(d.id for d in result.decisions) == sorted(s.id for s in snaps)
    assert all(
        d.reason.startswith(f"{prefix}: ")
        for d in result.decisions
        for prefix in [{"keep": "keep", "protect": "protected", "delete": "delete"}[d.action]]
    )


@PROPERTY
@given(snaps=snapshot_sets(), rules=rule_lists())
def test_protected_snapshots_are_never_deleted(snaps, rules) -> None:
    result = plan(snaps, rules)

    for snapshot in snaps:
        if is_protected(snapshot):
            assert result.decision(snapshot.id).action is SnapshotAction.PROTECT


@PROPERTY
@given(snaps=snapshot_sets(), rules=rule_lists())
def test_the_newest_snapshot_of_every_lineage_is_never_deleted(snaps, rules) -> None:
    result = plan(snaps, rules)
    lineages = resolve_lineages(snaps)

    by_lineage = defaultdict(list)
    governed = defaultdict(list)
    for snapshot in snaps:
        by_lineage[lineages[snapshot.id]].append(snapshot)
        if result.decision(snapshot.id).governed:
            governed[lineages[snapshot.id]].append(snapshot)
    for group in [*by_lineage.values(), *governed.values()]:
        newest = max(group, key=lambda s: (s.created, s.id))
        assert result.decision(newest.id).action is not SnapshotAction.DELETE


@PROPERTY
@given(
    snaps=snapshot_sets(),
    rules=rule_lists(),
    which=st.integers(0, 2),
    bucket=st.sampled_from(["last", "daily", "weekly", "monthly", "yearly"]),
    more=st.integers(1, 10),
)
def test_raising_a_keep_count_never_deletes_more(snaps, rules, which, bucket, more) -> None:
    raised = list(rules)
    target = raised[which % len(raised)]
    counts = dict(target.keep.counts())
    counts[bucket] += more
    raised[which % len(raised)] = RetentionRule(
        target.name,
        target.kinds,
        KeepPolicy(**counts),
        target.match_tags,
        target.max_age_days,
        target.timezone,
    )

    before = {d.id for d in plan(snaps, rules).planned_deletions}
    after = {d.id for d in plan(snaps, raised).planned_deletions}

    assert after <= before


def restic_oracle(snaps: list[Snapshot], keep: KeepPolicy, zone: ZoneInfo) -> dict[str, set[str]]:
    """restic's rules stated by grouping instead of scanning: per kind with count n, the newest
    snapshot of each of the n newest buckets, and the oldest snapshot if fewer than n buckets."""
    ordered = sorted(snaps, key=lambda s: (s.created, s.id), reverse=True)
    kept: dict[str, set[str]] = defaultdict(set)
    for kind, count in keep.counts():
        if count == 0 or not ordered:
            continue
        if kind == "last":
            for position, snapshot in enumerate(ordered[:count], start=1):
                kept[snapshot.id].add(f"last {position}/{count}")
            continue
        bucket_of, label_of = CALENDAR_BUCKETS[kind]
        newest_of: dict[tuple[int, ...], Snapshot] = {}
        for snapshot in ordered:
            newest_of.setdefault(bucket_of(snapshot.created.astimezone(zone)), snapshot)
        buckets = sorted(newest_of, reverse=True)
        for bucket in buckets[:count]:
            kept[newest_of[bucket].id].add(f"{kind} {label_of(bucket)}")
        oldest = ordered[-1]
        oldest_bucket = bucket_of(oldest.created.astimezone(zone))
        if len(buckets) < count and newest_of[oldest_bucket] is not oldest:
            kept[oldest.id].add(f"oldest {kind} {label_of(oldest_bucket)}")
    return kept


@PROPERTY
@given(
    snaps=snapshot_sets(plain=True, one_lineage=True),
    keep=keep_policies,
    zone=st.sampled_from(ZONES),
)
def test_kept_snapshots_follow_restic_semantics(snaps, keep, zone) -> None:
    rule = RetentionRule("r", frozenset({SnapshotKind.EBS}), keep, timezone=ZoneInfo(zone))

    result = plan(snaps, [rule])
    expected = restic_oracle(snaps, keep, ZoneInfo(zone))

    kept = {d.id: set(d.marks) for d in result.decisions if d.action is SnapshotAction.KEEP}
    assert kept == expected
    for decision in result.decisions:
        if decision.action is SnapshotAction.KEEP:
            assert decision.reason == f"keep: {decision.marks[0]}"


@PROPERTY
@given(snaps=snapshot_sets(), rules=rule_lists(), share=st.floats(0.01, 1.0))
def test_circuit_breaker_refuses_exactly_the_plans_above_the_share(snaps, rules, share) -> None:
    result = plan(snaps, rules, share=share)
    summary = result.summary

    governed = sum(1 for d in result.decisions if d.governed)
    assert summary.governed == governed
    planned = len(result.planned_deletions)
    assert (result.refused is not None) == (governed > 0 and planned / governed > share)
    if result.refused:
        assert result.deletions == ()
    else:
        assert result.deletions == result.planned_deletions


@PROPERTY
@given(snaps=snapshot_sets(), rules=rule_lists(), seed=st.integers(0, 2**32))
def test_plan_does_not_depend_on_the_order_snapshots_are_listed(snaps, rules, seed) -> None:
    shuffled = list(snaps)
    random.Random(seed).shuffle(shuffled)

    assert plan(shuffled, rules).decisions == plan(snaps, rules).decisions


@PROPERTY
@given(
    snaps=snapshot_sets(plain=True),
    rules=rule_lists(),
    budgets=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=30),
    failing=st.sets(st.sampled_from([f"s{i:03d}" for i in range(40)]), max_size=5),
)
def test_resuming_never_deletes_twice_and_finishes_the_plan(
    new_clock, new_deleter, snaps, rules, budgets, failing
) -> None:
    result = plan(snaps, rules)
    clock = new_clock()
    deleter = new_deleter(
        clock, errors={i: ["InvalidSnapshot.InUse"] for i in failing}, seconds=0.3
    )
    pacers = pruner_pacers(clock=clock, sleep=clock.sleep, rand=lambda: 0.5)
    cursor = DeletionCursor("cycle")

    runs = [*budgets, 1e9]  # however the runs are cut short, a last long one finishes
    for budget in runs:
        cursor = resume(DeletionCursor.from_json(cursor.to_json()), "cycle")
        outcome = apply_deletions(
            result, cursor, delete=deleter, pacers=pacers, clock=clock, deadline=clock() + budget
        )
        cursor = outcome.cursor
        if outcome.finished:
            break

    planned = [d.id for d in result.deletions]
    assert sorted(deleter.ids) == sorted(planned)  # each attempted exactly once
    assert cursor.done == set(planned) - set(failing)
    assert set(cursor.failed) == set(planned) & set(failing)
