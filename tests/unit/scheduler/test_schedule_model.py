"""The schedules and scheduler policy sections as typed data, and the override tag."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from nightshift.errors import PolicyError
from nightshift.policy import parse_policy
from nightshift.schedule import (
    InvalidOverride,
    Schedule,
    SchedulerPolicy,
    SchedulerSettings,
    parse_days,
    parse_override,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("sat,sun", {5, 6}),
        ("mon,wed-fri", {0, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("sun", {6}),
        ("mon-sun", set(range(7))),
    ],
)
def test_days_expression_names_the_weekdays(text: str, days: set[int]) -> None:
    assert parse_days(text) == frozenset(days)


def test_unknown_day_name_is_rejected_with_the_valid_names() -> None:
    with pytest.raises(ValueError, match="'mon-fry' is not a day or a range of days"):
        parse_days("mon-fry")


def test_policy_schedule_becomes_a_typed_schedule() -> None:
    policy = parse_policy(
        """
version: 1
schedules:
  office-hours:
    timezone: Europe/Berlin
    periods: [{days: mon-fri, start: "07:30", stop: "19:00"}, {days: sat, start: "22:00", stop: "02:00"}]
    except: [2026-12-24, 2026-12-25]
    enforce: true
scheduler: {dry_run: true, max_stops: 5, max_stop_share: 0.5}
"""
    )

    model = SchedulerPolicy.from_policy(policy)
    office = model.schedules["office-hours"]

    assert office.zone == BERLIN
    assert [str(p) for p in office.periods] == ["mon-fri 07:30-19:00", "sat 22:00-02:00"]
    assert [p.overnight for p in office.periods] == [False, True]
    assert office.except_dates == {dt.date(2026, 12, 24), dt.date(2026, 12, 25)}
    assert office.enforce
    assert model.settings == SchedulerSettings(dry_run=True, max_stops=5, max_stop_share=0.5)


def test_scheduler_settings_default_to_a_cautious_breaker_and_live_runs() -> None:
    assert SchedulerSettings.from_section(None) == SchedulerSettings(
        dry_run=False, max_stops=50, max_stop_share=1.0
    )


def test_unknown_time_zone_is_a_policy_error_naming_the_field() -> None:
    with pytest.raises(PolicyError) as caught:
        Schedule.from_section(
            "office-hours",
            {
                "timezone": "Europe/Berln",
                "periods": [{"days": "mon", "start": "08:00", "stop": "09:00"}],
            },
            "policy/nightshift.yaml",
        )

    assert caught.value.path == "schedules.office-hours.timezone"
    assert str(caught.value).startswith(
        "policy/nightshift.yaml: schedules.office-hours.timezone: unknown time zone 'Europe/Berln'"
    )


def test_period_with_equal_start_and_stop_is_a_policy_error() -> None:
    with pytest.raises(PolicyError) as caught:
        Schedule.from_section(
            "x",
            {"timezone": "UTC", "periods": [{"days": "mon", "start": "08:00", "stop": "08:00"}]},
        )

    assert caught.value.path == "schedules.x.periods[0]"
    assert "start and stop are both 08:00" in caught.value.problem


def test_impossible_except_date_is_a_policy_error() -> None:
    with pytest.raises(PolicyError) as caught:
        Schedule.from_section(
            "x",
            {
                "timezone": "UTC",
                "periods": [{"days": "mon", "start": "08:00", "stop": "09:00"}],
                "except": ["2026-02-30"],
            },
        )

    assert caught.value.path == "schedules.x.except[0]"


def test_schema_rejects_a_malformed_days_expression_before_the_model_sees_it() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(
            """
version: 1
schedules:
  x: {timezone: UTC, periods: [{days: weekdays, start: "08:00", stop: "09:00"}]}
"""
        )

    assert caught.value.path == "schedules.x.periods[0].days"


# -- the override tag -----------------------------------------------------------------------


def test_override_with_offset_is_read_as_that_instant() -> None:
    override = parse_override("running-until=2026-03-02T23:00+01:00", BERLIN)

    assert override.running
    assert override.until == dt.datetime(2026, 3, 2, 22, 0, tzinfo=dt.UTC)


def test_override_without_offset_is_wall_clock_time_in_the_schedule_zone() -> None:
    override = parse_override("stopped-until=2026-07-01T08:00", BERLIN)

    assert not override.running
    assert override.until == dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC)  # CEST


def test_override_is_active_until_its_time_passes() -> None:
    override = parse_override("stopped-until=2026-03-02T12:00Z", BERLIN)

    assert override.active_at(dt.datetime(2026, 3, 2, 11, 59, tzinfo=dt.UTC))
    assert not override.active_at(dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    "text", ["running-till=2026-03-02T12:00", "running-until", "stopped-until=tomorrow", ""]
)
def test_malformed_override_is_rejected_with_the_expected_form(text: str) -> None:
    with pytest.raises(InvalidOverride, match="override"):
        parse_override(text, BERLIN)
