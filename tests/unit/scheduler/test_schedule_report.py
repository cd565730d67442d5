"""A scheduler run as a report, and when that report is worth a message (pure)."""

from __future__ import annotations

import datetime as dt
import doctest
from dataclasses import replace

import nightshift.schedule.report
from nightshift.policy import DEFAULT_PROTECT
from nightshift.report import Outcome
from nightshift.schedule import (
    Capacity,
    ParkedRecord,
    ResourceKind,
    ScheduledResource,
    SchedulerPolicy,
)
from nightshift.schedule.plan import RunPlan, plan_run
from nightshift.schedule.report import (
    DecisionOutcome,
    SchedulerRun,
    policy_failure_report,
    publication_reason,
    run_report,
    stale_event_report,
)

UTC = dt.UTC
EVENING = dt.datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # Friday 19:00 CET: office hours end
LATER = EVENING + dt.timedelta(minutes=5)
POLICY = SchedulerPolicy.from_sections(
    {
        "office-hours": {
            "timezone": "Europe/Berlin",
            "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}],
        }
    },
    {"max_stops": 1},
)
SCHEDULE = {"nightshift:schedule": "office-hours"}


def service(name: str = "api", desired: int = 2, **tags: str) -> ScheduledResource:
    return ScheduledResource(
        f"arn:aws:ecs:eu-central-1:111122223333:service/app/{name}",
        ResourceKind.ECS_SERVICE,
        {**SCHEDULE, **tags},
        status="ACTIVE",
        capacity=Capacity(desired, 1, 4),
    )


def plan(
    *resources: ScheduledResource,
    now: dt.datetime = EVENING,
    last_run: dt.datetime | None = EVENING - dt.timedelta(minutes=5),
    parked: dict[str, ParkedRecord] | None = None,
    policy: SchedulerPolicy = POLICY,
) -> RunPlan:
    return plan_run(resources, parked or {}, policy, DEFAULT_PROTECT, now, last_run)


def done(run_plan: RunPlan) -> SchedulerRun:
    """Every decision carried out as planned."""
    return SchedulerRun(
        run_plan,
        tuple(
            DecisionOutcome(
                d, Outcome.DONE if d.action.value in ("start", "stop") else d.report_item().outcome
            )
            for d in run_plan.decisions
        ),
    )


def test_report_lists_each_decision_with_outcome_and_hours_saved() -> None:
    report = run_report(done(plan(service())), "staging")

    [item] = report.items
    assert (item.action, item.outcome) == ("stop", Outcome.DONE)
    assert item.details["hours_saved"] == 60.5
    assert report.totals == {"hours_saved": 60.5}
    assert report.run_id == "scheduler-2026-11-20T18:00:00Z"
    assert report.time == "2026-11-20T18:00:00Z"
    assert report.summary == "stopped 1; 60.5 resource-hours saved"


def test_failed_stop_says_why_in_its_reason_and_details() -> None:
    run_plan = plan(service())
    [decision] = run_plan.decisions
    failure = "stop failed: UpdateService failed with AccessDeniedException: denied"

    report = run_report(
        SchedulerRun(run_plan, (DecisionOutcome(decision, Outcome.FAILED, failure),)), "staging"
    )

    [item] = report.items
    assert item.outcome is Outcome.FAILED
    assert item.reason.endswith("; " + failure)
    assert item.details["error"] == failure
    assert report.totals == {"hours_saved": 0.0}
    assert report.severity.value == "critical"
    assert report.summary.startswith("1 failed")


def test_orphaned_record_is_listed_with_the_capacity_to_restore_by_hand() -> None:
    orphan = ParkedRecord(
        "arn:aws:ecs:eu-central-1:111122223333:service/app/gone",
        ResourceKind.ECS_SERVICE,
        EVENING - dt.timedelta(days=1),
        "office-hours",
        Capacity(2, 1, 4),
    )

    report = run_report(done(plan(parked={orphan.arn: orphan})), "staging")

    [item] = report.items
    assert item.resource == orphan.arn
    assert item.outcome is Outcome.SKIPPED
    assert "restore desired 2, min 1, max 4 by hand" in item.reason
    assert item.details["capacity_stored"] == {"desired": 2, "minimum": 1, "maximum": 4}


def test_circuit_breaker_is_an_error_of_the_run() -> None:
    report = run_report(done(plan(service("a"), service("b"))), "staging")

    assert report.counts["refused"] == 2
    assert "more than max_stops 1" in report.errors[0]
    assert report.summary.startswith("2 refused; circuit breaker tripped")


def test_steady_state_is_not_published() -> None:
    parked = plan(service()).decisions[0].settled  # the record once the stop went through
    assert parked is not None
    stopped = service(desired=0)

    run = done(plan(stopped, now=LATER, last_run=EVENING, parked={parked.arn: parked}))

    assert publication_reason(run) is None


def test_stops_are_published_every_run() -> None:
    assert publication_reason(done(plan(service()))) == (
        "resources were started, stopped or deferred"
    )


def test_conflict_is_published_even_without_a_start_or_stop() -> None:
    morning = dt.datetime(2026, 11, 23, 6, 30, tzinfo=UTC)
    record = ParkedRecord(
        service().arn, ResourceKind.ECS_SERVICE, EVENING, "office-hours", Capacity(2, 1, 4)
    )

    run = done(
        plan(
            service(desired=3),
            now=morning,
            last_run=morning - dt.timedelta(minutes=5),
            parked={record.arn: record},
        )
    )

    assert run.conflicts == 1
    assert publication_reason(run) == "a resource was changed while parked"


def test_standing_refusal_is_published_on_the_first_run_of_the_day_only() -> None:
    protected = service(Environment="production")

    first = done(
        plan(
            protected,
            now=dt.datetime(2026, 11, 21, 0, 0, tzinfo=UTC),
            last_run=dt.datetime(2026, 11, 20, 23, 55, tzinfo=UTC),
        )
    )
    later = done(
        plan(
            protected,
            now=dt.datetime(2026, 11, 21, 0, 5, tzinfo=UTC),
            last_run=dt.datetime(2026, 11, 21, 0, 0, tzinfo=UTC),
        )
    )
    # The last run refused the same: the refusal is known (said when it first appeared).
    first, later = (replace(run, last_refusals=run.refusals) for run in (first, later))

    assert publication_reason(first) == "resources are still refused"
    assert publication_reason(later) is None
    assert run_report(first, "staging").items[0].details["known"]


def test_new_or_changed_refusal_is_published_at_once() -> None:
    run = done(
        plan(
            service(Environment="production"),
            now=dt.datetime(2026, 11, 21, 0, 5, tzinfo=UTC),
            last_run=dt.datetime(2026, 11, 21, 0, 0, tzinfo=UTC),
        )
    )

    assert publication_reason(run) == "the refusals changed since the last run"
    changed = replace(run, last_refusals="a fingerprint of other refusals")
    assert publication_reason(changed) == "the refusals changed since the last run"
    assert "known" not in run_report(changed, "staging").items[0].details


def test_tripped_breaker_is_published_hourly() -> None:
    first = done(
        plan(service("a"), service("b"), now=EVENING, last_run=EVENING - dt.timedelta(minutes=5))
    )
    same_hour = done(plan(service("a"), service("b"), now=LATER, last_run=EVENING))
    same_hour = replace(same_hour, last_refusals=same_hour.refusals)  # refused alike before

    assert publication_reason(first) == "the circuit breaker is tripped"
    assert publication_reason(same_hour) is None


def test_dry_run_plan_is_published_at_most_hourly() -> None:
    dry = replace(POLICY, settings=replace(POLICY.settings, dry_run=True))

    first = SchedulerRun.planned(plan(service(), now=EVENING, policy=dry))
    repeated = SchedulerRun.planned(plan(service(), now=LATER, last_run=EVENING, policy=dry))

    assert first.outcomes[0].outcome is Outcome.PLANNED
    assert publication_reason(first) == "the dry run plans starts or stops"
    assert publication_reason(repeated) is None
    assert run_report(first, "staging").summary.startswith("would stop 1")


def test_stale_event_and_policy_failure_reports_change_nothing_and_say_why() -> None:
    stale = stale_event_report(EVENING, LATER, "staging", dry_run=False)
    broken = policy_failure_report(EVENING, "staging", "nightshift.yaml: schedules: bad")

    assert stale.items == ()
    assert "older than the last run (2026-11-20T18:05:00Z)" in stale.summary
    assert broken.errors == ("nightshift.yaml: schedules: bad",)
    assert broken.severity.value == "critical"


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(nightshift.schedule.report, optionflags=doctest.NORMALIZE_WHITESPACE)

    assert result.attempted > 0
    assert result.failed == 0
