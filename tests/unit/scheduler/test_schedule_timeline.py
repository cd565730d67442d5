"""Schedule evaluation: state at an instant and transitions, checked against a brute-force oracle
over random periods, zones and instants, with the DST days of Berlin and New York in focus."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nightshift.schedule import (
    Schedule,
    is_running_at,
    next_start,
    next_transition,
    previous_transition,
    transitions,
)

UTC = dt.UTC
PROPERTY = settings(max_examples=200, deadline=None)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Berlin and New York from the issue, plus zones with odd transitions: at midnight (Santiago,
# Havana), by 30 minutes (Lord Howe), at :45 offsets (Chatham), backwards in spring
# (Casablanca), and none at all (UTC, Kolkata).
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Africa/Casablanca",
    "Asia/Kolkata",
    "UTC",
)
DST_DAYS = {
    "Europe/Berlin": (dt.date(2026, 3, 29), dt.date(2026, 10, 25)),
    "America/New_York": (dt.date(2026, 3, 8), dt.date(2026, 11, 1)),
}


def schedule_of(*periods: tuple[str, str, str], zone: str = "Europe/Berlin", **extra) -> Schedule:
    return Schedule.from_section(
        "test",
        {
            "timezone": zone,
            "periods": [{"days": d, "start": a, "stop": b} for d, a, b in periods],
            **extra,
        },
    )


def at(zone: ZoneInfo, *fields: int, fold: int = 0) -> dt.datetime:
    """A wall-clock time in `zone` as a UTC instant."""
    return dt.datetime(*fields, tzinfo=zone, fold=fold).astimezone(UTC)


# -- the oracle: an independent, slow reading of the rules ----------------------------------


def oracle_instant(zone: ZoneInfo, wall: dt.datetime) -> tuple[dt.datetime, dt.timedelta]:
    """RFC 5545 without zoneinfo's fold: try every offset seen near `wall`, keep the earliest
    instant that shows `wall` on the clock; in a gap, use the offset before the gap."""
    as_utc = wall.replace(tzinfo=UTC)
    offsets = {
        (as_utc + dt.timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-40, 41, 2)
    }
    shows_wall = sorted(
        as_utc - offset
        for offset in offsets
        if offset is not None and (as_utc - offset).astimezone(zone).replace(tzinfo=None) == wall
    )
    if shows_wall:
        instant = shows_wall[0]
        return instant, instant.astimezone(zone).utcoffset() or dt.timedelta()
    before = (as_utc - dt.timedelta(days=1)).astimezone(zone).utcoffset() or dt.timedelta()
    return as_utc - before, before


def oracle_running(schedule: Schedule, instant: dt.datetime) -> bool:
    local_day = instant.astimezone(schedule.zone).date()
    for shift in range(-3, 2):
        day = local_day + dt.timedelta(days=shift)
        if day in schedule.except_dates:
            continue
        for period in schedule.periods:
            if day.weekday() not in period.days:
                continue
            start, offset = oracle_instant(schedule.zone, dt.datetime.combine(day, period.start))
            stop_day = day + dt.timedelta(days=1) if period.stop < period.start else day
            stop_wall = dt.datetime.combine(stop_day, period.stop)
            stop, _ = oracle_instant(schedule.zone, stop_wall)
            if stop <= start:
                stop = stop_wall.replace(tzinfo=UTC) - offset
            if start <= instant < stop:
                return True
    return False


# -- strategies -----------------------------------------------------------------------------


@cache
def offset_changes(zone: str) -> tuple[dt.datetime, ...]:
    """Hours in 2026 at which `zone` changes its offset."""
    info = ZoneInfo(zone)
    hour = dt.datetime(2026, 1, 1, tzinfo=UTC)
    found, previous = [], hour.astimezone(info).utcoffset()
    while hour.year == 2026:
        hour += dt.timedelta(hours=1)
        offset = hour.astimezone(info).utcoffset()
        if offset != previous:
            found.append(hour)
        previous = offset
    return tuple(found)


wall_times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
day_sets = st.lists(
    st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    min_size=1,
    max_size=7,
    unique=True,
).map(",".join)


@st.composite
def periods(draw: st.DrawFn) -> dict[str, str]:
    start = draw(wall_times)
    stop = draw(wall_times.filter(lambda t: t != start))
    return {"days": draw(day_sets), "start": f"{start:%H:%M}", "stop": f"{stop:%H:%M}"}


@st.composite
def schedules(draw: st.DrawFn, zone: str | None = None) -> Schedule:
    name = zone or draw(st.sampled_from(ZONES))
    changes = offset_changes(name) or (dt.datetime(2026, 6, 1, tzinfo=UTC),)
    near = st.sampled_from(changes).map(lambda c: c.date()) | st.dates(
        dt.date(2026, 1, 1), dt.date(2026, 12, 31)
    )
    excepted = draw(st.lists(near.map(lambda d: d.isoformat()), max_size=3))
    return Schedule.from_section(
        "random",
        {
            "timezone": name,
            "periods": draw(st.lists(periods(), min_size=1, max_size=3)),
            "except": excepted,
        },
    )


@st.composite
def instants(draw: st.DrawFn, schedule: Schedule) -> dt.datetime:
    """Mostly within a day and a half of an offset change, else anywhere in 2026."""
    changes = offset_changes(schedule.timezone)
    if changes and draw(st.booleans()):
        minutes = draw(st.integers(-36 * 60, 36 * 60))
        return draw(st.sampled_from(changes)) + dt.timedelta(minutes=minutes)
    return draw(
        st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31), timezones=st.just(UTC))
    )


# -- properties -----------------------------------------------------------------------------


@PROPERTY
@given(data=st.data())
def test_running_at_agrees_with_brute_force_oracle(data: st.DataObject) -> None:
    schedule = data.draw(schedules())
    instant = data.draw(instants(schedule))

    assert is_running_at(schedule, instant).running == oracle_running(schedule, instant)


@PROPERTY
@given(data=st.data())
def test_transitions_alternate_and_each_flips_the_oracle_state(data: st.DataObject) -> None:
    schedule = data.draw(schedules())
    start = data.draw(instants(schedule))
    end = start + dt.timedelta(hours=data.draw(st.integers(1, 24 * 9)))

    found = transitions(schedule, start, end)

    running = oracle_running(schedule, start)
    for transition in found:
        assert start < transition.at <= end
        assert transition.running is not running
        assert oracle_running(schedule, transition.at) is transition.running
        assert oracle_running(schedule, transition.at - dt.timedelta(microseconds=1)) is running
        running = transition.running


@PROPERTY
@given(data=st.data())
def test_no_transition_is_missed_between_window_start_and_any_instant(
    data: st.DataObject,
) -> None:
    schedule = data.draw(schedules())
    start = data.draw(instants(schedule))
    probe = start + dt.timedelta(minutes=data.draw(st.integers(0, 60 * 24 * 8)))

    flips = transitions(schedule, start, probe)
    expected = flips[-1].running if flips else oracle_running(schedule, start)

    assert oracle_running(schedule, probe) is expected


@PROPERTY
@given(data=st.data())
def test_transitions_of_adjacent_windows_join_without_gap_or_double(data: st.DataObject) -> None:
    schedule = data.draw(schedules())
    start = data.draw(instants(schedule))
    middle = start + dt.timedelta(minutes=data.draw(st.integers(0, 60 * 24 * 4)))
    end = middle + dt.timedelta(minutes=data.draw(st.integers(0, 60 * 24 * 4)))

    joined = transitions(schedule, start, middle) + transitions(schedule, middle, end)

    assert joined == transitions(schedule, start, end)


@PROPERTY
@given(data=st.data())
def test_state_holds_from_since_until_until(data: st.DataObject) -> None:
    schedule = data.draw(schedules())
    instant = data.draw(instants(schedule))

    state = is_running_at(schedule, instant)
    assume(state.since is not None and state.until is not None)  # not round the clock

    assert state.since <= instant < state.until
    assert oracle_running(schedule, state.since) is state.running
    assert oracle_running(schedule, state.since - dt.timedelta(microseconds=1)) is not state.running
    assert oracle_running(schedule, state.until) is not state.running
    assert not transitions(schedule, state.since, instant)
    assert previous_transition(schedule, instant).at == state.since
    assert next_transition(schedule, instant).at == state.until


@PROPERTY
@given(data=st.data())
def test_next_start_is_the_first_start_after_the_instant(data: st.DataObject) -> None:
    schedule = data.draw(schedules())
    instant = data.draw(instants(schedule))

    following = next_start(schedule, instant)
    assume(following is not None)  # not round the clock

    assert following.running
    assert following.at > instant
    starts_between = [t for t in transitions(schedule, instant, following.at) if t.running]
    assert starts_between == [following]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@PROPERTY
@given(data=st.data())
def test_a_period_starting_in_the_skipped_hour_still_starts_and_runs(
    zone: str, data: st.DataObject
) -> None:
    info = ZoneInfo(zone)
    spring = DST_DAYS[zone][0]
    start = dt.time(2, data.draw(st.integers(0, 59)))
    stop = data.draw(wall_times.filter(lambda t: t != start))
    schedule = schedule_of(("sun", f"{start:%H:%M}", f"{stop:%H:%M}"), zone=zone)
    day_begin = at(info, spring.year, spring.month, spring.day)
    day_end = day_begin + dt.timedelta(hours=23)  # the short day

    starts = [t for t in transitions(schedule, day_begin, day_end) if t.running]

    # 02:MM does not exist; it happens when it would have been: 03:MM new time.
    assert len(starts) == 1
    assert starts[0].at == dt.datetime.combine(spring, start, tzinfo=info).astimezone(UTC)
    assert starts[0].local.replace(tzinfo=None) == dt.datetime.combine(
        spring, start.replace(hour=3)
    )
    assert is_running_at(schedule, starts[0].at).running


@pytest.mark.parametrize(("zone", "hour"), [("Europe/Berlin", 2), ("America/New_York", 1)])
@PROPERTY
@given(data=st.data())
def test_a_period_starting_in_the_repeated_hour_starts_once(
    zone: str, hour: int, data: st.DataObject
) -> None:
    info = ZoneInfo(zone)
    autumn = DST_DAYS[zone][1]
    start = dt.time(hour, data.draw(st.integers(0, 59)))
    stop = data.draw(wall_times.filter(lambda t: t != start))
    schedule = schedule_of(("sun", f"{start:%H:%M}", f"{stop:%H:%M}"), zone=zone)
    day_begin = at(info, autumn.year, autumn.month, autumn.day)
    day_end = day_begin + dt.timedelta(hours=25)  # the long day

    starts = [t for t in transitions(schedule, day_begin, day_end) if t.running]

    assert len(starts) == 1
    assert starts[0].at == dt.datetime.combine(autumn, start, tzinfo=info).astimezone(UTC)
    second_pass = dt.datetime.combine(autumn, start, tzinfo=info).replace(fold=1).astimezone(UTC)
    assert not any(
        t.at == second_pass and t.running for t in transitions(schedule, day_begin, day_end)
    )


@PROPERTY
@given(data=st.data())
def test_a_daily_period_runs_on_every_local_day_whatever_the_clock_does(
    data: st.DataObject,
) -> None:
    zone = data.draw(st.sampled_from(ZONES))
    period = data.draw(periods())
    schedule = schedule_of(("mon-sun", period["start"], period["stop"]), zone=zone)
    changes = offset_changes(zone) or (dt.datetime(2026, 6, 1, tzinfo=UTC),)
    day = data.draw(st.sampled_from(changes)).astimezone(schedule.zone).date()
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=schedule.zone).astimezone(UTC)
    next_day = day + dt.timedelta(days=1)
    next_midnight = dt.datetime.combine(next_day, dt.time(), tzinfo=schedule.zone).astimezone(UTC)

    runs_at_midnight = is_running_at(schedule, midnight).running
    starts = [t for t in transitions(schedule, midnight, next_midnight) if t.running]

    assert runs_at_midnight or starts
    for start in starts:
        assert is_running_at(schedule, start.at).running


# -- examples -------------------------------------------------------------------------------


def test_office_hours_run_on_weekdays_in_local_time() -> None:
    office = schedule_of(("mon-fri", "07:30", "19:00"))

    assert not is_running_at(office, at(BERLIN, 2026, 3, 2, 7, 29)).running
    assert is_running_at(office, at(BERLIN, 2026, 3, 2, 7, 30)).running
    assert is_running_at(office, at(BERLIN, 2026, 3, 2, 18, 59)).running
    assert not is_running_at(office, at(BERLIN, 2026, 3, 2, 19, 0)).running
    assert not is_running_at(office, at(BERLIN, 2026, 3, 7, 12, 0)).running  # Saturday


def test_stop_earlier_than_start_runs_overnight_into_the_next_day() -> None:
    nights = schedule_of(("fri", "22:00", "06:00"))

    assert is_running_at(nights, at(BERLIN, 2026, 3, 6, 23, 0)).running
    assert is_running_at(nights, at(BERLIN, 2026, 3, 7, 5, 59)).running  # Saturday morning
    assert not is_running_at(nights, at(BERLIN, 2026, 3, 7, 6, 0)).running


def test_except_date_cancels_periods_starting_that_day_with_reason() -> None:
    office = schedule_of(("mon-fri", "07:30", "19:00"), **{"except": ["2026-12-24"]})

    state = is_running_at(office, at(BERLIN, 2026, 12, 24, 12, 0))

    assert not state.running
    assert "2026-12-24 is an except date" in state.reason
    assert "next start 2026-12-25 07:30 CET" in state.reason


def test_overnight_period_from_the_evening_before_an_except_date_runs_to_its_stop() -> None:
    nights = schedule_of(("mon-sun", "22:00", "06:00"), **{"except": ["2026-12-24"]})

    assert is_running_at(nights, at(BERLIN, 2026, 12, 24, 5, 0)).running
    assert not is_running_at(nights, at(BERLIN, 2026, 12, 24, 23, 0)).running


def test_overlapping_and_touching_periods_run_as_one_without_inner_transitions() -> None:
    day = schedule_of(
        ("mon", "08:00", "12:00"), ("mon", "12:00", "18:00"), ("mon", "10:00", "13:00")
    )

    found = transitions(day, at(BERLIN, 2026, 3, 2), at(BERLIN, 2026, 3, 3))

    assert [(t.running, t.local.strftime("%H:%M")) for t in found] == [
        (True, "08:00"),
        (False, "18:00"),
    ]


def test_berlin_spring_forward_start_at_0230_starts_at_0330_summer_time() -> None:
    maintenance = schedule_of(("sun", "02:30", "06:00"))

    found = transitions(maintenance, at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30))

    assert [t.at.isoformat() for t in found] == [
        "2026-03-29T01:30:00+00:00",  # 03:30 CEST: when 02:30 would have been
        "2026-03-29T04:00:00+00:00",  # 06:00 CEST
    ]


def test_period_shorter_than_the_jump_keeps_its_length_on_the_short_day() -> None:
    short = schedule_of(("sun", "02:30", "03:15"))

    found = transitions(short, at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30))

    assert [t.local.strftime("%H:%M %Z") for t in found] == ["03:30 CEST", "04:15 CEST"]


def test_new_york_fall_back_period_in_the_repeated_hour_runs_in_its_first_pass_only() -> None:
    short = schedule_of(("sun", "01:15", "01:45"), zone="America/New_York")

    found = transitions(short, at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 2))

    assert [t.local.strftime("%H:%M %Z") for t in found] == ["01:15 EDT", "01:45 EDT"]
    assert not is_running_at(short, at(NEW_YORK, 2026, 11, 1, 1, 30, fold=1)).running


def test_round_the_clock_schedule_has_no_bounds_and_says_so() -> None:
    always = schedule_of(("mon-sun", "00:00", "12:00"), ("mon-sun", "12:00", "00:00"))

    state = is_running_at(always, at(BERLIN, 2026, 3, 2, 9))

    assert state.running
    assert (state.since, state.until) == (None, None)
    assert state.reason.endswith("around the clock")
    assert next_start(always, at(BERLIN, 2026, 3, 2, 9)) is None


def test_naive_instant_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_running_at(schedule_of(("mon", "08:00", "09:00")), dt.datetime(2026, 3, 2, 8))
