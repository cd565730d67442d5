"""A scheduler run as the Nightshift report (pure), and whether it is worth publishing.

The service (`nightshift.schedule.service`) carries out the RunPlan and records what happened
to each decision as a DecisionOutcome; everything people read about the run is built here from
those.

When a run's report goes to the ops topic (every 5 minutes would drown the channel):
- a dry run asked for in the event is a question; its answer is the result, not a message:
  never;
- a heads-up before a stop (once per stop, `heads_up.py`): always;
- something was started, stopped, deferred or failed, or a resource was changed while parked:
  always;
- a dry run plans starts or stops, or the circuit breaker refused the run's stops: on the first
  run of each hour (UTC) this stays so (a dry run repeats its plan every run);
- refusals (protect tag, unknown schedule): when they differ from the last run's (other
  resources or other reasons, `refusal_fingerprint`), at once, as a warning; the same refusals
  again are *known*: listed in every report published for another reason and, on the first run
  of each day (UTC), as a reminder, but as routine items (`details.known`) that neither page nor
  skip the digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import IntEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from nightshift.report import Outcome, Report, ReportItem
from nightshift.schedule.plan import Action, Decision, RunPlan
from nightshift.schedule.resources import ParkedRecord

if TYPE_CHECKING:  # priced only by runs that switch something (savings.py)
    from nightshift.schedule.heads_up import HeadsUp
    from nightshift.schedule.savings import Saving

FUNCTION = "scheduler"
SWITCHES = frozenset({Action.START, Action.STOP})
# CloudWatch units as Powertools' MetricUnit values spell them.
COUNT, NO_UNIT = "Count", "None"


@dataclass(frozen=True)
class DecisionOutcome:
    """What became of one decision: DONE or FAILED for a start or stop (SKIPPED if deferred),
    SKIPPED for nothing to do or out of scope, REFUSED for a refusal, PLANNED in a dry run.
    `problem` says why it failed or was deferred."""

    decision: Decision
    outcome: Outcome
    problem: str | None = None

    @property
    def deferred(self) -> bool:
        return self.decision.action in SWITCHES and self.outcome is Outcome.SKIPPED

    def report_item(self) -> ReportItem:
        item = self.decision.report_item(self.outcome)
        if self.problem is None:
            return item
        details = {**item.details, "error": self.problem}
        return replace(
            item,
            reason=f"{item.reason}; {self.problem}",
            details=MappingProxyType(details),
        )


@dataclass(frozen=True)
class SchedulerRun:
    """One run: the plan and what became of each of its decisions, in execution order."""

    plan: RunPlan
    outcomes: tuple[DecisionOutcome, ...]
    errors: tuple[str, ...] = ()  # what went wrong beside the decisions (state not stored)
    savings: tuple[Saving, ...] = ()  # the starts and stops carried out (or planned), priced
    heads_ups: tuple[HeadsUp, ...] = ()  # stops coming soon, said once each (heads_up.py)
    last_refusals: str | None = None  # the last run's refusal_fingerprint (None: not stored)

    @classmethod
    def planned(cls, plan: RunPlan) -> SchedulerRun:
        """A run that changed nothing: every decision with its dry-run outcome."""
        return cls(plan, tuple(DecisionOutcome(d, d.report_item().outcome) for d in plan.decisions))

    def count(self, action: Action, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o.decision.action is action and o.outcome is outcome)

    @property
    def stopped(self) -> int:
        return self.count(Action.STOP, Outcome.DONE)

    @property
    def started(self) -> int:
        return self.count(Action.START, Outcome.DONE)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome is Outcome.FAILED)

    @property
    def refusals(self) -> str:
        """This run's refusal_fingerprint ("" when nothing is refused)."""
        return refusal_fingerprint(self.outcomes)

    @property
    def refusals_known(self) -> bool:
        """The run refuses exactly what the last run refused, for the same reasons."""
        return bool(self.refusals) and self.refusals == self.last_refusals

    @property
    def conflicts(self) -> int:
        return sum(1 for o in self.outcomes if o.decision.conflict is not None)

    @property
    def hours_saved(self) -> float:
        """Hours saved by the stops done (or, in a dry run, planned)."""
        return round(
            sum(
                o.decision.hours_saved or 0.0
                for o in self.outcomes
                if o.decision.action is Action.STOP and o.outcome in (Outcome.DONE, Outcome.PLANNED)
            ),
            2,
        )

    @property
    def dollars_saved(self) -> float:
        """USD saved by the parks that the starts of this run ended (priced ones only)."""
        return round(sum(s.usd or 0.0 for s in self.savings if s.realised), 2)

    @property
    def dollars_estimated(self) -> float:
        """USD the stops of this run are estimated to save until the next start."""
        return round(sum(s.usd or 0.0 for s in self.savings if not s.realised), 2)

    @property
    def unpriced(self) -> tuple[Saving, ...]:
        return tuple(s for s in self.savings if s.usd is None)


def refusal_fingerprint(outcomes: Iterable[DecisionOutcome]) -> str:
    """What a run refuses, as a short stable digest of each refused resource and its reason
    (order does not matter): "" when nothing is refused. Two runs with the same fingerprint
    refuse the same resources for the same reasons.

    >>> from nightshift.schedule.plan import RunPlan
    >>> refusal_fingerprint(())
    ''
    """
    refused = sorted(
        f"{o.decision.arn}\t{o.report_item().reason}"
        for o in outcomes
        if o.outcome is Outcome.REFUSED
    )
    if not refused:
        return ""
    return hashlib.sha256("\n".join(refused).encode()).hexdigest()[:32]


def run_summary(run: SchedulerRun) -> str:
    """One line for people.

    >>> from nightshift.schedule.plan import RunPlan
    >>> now = dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC)
    >>> run_summary(SchedulerRun(RunPlan(now, None, False, ()), ()))
    'nothing to do; 0 resources checked'
    """
    phrases = (
        ("stopped", run.stopped),
        ("started", run.started),
        ("would stop", run.count(Action.STOP, Outcome.PLANNED)),
        ("would start", run.count(Action.START, Outcome.PLANNED)),
    )
    parts = [f"{verb} {n}" for verb, n in phrases if n]
    tallies = (
        ("failed", run.failed),
        ("deferred", sum(1 for o in run.outcomes if o.deferred)),
        (
            "refused, as in the last run" if run.refusals_known else "refused",
            sum(1 for o in run.outcomes if o.outcome is Outcome.REFUSED),
        ),
        ("changed while parked", run.conflicts),
    )
    parts.extend(f"{n} {what}" for what, n in tallies if n)
    parts.extend(
        f"heads-up: {h.schedule} stops at {h.stops_at.astimezone(dt.UTC):%H:%M} UTC"
        for h in run.heads_ups
    )
    text = ", ".join(parts) or "nothing to do"
    if run.plan.refused:
        text += "; circuit breaker tripped"
    if run.dollars_estimated:
        text += f"; ≈ ${run.dollars_estimated:,.2f} saved until the next start"
    elif run.hours_saved:
        text += f"; {run.hours_saved:g} resource-hours saved"
    if run.dollars_saved:
        text += f"; ≈ ${run.dollars_saved:,.2f} saved while parked"
    if parts:
        return text
    return f"{text}; {len(run.outcomes)} resources checked"


def run_report(run: SchedulerRun, environment: str) -> Report:
    """The run's report: every decision with its outcome, then the parked records whose
    resource was not found (orphans), with the capacity a person may want to restore."""
    plan = run.plan
    savings = {saving.arn: saving for saving in run.savings}
    items = [
        _known(_priced(outcome.report_item(), savings.get(outcome.decision.arn)), run)
        for outcome in run.outcomes
    ]
    items.extend(_orphan_item(record) for record in plan.orphaned)
    items.extend(heads_up.report_item() for heads_up in run.heads_ups)
    totals = {"hours_saved": run.hours_saved}
    if run.savings:
        totals["estimated_saving_usd"] = run.dollars_estimated
        totals["saved_usd"] = run.dollars_saved
        totals["unpriced_count"] = len(run.unpriced)
    return Report(
        function=FUNCTION,
        run_id=run_id(plan.now, plan.dry_run),
        time=_instant(plan.now),
        environment=environment,
        dry_run=plan.dry_run,
        summary=run_summary(run),
        items=tuple(items),
        totals=MappingProxyType(totals),
        errors=((plan.refused,) if plan.refused else ()) + run.errors,
    )


def _known(item: ReportItem, run: SchedulerRun) -> ReportItem:
    """A refused item the last run refused alike is marked `known`: people heard of it when it
    changed, so it is routine now (the notifier reads it so)."""
    if item.outcome is not Outcome.REFUSED or not run.refusals_known:
        return item
    return replace(
        item, details=MappingProxyType({**item.details, "known": "refused alike in the last run"})
    )


def publication_reason(run: SchedulerRun, *, asked_dry_run: bool = False) -> str | None:
    """Why the run's report goes to the ops topic, or None: see the module's docstring.
    `asked_dry_run`: the event asked for a dry run (a dry run set in the policy is published).

    >>> from nightshift.schedule.plan import RunPlan
    >>> now = dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC)
    >>> publication_reason(SchedulerRun(RunPlan(now, now, False, ()), ())) is None
    True
    """
    if asked_dry_run:
        return None
    for reason, (applies, cadence) in PUBLICATION_RULES.items():
        # A dry run repeats the same plan every run: at most hourly.
        due = CADENCES[max(cadence, Cadence.HOURLY) if run.plan.dry_run else cadence]
        if applies(run) and due(run.plan):
            return reason
    return None


@dataclass(frozen=True)
class RunMetric:
    """One CloudWatch metric of a run. The template's alarms and dashboard read these names
    and units: keep them."""

    name: str
    unit: str
    value: float


def run_metrics(run: SchedulerRun) -> tuple[RunMetric, ...]:
    """The counts every run records.

    >>> from nightshift.schedule.plan import RunPlan
    >>> now = dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC)
    >>> [m.name for m in run_metrics(SchedulerRun(RunPlan(now, None, False, ()), ()))]
    ['Stopped', 'Started', 'Failed', 'HoursSaved', 'DollarsSaved']
    """
    return (
        RunMetric("Stopped", COUNT, run.stopped),
        RunMetric("Started", COUNT, run.started),
        RunMetric("Failed", COUNT, run.failed),
        RunMetric("HoursSaved", NO_UNIT, run.hours_saved),
        # Realised savings only (parks ended by a start): a week's sum counts each night once.
        RunMetric("DollarsSaved", NO_UNIT, 0.0 if run.plan.dry_run else run.dollars_saved),
    )


STALE_EVENT = RunMetric("StaleEvents", COUNT, 1)


class Cadence(IntEnum):
    EVERY_RUN = 0
    HOURLY = 1
    DAILY = 2


def _first_run_of(period: Callable[[dt.datetime], tuple[int, ...]]) -> Callable[[RunPlan], bool]:
    def first(plan: RunPlan) -> bool:
        if plan.last_run is None:
            return True
        return period(plan.last_run.astimezone(dt.UTC)) != period(plan.now.astimezone(dt.UTC))

    return first


CADENCES: Mapping[Cadence, Callable[[RunPlan], bool]] = MappingProxyType(
    {
        Cadence.EVERY_RUN: lambda plan: True,
        Cadence.HOURLY: _first_run_of(lambda at: (at.year, at.month, at.day, at.hour)),
        Cadence.DAILY: _first_run_of(lambda at: (at.year, at.month, at.day)),
    }
)

PUBLICATION_RULES: Mapping[str, tuple[Callable[[SchedulerRun], bool], Cadence]] = MappingProxyType(
    {
        "a stop is coming (heads-up)": (lambda run: bool(run.heads_ups), Cadence.EVERY_RUN),
        "resources were started, stopped or deferred": (
            lambda run: any(
                o.decision.action in SWITCHES and o.outcome is not Outcome.PLANNED
                for o in run.outcomes
            ),
            Cadence.EVERY_RUN,
        ),
        "something failed": (lambda run: run.failed > 0, Cadence.EVERY_RUN),
        "a resource was changed while parked": (
            lambda run: run.conflicts > 0,
            Cadence.EVERY_RUN,
        ),
        "the dry run plans starts or stops": (
            lambda run: any(o.outcome is Outcome.PLANNED for o in run.outcomes),
            Cadence.HOURLY,
        ),
        "the circuit breaker is tripped": (lambda run: bool(run.plan.refused), Cadence.HOURLY),
        "the refusals changed since the last run": (
            lambda run: bool(run.refusals) and not run.refusals_known,
            Cadence.EVERY_RUN,
        ),
        "resources are still refused": (lambda run: run.refusals_known, Cadence.DAILY),
    }
)


def stale_event_report(
    scheduled_time: dt.datetime, last_run: dt.datetime, environment: str, dry_run: bool
) -> Report:
    """An event older than the last run is refused: replayed, it would see no schedule
    boundary crossed and could undo what the later run did."""
    return Report(
        function=FUNCTION,
        run_id=run_id(scheduled_time, dry_run),
        time=_instant(scheduled_time),
        environment=environment,
        dry_run=dry_run,
        summary=(
            f"refused: the event for {_instant(scheduled_time)} is older than the last run "
            f"({_instant(last_run)}); nothing was done"
        ),
    )


def policy_failure_report(
    scheduled_time: dt.datetime, environment: str, error: str, dry_run: bool = False
) -> Report:
    """The policy could not be loaded: nothing was changed, and the error says why."""
    return Report(
        function=FUNCTION,
        run_id=run_id(scheduled_time, dry_run),
        time=_instant(scheduled_time),
        environment=environment,
        dry_run=dry_run,
        summary="the policy could not be loaded; nothing was started or stopped",
        errors=(error,),
    )


def run_id(scheduled_time: dt.datetime, dry_run: bool) -> str:
    """`scheduler-2026-11-20T18:00:00Z`: one id per scheduled time (a redelivered event
    gets the same id, so the notifier sends its report once).

    >>> run_id(dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC), dry_run=True)
    'scheduler-2026-11-20T18:00:00Z-dry-run'
    """
    return f"{FUNCTION}-{_instant(scheduled_time)}{'-dry-run' if dry_run else ''}"


def _instant(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _priced(item: ReportItem, saving: Saving | None) -> ReportItem:
    """The item with its price: the hourly price and the saving (realised for a start, an
    estimate until the next start for a stop), or why it is unpriced."""
    if saving is None:
        return item
    details: dict[str, Any] = dict(item.details)
    if saving.price.usd is None:
        details["unpriced"] = saving.price.reason
    else:
        details["hourly_usd"] = round(saving.price.usd, 5)
        details["priced_as"] = saving.price.reason
        if saving.usd is not None:
            key = "saved_usd" if saving.realised else "estimated_saving_usd"
            details[key] = round(saving.usd, 2)
        if saving.realised and saving.hours is not None:
            details["hours_parked"] = saving.hours
    return replace(item, details=MappingProxyType(details))


def _orphan_item(record: ParkedRecord) -> ReportItem:
    details: dict[str, Any] = {
        "schedule": record.schedule,
        "parked_at": record.parked_at.isoformat(),
    }
    if record.capacity is not None:
        details["capacity_stored"] = record.capacity.to_json()
    return ReportItem(
        resource=record.arn,
        kind=record.kind.value,
        action=Action.NONE.value,
        outcome=Outcome.SKIPPED,
        reason=(
            "parked, but no longer found with a nightshift:schedule tag (deleted, or the tag "
            "removed while parked); left as it is"
            + (f": restore {record.capacity} by hand if needed" if record.capacity else "")
        ),
        details=MappingProxyType(details),
    )
