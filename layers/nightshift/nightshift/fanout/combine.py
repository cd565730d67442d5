"""One report for a run across targets, whichever function ran it (the scheduler, the pruner):
the targets' outcomes summed into the outcome a single-account run would have had.

- each target's report items are kept (a function whose items do not name the account and
  Region in their resource, as the pruner's snapshot ids do not, labels them before);
- a target that failed (its role could not be assumed, a listing was refused, ...) is one error
  line naming it, and the others' work stands; the report is published when any target's would
  be, or when a target failed (the errors alarm does not see a failure the run survived);
- totals are summed, metrics added up by name and unit, and a `TargetsFailed` metric counts
  the failures;
- the targets left out (production, an OU that could not be listed) are listed in the summary,
  not as errors: it is what the policy says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from nightshift.fanout.runner import FanOutRun
from nightshift.report import Report, ReportItem

TARGET_FAILED = "a target failed"
TARGETS_FAILED_METRIC = "TargetsFailed"


class Metric(Protocol):
    """One CloudWatch metric of a run (the scheduler's `RunMetric`, the pruner's collected)."""

    @property
    def name(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def value(self) -> float: ...


class TargetOutcome(Protocol):
    """What one target's run came to: its report, why it would be published (None: not), and
    its metrics."""

    @property
    def report(self) -> Report: ...
    @property
    def published_because(self) -> str | None: ...
    @property
    def metrics(self) -> Sequence[Metric]: ...


@dataclass(frozen=True)
class CombinedMetric:
    name: str
    unit: str
    value: float


@dataclass(frozen=True)
class CombinedOutcome:
    """The run's one report, why it is published (None: it is not), and its metrics."""

    report: Report
    published_because: str | None
    metrics: tuple[CombinedMetric, ...]


@dataclass(frozen=True)
class RunHeading:
    """What the combined report says about the run itself; `run_id` from its dry-run flag."""

    function: str
    time: str
    environment: str
    dry_run: bool
    run_id: Callable[[bool], str]


def combine_outcomes[T: TargetOutcome](
    run: FanOutRun[T], excluded: Sequence[str], heading: RunHeading
) -> CombinedOutcome:
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
        metrics[(TARGETS_FAILED_METRIC, "Count")] += len(run.failed)
        if not heading.dry_run:
            reasons.append(TARGET_FAILED)
    summary = "; ".join([run.summary, *parts, *(f"left out: {e}" for e in excluded)])
    dry_run = heading.dry_run or any(
        result.value.report.dry_run for result in run.results if result.value is not None
    )
    report = Report(
        function=heading.function,
        run_id=heading.run_id(dry_run),
        time=heading.time,
        environment=heading.environment,
        dry_run=dry_run,
        summary=summary,
        items=tuple(items),
        totals=MappingProxyType(dict(totals)),
        errors=tuple(errors),
    )
    return CombinedOutcome(
        report,
        reasons[0] if reasons else None,
        tuple(CombinedMetric(name, unit, value) for (name, unit), value in metrics.items()),
    )
