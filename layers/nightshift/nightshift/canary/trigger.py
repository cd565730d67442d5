"""What starts a canary run (pure): the schedule's input, turned into a typed `ScheduledRun`.

EventBridge Scheduler delivers the template's Input with `<aws.scheduler.scheduled-time>`
substituted, so the function receives `{"time": "2026-11-20T13:00:00Z"}`. A person asking for a
plan (scripts/invoke) adds `"dry_run": true`. An EventBridge scheduled event (which also carries a
top-level `time`) reads the same way, so the function can be moved to a rule without a change.
The input is read by the scheduled functions' shared parser (`nightshift.trigger`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from nightshift.errors import ConfigurationError
from nightshift.trigger import ScheduledTrigger

_RATE = re.compile(r"rate\((?P<value>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)")
_SECONDS_PER_UNIT = {"minute": 60, "hour": 3600, "day": 86_400}


@dataclass(frozen=True)
class ScheduledRun:
    """One canary run: the time it was scheduled for (UTC), and whether only a plan is wanted.

    >>> ScheduledRun.from_event({"time": "2026-11-20T13:00:00Z"}).iso_time
    '2026-11-20T13:00:00Z'
    """

    time: dt.datetime
    dry_run: bool = False

    @property
    def iso_time(self) -> str:
        return self.time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

    @classmethod
    def from_event(cls, event: Any) -> ScheduledRun:
        """The run an event asks for; EventError names what is wrong with the event.

        >>> run = ScheduledRun.from_event({"time": "2026-11-20T14:00:00+01:00", "dry_run": True})
        >>> run.iso_time, run.dry_run
        ('2026-11-20T13:00:00Z', True)
        """
        trigger = ScheduledTrigger.from_event(event, "canary")
        return cls(time=trigger.time, dry_run=trigger.dry_run)


def rate_seconds(expression: str) -> int:
    """The interval of a Scheduler `rate(...)` expression, in seconds (the canary's alarm period).

    >>> rate_seconds("rate(1 minute)"), rate_seconds("rate(5 minutes)")
    (60, 300)
    """
    match = _RATE.fullmatch(expression.strip())
    if match is None:
        raise ConfigurationError(
            f"canary rate must read rate(<n> minute[s]|hour[s]|day[s]), got {expression!r}"
        )
    value, unit = int(match["value"]), match["unit"].removesuffix("s")
    if (value == 1) != (not match["unit"].endswith("s")):
        raise ConfigurationError(
            f"canary rate {expression!r}: Scheduler wants the singular unit for 1 only"
        )
    return value * _SECONDS_PER_UNIT[unit]
