"""The canary's input as EventBridge Scheduler delivers it, and the schedule's rate."""

from __future__ import annotations

import datetime as dt

import pytest

from nightshift.canary.events import canary_trigger
from nightshift.canary.settings import rate_seconds
from nightshift.errors import ConfigurationError, EventError
from nightshift.trigger import ScheduledTrigger
from tests.conftest import event_names, load_event


@pytest.mark.parametrize("name", event_names("canary"))
def test_every_canary_event_fixture_reads_as_a_run(name):
    run = canary_trigger(load_event("canary", name))

    assert run.time.tzinfo is dt.UTC
    assert run.label == load_event("canary", name)["time"]


def test_scheduler_input_is_the_scheduled_time_in_utc():
    run = canary_trigger({"time": "2026-11-20T13:00:00Z"})

    assert run == ScheduledTrigger(dt.datetime(2026, 11, 20, 13, 0, tzinfo=dt.UTC), dry_run=False)


def test_eventbridge_scheduled_event_reads_the_same_way():
    event = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "111122223333",
        "time": "2026-11-20T13:00:00Z",
        "region": "eu-central-1",
        "resources": ["arn:aws:events:eu-central-1:111122223333:rule/nightshift-canary"],
        "detail": {},
    }

    assert canary_trigger(event).label == "2026-11-20T13:00:00Z"


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ([], "must be a JSON object"),
        ({}, 'needs "time"'),
        ({"time": "<aws.scheduler.scheduled-time>"}, "not an ISO 8601 time"),
        ({"time": "2026-11-20T13:00:00"}, "no time zone"),
        ({"time": "2026-11-20T13:00:00Z", "dry_run": "yes"}, "true or false"),
    ],
)
def test_malformed_input_is_an_event_error_saying_what_is_wrong(event, problem):
    with pytest.raises(EventError, match=problem):
        canary_trigger(event)


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(60 minutes)", 3600),
        ("rate(1 hour)", 3600),
        ("rate(2 hours)", 7200),
    ],
)
def test_rate_expression_gives_the_alarm_period(expression, seconds):
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize(
    "expression", ["rate(1 minutes)", "rate(5 minute)", "cron(0/5 * * * ? *)", "rate(0 minutes)"]
)
def test_rate_scheduler_would_refuse_is_a_configuration_error(expression):
    with pytest.raises(ConfigurationError, match="canary rate"):
        rate_seconds(expression)
