"""The simulated week: its dates, its holiday, and the instants of everything injected into it.
Pure (no I/O): the clock and the zone are arguments.

The week is Monday 19 to Sunday 25 October 2026 in Europe/Berlin: summer time ends on Sunday 25
October at 03:00 CEST (the clock goes back to 02:00 CET, so that Sunday lasts 25 hours), and
Wednesday 21 October is declared a company holiday in the schedule's `except` list, so the
scheduler keeps staging parked that day. 7 x 24 hours + 1 = 169 hours, 10,140 minutes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

MONDAY = dt.date(2026, 10, 19)
HOLIDAY = dt.date(2026, 10, 21)  # a Wednesday, added to the schedule's `except` list
INCIDENT_DAY = dt.date(2026, 10, 20)  # a Tuesday afternoon
BUDGET_DAY = dt.date(2026, 10, 22)
MINUTE = dt.timedelta(minutes=1)


class Injected(StrEnum):
    """What the week injects besides the schedules."""

    PUSH = "push"  # CI pushes main-<sha> to ECR; ECS reports the deployment completed
    BUDGET = "budget"  # AWS Budgets' 80 % ACTUAL alert
    DATABASE_FAILS = "database-fails"  # the database refuses connections (RDS still available)
    DATABASE_RECOVERS = "database-recovers"
    BAD_PUSH = "bad-push"  # a push whose deployment the circuit breaker rolls back


@dataclass(frozen=True)
class Incident:
    """An injected incident: what it is and when it starts and ends."""

    name: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Week:
    """Monday 00:00 to the end of Sunday, local time in `zone`."""

    monday: dt.date
    zone: ZoneInfo
    holiday: dt.date

    @property
    def start(self) -> dt.datetime:
        """>>> Week(MONDAY, ZoneInfo("Europe/Berlin"), HOLIDAY).start.isoformat()
        '2026-10-18T22:00:00+00:00'
        """
        return self.local(self.monday, "00:00")

    @property
    def end(self) -> dt.datetime:
        """The instant after the week: next Monday 00:00 local.

        >>> week = Week(MONDAY, ZoneInfo("Europe/Berlin"), HOLIDAY)
        >>> week.end.isoformat(), (week.end - week.start) / MINUTE
        ('2026-10-25T23:00:00+00:00', 10140.0)
        """
        return self.local(self.monday + dt.timedelta(days=7), "00:00")

    @property
    def days(self) -> tuple[dt.date, ...]:
        return tuple(self.monday + dt.timedelta(days=n) for n in range(7))

    def local(self, date: dt.date, clock: str) -> dt.datetime:
        """The UTC instant of local `clock` (HH:MM) on `date` (the first, if it occurs twice)."""
        hour, minute = (int(part) for part in clock.split(":"))
        moment = dt.datetime.combine(date, dt.time(hour, minute), tzinfo=self.zone)
        return moment.astimezone(dt.UTC)

    def day_of(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def minutes(self) -> Iterator[dt.datetime]:
        at = self.start
        while at < self.end:
            yield at
            at += MINUTE

    def office_days(self) -> tuple[dt.date, ...]:
        """Weekdays that are not the holiday.

        >>> [d.day for d in Week(MONDAY, ZoneInfo("Europe/Berlin"), HOLIDAY).office_days()]
        [19, 20, 22, 23]
        """
        return tuple(d for d in self.days if d.weekday() < 5 and d != self.holiday)

    def injections(self) -> tuple[tuple[dt.datetime, Injected], ...]:
        """Everything injected, in time order: a push on each office day at 10:00, the two
        incidents on Tuesday afternoon (the database fails 14:00-14:10, a bad push at 15:30 is
        rolled back), the budget alert on Thursday at 18:00.

        >>> week = Week(MONDAY, ZoneInfo("Europe/Berlin"), HOLIDAY)
        >>> [(f"{week.local_label(at)}", kind.value) for at, kind in week.injections()][:4]
        [('Mon 10:00', 'push'), ('Tue 10:00', 'push'), ('Tue 14:00', 'database-fails'), \
('Tue 14:10', 'database-recovers')]
        """
        found = [(self.local(day, "10:00"), Injected.PUSH) for day in self.office_days()]
        found += [
            (self.local(INCIDENT_DAY, "14:00"), Injected.DATABASE_FAILS),
            (self.local(INCIDENT_DAY, "14:10"), Injected.DATABASE_RECOVERS),
            (self.local(INCIDENT_DAY, "15:30"), Injected.BAD_PUSH),
            (self.local(BUDGET_DAY, "18:00"), Injected.BUDGET),
        ]
        return tuple(sorted(found))

    def incidents(self) -> tuple[Incident, ...]:
        """The two injected incidents and their windows (the rollback's lasts until ECS has
        rolled back: 15:30 to 15:42)."""
        return (
            Incident(
                "database fails for 10 minutes",
                self.local(INCIDENT_DAY, "14:00"),
                self.local(INCIDENT_DAY, "14:10"),
            ),
            Incident(
                "a deploy rolls back",
                self.local(INCIDENT_DAY, "15:30"),
                self.local(INCIDENT_DAY, "15:42"),
            ),
        )

    def at_label(self, label: str) -> dt.datetime:
        """The instant of a label such as "Tue 13:30" in this week.

        >>> Week(MONDAY, ZoneInfo("Europe/Berlin"), HOLIDAY).at_label("Tue 13:30").isoformat()
        '2026-10-20T11:30:00+00:00'
        """
        day, clock = label.split()
        (date,) = [d for d in self.days if f"{d:%a}".lower() == day.lower()[:3]]
        return self.local(date, clock)

    def local_label(self, moment: dt.datetime) -> str:
        return f"{moment.astimezone(self.zone):%a %H:%M}"
