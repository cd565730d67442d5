"""The retention plan: one decision, with its reason, for every snapshot.

Order of precedence, first match wins:
1. protections (table `PROTECTIONS`): production, retain tag, AWS Backup, DLM, automated or
   not ours, used by an AMI, locked, not available. Protected snapshots are never deleted and
   never fill a retention bucket (another tool manages them, or a person asked us not to).
2. no rule selects the snapshot: kept, and outside the circuit breaker's count.
3. the rules: per rule and lineage, `max_age_days` removes the old ones, then restic's
   keep-last/daily/weekly/monthly/yearly keeps; a snapshot any rule keeps is kept, with the
   first keeping rule's reason.
4. the newest snapshot a lineage's rules govern is never deleted ("protected: last of lineage").
Then the circuit breaker: a plan deleting more than `max_delete_share` of the governed snapshots
is refused as a whole, and deletes nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from types import MappingProxyType

from nightshift.policy import ProtectRule
from nightshift.retention.gfs import KeepMark, newest_first, select_keeps
from nightshift.retention.model import (
    BACKUP_ID_PREFIX,
    BACKUP_SOURCE_TAG,
    DLM_TAG_PREFIX,
    RETAIN_TAG,
    Lineage,
    Snapshot,
    SnapshotAction,
    SnapshotDecision,
    resolve_lineages,
)
from nightshift.retention.rules import (
    DEFAULT_MAX_DELETE_SHARE,
    RetentionPolicy,
    RetentionRule,
    StoragePrices,
)

NOT_GOVERNED = "keep: no retention rule"
BEYOND_RETENTION = "delete: beyond retention"
LAST_OF_LINEAGE = "protected: last of lineage"


def _production(snapshot: Snapshot, protect: ProtectRule) -> str | None:
    if protect.protects(snapshot.tags):
        return f"protected: production ({protect.tag}={snapshot.tags[protect.tag]})"
    return None


def _retain_tag(snapshot: Snapshot, _: ProtectRule) -> str | None:
    value = snapshot.tags.get(RETAIN_TAG, "")
    return "protected: retain tag" if value.strip().lower() == "true" else None


def _aws_backup(snapshot: Snapshot, _: ProtectRule) -> str | None:
    managed = (
        BACKUP_SOURCE_TAG in snapshot.tags
        or snapshot.snapshot_type == "awsbackup"
        or snapshot.id.startswith(BACKUP_ID_PREFIX)
    )
    return "protected: AWS Backup" if managed else None


def _dlm(snapshot: Snapshot, _: ProtectRule) -> str | None:
    managed = any(key.startswith(DLM_TAG_PREFIX) for key in snapshot.tags)
    return "protected: DLM" if managed else None


def _automated(snapshot: Snapshot, _: ProtectRule) -> str | None:
    return "protected: automated" if snapshot.snapshot_type == "automated" else None


def _not_manual(snapshot: Snapshot, _: ProtectRule) -> str | None:
    # RDS lists shared and public snapshots of other accounts as types of their own; whatever
    # is not a manual snapshot of ours is not ours to delete.
    if snapshot.snapshot_type != "manual":
        return f"protected: {snapshot.snapshot_type} snapshot"
    return None


def _in_use_by_ami(snapshot: Snapshot, _: ProtectRule) -> str | None:
    if snapshot.ami_refs:
        return f"protected: in use by {', '.join(sorted(snapshot.ami_refs))}"
    return None


def _locked(snapshot: Snapshot, _: ProtectRule) -> str | None:
    return "protected: locked" if snapshot.locked else None


def _not_available(snapshot: Snapshot, _: ProtectRule) -> str | None:
    return None if snapshot.usable else f"protected: status {snapshot.status}"


# (category, check): the first check that names a reason protects the snapshot.
PROTECTIONS: tuple[tuple[str, Callable[[Snapshot, ProtectRule], str | None]], ...] = (
    ("protected: production", _production),
    ("protected: retain tag", _retain_tag),
    ("protected: AWS Backup", _aws_backup),
    ("protected: DLM", _dlm),
    ("protected: automated", _automated),
    ("protected: not manual", _not_manual),
    ("protected: in use by AMI", _in_use_by_ami),
    ("protected: locked", _locked),
    ("protected: not available", _not_available),
)


def protection_of(snapshot: Snapshot, protect: ProtectRule) -> tuple[str, str] | None:
    """(category, reason) of the first protection that applies, or None.

    >>> from datetime import UTC
    >>> from nightshift.policy import DEFAULT_PROTECT
    >>> from nightshift.retention.model import SnapshotKind
    >>> s = Snapshot("snap-1", SnapshotKind.EBS, "vol-1", datetime(2026, 1, 1, tzinfo=UTC),
    ...              tags={"aws:dlm:lifecycle-policy-id": "policy-1"})
    >>> protection_of(s, DEFAULT_PROTECT)
    ('protected: DLM', 'protected: DLM')
    """
    for category, check in PROTECTIONS:
        reason = check(snapshot, protect)
        if reason is not None:
            return category, reason
    return None


@dataclass(frozen=True)
class PlanSummary:
    """Counts and sizes of a plan, for the report and the `plan` command."""

    actions: Mapping[str, int]  # keep / protect / delete -> count
    categories: Mapping[str, int]  # "keep: daily", "protected: DLM", ... -> count
    governed: int  # snapshots the rules decided on (the circuit breaker's denominator)
    delete_share: float  # planned deletions / governed
    delete_gib: float  # size of the planned deletions
    monthly_savings: float  # USD per month the planned deletions would save, at most


@dataclass(frozen=True)
class RetentionPlan:
    """Every snapshot's decision, and whether the plan as a whole may be applied.

    `deletions` is what may be deleted: empty when the plan is `refused`. `planned_deletions` is
    what the rules would delete, refused or not (for the report). Both are oldest first.
    """

    now: datetime
    decisions: tuple[SnapshotDecision, ...]
    max_delete_share: float
    prices: StoragePrices = field(default_factory=StoragePrices)
    refused: str | None = None

    @cached_property
    def planned_deletions(self) -> tuple[SnapshotDecision, ...]:
        chosen = [d for d in self.decisions if d.action is SnapshotAction.DELETE]
        return tuple(sorted(chosen, key=lambda d: (d.snapshot.created, d.id)))

    @property
    def deletions(self) -> tuple[SnapshotDecision, ...]:
        return () if self.refused else self.planned_deletions

    @cached_property
    def by_id(self) -> Mapping[str, SnapshotDecision]:
        return MappingProxyType({d.id: d for d in self.decisions})

    def decision(self, snapshot_id: str) -> SnapshotDecision:
        return self.by_id[snapshot_id]

    @cached_property
    def summary(self) -> PlanSummary:
        return _summarise(self.decisions, self.planned_deletions, self.prices)

    def gib(self, decisions: Iterable[SnapshotDecision]) -> float:
        return round(sum(d.snapshot.size_gib for d in decisions), 3)

    def monthly_savings(self, decisions: Iterable[SnapshotDecision]) -> float:
        """USD per month that deleting `decisions` saves at most (snapshots are incremental)."""
        total = sum(
            d.snapshot.size_gib * self.prices.per_gib_month(d.snapshot.kind) for d in decisions
        )
        return round(total, 2)


def plan_retention(
    snapshots: Iterable[Snapshot],
    rules: RetentionPolicy | Sequence[RetentionRule],
    protect_rule: ProtectRule,
    now: datetime,
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE,
    *,
    prices: StoragePrices | None = None,
) -> RetentionPlan:
    """Decide, for every snapshot, keep, protect or delete, with the reason.

    `now` is the time the run was scheduled for (never the clock), aware; `max_delete_share`
    is the circuit breaker. An empty rule list, or a rule that keeps nothing, refuses the plan.

    >>> from datetime import UTC
    >>> from nightshift.policy import DEFAULT_PROTECT
    >>> from nightshift.retention.model import SnapshotKind
    >>> from nightshift.retention.rules import KeepPolicy
    >>> rule = RetentionRule("db", frozenset({SnapshotKind.RDS}), KeepPolicy(last=1))
    >>> now = datetime(2026, 11, 19, 12, tzinfo=UTC)
    >>> snaps = [Snapshot(f"db-{d}", SnapshotKind.RDS, "db", now - timedelta(days=d))
    ...          for d in (1, 2)]
    >>> plan = plan_retention(snaps, [rule], DEFAULT_PROTECT, now, max_delete_share=1.0)
    >>> [(d.id, d.reason) for d in plan.decisions]
    [('db-1', 'keep: last 1/1'), ('db-2', 'delete: beyond retention')]
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    if not 0 < max_delete_share <= 1:
        raise ValueError("max_delete_share must be in (0, 1]")
    rule_list = tuple(rules.rules if isinstance(rules, RetentionPolicy) else rules)
    items = _unique(snapshots)
    lineages = resolve_lineages(items)

    decided: dict[str, SnapshotDecision] = {}
    governed: list[Snapshot] = []
    for snapshot in items:
        lineage = lineages[snapshot.id]
        protection = protection_of(snapshot, protect_rule)
        if protection is not None:
            category, reason = protection
            decided[snapshot.id] = SnapshotDecision(
                snapshot, lineage, SnapshotAction.PROTECT, reason, category
            )
        elif not any(rule.matches(snapshot) for rule in rule_list):
            decided[snapshot.id] = SnapshotDecision(
                snapshot, lineage, SnapshotAction.KEEP, NOT_GOVERNED, NOT_GOVERNED
            )
        else:
            governed.append(snapshot)

    verdicts = _apply_rules(governed, rule_list, lineages, now)
    for snapshot in governed:
        decided[snapshot.id] = verdicts[snapshot.id].decision(snapshot, lineages[snapshot.id])
    _guard_last_of_lineage(governed, lineages, decided)

    decisions = tuple(sorted(decided.values(), key=_display_order))
    plan = RetentionPlan(
        now=now,
        decisions=decisions,
        max_delete_share=max_delete_share,
        prices=prices if prices is not None else StoragePrices(),
    )
    refusal = _refusal(rule_list, plan.summary, max_delete_share)
    return plan if refusal is None else replace(plan, refused=refusal)


@dataclass
class _Verdict:
    """What the rules that select one snapshot say about it, gathered rule by rule."""

    keeps: list[tuple[str, tuple[KeepMark, ...]]] = field(default_factory=list)
    aged_out_by: list[int] = field(default_factory=list)  # max_age_days of rules it is too old for
    in_age: bool = False  # some selecting rule considered it within its age limit

    def decision(self, snapshot: Snapshot, lineage: Lineage) -> SnapshotDecision:
        if self.keeps:
            rule, marks = self.keeps[0]
            several = len(self.keeps) > 1
            every = tuple(
                f"{name}: {mark}" if several else str(mark)
                for name, found in self.keeps
                for mark in found
            )
            first = marks[0]
            category = f"keep: {'oldest ' if first.oldest else ''}{first.kind}"
            return SnapshotDecision(
                snapshot,
                lineage,
                SnapshotAction.KEEP,
                f"keep: {first}",
                category,
                rule=rule,
                marks=every,
                governed=True,
            )
        if self.in_age or not self.aged_out_by:
            return SnapshotDecision(
                snapshot,
                lineage,
                SnapshotAction.DELETE,
                BEYOND_RETENTION,
                BEYOND_RETENTION,
                governed=True,
            )
        return SnapshotDecision(
            snapshot,
            lineage,
            SnapshotAction.DELETE,
            f"delete: older than {max(self.aged_out_by)} days",
            "delete: beyond max age",
            governed=True,
        )


def _apply_rules(
    governed: Sequence[Snapshot],
    rules: Sequence[RetentionRule],
    lineages: Mapping[str, Lineage],
    now: datetime,
) -> dict[str, _Verdict]:
    verdicts = {snapshot.id: _Verdict() for snapshot in governed}
    for rule in rules:
        groups: dict[Lineage, list[Snapshot]] = defaultdict(list)
        for snapshot in governed:
            if rule.matches(snapshot):
                groups[lineages[snapshot.id]].append(snapshot)
        cutoff = now - timedelta(days=rule.max_age_days) if rule.max_age_days else None
        for members in groups.values():
            eligible = []
            for snapshot in members:
                if cutoff is not None and snapshot.created < cutoff:
                    verdicts[snapshot.id].aged_out_by.append(rule.max_age_days or 0)
                else:
                    verdicts[snapshot.id].in_age = True
                    eligible.append(snapshot)
            for snapshot_id, marks in select_keeps(eligible, rule.keep, rule.timezone).items():
                verdicts[snapshot_id].keeps.append((rule.name, marks))
    return verdicts


def _guard_last_of_lineage(
    governed: Sequence[Snapshot],
    lineages: Mapping[str, Lineage],
    decided: dict[str, SnapshotDecision],
) -> None:
    newest: dict[Lineage, Snapshot] = {}
    for snapshot in newest_first(governed):
        newest.setdefault(lineages[snapshot.id], snapshot)
    for lineage, snapshot in newest.items():
        if decided[snapshot.id].action is SnapshotAction.DELETE:
            decided[snapshot.id] = SnapshotDecision(
                snapshot,
                lineage,
                SnapshotAction.PROTECT,
                LAST_OF_LINEAGE,
                LAST_OF_LINEAGE,
                governed=True,
            )


def _refusal(
    rules: Sequence[RetentionRule], summary: PlanSummary, max_delete_share: float
) -> str | None:
    if not rules:
        return "the policy has no retention rules, so the pruner deletes nothing"
    empty = [rule.name for rule in rules if rule.keep.is_empty]
    if empty:
        names = ", ".join(empty)
        return f"every keep count is 0 in rule {names}, which would delete all it selects"
    deletions = summary.actions.get(SnapshotAction.DELETE.value, 0)
    if summary.delete_share > max_delete_share:
        return (
            f"circuit breaker: the plan deletes {deletions} of {summary.governed}"
            f" governed snapshots ({summary.delete_share:.0%}),"
            f" more than the allowed {max_delete_share:.0%}"
        )
    return None


def _summarise(
    decisions: Sequence[SnapshotDecision],
    deletions: Sequence[SnapshotDecision],
    prices: StoragePrices,
) -> PlanSummary:
    actions = Counter(d.action.value for d in decisions)
    governed = sum(1 for d in decisions if d.governed)
    size = sum(d.snapshot.size_gib for d in deletions)
    savings = sum(d.snapshot.size_gib * prices.per_gib_month(d.snapshot.kind) for d in deletions)
    return PlanSummary(
        actions=MappingProxyType(
            {action.value: actions.get(action.value, 0) for action in SnapshotAction}
        ),
        categories=MappingProxyType(dict(sorted(Counter(d.category for d in decisions).items()))),
        governed=governed,
        delete_share=(len(deletions) / governed) if governed else 0.0,
        delete_gib=round(size, 3),
        monthly_savings=round(savings, 2),
    )


def _unique(snapshots: Iterable[Snapshot]) -> list[Snapshot]:
    items = list(snapshots)
    seen: set[str] = set()
    for snapshot in items:
        if snapshot.id in seen:
            raise ValueError(f"snapshot {snapshot.id} is listed twice")
        seen.add(snapshot.id)
    return items


def _display_order(decision: SnapshotDecision) -> tuple[str, str, float, str]:
    # Grouped by lineage (kind, then id), newest first within a lineage.
    return (
        decision.lineage.kind.value,
        decision.lineage.id,
        -decision.snapshot.created.timestamp(),
        decision.id,
    )
