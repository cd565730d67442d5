"""The scheduled functions' shared input parser: `{"time": ..., "dry_run": ...}` becomes a typed
ScheduledTrigger; anything else an EventError that says what was expected, briefly."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest

import nightshift.trigger
from nightshift.errors import EventError
from nightshift.trigger import ScheduledTrigger

HUGE = "x" * 400_000


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ([{"time": "2026-11-20T18:00:00Z"}], "must be a JSON object"),
        ("2026-11-20T18:00:00Z", "must be a JSON object"),
        (None, "must be a JSON object"),
        ({}, 'needs "time"'),
        ({"time": ["2026-11-20T18:00:00Z"]}, 'needs "time"'),
        ({"time": 1795158175}, 'needs "time"'),
        ({"time": HUGE}, 'needs "time"'),
        ({"time": "yesterday"}, "not an ISO 8601 time"),
        ({"time": "2026-11-20T18:00:00"}, "no time zone"),
        ({"time": "9999-12-31T23:59:59Z"}, "not between 2000 and 2099"),
        ({"time": "0001-01-01T00:00:00+01:00"}, "not between 2000 and 2099"),
        ({"time": "2026-11-20T18:00:00Z", "dry_run": "yes"}, "true or false"),
        ({"time": "2026-11-20T18:00:00Z", "dry_run": [HUGE]}, "true or false"),
    ],
)
def test_malformed_input_is_an_event_error_naming_the_function_and_the_problem(
    event: object, problem: str
) -> None:
    with pytest.raises(EventError, match=problem) as refused:
        ScheduledTrigger.from_event(event, "pruner")

    assert str(refused.value).startswith("pruner input")
    assert len(str(refused.value)) < 300


def test_scheduler_input_and_eventbridge_scheduled_event_read_the_same() -> None:
    scheduled = ScheduledTrigger.from_event({"time": "2026-11-20T19:00:00+01:00"}, "scheduler")
    rule = ScheduledTrigger.from_event(
        {"detail-type": "Scheduled Event", "time": "2026-11-20T18:00:00Z"}, "scheduler"
    )

    assert scheduled == rule == ScheduledTrigger(dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC))


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(nightshift.trigger, optionflags=doctest.ELLIPSIS)

    assert result.failed == 0
