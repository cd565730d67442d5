"""The scheduler across a policy's targets: the service (`Scheduler`) runs in each account x
Region with that target's own clients, and the targets' outcomes become one report
(`nightshift.fanout.combine_outcomes`, shared with the pruner). Each target's report items keep
their ARNs, which name the account and Region.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from nightshift.fanout import (
    FanOutRun,
    RunHeading,
    WorkItem,
    combine_outcomes,
    work_targets,
    working_order,
)
from nightshift.fanout.combine import TARGET_FAILED
from nightshift.fanout.queue import queue_decision
from nightshift.schedule.events import ScheduledTrigger
from nightshift.schedule.ports import TimeLeft
from nightshift.schedule.report import FUNCTION, RunMetric, run_id
from nightshift.schedule.service import Scheduler, SchedulerOutcome
from nightshift.schedule.settings import DEFAULT_RATE

if TYPE_CHECKING:
    from nightshift.schedule.queued import QueuedRun

__all__ = ["TARGET_FAILED", "TargetedScheduler", "combined_outcome"]

logger = Logger(child=True)


@dataclass
class TargetedScheduler:
    """Answers a run by working every target with `scheduler_for(item)` (a Scheduler built on
    the target's clients), at most `max_workers` at once, each run beginning at a different
    target (`nightshift.fanout.order`: none starves when a run cannot work them all)."""

    items: Sequence[WorkItem]
    scheduler_for: Callable[[WorkItem], Scheduler]
    max_workers: int
    excluded: Sequence[str] = ()
    rate: dt.timedelta = DEFAULT_RATE  # how often runs come: tells one run from the next
    queue_above: int | None = None  # the policy's targets.queue_above
    queued: QueuedRun | None = None  # the SQS engine, when the function has its queue

    def answer(
        self, trigger: ScheduledTrigger, environment: str, time_left_ms: TimeLeft
    ) -> SchedulerOutcome:
        engine = queue_decision(
            len(self.items), self.queue_above, trigger.dry_run, self.queued is not None
        )
        if self.queue_above is not None:
            logger.info("engine chosen", queue=engine.queue, reason=engine.reason)
        if engine.queue and self.queued is not None:
            return self.queued.answer(
                trigger, self.items, self.excluded, environment, engine.reason
            )
        order = working_order(len(self.items), self.max_workers, trigger.time, self.rate)
        logger.info("targets ordered", start=order.start, reason=order.reason)
        run = work_targets(
            self.items,
            lambda item: self.scheduler_for(item).answer(trigger, environment, time_left_ms),
            self.max_workers,
            order.order,
        )
        return combined_outcome(run, self.excluded, trigger, environment)


def combined_outcome(
    run: FanOutRun[SchedulerOutcome],
    excluded: Sequence[str],
    trigger: ScheduledTrigger,
    environment: str,
) -> SchedulerOutcome:
    """One outcome for the whole run (pure): `nightshift.fanout.combine_outcomes`."""
    heading = RunHeading(
        function=FUNCTION,
        time=trigger.time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        environment=environment,
        dry_run=trigger.dry_run,
        run_id=partial(run_id, trigger.time),
    )
    combined = combine_outcomes(run, excluded, heading)
    return SchedulerOutcome(
        combined.report,
        combined.published_because,
        tuple(RunMetric(m.name, m.unit, m.value) for m in combined.metrics),
    )
