"""When a schedule runs: its state at an instant and its transitions over a window.

Pure time arithmetic; every instant in and out is timezone-aware, and results are in UTC.

Wall-clock times are read as RFC 5545 (iCalendar) reads them, which is also Python's `fold=0`:
- a time the clock skips (spring forward) is read with the offset in force before the jump, so
  a period starting at 02:30 on the night Berlin jumps from 02:00 to 03:00 starts at 03:30 new
  time, the moment 02:30 would have been; it still starts;
- a time the clock repeats (fall back) means its first occurrence, so a repeated hour never
  starts a period twice;
- if reading a skipped start that way puts it at or after the period's stop (a period shorter
  than the jump, e.g. 02:30-03:15), the stop is read with the start's offset too, so the period
  keeps its wall-clock length instead of vanishing.
An occurrence belongs to the local date it starts on: an `except` date cancels the periods that
start on it; an overnight period that started the evening before still runs to its stop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from nightshift.schedule.model import Period, Schedule

UTC = dt.UTC
_WINDOW = dt.timedelta(days=8)  # longer than a week: every window of a weekly pattern sees it
_MARGIN = dt.timedelta(days=3)  # an occurrence lasts under two days, even across DST
_HORIZON = dt.timedelta(days=400)  # how far since/until are looked for


@dataclass(frozen=True)
class Transition:
    """The moment a schedule starts (`running=True`) or stops its resources."""

    at: dt.datetime  # UTC
    running: bool  # the state from `at` on
    schedule: str
    period: Period
    local: dt.datetime  # `at` on the schedule's wall clock

    @property
    def reason(self) -> str:
        verb = "starts" if self.running else "stops"
        return f"{self.schedule} {verb} at {format_local(self.local)} (period {self.period})"


@dataclass(frozen=True)
class ScheduleState:
    """Whether a schedule runs at an instant, why, and the transitions around it.

    `since` is the last transition at or before the instant and `until` the first after it;
    either is None when the schedule does not change within 400 days (it runs around the clock).
    """

    running: bool
    reason: str
    since: dt.datetime | None
    until: dt.datetime | None


class _Run:
    """One run of a schedule's periods. A plain class: internal to this module, never compared
    or shown, so not a data class built at every cold start (tests/unit/test_cold_start.py)."""

    __slots__ = ("start", "start_period", "stop", "stop_period")

    def __init__(
        self, start: dt.datetime, stop: dt.datetime, start_period: Period, stop_period: Period
    ) -> None:
        self.start = start
        self.stop = stop
        self.start_period = start_period
        self.stop_period = stop_period


def format_local(local: dt.datetime) -> str:
    """`2026-03-02 19:00 CET`: how reasons show a wall-clock time."""
    return local.strftime("%Y-%m-%d %H:%M %Z").strip()


def is_running_at(schedule: Schedule, instant: dt.datetime) -> ScheduleState:
    """The schedule's state at `instant` (timezone-aware), with the reason and its bounds.

    >>> from nightshift.schedule.model import Schedule
    >>> office = Schedule.from_section("office-hours", {"timezone": "Europe/Berlin",
    ...     "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}]})
    >>> state = is_running_at(office, dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    >>> state.running, state.until.isoformat()
    (True, '2026-03-02T18:00:00+00:00')
    >>> is_running_at(office, dt.datetime(2026, 3, 2, 18, 0, tzinfo=UTC)).running
    False
    """
    at = _utc(instant)
    local = at.astimezone(schedule.zone)
    current = next(
        (run for run in _occurrences(schedule, at, at) if run.start <= at < run.stop), None
    )
    since = previous_transition(schedule, at)
    until = next_transition(schedule, at)
    if current is not None:
        reason = f"{schedule.name}: running in period {current.start_period} ({schedule.timezone})"
        reason += f" until {format_local(until.local)}" if until else " around the clock"
    elif local.date() in schedule.except_dates:
        reason = f"{schedule.name}: {local.date().isoformat()} is an except date"
    else:
        reason = f"{schedule.name}: outside its periods"
    if current is None and until is not None:
        reason += f"; next start {format_local(until.local)}"
    return ScheduleState(
        running=current is not None,
        reason=reason,
        since=since.at if since else None,
        until=until.at if until else None,
    )


def transitions(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[Transition]:
    """The schedule's transitions strictly after `start` and at or before `end`, in order.

    They alternate between starts and stops; periods that overlap or touch run as one.

    >>> from nightshift.schedule.model import Schedule
    >>> nights = Schedule.from_section("nights", {"timezone": "UTC",
    ...     "periods": [{"days": "mon", "start": "22:00", "stop": "06:00"}]})
    >>> [(t.running, t.at.isoformat()) for t in transitions(nights,
    ...     dt.datetime(2026, 3, 2, tzinfo=UTC), dt.datetime(2026, 3, 4, tzinfo=UTC))]
    [(True, '2026-03-02T22:00:00+00:00'), (False, '2026-03-03T06:00:00+00:00')]
    """
    lo, hi = _utc(start), _utc(end)
    found: list[Transition] = []
    for run in _merged(_occurrences(schedule, lo, hi)):
        if lo < run.start <= hi:
            found.append(_transition(schedule, run.start, True, run.start_period))
        if lo < run.stop <= hi:
            found.append(_transition(schedule, run.stop, False, run.stop_period))
    return found


def next_transition(schedule: Schedule, after: dt.datetime) -> Transition | None:
    """The first transition strictly after `after`, or None if none within 400 days."""
    return next(_transitions_after(schedule, _utc(after)), None)


def previous_transition(schedule: Schedule, at: dt.datetime) -> Transition | None:
    """The last transition at or before `at`, or None if none within 400 days."""
    hi = _utc(at)
    limit = hi - _reach(schedule, hi, forward=False)
    while hi > limit:
        lo = max(hi - _WINDOW, limit)
        found = transitions(schedule, lo, hi)
        if found:
            return found[-1]
        hi = lo
    return None


def next_start(schedule: Schedule, after: dt.datetime) -> Transition | None:
    """The first start strictly after `after` (after the coming stop if it runs at `after`)."""
    return next((t for t in _transitions_after(schedule, _utc(after)) if t.running), None)


def _transitions_after(schedule: Schedule, after: dt.datetime) -> Iterator[Transition]:
    lo = after
    limit = after + _reach(schedule, after, forward=True)
    while lo < limit:
        hi = min(lo + _WINDOW, limit)
        yield from transitions(schedule, lo, hi)
        lo = hi


def _reach(schedule: Schedule, instant: dt.datetime, *, forward: bool) -> dt.timedelta:
    """How far to look for a transition: a week-plus, or past the farthest except date that way.

    Beyond every except date a schedule repeats weekly, so a week-plus with no transition
    means none ever (a schedule that runs around the clock).
    """
    day = instant.astimezone(schedule.zone).date()
    if forward:
        beyond = [d - day for d in schedule.except_dates if d >= day]
    else:
        beyond = [day - d for d in schedule.except_dates if d <= day]
    reach = max([_WINDOW, *(gap + _MARGIN + _WINDOW for gap in beyond)])
    return min(reach, _HORIZON)


def _occurrences(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[_Run]:
    """Every period occurrence that can touch [start, end], sorted by start."""
    first = (start - _MARGIN).astimezone(schedule.zone).date()
    last = (end + _MARGIN).astimezone(schedule.zone).date()
    runs: list[_Run] = []
    day = first
    while day <= last:
        if day not in schedule.except_dates:
            runs.extend(
                _occurrence(schedule, period, day)
                for period in schedule.periods
                if day.weekday() in period.days
            )
        day += dt.timedelta(days=1)
    return sorted(runs, key=lambda run: (run.start, run.stop))


def _occurrence(schedule: Schedule, period: Period, day: dt.date) -> _Run:
    start_local = dt.datetime.combine(day, period.start, tzinfo=schedule.zone)  # fold=0
    start = start_local.astimezone(UTC)
    stop_day = day + dt.timedelta(days=1) if period.overnight else day
    stop_wall = dt.datetime.combine(stop_day, period.stop)
    stop = stop_wall.replace(tzinfo=schedule.zone).astimezone(UTC)
    if stop <= start:
        # A start in the skipped hour read with the old offset overtook its stop: keep the
        # period's wall-clock length by reading the stop with the same offset.
        offset = start_local.utcoffset() or dt.timedelta()
        stop = (stop_wall - offset).replace(tzinfo=UTC)
    return _Run(start=start, stop=stop, start_period=period, stop_period=period)


def _merged(runs: list[_Run]) -> Iterator[_Run]:
    """Overlapping or touching occurrences as one run each (input sorted by start)."""
    current: _Run | None = None
    for run in runs:
        if current is not None and run.start <= current.stop:
            if run.stop > current.stop:
                current = _Run(current.start, run.stop, current.start_period, run.stop_period)
            continue
        if current is not None:
            yield current
        current = run
    if current is not None:
        yield current


def _transition(schedule: Schedule, at: dt.datetime, running: bool, period: Period) -> Transition:
    return Transition(
        at=at,
        running=running,
        schedule=schedule.name,
        period=period,
        local=at.astimezone(schedule.zone),
    )


def _utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware instant, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)
