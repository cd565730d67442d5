"""The scheduler's service with in-memory ports: order of writes and switches, failures,
the deadline, dry runs and stale events."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest

import nightshift.schedule.events
from nightshift.errors import EventError
from nightshift.policy import DEFAULT_PROTECT
from nightshift.report import Outcome
from nightshift.schedule import (
    Capacity,
    ParkedRecord,
    ParkState,
    ResourceKind,
    ScheduledResource,
    SchedulerPolicy,
)
from nightshift.schedule.events import ScheduledTrigger, StaleEventError
from nightshift.schedule.service import DEADLINE_RESERVE_MS, SWITCH_BATCH, Scheduler
from tests.support.fakes.scheduler import Account, failure

UTC = dt.UTC
EVENING = dt.datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # Friday 19:00 CET: office hours end
MORNING = dt.datetime(2026, 11, 23, 6, 30, tzinfo=UTC)  # Monday 07:30 CET: office hours begin
POLICY = SchedulerPolicy.from_sections(
    {
        "office-hours": {
            "timezone": "Europe/Berlin",
            "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}],
        }
    }
)
PLENTY_OF_TIME = 60_000


def service(name: str, desired: int = 2) -> ScheduledResource:
    return ScheduledResource(
        f"arn:aws:ecs:eu-central-1:111122223333:service/app/{name}",
        ResourceKind.ECS_SERVICE,
        {"nightshift:schedule": "office-hours"},
        status="ACTIVE",
        capacity=Capacity(desired, 1, 4),
    )


def scheduler(account: Account) -> Scheduler:
    return Scheduler(POLICY, DEFAULT_PROTECT, account, account, account)


def run(account: Account, at: dt.datetime, dry_run: bool = False, time_left: int = PLENTY_OF_TIME):
    return scheduler(account).run(ScheduledTrigger(at, dry_run), lambda: time_left)


def test_stop_writes_the_parked_record_before_stopping() -> None:
    account = Account([service("api")])

    result = run(account, EVENING)

    assert account.log == ["stopping api", "stop api", "parked api"]
    assert result.outcomes[0].outcome is Outcome.DONE
    assert account.records[service("api").arn].capacity == Capacity(2, 1, 4)
    assert account.records[service("api").arn].state is ParkState.PARKED
    assert account.last == EVENING


def test_failed_stop_keeps_its_record_stopping_and_the_run_goes_on() -> None:
    account = Account([service("api"), service("web")], failing_switches={"api"})

    result = run(account, EVENING)

    assert account.log == ["stopping api", "stopping web", "stop web", "parked web"]
    assert [o.outcome for o in result.outcomes] == [Outcome.FAILED, Outcome.DONE]
    assert result.outcomes[0].problem == (
        "stop failed: UpdateService failed with AccessDeniedException: not allowed; the parked "
        "record keeps the capacity and the next run finishes or undoes it"
    )
    assert account.records[service("api").arn].state is ParkState.STOPPING
    assert account.records[service("api").arn].capacity == Capacity(2, 1, 4)


def test_stop_done_whose_record_cannot_be_marked_parked_is_a_failure_of_the_run() -> None:
    account = Account([service("api")])
    park = account.park

    def fail_when_parked(record: ParkedRecord, *, keep_existing: bool = False) -> bool:
        if record.state is ParkState.PARKED:
            raise failure("PutItem")
        return park(record, keep_existing=keep_existing)

    account.park = fail_when_parked  # type: ignore[method-assign]

    result = run(account, EVENING)

    assert account.log == ["stopping api", "stop api"]
    assert result.outcomes[0].outcome is Outcome.FAILED
    assert "stop done, but the parked record was not updated" in str(result.outcomes[0].problem)


def test_record_that_cannot_be_written_means_no_stop() -> None:
    account = Account([service("api")], failing_writes={"PutItem"})

    result = run(account, EVENING)

    assert account.log == []
    assert result.outcomes[0].outcome is Outcome.FAILED
    assert result.outcomes[0].problem is not None
    assert "PutItem failed" in result.outcomes[0].problem


def test_start_marks_the_record_starting_and_releases_it_after_restoring_the_capacity() -> None:
    record = ParkedRecord(
        service("api").arn, ResourceKind.ECS_SERVICE, EVENING, "office-hours", Capacity(2, 1, 4)
    )
    parked = ScheduledResource(
        record.arn, ResourceKind.ECS_SERVICE, service("api").tags, "ACTIVE", Capacity(0, 0, 0)
    )
    account = Account([parked], records={record.arn: record}, last=EVENING)

    result = run(account, MORNING)

    assert account.log == ["starting api", "start api", "release api"]
    assert result.started == 1
    assert account.records == {}


def test_switches_not_begun_before_the_deadline_are_deferred() -> None:
    account = Account([service("api")])

    result = run(account, EVENING, time_left=DEADLINE_RESERVE_MS - 1)

    [outcome] = result.outcomes
    assert outcome.outcome is Outcome.SKIPPED
    assert outcome.deferred
    assert account.log == []
    assert account.last == EVENING


def test_switches_go_in_batches_records_first_and_the_deadline_is_checked_per_batch() -> None:
    names = [f"svc-{n:02d}" for n in range(SWITCH_BATCH + 5)]
    account = Account([service(name) for name in names])
    clock = iter([PLENTY_OF_TIME, DEADLINE_RESERVE_MS - 1])

    result = scheduler(account).run(ScheduledTrigger(EVENING, False), lambda: next(clock))

    first = names[:SWITCH_BATCH]
    # Every record of the batch is written before its first stop, and settled after its last.
    assert account.log == [
        *(f"stopping {name}" for name in first),
        *(f"stop {name}" for name in first),
        *(f"parked {name}" for name in first),
    ]
    outcomes = [outcome.outcome for outcome in result.outcomes]
    assert outcomes == [Outcome.DONE] * SWITCH_BATCH + [Outcome.SKIPPED] * 5
    assert all(outcome.deferred for outcome in result.outcomes[SWITCH_BATCH:])


def test_one_failed_stop_in_a_batch_fails_alone() -> None:
    account = Account([service("api"), service("web"), service("worker")])
    account.failing_switches.add("web")

    result = run(account, EVENING)

    outcomes = {o.decision.resource.name: o for o in result.outcomes}
    assert outcomes["api"].outcome is Outcome.DONE
    assert outcomes["worker"].outcome is Outcome.DONE
    assert outcomes["web"].outcome is Outcome.FAILED
    assert "stop failed" in (outcomes["web"].problem or "")
    assert account.records[service("web").arn].state is ParkState.STOPPING
    assert account.records[service("worker").arn].state is ParkState.PARKED


def test_dry_run_writes_nothing_not_even_the_last_run() -> None:
    account = Account([service("api")])

    result = run(account, EVENING, dry_run=True)

    assert result.plan.dry_run
    assert result.outcomes[0].outcome is Outcome.PLANNED
    assert account.log == []
    assert account.last is None


def test_event_older_than_the_last_run_is_refused_before_anything_is_read() -> None:
    account = Account([service("api")], last=EVENING)

    with pytest.raises(StaleEventError, match="older than the last run"):
        run(account, EVENING - dt.timedelta(minutes=5))
    assert account.log == []


def test_last_run_that_cannot_be_stored_is_an_error_of_the_run() -> None:
    account = Account([service("api")], failing_writes={"last_run"})

    result = run(account, EVENING)

    assert result.stopped == 1
    assert result.errors == (
        "the run's time was not stored: PutItem failed with AccessDeniedException: not allowed",
    )


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({}, 'needs "time"'),
        ({"time": "yesterday"}, "not an ISO 8601 time"),
        ({"time": "2026-11-20T18:00:00"}, "has no time zone"),
        ({"time": "2026-11-20T18:00:00Z", "dry_run": "yes"}, '"dry_run" must be true or false'),
    ],
)
def test_malformed_event_is_rejected_with_what_was_expected(event: dict, problem: str) -> None:
    with pytest.raises(EventError, match=problem):
        ScheduledTrigger.from_event(event, "scheduler")


def test_eventbridge_scheduled_event_time_is_accepted() -> None:
    run_ = ScheduledTrigger.from_event(
        {"detail-type": "Scheduled Event", "time": "2026-11-20T18:00:00Z"}, "scheduler"
    )

    assert run_ == ScheduledTrigger(EVENING)


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(nightshift.schedule.events, optionflags=doctest.NORMALIZE_WHITESPACE)

    assert result.attempted > 0
    assert result.failed == 0


def test_answer_reports_and_publishes_a_run_that_stopped_with_its_metrics() -> None:
    account = Account([service("api")])

    outcome = scheduler(account).answer(ScheduledTrigger(EVENING), "staging", lambda: 60_000)

    assert outcome.report.summary.startswith("stopped 1")
    assert outcome.published_because == "resources were started, stopped or deferred"
    assert [(m.name, m.unit, m.value) for m in outcome.metrics] == [
        ("Stopped", "Count", 1),
        ("Started", "Count", 0),
        ("Failed", "Count", 0),
        ("HoursSaved", "None", outcome.report.totals["hours_saved"]),
        # A stop realises nothing yet: the saving is counted when the start ends the park.
        ("DollarsSaved", "None", 0.0),
    ]


def test_answer_to_a_dry_run_asked_in_the_event_is_returned_not_published() -> None:
    account = Account([service("api")])

    outcome = scheduler(account).answer(ScheduledTrigger(EVENING, True), "staging", lambda: 1)

    assert outcome.report.dry_run
    assert outcome.published_because is None
    assert account.log == []


def test_answer_to_a_stale_event_is_a_refusal_returned_with_the_stale_event_metric() -> None:
    account = Account([service("api")], last=EVENING)
    earlier = EVENING - dt.timedelta(minutes=5)

    outcome = scheduler(account).answer(ScheduledTrigger(earlier), "staging", lambda: 60_000)

    assert "older than the last run" in outcome.report.summary
    assert outcome.published_because is None
    assert [(m.name, m.unit, m.value) for m in outcome.metrics] == [("StaleEvents", "Count", 1)]
    assert account.log == []


def test_failed_start_keeps_its_record_starting_for_the_next_run() -> None:
    record = ParkedRecord(
        service("api").arn, ResourceKind.ECS_SERVICE, EVENING, "office-hours", Capacity(2, 1, 4)
    )
    parked = ScheduledResource(
        record.arn, ResourceKind.ECS_SERVICE, service("api").tags, "ACTIVE", Capacity(0, 0, 0)
    )
    account = Account([parked], records={record.arn: record}, last=EVENING)
    account.failing_switches.add("api")

    result = run(account, MORNING)

    assert result.outcomes[0].outcome is Outcome.FAILED
    assert account.records[record.arn].state is ParkState.STARTING
    assert account.records[record.arn].capacity == Capacity(2, 1, 4)


def test_only_the_resources_the_plan_depends_on_are_described() -> None:
    swept = [
        ScheduledResource.tagged(s.arn, s.kind, s.tags) for s in (service("api"), service("web"))
    ]
    account = Account(swept, described={s.arn: s for s in (service("api"), service("web"))})
    account.records[swept[0].arn] = ParkedRecord(
        swept[0].arn, ResourceKind.ECS_SERVICE, EVENING, "office-hours", Capacity(2, 1, 4)
    )

    result = run(account, MORNING + dt.timedelta(hours=4))  # Monday 11:30 CET

    assert account.describes == [(swept[0].arn,)]  # the parked one; web runs, nothing to read
    outcomes = {o.decision.resource.name: o for o in result.outcomes}
    assert "already running (started outside Nightshift)" in outcomes["api"].decision.reason
    assert "its state is not read" in outcomes["web"].decision.reason
    assert account.records == {}


# -- a refusal repeated every run -------------------------------------------------------------


def production(name: str) -> ScheduledResource:
    protected = service(name)
    return ScheduledResource(
        protected.arn,
        protected.kind,
        {**protected.tags, "Environment": "production"},
        status=protected.status,
        capacity=protected.capacity,
    )


def test_a_refusal_is_a_warning_when_new_then_known_and_quiet_while_it_stays_the_same() -> None:
    account = Account([production("prod-api"), production("prod-web")])
    first_at, then = EVENING + dt.timedelta(minutes=5), EVENING + dt.timedelta(minutes=10)

    first = scheduler(account).answer(ScheduledTrigger(first_at), "staging", lambda: 60_000)
    again = scheduler(account).answer(ScheduledTrigger(then), "staging", lambda: 60_000)

    assert first.published_because == "the refusals changed since the last run"
    assert first.report.severity.value == "warning"
    assert again.published_because is None
    assert again.report.summary.startswith("2 refused, as in the last run")
    refused = [item for item in again.report.items if item.outcome is Outcome.REFUSED]
    assert [item.details["known"] for item in refused] == ["refused alike in the last run"] * 2


def test_a_changed_refusal_is_a_warning_again() -> None:
    account = Account([production("prod-api")])
    scheduler(account).answer(ScheduledTrigger(EVENING), "staging", lambda: 60_000)
    account.resources.append(production("prod-web"))

    changed = scheduler(account).answer(
        ScheduledTrigger(EVENING + dt.timedelta(minutes=5)), "staging", lambda: 60_000
    )

    assert changed.published_because == "the refusals changed since the last run"
    assert all("known" not in item.details for item in changed.report.items)


def test_a_known_refusal_is_reminded_on_the_first_run_of_the_day_as_routine() -> None:
    account = Account([production("prod-api")])
    scheduler(account).answer(ScheduledTrigger(EVENING), "staging", lambda: 60_000)

    next_day = scheduler(account).answer(
        ScheduledTrigger(EVENING + dt.timedelta(hours=6)), "staging", lambda: 60_000
    )

    assert next_day.published_because == "resources are still refused"
    assert account.refusals  # stored with the run's time
    (item,) = next_day.report.items
    assert item.details["known"] == "refused alike in the last run"
