"""One canary run wired to in-memory fakes: what is emitted, changed, remembered and reported."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pytest

from nightshift.canary import Check
from nightshift.canary.alarms import AlarmRules
from nightshift.canary.parking import Dependency, ParkingFacts, Phase
from nightshift.canary.report import unprobed_report
from nightshift.canary.service import Canary
from nightshift.canary.status import CheckState, StatusBoard
from nightshift.errors import PolicyError
from nightshift.schedule import Capacity, ParkedRecord, ResourceKind, Schedule
from nightshift.trigger import ScheduledTrigger
from tests.support.fakes.canary import (
    FakeAlarms,
    FakeMemory,
    FakeMetrics,
    FakeParking,
    FakeProbe,
    FakeTopic,
)

TOPIC = "arn:aws:sns:eu-central-1:111122223333:nightshift-ops-staging"
RULES = AlarmRules("staging", "Nightshift", TOPIC, period_seconds=60)
API = Check.build("api", "http://api.internal/health", ["[STATUS] == 200"])
ADMIN = Check.build("admin", "http://admin.internal/health", ["[STATUS] == 200"])


@dataclass
class World:
    probe: FakeProbe = field(default_factory=lambda: FakeProbe({"api": 200, "admin": 200}))
    metrics: FakeMetrics = field(default_factory=FakeMetrics)
    alarms: FakeAlarms = field(default_factory=FakeAlarms)
    memory: FakeMemory = field(default_factory=FakeMemory)
    topic: FakeTopic = field(default_factory=FakeTopic)
    parking: FakeParking = field(default_factory=FakeParking)

    def canary(self, *checks: Check) -> Canary:
        return Canary(
            checks=checks or (API, ADMIN),
            rules=RULES,
            probe=self.probe,
            metrics=self.metrics,
            alarms=self.alarms,
            memory=self.memory,
            publisher=self.topic,
        )


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def trigger(run_time: dt.datetime) -> ScheduledTrigger:
    return ScheduledTrigger(run_time)


def test_first_run_emits_metrics_at_the_scheduled_time_creates_alarms_and_reports(world, trigger):
    outcome = world.canary().run(trigger, "r-1")

    assert {at for _, at in world.metrics.emitted} == {trigger.time}
    assert set(world.alarms.alarms) == {
        "nightshift-staging-canary-check-down-api",
        "nightshift-staging-canary-check-down-admin",
    }
    assert world.topic.published == [outcome.report]
    assert outcome.message_id == "m-1"
    assert world.memory.board == StatusBoard((("api", CheckState.UP), ("admin", CheckState.UP)))
    assert outcome.report.summary == "2 of 2 checks up; alarms: 2 created"
    assert outcome.report.totals == {
        "checks_count": 2,
        "checks_down_count": 0,
        "alarms_changed_count": 2,
    }


def test_steady_state_run_publishes_metrics_but_no_report(world, trigger):
    world.canary().run(trigger, "r-1")

    outcome = world.canary().run(trigger, "r-2")

    assert not outcome.decision.publish
    assert outcome.decision.reason == "nothing changed since the last report"
    assert len(world.topic.published) == 1
    assert world.memory.writes == 1
    assert outcome.metric_documents == 2


def test_alarms_that_cannot_be_read_are_an_error_in_the_report_and_metrics_still_flow(
    world, trigger
):
    world.alarms.refuse_describe = True

    outcome = world.canary().run(trigger, "r-1")

    assert outcome.report.errors == (
        "alarms not checked: DescribeAlarms failed with Throttling: rate exceeded",
    )
    assert world.metrics.emitted
    assert world.memory.board.alarms.startswith("failing: DescribeAlarms failed with Throttling")


def test_one_alarm_refused_fails_its_line_and_the_others_are_still_made(world, trigger):
    world.alarms.refuse_put = frozenset({"nightshift-staging-canary-check-down-api"})

    outcome = world.canary().run(trigger, "r-1")

    lines = {i.resource: i for i in outcome.report.items if i.kind == "cloudwatch-alarm"}
    assert lines["nightshift-staging-canary-check-down-api"].outcome.value == "failed"
    assert lines["nightshift-staging-canary-check-down-api"].reason.endswith(
        "PutMetricAlarm failed with AccessDenied: not allowed"
    )
    assert lines["nightshift-staging-canary-check-down-admin"].outcome.value == "done"
    assert outcome.report.summary.endswith("alarms: 1 failed, 1 created")
    # The same refusal next run is not news: one report, not one a minute.
    world.canary().run(trigger, "r-2")
    assert len(world.topic.published) == 1


def test_unreadable_memory_reports_anyway_with_the_error(world, trigger):
    world.memory.refuse = True

    outcome = world.canary().run(trigger, "r-1")

    assert outcome.decision.publish
    assert outcome.report.errors == (
        (
            "last report unknown, reporting anyway: Query failed with "
            "ProvisionedThroughputExceededException: slow down"
        ),
    )


def test_dry_run_emits_nothing_changes_nothing_and_remembers_nothing(world, run_time):
    outcome = world.canary().run(ScheduledTrigger(run_time, dry_run=True), "r-1")

    assert world.metrics.emitted == []
    assert world.alarms.alarms == {}
    assert world.memory.writes == 0
    assert [i.outcome.value for i in outcome.report.items if i.kind == "cloudwatch-alarm"] == [
        "planned",
        "planned",
    ]
    assert outcome.report.dry_run
    assert outcome.report.summary == "2 of 2 checks up; alarms: 2 to create"
    assert world.topic.published == [outcome.report]


def test_report_of_a_run_without_a_policy_carries_the_error(run_time):
    error = PolicyError("/opt/nightshift.yaml", "canaries[0].url", "expected an http:// URL")

    report = unprobed_report(ScheduledTrigger(run_time), "r-1", "staging", str(error))

    assert report.errors == ("/opt/nightshift.yaml: canaries[0].url: expected an http:// URL",)
    assert report.items == ()
    assert report.severity.value == "critical"


# ------------------------------------------------------------------ a check with depends_on

OFFICE_HOURS = Schedule.from_section(
    "office-hours",
    {
        "timezone": "Europe/Berlin",
        "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}],
    },
)
BACKEND = replace(
    Check.build("backend", "http://backend.internal/health", ["[STATUS] == 200"]),
    depends_on=Dependency(schedule="office-hours"),
)
SERVICE_ARN = "arn:aws:ecs:eu-central-1:111122223333:service/todoapp/todoapp-backend"
EVENING = dt.datetime(2026, 12, 7, 18, 0, tzinfo=dt.UTC)  # Monday 19:00 in Berlin


def parked_service(at: dt.datetime) -> ParkingFacts:
    record = ParkedRecord(
        SERVICE_ARN, ResourceKind.ECS_SERVICE, at, "office-hours", Capacity(2, 1, 4)
    )
    return ParkingFacts(records=(record,))


def parked_world(world: World) -> Canary:
    canary = world.canary(BACKEND)
    canary.parking, canary.schedules = world.parking, {"office-hours": OFFICE_HOURS}
    return canary


def points(world: World, at: dt.datetime) -> dict[str, float]:
    return {
        p.name: p.value
        for p, when in world.metrics.emitted
        if when == at and len(p.dimensions) == 1
    }


def test_parked_check_publishes_no_success_point_and_reports_parked_once(world):
    world.probe.statuses["backend"] = 200
    canary = parked_world(world)
    canary.run(ScheduledTrigger(EVENING - dt.timedelta(minutes=1)), "r-0")  # still up at 18:59
    world.probe.statuses["backend"] = 503
    world.parking.found = parked_service(EVENING)

    nights = [
        canary.run(ScheduledTrigger(EVENING + dt.timedelta(minutes=m)), f"r-{m}") for m in (1, 2, 3)
    ]

    for minute in (1, 2, 3):
        assert points(world, EVENING + dt.timedelta(minutes=minute)) == {"Parked": 1.0}
    assert [o.decision.publish for o in nights] == [True, False, False]
    assert nights[0].decision.reason == "changed: backend: up -> parked"
    line = nights[0].report.items[0]
    assert (line.outcome.value, line.details["phase"]) == ("skipped", "parked")
    assert line.reason.startswith("parked: todoapp-backend (office-hours: outside its periods")
    assert nights[0].report.summary == "0 of 1 checks up; parked: backend"
    assert nights[0].counts["ChecksDown"] == 0
    assert world.memory.phases["backend"].phase is Phase.PARKED
    assert world.parking.asked[-1] == ((("nightshift:schedule", "office-hours"),),)
    # The last report and the phases are read together: one read a run, not one each.
    assert world.memory.reads == 4


def test_morning_start_reports_time_to_healthy_once_and_success_resumes(world):
    canary = parked_world(world)
    world.probe.statuses["backend"] = 503
    world.parking.found = parked_service(EVENING)
    morning = dt.datetime(2026, 12, 8, 6, 29, tzinfo=dt.UTC)  # 07:29 in Berlin
    canary.run(ScheduledTrigger(morning), "r-parked")
    world.parking.found = ParkingFacts()  # the scheduler started it at 07:30

    runs = []
    for minute in range(1, 6):
        world.probe.statuses["backend"] = 200 if minute >= 5 else 503
        at = morning + dt.timedelta(minutes=minute)
        runs.append(canary.run(ScheduledTrigger(at), f"r-{minute}"))

    assert [o.watches["backend"].phase for o in runs] == [Phase.STARTING] * 4 + [Phase.LIVE]
    assert [o.decision.publish for o in runs] == [False, False, False, False, True]
    healthy = runs[-1].report.items[0]
    assert healthy.details["time_to_healthy_s"] == 240
    assert healthy.reason.endswith("healthy 4 min after the start at 2026-12-08 07:30 CET")
    at = morning + dt.timedelta(minutes=5)
    assert points(world, at) == {
        "Success": 1.0,
        "Latency": 50.0,
        "Parked": 0.0,
        "LateStart": 0.0,
        "TimeToHealthy": 240.0,
    }
    assert "Success" not in points(world, morning + dt.timedelta(minutes=2))


def test_tagged_resources_are_read_only_while_they_can_change_a_phase(world):
    canary = parked_world(world)
    world.probe.statuses["backend"] = 503
    world.parking.found = parked_service(EVENING)
    morning = dt.datetime(2026, 12, 8, 6, 29, tzinfo=dt.UTC)  # 07:29 in Berlin
    canary.run(ScheduledTrigger(morning), "r-parked")
    world.parking.found = ParkingFacts()  # started at 07:30, the records released
    world.probe.statuses["backend"] = 200
    reads = len(world.parking.asked)

    after_start = canary.run(ScheduledTrigger(morning + dt.timedelta(minutes=2)), "r-start")
    live = [
        canary.run(ScheduledTrigger(morning + dt.timedelta(minutes=m)), f"r-{m}") for m in (3, 4)
    ]

    # Leaving the parked phase the tags are read (an override's end may be the start); once
    # live with nothing parked they cannot change the phase and are not read.
    assert after_start.watches["backend"].phase is Phase.LIVE
    assert len(world.parking.asked) == reads + 1
    assert [o.watches["backend"].phase for o in live] == [Phase.LIVE, Phase.LIVE]
    assert [o.watches["backend"].reason for o in live] == ["live", "live"]
    # A parked record again (19:00): read again.
    world.parking.found = parked_service(EVENING)
    world.probe.statuses["backend"] = 503
    night = canary.run(ScheduledTrigger(EVENING + dt.timedelta(minutes=1)), "r-night")
    assert night.watches["backend"].phase is Phase.PARKED
    assert len(world.parking.asked) == reads + 2


def test_unreadable_parking_facts_keep_a_parked_check_parked_and_say_so(world):
    canary = parked_world(world)
    world.probe.statuses["backend"] = 503
    world.parking.found = parked_service(EVENING)
    canary.run(ScheduledTrigger(EVENING), "r-1")
    world.parking.refuse = True

    outcome = canary.run(ScheduledTrigger(EVENING + dt.timedelta(minutes=1)), "r-2")

    assert outcome.watches["backend"].phase is Phase.PARKED
    assert outcome.report.errors[0].startswith(
        "parked resources unknown, parked checks kept parked"
    )
