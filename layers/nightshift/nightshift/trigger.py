"""The input EventBridge Scheduler gives the scheduler, the pruner and the canary, turned into a
typed `ScheduledTrigger` at the edge.

EventBridge Scheduler delivers the template's Input with `<aws.scheduler.scheduled-time>`
substituted: `{"time": "2026-11-20T18:00:00Z"}`. A person asking for a plan adds
`"dry_run": true`. An EventBridge scheduled event (which also carries a top-level `time`) reads
the same way. Anything else is an EventError that says what was expected; a value that does not
fit is quoted briefly, never whole (an event field can be 256 KB).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from nightshift.errors import EventError

TIME_FIELD = "time"
DRY_RUN_FIELD = "dry_run"
# A scheduled time outside these years is a mistake, not a schedule; refusing it here keeps
# year-9999 arithmetic (expiry times, cursors) from overflowing deeper in.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
_LONGEST_TIME = 64  # characters: an ISO 8601 instant with microseconds and offset is about 32
_QUOTE = 80  # characters of a bad value quoted in an error


@dataclass(frozen=True)
class ScheduledTrigger:
    """One scheduled run: the time it was scheduled for (UTC), and whether only to plan.

    >>> trigger = ScheduledTrigger.from_event(
    ...     {"time": "2026-11-20T19:00:00+01:00", "dry_run": True}, "scheduler")
    >>> trigger.time.isoformat(), trigger.dry_run
    ('2026-11-20T18:00:00+00:00', True)
    >>> ScheduledTrigger.from_event({"time": "9999-12-31T23:59:59Z"}, "pruner")
    Traceback (most recent call last):
    ...
    nightshift.errors.EventError: pruner input "time" 9999-12-31T23:59:59+00:00 is not between ...
    """

    time: dt.datetime
    dry_run: bool = False

    @property
    def label(self) -> str:
        """The scheduled time as reports and logs write it: ISO 8601 in UTC, with a Z."""
        return self.time.isoformat().replace("+00:00", "Z")

    @classmethod
    def from_event(cls, event: object, function: str) -> ScheduledTrigger:
        """The run `event` asks `function` for; EventError names what is wrong with it."""
        if not isinstance(event, Mapping):
            raise EventError(
                f'{function} input must be a JSON object like {{"time": '
                f'"<aws.scheduler.scheduled-time>"}}, got {type(event).__name__}'
            )
        text = event.get(TIME_FIELD)
        if not isinstance(text, str) or len(text) > _LONGEST_TIME:
            raise EventError(
                f'{function} input needs "time" (the schedule\'s <aws.scheduler.scheduled-time>),'
                f" got {quoted(text)}"
            )
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise EventError(
                f'{function} input "time" is not an ISO 8601 time: {quoted(text)}'
            ) from exc
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise EventError(
                f'{function} input "time" has no time zone: {quoted(text)}; '
                "expected e.g. 2026-11-20T18:00:00Z"
            )
        at = within_years(moment, f'{function} input "time"')
        dry_run = event.get(DRY_RUN_FIELD, False)
        if not isinstance(dry_run, bool):
            raise EventError(
                f'{function} input "dry_run" must be true or false, got {quoted(dry_run)}'
            )
        return cls(time=at, dry_run=dry_run)


def within_years(moment: dt.datetime, what: str) -> dt.datetime:
    """`moment` (aware) in UTC, or EventError when it lies outside EARLIEST..LATEST.

    >>> within_years(dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC), "time")
    Traceback (most recent call last):
    ...
    nightshift.errors.EventError: time 9999-12-31T23:59:00+00:00 is not between 2000 and 2099
    """
    try:
        at = moment.astimezone(dt.UTC)
    except OverflowError:  # year 1 with a positive offset lies before datetime.min
        at = None
    if at is None or not EARLIEST <= at < LATEST:
        raise EventError(
            f"{what} {moment.isoformat()} is not between {EARLIEST.year} and {LATEST.year - 1}"
        )
    return at


def quoted(value: object) -> str:
    """`repr(value)`, cut short: an error quotes what it refused without repeating all of it.

    >>> quoted("x" * 400_000)[:12], len(quoted("x" * 400_000))
    ("'xxxxxxxxxxx", 96)
    """
    text = repr(value)
    if len(text) <= _QUOTE:
        return text
    return f"{text[:_QUOTE]}… ({len(text)} chars)"
