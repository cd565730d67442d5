"""The simulated day: which date it is, and the instants of its steps.

The demo plays one office day of staging and the night after it, on the local clock of the
policy's schedule (Europe/Berlin). Nothing waits for the clock: every function is invoked with
the time its schedule or event would carry.

The date is not fixed, because CloudWatch is not timeless: it drops metric datapoints more than
two weeks old or two hours ahead, and the canary stamps its metrics with the scheduled time. So
the day is the latest office day whose canary step lies in the past (within the last two weeks),
and whose next day is an office day too (the morning start). Pure: the clock is an argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# The step whose metrics CloudWatch must accept (the canary's) and how long it runs at most.
CANARY_STEP = dt.time(13, 0)
CANARY_STEP_LENGTH = dt.timedelta(minutes=30)
# CloudWatch accepts datapoints up to two weeks old; keep a day of margin.
OLDEST_CANARY_STEP = dt.timedelta(days=13)
# Mon-Thu: the day and the next morning are both office days (mon-fri in the policy).
DAY_WEEKDAYS = frozenset({0, 1, 2, 3})


class DayError(ValueError):
    """A demo date that cannot be played, and why."""


@dataclass(frozen=True)
class DemoDay:
    """One office day (`date`) and the night after it, in `zone`.

    >>> day = DemoDay(dt.date(2026, 11, 19), ZoneInfo("Europe/Berlin"))
    >>> day.at("13:00").isoformat(), day.at("02:00", next_day=True).isoformat()
    ('2026-11-19T12:00:00+00:00', '2026-11-20T01:00:00+00:00')
    """

    date: dt.date
    zone: ZoneInfo

    def at(self, clock: str, *, next_day: bool = False) -> dt.datetime:
        """The UTC instant of `clock` (HH:MM, local) on the day or the next day."""
        hour, minute = (int(part) for part in clock.split(":"))
        date = self.date + dt.timedelta(days=1 if next_day else 0)
        local = dt.datetime.combine(date, dt.time(hour, minute), tzinfo=self.zone)
        return local.astimezone(dt.UTC)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.zone)

    def label(self) -> str:
        """>>> DemoDay(dt.date(2026, 11, 19), ZoneInfo("Europe/Berlin")).label()
        'Thursday 19 November 2026 (Europe/Berlin)'
        """
        return f"{self.date:%A} {self.date.day} {self.date:%B %Y} ({self.zone.key})"


def choose_day(now: dt.datetime, zone: ZoneInfo, holidays: Collection[dt.date]) -> DemoDay:
    """The latest playable day at `now`: Mon-Thu, neither it nor the next day a holiday (the
    policy's `except` dates), its canary step over and at most 13 days ago.

    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> saturday = dt.datetime(2026, 11, 21, 23, 0, tzinfo=dt.UTC)
    >>> choose_day(saturday, berlin, ()).date
    datetime.date(2026, 11, 19)
    >>> tuesday_morning = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
    >>> choose_day(tuesday_morning, berlin, ()).date   # Monday's 13:00 is past, not Tuesday's
    datetime.date(2026, 11, 23)
    """
    today = now.astimezone(zone).date()
    for back in range(OLDEST_CANARY_STEP.days + 1):
        day = DemoDay(today - dt.timedelta(days=back), zone)
        if playable(day, now, holidays) is None:
            return day
    raise DayError(f"no playable office day in the {OLDEST_CANARY_STEP.days} days before {now}")


def playable(day: DemoDay, now: dt.datetime, holidays: Collection[dt.date]) -> str | None:
    """Why `day` cannot be played at `now`, or None if it can.

    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> now = dt.datetime(2026, 11, 21, 23, 0, tzinfo=dt.UTC)
    >>> playable(DemoDay(dt.date(2026, 11, 20), berlin), now, ())
    'Friday is not Monday to Thursday: the day and the next morning must both be office days'
    """
    if day.date.weekday() not in DAY_WEEKDAYS:
        return (
            f"{day.date:%A} is not Monday to Thursday: the day and the next morning must both "
            "be office days"
        )
    for date in (day.date, day.date + dt.timedelta(days=1)):
        if date in holidays:
            return f"{date.isoformat()} is a holiday in the policy's schedule (except)"
    canary = day.at(CANARY_STEP.strftime("%H:%M"))
    if canary + CANARY_STEP_LENGTH > now:
        return (
            f"its canary step ({day.local(canary):%Y-%m-%d %H:%M}) is not over yet: CloudWatch "
            "drops datapoints more than two hours ahead"
        )
    if canary < now - OLDEST_CANARY_STEP:
        return (
            f"its canary step is more than {OLDEST_CANARY_STEP.days} days ago: CloudWatch drops "
            "datapoints older than two weeks"
        )
    return None


def zulu(moment: dt.datetime) -> str:
    """The ISO form schedules and events carry.

    >>> zulu(dt.datetime(2026, 11, 19, 8, 0, tzinfo=dt.UTC))
    '2026-11-19T08:00:00Z'
    """
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
