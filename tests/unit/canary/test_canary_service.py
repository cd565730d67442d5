"""One canary run wired to in-memory fakes: what is emitted, changed, remembered and reported."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from nightshift.canary import Check
from nightshift.canary.alarms import AlarmRules
from nightshift.canary.report import unprobed_report
from nightshift.canary.service import Canary
from nightshift.canary.status import CheckState, StatusBoard
from nightshift.errors import PolicyError
from nightshift.trigger import ScheduledTrigger
from tests.support.fakes.canary import (
    FakeAlarms,
    FakeMemory,
    FakeMetrics,
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
            "last report unknown, reporting anyway: GetItem failed with "
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
