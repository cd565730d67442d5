"""The scheduler's run shell with in-memory ports: order of writes and switches, failures,
the deadline, dry runs and stale events."""

from __future__ import annotations

import datetime as dt
import doctest
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

import nightshift.scheduler
from nightshift.errors import AwsError, EventError
from nightshift.policy import DEFAULT_PROTECT
from nightshift.report import Outcome
from nightshift.schedule import (
    Capacity,
    Decision,
    ParkedRecord,
    ParkState,
    ResourceKind,
    ScheduledResource,
    SchedulerPolicy,
)
from nightshift.scheduler import DEADLINE_RESERVE_MS, ScheduledRun, Scheduler, StaleEventError

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


def failure(operation: str) -> AwsError:
    return AwsError(operation, "AccessDeniedException", "not allowed")


@dataclass
class Account:
    """The resources, the parked records and the last run, with a log of every change."""

    resources: list[ScheduledResource]
    records: dict[str, ParkedRecord] = field(default_factory=dict)
    last: dt.datetime | None = None
    log: list[str] = field(default_factory=list)
    failing_switches: set[str] = field(default_factory=set)
    failing_writes: set[str] = field(default_factory=set)

    # ResourceFinder
    def find(self) -> Sequence[ScheduledResource]:
        return self.resources

    # ParkingPort
    def parked(self) -> Mapping[str, ParkedRecord]:
        return dict(self.records)

    def park(self, record: ParkedRecord, *, keep_existing: bool = False) -> bool:
        if "PutItem" in self.failing_writes:
            raise failure("PutItem")
        if keep_existing and record.arn in self.records:
            return False
        self.records[record.arn] = record
        self.log.append(f"{record.state} {record.arn.rsplit('/', 1)[-1]}")
        return True

    def release(self, arn: str) -> None:
        if "DeleteItem" in self.failing_writes:
            raise failure("DeleteItem")
        self.records.pop(arn, None)
        self.log.append(f"release {arn.rsplit('/', 1)[-1]}")

    def last_run(self) -> dt.datetime | None:
        return self.last

    def record_run(self, scheduled_time: dt.datetime) -> bool:
        if "last_run" in self.failing_writes:
            raise failure("PutItem")
        self.last = scheduled_time
        return True

    # SwitchPort
    def apply(self, decision: Decision) -> None:
        name = decision.resource.name
        if name in self.failing_switches:
            raise failure("UpdateService")
        self.log.append(f"{decision.action} {name}")


def scheduler(account: Account) -> Scheduler:
    return Scheduler(POLICY, DEFAULT_PROTECT, account, account, account)


def run(account: Account, at: dt.datetime, dry_run: bool = False, time_left: int = PLENTY_OF_TIME):
    return scheduler(account).run(ScheduledRun(at, dry_run), lambda: time_left)


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
        ({}, "expects"),
        ({"time": "yesterday"}, "not an ISO 8601 instant"),
        ({"time": "2026-11-20T18:00:00"}, "has no offset"),
        ({"time": "2026-11-20T18:00:00Z", "dry_run": "yes"}, "dry_run must be true or false"),
    ],
)
def test_malformed_event_is_rejected_with_what_was_expected(event: dict, problem: str) -> None:
    with pytest.raises(EventError, match=problem):
        ScheduledRun.from_event(event)


def test_eventbridge_scheduled_event_time_is_accepted() -> None:
    run_ = ScheduledRun.from_event(
        {"detail-type": "Scheduled Event", "time": "2026-11-20T18:00:00Z"}
    )

    assert run_ == ScheduledRun(EVENING)


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(nightshift.scheduler, optionflags=doctest.NORMALIZE_WHITESPACE)

    assert result.attempted > 0
    assert result.failed == 0


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
