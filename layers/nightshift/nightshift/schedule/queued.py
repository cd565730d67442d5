"""The scheduler's SQS engine (decision 24): a run with more targets than `targets.queue_above`
queues one message per target; each message is one invocation of the same function working that
target with the unchanged service; the last target recorded publishes the run's one report
(`nightshift.fanout.combine_outcomes`, as the in-invocation engine does).

The run is decided once, by the scheduled invocation: it refuses a stale event, reads the last
run's time and stores its own, and every message carries both times, so every target decides
from the same `now` and the same last run as it would have in one invocation (its worker does
not read or store the last run). Outcomes are kept as JSON in the ledger (`TargetQueue`,
`FanOutLedger`, nightshift.adapters.target_queue).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from nightshift.fanout import FanOutRun, TargetResult, WorkItem, work_targets
from nightshift.fanout.queue import (
    TargetMessage,
    gather_due,
    outstanding,
    overdue_runs,
    run_messages,
)
from nightshift.report import Report
from nightshift.schedule.events import ScheduledTrigger
from nightshift.schedule.report import COUNT, FUNCTION, STALE_EVENT, RunMetric, stale_event_report
from nightshift.schedule.service import Scheduler, SchedulerOutcome
from nightshift.schedule.targets import combined_outcome

logger = Logger(child=True)
TARGETS_QUEUED_METRIC = "TargetsQueued"
NOT_RECORDED = "no outcome recorded: its message is being retried or is in the dead-letter queue"


class LastRun(Protocol):
    def last_record(self) -> tuple[dt.datetime | None, str | None]: ...
    def record_run(self, scheduled_time: dt.datetime, refusals: str = "") -> bool: ...


class Queue(Protocol):
    def send(self, messages: Sequence[TargetMessage]) -> dict[int, str]: ...


class RunRecordView(Protocol):
    @property
    def total(self) -> int: ...
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def excluded(self) -> tuple[str, ...]: ...
    @property
    def recorded(self) -> frozenset[int]: ...
    @property
    def published(self) -> bool: ...


class RecordedView(Protocol):
    @property
    def counted_now(self) -> bool: ...
    @property
    def run(self) -> RunRecordView: ...


class Ledger(Protocol):
    def open_run(
        self, run: str, labels: Sequence[str], excluded: Sequence[str], at: dt.datetime
    ) -> None: ...
    def record(
        self, run: str, index: int, outcome: dict[str, Any], at: dt.datetime
    ) -> RecordedView: ...
    def claim_publication(self, run: str, at: dt.datetime) -> bool: ...
    def run(self, run: str) -> RunRecordView | None: ...
    def open_runs(self) -> frozenset[str]: ...
    def close_run(self, run: str) -> None: ...
    def release_publication(self, run: str) -> None: ...
    def outcomes(self, run: str) -> dict[int, dict[str, Any]]: ...


def outcome_json(result: TargetResult[SchedulerOutcome]) -> dict[str, Any]:
    """One target's result as the ledger keeps it."""
    if result.value is None:
        return {"error": result.error}
    return {
        "report": result.value.report.to_json(),
        "published_because": result.value.published_because,
        "metrics": [[m.name, m.unit, m.value] for m in result.value.metrics],
    }


def outcome_from_json(item: WorkItem, data: dict[str, Any]) -> TargetResult[SchedulerOutcome]:
    if "error" in data:
        return TargetResult(item, error=str(data["error"]))
    return TargetResult(
        item,
        value=SchedulerOutcome(
            Report.from_json(data["report"]),
            data["published_because"],
            tuple(RunMetric(str(n), str(u), float(v)) for n, u, v in data["metrics"]),
        ),
    )


def gathered_outcome(
    labels: Sequence[str],
    excluded: Sequence[str],
    outcomes: dict[int, dict[str, Any]],
    trigger: ScheduledTrigger,
    environment: str,
) -> SchedulerOutcome:
    """The run's one outcome from its targets' recorded outcomes, in the policy's order; a
    target with none recorded is a failed target saying so (pure)."""
    missing = set(outstanding(len(labels), outcomes))
    results = tuple(
        TargetResult[SchedulerOutcome](_labelled(label), error=NOT_RECORDED)
        if index in missing
        else outcome_from_json(_labelled(label), outcomes[index])
        for index, label in enumerate(labels)
    )
    return combined_outcome(FanOutRun(results), excluded, trigger, environment)


def _labelled(label: str) -> WorkItem:
    """A work item that reports under `label` (the ledger keeps labels, not items)."""
    return WorkItem(account="", region="", name=label)


@dataclass
class QueuedRun:
    """The scheduled invocation's part: queue every target, once."""

    last_run: LastRun
    queue: Queue
    ledger: Ledger
    publish: Callable[[Report], object]  # the run's report, if no target could be queued

    def answer(
        self,
        trigger: ScheduledTrigger,
        items: Sequence[WorkItem],
        excluded: Sequence[str],
        environment: str,
        reason: str,
    ) -> SchedulerOutcome:
        last, _ = self.last_run.last_record()
        if last is not None and trigger.time < last:
            logger.warning("stale event refused", last_run=last.isoformat())
            refusal = stale_event_report(trigger.time, last, environment, trigger.dry_run)
            return SchedulerOutcome(refusal, None, (STALE_EVENT,))
        self.last_run.record_run(trigger.time)
        self.publish_overdue(trigger, environment)
        messages = run_messages(FUNCTION, items, trigger.time, last)
        run = messages[0].run
        self.ledger.open_run(run, [item.label for item in items], excluded, trigger.time)
        unsent = self.queue.send(messages)
        for index, why in sorted(unsent.items()):
            failed = TargetResult[SchedulerOutcome](items[index], error=f"not queued: {why}")
            recorded = self.ledger.record(run, index, outcome_json(failed), trigger.time)
            gather(recorded, run, trigger, environment, self.ledger, self.publish)
        summary = (
            f"{len(items)} targets queued, one message each ({reason}); the run's report "
            "follows when the last is worked"
        )
        if unsent:
            summary += f"; {len(unsent)} could not be queued and are reported as failed"
        report = Report(
            function=FUNCTION,
            run_id=f"{run}-queued",
            time=trigger.label,
            environment=environment,
            dry_run=False,
            summary=summary,
        )
        logger.info("targets queued", run=run, count=len(items), unsent=len(unsent))
        return SchedulerOutcome(
            report, None, (RunMetric(TARGETS_QUEUED_METRIC, COUNT, len(items) - len(unsent)),)
        )

    def publish_overdue(self, trigger: ScheduledTrigger, environment: str) -> None:
        """Publish the report of each earlier queued run still open an hour after its time, with
        what was recorded: one missing a target's outcome (named as failed: its message is
        being retried or is in the dead-letter queue), or one whose report a worker claimed and
        never published."""
        for run in overdue_runs(self.ledger.open_runs(), trigger.time):
            state = self.ledger.run(run)
            if state is None:
                self.ledger.close_run(run)
                continue
            # A report claimed and still open an hour after its run: the worker that claimed it
            # stopped before publishing it (a crash, its Timeout), so it is published now. At
            # least once: had that worker published and died before closing the run, the report
            # goes out twice, which is better than never.
            if not state.published and not self.ledger.claim_publication(run, trigger.time):
                continue
            at = dt.datetime.strptime(run[-20:], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
            combined = gathered_outcome(
                state.labels,
                state.excluded,
                self.ledger.outcomes(run),
                ScheduledTrigger(at),
                environment,
            )
            logger.warning(
                "overdue run published",
                run=run,
                outstanding=len(outstanding(state.total, state.recorded)),
            )
            self.publish(combined.report)
            self.ledger.close_run(run)


def work_message(
    message: TargetMessage,
    scheduler_for: Callable[[TargetMessage], Scheduler],
    environment: str,
    time_left_ms: Callable[[], int],
) -> TargetResult[SchedulerOutcome]:
    """Work the message's one target, isolated as in one invocation (`work_targets`)."""
    trigger = ScheduledTrigger(message.time)
    (result,) = work_targets(
        [message.item],
        lambda _item: scheduler_for(message).answer(trigger, environment, time_left_ms),
        1,
    ).results
    return result


def gather(
    recorded: RecordedView,
    run: str,
    trigger: ScheduledTrigger,
    environment: str,
    ledger: Ledger,
    publish: Callable[[Report], object],
) -> SchedulerOutcome | None:
    """Publish the run's one report if this recording completed it (`gather_due`); returns
    the combined outcome when this worker published (or decided not to publish) it."""
    state = recorded.run
    decision = gather_due(state.total, len(state.recorded), recorded.counted_now, state.published)
    logger.info("gather", run=run, publish=decision.publish, reason=decision.reason)
    if not decision.publish or not ledger.claim_publication(run, trigger.time):
        return None
    try:
        combined = gathered_outcome(
            state.labels, state.excluded, ledger.outcomes(run), trigger, environment
        )
        if combined.published_because is not None:
            publish(combined.report)
    except Exception:
        ledger.release_publication(run)  # a redelivered message publishes it
        raise
    ledger.close_run(run)
    return combined


def record_and_gather(
    message: TargetMessage,
    result: TargetResult[SchedulerOutcome],
    environment: str,
    ledger: Ledger,
    publish: Callable[[Report], object],
) -> SchedulerOutcome | None:
    """Record the target's outcome (once) and publish the run's report if it was the last."""
    trigger = ScheduledTrigger(message.time)
    recorded = ledger.record(message.run, message.index, outcome_json(result), message.time)
    return gather(recorded, message.run, trigger, environment, ledger, publish)
