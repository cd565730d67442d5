"""Snapshot retention: the pruner's functional core.

Plan, then apply. `plan_retention` gives every snapshot one decision with its reason (restic's
GFS semantics per lineage, protections first, a circuit breaker over the whole plan);
`apply_deletions` deletes through an injected port at the documented API rates, stops before
the deadline and leaves a `DeletionCursor` to resume from. No boto3, no clock, no environment:
docs/pruner.md describes the whole design.
"""

from nightshift.retention.apply import (
    NOT_FOUND_CODES,
    ApplyResult,
    Deleter,
    DeletionOutcome,
    apply_deletions,
    pruner_pacers,
)
from nightshift.retention.cursor import DeletionCursor, resume
from nightshift.retention.gfs import KeepMark, select_keeps
from nightshift.retention.model import (
    Lineage,
    Snapshot,
    SnapshotAction,
    SnapshotDecision,
    SnapshotKind,
    SnapshotListing,
    ebs_copy_source,
    resolve_lineages,
)
from nightshift.retention.plan import (
    PROTECTIONS,
    PlanSummary,
    RetentionPlan,
    plan_retention,
    protection_of,
)
from nightshift.retention.render import render_plan
from nightshift.retention.report import report_items, report_summary, report_totals
from nightshift.retention.rules import (
    KeepPolicy,
    PrunerSettings,
    RetentionPolicy,
    RetentionRule,
    StoragePrices,
)

__all__ = [
    "NOT_FOUND_CODES",
    "PROTECTIONS",
    "ApplyResult",
    "Deleter",
    "DeletionCursor",
    "DeletionOutcome",
    "KeepMark",
    "KeepPolicy",
    "Lineage",
    "PlanSummary",
    "PrunerSettings",
    "RetentionPlan",
    "RetentionPolicy",
    "RetentionRule",
    "Snapshot",
    "SnapshotAction",
    "SnapshotDecision",
    "SnapshotKind",
    "SnapshotListing",
    "StoragePrices",
    "apply_deletions",
    "ebs_copy_source",
    "plan_retention",
    "protection_of",
    "pruner_pacers",
    "render_plan",
    "report_items",
    "report_summary",
    "report_totals",
    "resolve_lineages",
    "resume",
    "select_keeps",
]
