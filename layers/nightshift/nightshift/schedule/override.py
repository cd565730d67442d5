"""The `nightshift:override` tag: hold a resource running or stopped until a time, then let the
schedule take over again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nightshift.schedule.timeline import format_local

# tag value prefix -> the state it holds
OVERRIDE_STATES = {"running-until": True, "stopped-until": False}


class InvalidOverride(ValueError):
    """An override tag value that does not say `running-until=` or `stopped-until=` a time."""


@dataclass(frozen=True)
class Override:
    """A temporary exception: hold `running` until `until` (UTC), then the schedule decides."""

    running: bool
    until: dt.datetime
    text: str

    def active_at(self, instant: dt.datetime) -> bool:
        return instant < self.until

    def describe(self, zone: ZoneInfo) -> str:
        state = "running" if self.running else "stopped"
        return f"override holds it {state} until {format_local(self.until.astimezone(zone))}"


def parse_override(text: str, zone: ZoneInfo) -> Override:
    """Read an override tag value; a time without an offset is wall-clock time in `zone`.

    >>> from zoneinfo import ZoneInfo
    >>> o = parse_override("stopped-until=2026-03-02T09:00", ZoneInfo("Europe/Berlin"))
    >>> (o.running, o.until.isoformat())
    (False, '2026-03-02T08:00:00+00:00')
    >>> parse_override("running-until=2026-03-02T09:00Z", ZoneInfo("UTC")).running
    True
    """
    value = text.strip()
    state, separator, when = value.partition("=")
    if not separator or state not in OVERRIDE_STATES:
        raise InvalidOverride(
            f"override {text!r} is not understood; expected "
            "running-until=<ISO time> or stopped-until=<ISO time>"
        )
    try:
        until = dt.datetime.fromisoformat(when.strip())
    except ValueError as exc:
        raise InvalidOverride(
            f"override {text!r} has no valid ISO time after '='; e.g. 2026-03-02T09:00+01:00"
        ) from exc
    if until.tzinfo is None:
        until = until.replace(tzinfo=zone)
    return Override(running=OVERRIDE_STATES[state], until=until.astimezone(dt.UTC), text=value)
