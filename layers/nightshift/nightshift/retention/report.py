"""The plan and its outcomes as the shared report's items, totals and summary line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from nightshift.report import Outcome, Report, ReportItem
from nightshift.retention.apply import DEFERRED, ApplyResult, DeletionOutcome
from nightshift.retention.events import FUNCTION
from nightshift.retention.model import SnapshotAction, SnapshotDecision
from nightshift.retention.plan import RetentionPlan


def report_items(
    plan: RetentionPlan, result: ApplyResult | None = None, *, include_kept: bool = True
) -> tuple[ReportItem, ...]:
    """One item per snapshot (per deletion only, without `include_kept`: an SNS message holds
    256 KiB, and the totals still count every decision). Without `result` (plan only)
    deletions are PLANNED.

    Keep and protect decisions are SKIPPED with their reason; deletions are REFUSED when the
    plan is, else DONE / FAILED (with AWS's error code in `details.code`) / PLANNED from the
    outcomes, or SKIPPED as deferred when the run stopped before reaching them.
    """
    outcomes = {o.snapshot_id: o for o in result.outcomes} if result else {}
    return tuple(
        _item(d, plan, outcomes, result)
        for d in plan.decisions
        if include_kept or d.action is SnapshotAction.DELETE
    )


def report_totals(plan: RetentionPlan, result: ApplyResult | None = None) -> dict[str, float]:
    """Counts per decision, GiB, and USD per month, planned and achieved.

    `deleted_gib` and `monthly_savings_usd` count only what AWS confirmed gone; both are upper
    bounds (EBS and RDS snapshots are incremental, and RDS gives some backup storage free).
    """
    summary = plan.summary
    outcomes = result.outcomes if result else ()
    by_outcome = Counter(o.outcome for o in outcomes)
    done = [plan.decision(o.snapshot_id) for o in outcomes if o.outcome is Outcome.DONE]
    totals: dict[str, float] = {
        "snapshots": len(plan.decisions),
        "keep": summary.actions[SnapshotAction.KEEP.value],
        "protect": summary.actions[SnapshotAction.PROTECT.value],
        "delete_planned": summary.actions[SnapshotAction.DELETE.value],
        "deleted": by_outcome[Outcome.DONE],
        "failed": by_outcome[Outcome.FAILED],
        "deferred": len(result.remaining) if result else 0,
        "planned_gib": summary.delete_gib,
        "planned_monthly_savings_usd": summary.monthly_savings,
        "deleted_gib": plan.gib(done),
        "monthly_savings_usd": plan.monthly_savings(done),
    }
    totals.update(summary.categories)
    return totals


def report_summary(plan: RetentionPlan, result: ApplyResult | None = None) -> str:
    """One line for the report's `summary`.

    >>> from datetime import UTC, datetime
    >>> report_summary(RetentionPlan(datetime(2026, 11, 19, tzinfo=UTC), (), 0.5))
    'Plan: delete 0 of 0 snapshots (0.0 GiB, up to $0.00/month); keep 0, protect 0.'
    """
    summary = plan.summary
    actions = summary.actions
    kept = f"keep {actions['keep']}, protect {actions['protect']}"
    if plan.refused:
        return f"Nothing deleted, {plan.refused}; {kept}."
    if result is None:
        return (
            f"Plan: delete {actions['delete']} of {len(plan.decisions)} snapshots"
            f" ({summary.delete_gib:.1f} GiB, up to ${summary.monthly_savings:.2f}/month); {kept}."
        )
    totals = report_totals(plan, result)
    line = (
        f"Deleted {int(totals['deleted'])} of {actions['delete']} planned snapshots"
        f" ({totals['deleted_gib']:.1f} GiB, up to ${totals['monthly_savings_usd']:.2f}/month)"
    )
    if totals["failed"]:
        line += f", {int(totals['failed'])} failed"
    if result.remaining:
        line += f", {len(result.remaining)} deferred to the next run"
    return f"{line}; {kept}."


def _item(
    decision: SnapshotDecision,
    plan: RetentionPlan,
    outcomes: Mapping[str, DeletionOutcome],
    result: ApplyResult | None,
) -> ReportItem:
    details: dict[str, Any] = {
        "lineage": str(decision.lineage),
        "created": decision.snapshot.created.isoformat(),
        "size_gib": decision.snapshot.size_gib,
        "decision": decision.reason,
    }
    if decision.rule:
        details["rule"] = decision.rule
    outcome, reason = _outcome(decision, plan, outcomes, result)
    found = outcomes.get(decision.id)
    if found is not None and found.code:
        details["code"] = found.code
    return ReportItem(
        resource=decision.id,
        kind=decision.snapshot.kind.value,
        action=decision.action.value,
        outcome=outcome,
        reason=reason,
        details=MappingProxyType(details),
    )


def _outcome(
    decision: SnapshotDecision,
    plan: RetentionPlan,
    outcomes: Mapping[str, DeletionOutcome],
    result: ApplyResult | None,
) -> tuple[Outcome, str]:
    if decision.action is not SnapshotAction.DELETE:
        return Outcome.SKIPPED, decision.reason
    if plan.refused:
        return Outcome.REFUSED, plan.refused
    found = outcomes.get(decision.id)
    if found is not None:
        return found.outcome, found.reason
    if result is None:
        return Outcome.PLANNED, decision.reason
    code = result.cursor.failed.get(decision.id)
    if code is not None:
        return Outcome.SKIPPED, f"not retried in this cycle: failed earlier with {code}"
    return Outcome.SKIPPED, DEFERRED


@dataclass(frozen=True)
class RunHeader:
    """What every report of one run says about the run itself."""

    run_id: str
    time: str  # the trigger's label
    environment: str
    dry_run: bool


def run_report(plan: RetentionPlan, result: ApplyResult, header: RunHeader) -> Report:
    """Deletions, then protected snapshots with their reason, as items; kept snapshots are only
    counted in the totals (an SNS message holds 256 KiB). Deletions come first so that a report
    cut to fit one message keeps them."""
    # A dry run's summary is the plan's ("Plan: delete 12 of 23 ..."); the notifier adds
    # "dry run" to the title from the report's flag.
    summary = report_summary(plan, None if header.dry_run else result)
    items = [i for i in report_items(plan, result) if i.action != SnapshotAction.KEEP]
    return Report(
        function=FUNCTION,
        run_id=header.run_id,
        time=header.time,
        environment=header.environment,
        dry_run=header.dry_run,
        summary=summary,
        items=tuple(sorted(items, key=lambda item: item.action != SnapshotAction.DELETE)),
        totals=report_totals(plan, result),
        # A refusal that held back deletions needs people (circuit breaker); a policy without
        # retention rules plans none and is only said in the summary.
        errors=(plan.refused,) if plan.refused and plan.planned_deletions else (),
    )


def failure_report(header: RunHeader, error: str) -> Report:
    """A run that could not plan (policy unusable, a listing refused) deleted nothing."""
    return Report(
        function=FUNCTION,
        run_id=header.run_id,
        time=header.time,
        environment=header.environment,
        dry_run=header.dry_run,
        summary="Nothing deleted: the pruner could not make a plan.",
        errors=(error,),
    )
