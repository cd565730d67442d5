"""The scheduler's service for one run: find, plan, carry out in order, remember, and say what
became of every decision.

Every decision is made by the pure plan (`nightshift.schedule.plan.plan_run`); the service
gets its ports (`nightshift.schedule.ports`) injected and carries the plan out:
- an event older than the last run is refused (StaleEventError), before anything is read;
- discovery has two phases: the tag sweep and the parked records, which every run reads; then
  the describe calls, only for the resources `plan_describes` says the plan depends on;
- the parking protocol (docs/scheduler.md): a stop's record is written in state STOPPING
  *before* the first stop call and moved to PARKED after the last; a start's record is moved
  to STARTING before the first start call and deleted only after the last succeeded. A failed
  call, a timeout or a crash anywhere leaves the record in STOPPING or STARTING, with the
  capacity to restore: the next run finishes or undoes the switch from it. No failure deletes
  a record;
- a failed start or stop (or record write) is reported and the run goes on; the next run takes
  it up again, because the record says it is unfinished;
- starts and stops go in batches of 25 (in the plan's order): the batch's records are written
  (one BatchWriteItem), then its resources switched (the EC2 instances in one call), then the
  records of those switched are settled (one BatchWriteItem); a failure is still one resource's;
- batches not begun a few seconds before the Lambda deadline are deferred to the next run, so
  the run still reports and stores `last_run`;
- the last run's record keeps its time and its refusals' fingerprint: a refusal the same as the
  last run's is reported as known (`nightshift.schedule.report`);
- a dry run writes nothing, not even `last_run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from nightshift.errors import AwsError
from nightshift.policy import ProtectRule
from nightshift.report import Outcome, Report
from nightshift.schedule.events import ScheduledTrigger, StaleEventError
from nightshift.schedule.heads_up import HeadsUp, plan_heads_ups
from nightshift.schedule.plan import Decision, plan_describes, plan_run
from nightshift.schedule.policy import SchedulerPolicy
from nightshift.schedule.ports import (
    HeadsUpLedger,
    ParkingPort,
    ResourceFinder,
    SwitchPort,
    TaskSize,
    TaskSizeReader,
    TimeLeft,
)
from nightshift.schedule.report import (
    STALE_EVENT,
    SWITCHES,
    DecisionOutcome,
    RunMetric,
    SchedulerRun,
    publication_reason,
    run_metrics,
    run_report,
    stale_event_report,
)
from nightshift.schedule.resources import ScheduledResource

if TYPE_CHECKING:
    from nightshift.schedule.savings import Saving

logger = Logger(child=True)

# Starts and stops are not begun with less than this left before the Lambda deadline.
DEADLINE_RESERVE_MS = 10_000
# Starts and stops carried out together: BatchWriteItem's limit, so one call writes a batch's
# records before its switches and one settles them after.
SWITCH_BATCH = 25


@dataclass(frozen=True)
class SchedulerOutcome:
    """What the handler does with a run: return `report`, publish it when `published_because`
    is not None, and record `metrics`."""

    report: Report
    published_because: str | None
    metrics: tuple[RunMetric, ...]


@dataclass
class Scheduler:
    """Carries out one run's plan through its ports; `run` returns what became of every
    decision, or raises StaleEventError (before anything is read but the last run's time)."""

    policy: SchedulerPolicy
    protect: ProtectRule
    resources: ResourceFinder
    parking: ParkingPort
    switch: SwitchPort
    task_sizes: TaskSizeReader | None = None  # None: ECS services are reported unpriced
    heads_ups: HeadsUpLedger | None = None  # None: no heads-up before a stop (spoke targets)

    def answer(
        self, trigger: ScheduledTrigger, environment: str, time_left_ms: TimeLeft
    ) -> SchedulerOutcome:
        """The run `trigger` asks for, as its report, why it is published and its metrics. A
        stale event is refused with a report that is returned, not published."""
        try:
            run = self.run(trigger, time_left_ms)
        except StaleEventError as exc:
            logger.warning("stale event refused", error=str(exc))
            refusal = stale_event_report(trigger.time, exc.last_run, environment, trigger.dry_run)
            return SchedulerOutcome(refusal, None, (STALE_EVENT,))
        report = run_report(run, environment)
        reason = publication_reason(run, asked_dry_run=trigger.dry_run)
        logger.info("run reported", summary=report.summary, published_because=reason)
        return SchedulerOutcome(report, reason, run_metrics(run))

    def run(self, trigger: ScheduledTrigger, time_left_ms: TimeLeft) -> SchedulerRun:
        last_run, last_refusals = self.parking.last_record()
        if last_run is not None and trigger.time < last_run:
            raise StaleEventError(trigger.time, last_run)
        policy = self.policy
        if trigger.dry_run:
            policy = replace(policy, settings=replace(policy.settings, dry_run=True))
        # Discovery in two phases: what every run must read (the tag sweep, the parked
        # records), then the state of only the resources whose decision depends on it.
        swept = self.resources.sweep()
        parked = self.parking.parked()
        needs = plan_describes(swept, parked, policy, self.protect, trigger.time, last_run)
        described = self.resources.describe([n.resource for n in needs if n.describe])
        unread = [n.resource for n in needs if not n.describe]
        logger.info("resources described", swept=len(swept), described=len(described))
        plan = plan_run(
            [*(r for r in swept if r.described), *described, *unread],
            parked,
            policy,
            self.protect,
            trigger.time,
            last_run,
        )
        logger.info(
            "run planned",
            summary=plan.summary,
            dry_run=plan.dry_run,
            last_run=None if last_run is None else last_run.isoformat(),
            circuit_breaker=plan.refused,
            orphaned=len(plan.orphaned),
        )
        if plan.dry_run:
            planned = SchedulerRun.planned(plan)
            return replace(
                planned,
                savings=self._price(planned.outcomes, trigger),
                last_refusals=last_refusals,
            )
        switches = [d for d in plan.decisions if d.action in SWITCHES]
        carried: dict[str, DecisionOutcome] = {}
        for start in range(0, len(switches), SWITCH_BATCH):
            batch = switches[start : start + SWITCH_BATCH]
            carried.update((o.decision.arn, o) for o in self._carry_out(batch, time_left_ms))
        outcomes = tuple(
            carried[d.arn] if d.action in SWITCHES else self._settle(d) for d in plan.decisions
        )
        heads_ups, heads_up_errors = self._heads_ups(swept, policy, trigger)
        run = SchedulerRun(
            plan,
            outcomes,
            heads_up_errors,
            self._price(outcomes, trigger),
            heads_ups,
            last_refusals=last_refusals,
        )
        try:
            self.parking.record_run(trigger.time, run.refusals)
        except AwsError as exc:
            logger.error("last run not stored", error=str(exc))
            run = replace(run, errors=(f"the run's time was not stored: {exc}", *run.errors))
        return run

    def _heads_ups(
        self, swept: Sequence[ScheduledResource], policy: SchedulerPolicy, trigger: ScheduledTrigger
    ) -> tuple[tuple[HeadsUp, ...], tuple[str, ...]]:
        """The heads-ups due now that no earlier run sent (each claimed once in the table)."""
        if self.heads_ups is None:
            return (), ()
        due = plan_heads_ups(swept, policy, self.protect, trigger.time)
        sent: list[HeadsUp] = []
        errors: list[str] = []
        for heads_up in due:
            try:
                if self.heads_ups.claim(heads_up.key, heads_up.stops_at):
                    sent.append(heads_up)
                else:
                    logger.info("heads-up sent already", key=heads_up.key)
            except AwsError as exc:
                logger.warning("heads-up not claimed", key=heads_up.key, error=str(exc))
                errors.append(f"heads-up for {heads_up.schedule} not sent: {exc}")
        return tuple(sent), tuple(errors)

    def _price(
        self, outcomes: Sequence[DecisionOutcome], trigger: ScheduledTrigger
    ) -> tuple[Saving, ...]:
        """The starts and stops carried out (or planned), priced. Pricing never fails a run: a
        task definition that cannot be read leaves its service unpriced."""
        switched = [
            o.decision
            for o in outcomes
            if o.decision.action in SWITCHES and o.outcome in (Outcome.DONE, Outcome.PLANNED)
        ]
        if not switched:
            return ()
        # Here only: a steady-state run switches nothing and loads no pricing (cold start).
        from nightshift.schedule.savings import (
            price_switches,
            price_table,
            task_definitions_to_size,
        )

        sizes: dict[str, TaskSize] = {}
        wanted = task_definitions_to_size(switched)
        if wanted and self.task_sizes is not None:
            try:
                sizes.update(self.task_sizes.sizes(wanted))
            except AwsError as exc:
                logger.warning("task definitions not read; left unpriced", error=str(exc))
        table = price_table(self.policy.settings.pricing)
        return price_switches(switched, trigger.time, table, sizes)

    def _carry_out(
        self, batch: Sequence[Decision], time_left_ms: TimeLeft
    ) -> list[DecisionOutcome]:
        """One batch of starts and stops: records written, resources switched, records settled,
        each step only for the decisions whose previous step succeeded."""
        if time_left_ms() < DEADLINE_RESERVE_MS:
            return [
                DecisionOutcome(
                    d,
                    Outcome.SKIPPED,
                    "deferred: the run ran out of time; the next run carries it out",
                )
                for d in batch
            ]
        outcomes: list[DecisionOutcome] = []
        not_parked = self.parking.write([d.park for d in batch if d.park is not None], ())
        for decision in batch:
            if (exc := not_parked.get(decision.arn)) is not None:
                logger.warning("parked record not written", arn=decision.arn, error=str(exc))
                outcomes.append(
                    DecisionOutcome(
                        decision,
                        Outcome.FAILED,
                        f"{decision.action.value} not begun: parked record not written: {exc}",
                    )
                )
        begun = [d for d in batch if d.arn not in not_parked]
        not_switched = self.switch.apply_all(begun)
        for decision in begun:
            if (exc := not_switched.get(decision.arn)) is not None:
                action = decision.action.value
                logger.warning("switch failed", arn=decision.arn, action=action, error=str(exc))
                outcomes.append(
                    DecisionOutcome(
                        decision,
                        Outcome.FAILED,
                        f"{action} failed: {exc}; the parked record keeps the capacity and the "
                        "next run finishes or undoes it",
                    )
                )
        switched = [d for d in begun if d.arn not in not_switched]
        # A decision that releases its record ends with the delete, whatever it settled first.
        not_settled = self.parking.write(
            [d.settled for d in switched if d.settled is not None and not d.unpark],
            [d.arn for d in switched if d.unpark],
        )
        for decision in switched:
            if (exc := not_settled.get(decision.arn)) is not None:
                logger.warning("parked record not updated", arn=decision.arn, error=str(exc))
                outcomes.append(
                    DecisionOutcome(
                        decision,
                        Outcome.FAILED,
                        f"{decision.action.value} done, but the parked record was not updated: "
                        f"{exc}; the next run settles it",
                    )
                )
            else:
                outcomes.append(DecisionOutcome(decision, Outcome.DONE))
        return outcomes

    def _settle(self, decision: Decision) -> DecisionOutcome:
        """Keep the parked records of a decision without a start or stop up to date."""
        outcome = decision.report_item().outcome
        try:
            if decision.park is not None:
                self.parking.park(decision.park, keep_existing=True)
            self._settle_records(decision)
        except AwsError as exc:
            logger.warning("parked record not updated", arn=decision.arn, error=str(exc))
            return DecisionOutcome(decision, Outcome.FAILED, f"parked record not updated: {exc}")
        return DecisionOutcome(decision, outcome)

    def _settle_records(self, decision: Decision) -> None:
        """The record writes that close a decision, after its start or stop if it has one: the
        settled record (e.g. PARKED after a stop), then the release of a restored one."""
        if decision.settled is not None:
            self.parking.park(decision.settled)
        if decision.unpark:
            self.parking.release(decision.arn)
