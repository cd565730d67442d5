"""When a schedule of the template is due, on the week's minute clock. Pure: no I/O.

The week fires every schedule the deployed stack has (`Router.schedules()`: SAM's `ScheduleV2`
events, which become EventBridge Scheduler schedules, and `Schedule` events, which become
EventBridge rules) at its own expression: `rate(N minutes|hours|days)` from the week's start,
and `cron(minutes hours day-of-month month day-of-week year)` read in the schedule's time zone
(`ScheduleExpressionTimezone`; rules are UTC), so a cron at 03:00 Europe/Berlin fires at 03:00
CEST before the clocks go back and at 03:00 CET after. Supported cron fields: numbers, lists,
ranges, steps (`0/15`, `*/5`) and `*`/`?`; day-of-week by name or number (1 = Sunday);
day-of-month and month `*`/`?` only. Anything else is refused rather than fired at the wrong times.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

RATE = re.compile(r"rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class Due:
    """A schedule's expression, ready to ask whether it fires at a minute."""

    expression: str
    zone: ZoneInfo
    every: dt.timedelta | None = None  # rate(...)
    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()  # Monday = 0, as datetime.weekday()

    @classmethod
    def of(cls, expression: str, zone: str = "UTC") -> Due:
        """>>> Due.of("rate(5 minutes)").every
        datetime.timedelta(seconds=300)
        >>> sorted(Due.of("cron(0 8 ? * MON-FRI *)", "Europe/Berlin").weekdays)
        [0, 1, 2, 3, 4]
        """
        rate = RATE.fullmatch(expression)
        if rate is not None:
            unit = rate["unit"].rstrip("s") + "s"
            return cls(expression, ZoneInfo(zone), dt.timedelta(**{unit: int(rate["value"])}))
        fields = expression.removeprefix("cron(").removesuffix(")").split()
        if not expression.startswith("cron(") or len(fields) != 6:
            raise ValueError(f"{expression} is neither rate(...) nor cron(...) of six fields")
        minute, hour, day, month, weekday, year = fields
        if day not in ("*", "?") or month != "*" or year != "*":
            raise ValueError(f"{expression}: the week fires daily or weekly crons only")
        return cls(
            expression,
            ZoneInfo(zone),
            minutes=_field(minute, range(60)),
            hours=_field(hour, range(24)),
            weekdays=_field(weekday, range(7), names=True),
        )

    def fires(self, at: dt.datetime, start: dt.datetime) -> bool:
        """Whether the schedule fires at the minute `at` of a play that began at `start`.

        >>> start = dt.datetime(2026, 10, 18, 22, tzinfo=dt.UTC)  # Monday 00:00 in Berlin
        >>> pruner = Due.of("cron(0 3 * * ? *)", "Europe/Berlin")
        >>> pruner.fires(dt.datetime(2026, 10, 19, 1, tzinfo=dt.UTC), start)  # 03:00 CEST
        True
        >>> pruner.fires(dt.datetime(2026, 10, 25, 2, tzinfo=dt.UTC), start)  # 03:00 CET
        True
        >>> Due.of("rate(5 minutes)").fires(start + dt.timedelta(minutes=10), start)
        True
        """
        if self.every is not None:
            return (at - start) % self.every == dt.timedelta(0)
        local = at.astimezone(self.zone)
        return (
            local.minute in self.minutes
            and local.hour in self.hours
            and local.weekday() in self.weekdays
        )


def _field(text: str, allowed: range, *, names: bool = False) -> frozenset[int]:
    """The values a cron field names; day-of-week values (1 = SUN) become datetime weekdays.

    >>> sorted(_field("0,30", range(60))), sorted(_field("2-3", range(7), names=True))
    ([0, 30], [0, 1])
    >>> sorted(_field("0/15", range(60))), sorted(_field("*/20", range(60)))
    ([0, 15, 30, 45], [0, 20, 40])
    """
    everything = range(1, 8) if names else allowed
    if text in ("*", "?"):
        values = set(everything)
    else:
        values = set()
        for part in text.split(","):
            span, _, step = part.partition("/")  # `start/step` or `*/step`: every step-th value
            if span == "*":
                first, last = everything[0], everything[-1]
            else:
                low, _, high = span.partition("-")
                first = _value(low, names)
                last = _value(high, names) if high else (everything[-1] if step else first)
            if first > last:
                raise ValueError(f"cron field {text!r}: a range must go upwards")
            values.update(range(first, last + 1, int(step) if step else 1))
    if names:  # cron's 1..7 = SUN..SAT -> datetime's 0..6 = MON..SUN
        return frozenset((value - 2) % 7 for value in values)
    if not values <= set(allowed):
        raise ValueError(f"cron field {text!r} is out of range")
    return frozenset(values)


def _value(text: str, names: bool) -> int:
    if names and text.upper() in DAYS:
        return DAYS.index(text.upper()) + 1
    if not text.isdigit():
        raise ValueError(f"cron value {text!r} is not supported by the week")
    return int(text)
