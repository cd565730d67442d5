"""The scheduler across a policy's targets: the service (`Scheduler`) runs in each account x
Region with that target's own clients, and the targets' outcomes become one report.

- each target's report items keep their ARNs, which name the account and Region;
- a target that failed (its role could not be assumed, discovery was refused, ...) is one error
  line naming it, and the others' work stands; the report is published when any target's would
  be, or when a target failed (the errors alarm does not see a failure the run survived);
- totals are summed, metrics added up by name, and a `TargetsFailed` metric counts failures;
- the targets left out (production, an OU that could not be listed) are listed in the summary's
  detail, not as errors: it is what the policy says.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from nightshift.fanout import FanOutRun, WorkItem, work_targets
from nightshift.report import Report, ReportItem
from nightshift.schedule.events import ScheduledTrigger
from nightshift.schedule.ports import TimeLeft
from nightshift.schedule.report import FUNCTION, RunMetric, run_id
from nightshift.schedule.service import Scheduler, SchedulerOutcome

TARGET_FAILED = "a target failed"


@dataclass
class TargetedScheduler:
    """Answers a run by working every target with `scheduler_for(item)` (a Scheduler built on
    the target's clients), at most `max_workers` at once."""

    items: Sequence[WorkItem]
    scheduler_for: Callable[[WorkItem], Scheduler]
    max_workers: int
    excluded: Sequence[str] = ()

    def answer(
        self, trigger: ScheduledTrigger, environment: str, time_left_ms: TimeLeft
    ) -> SchedulerOutcome:
        run = work_targets(
            self.items,
            lambda item: self.scheduler_for(item).answer(trigger, environment, time_left_ms),
            self.max_workers,
        )
        return combined_outcome(run, self.excluded, trigger, environment)


def combined_outcome(
    run: FanOutRun[SchedulerOutcome],
    excluded: Sequence[str],
    trigger: ScheduledTrigger,
    environment: str,
) -> SchedulerOutcome:
    """One outcome for the whole run (pure)."""
    items: list[ReportItem] = []
    errors: list[str] = []
    reasons: list[str] = []
    totals: dict[str, float] = defaultdict(float)
    metrics: dict[tuple[str, str], float] = defaultdict(float)
    parts = []
    for result in run.results:
        label = result.item.label
        if result.value is None:
            errors.append(f"{label}: not worked: {result.error}")
            parts.append(f"{label}: failed")
            continue
        report = result.value.report
        items.extend(report.items)
        errors.extend(f"{label}: {error}" for error in report.errors)
        for name, value in report.totals.items():
            totals[name] += value
        for metric in result.value.metrics:
            metrics[(metric.name, metric.unit)] += metric.value
        if result.value.published_because is not None:
            reasons.append(result.value.published_because)
        parts.append(f"{label}: {report.summary}")
    if run.failed:
        metrics[("TargetsFailed", "Count")] += len(run.failed)
        if not trigger.dry_run:
            reasons.append(TARGET_FAILED)
    summary = "; ".join([run.summary, *parts, *(f"left out: {e}" for e in excluded)])
    dry_run = trigger.dry_run or any(
        result.value.report.dry_run for result in run.results if result.value is not None
    )
    report = Report(
        function=FUNCTION,
        run_id=run_id(trigger.time, dry_run),
        time=trigger.time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        environment=environment,
        dry_run=dry_run,
        summary=summary,
        items=tuple(items),
        totals=MappingProxyType(dict(totals)),
        errors=tuple(errors),
    )
    return SchedulerOutcome(
        report,
        reasons[0] if reasons else None,
        tuple(RunMetric(name, unit, value) for (name, unit), value in metrics.items()),
    )
