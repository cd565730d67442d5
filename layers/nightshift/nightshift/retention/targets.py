"""The pruner across a policy's targets (docs/organization.md): the unchanged single-account
run (`Pruner`) in each account x Region the targets name, on that target's own clients, with its
own plan, circuit breaker (`max_delete_share`), pacers and deletion cursor; the targets'
outcomes become one report (`nightshift.fanout.combine_outcomes`, shared with the scheduler).

A policy without `targets` is the hub's own account and Region, exactly as before. Production
targets get no pruner work item at all (`nightshift.fanout.expand_targets`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING

from nightshift.report import Report
from nightshift.retention.events import FUNCTION
from nightshift.retention.report import RunHeader, failure_report

if TYPE_CHECKING:
    from nightshift.fanout import CombinedMetric, WorkItem
    from nightshift.ports import FailureGuard, MetricsSink, ReportSink
    from nightshift.retention.ports import PolicySource
    from nightshift.retention.service import Invocation, Pruner
    from nightshift.trigger import ScheduledTrigger

# Why a target's report goes into the run's one message: the pruner reports every run.
RUN_REPORTED = "the pruner reports every run"


@dataclass
class TargetSinks:
    """One target's report and metrics, kept for the run's one report (not published alone)."""

    reports: list[Report] = field(default_factory=list)
    metrics: list[CombinedMetric] = field(default_factory=list)

    def publish(self, report: Report) -> str:
        self.reports.append(report)
        return ""

    def add_metric(self, name: str, unit: str, value: float) -> None:
        from nightshift.fanout import CombinedMetric

        self.metrics.append(CombinedMetric(name, unit, value))


@contextmanager
def raised_as_is(_failure: Callable[[str], Report]) -> Iterator[None]:
    """A target's failure guard: its error is the target's, reported in the run's one report
    (`work_targets` catches it), never published alone."""
    yield


@dataclass(frozen=True)
class PrunerTargetOutcome:
    """One target's report (its items labelled with the account and Region) and metrics."""

    report: Report
    published_because: str | None
    metrics: tuple[CombinedMetric, ...]


@dataclass(frozen=True)
class PrunerTargets:
    """A run's work items, the targets left out (with why), the bound, and how to build a
    target's `Pruner` on its own clients (its sinks given)."""

    items: Sequence[WorkItem]
    excluded: Sequence[str]
    max_workers: int
    pruner_for: Callable[[WorkItem, TargetSinks], Pruner]


def labelled(report: Report, item: WorkItem) -> Report:
    """`report` with each item's details naming the target's account and Region (a snapshot id
    does not)."""
    items = tuple(
        replace(
            entry,
            details=MappingProxyType(
                {**entry.details, "account": item.account, "region": item.region}
            ),
        )
        for entry in report.items
    )
    return replace(report, items=items)


@dataclass
class PrunerRun:
    """The pruner's run: the hub's own account and Region (`single`, a policy without targets),
    or every target's, each isolated, summed into one published report and one set of metrics."""

    policy: PolicySource
    environment: str
    single: Callable[[], Pruner]
    targets: Callable[[], PrunerTargets]
    publisher: ReportSink
    failures: FailureGuard
    metrics: MetricsSink

    def run(self, trigger: ScheduledTrigger, invocation: Invocation) -> Report:
        header = RunHeader(invocation.run_id, trigger.label, self.environment, trigger.dry_run)
        with self.failures(partial(failure_report, header)):
            policy = self.policy()
        if policy.targets is None:
            return self.single().run(trigger, invocation)
        # The fan-out is imported by a policy with targets only: a single account's cold start
        # does not load it.
        from nightshift.fanout import RunHeading, combine_outcomes, work_targets

        with self.failures(partial(failure_report, header)):
            work = self.targets()

        def one(item: WorkItem) -> PrunerTargetOutcome:
            sinks = TargetSinks()
            report = work.pruner_for(item, sinks).run(trigger, invocation)
            return PrunerTargetOutcome(labelled(report, item), RUN_REPORTED, tuple(sinks.metrics))

        run = work_targets(work.items, one, work.max_workers)
        heading = RunHeading(
            function=FUNCTION,
            time=trigger.label,
            environment=self.environment,
            dry_run=trigger.dry_run or policy.dry_run,
            run_id=lambda _dry_run: invocation.run_id,
        )
        combined = combine_outcomes(run, work.excluded, heading)
        self.publisher.publish(combined.report)
        for metric in combined.metrics:
            self.metrics.add_metric(name=metric.name, unit=metric.unit, value=metric.value)
        return combined.report
