"""What starts a canary run: the schedule's input, read by the scheduled functions' one shared
parser (`nightshift.trigger.ScheduledTrigger`: `.time`, `.dry_run`, `.label`).

EventBridge Scheduler delivers the template's Input with `<aws.scheduler.scheduled-time>`
substituted, so the function receives `{"time": "2026-11-20T13:00:00Z"}`. A person asking for a
plan (scripts/invoke) adds `"dry_run": true`. An EventBridge scheduled event (which also carries a
top-level `time`) reads the same way, so the function can be moved to a rule without a change.
"""

from __future__ import annotations

from nightshift.trigger import ScheduledTrigger

FUNCTION = "canary"


def canary_trigger(event: object) -> ScheduledTrigger:
    """The run `event` asks for; EventError names what is wrong with the event.

    >>> trigger = canary_trigger({"time": "2026-11-20T14:00:00+01:00", "dry_run": True})
    >>> trigger.label, trigger.dry_run
    ('2026-11-20T13:00:00Z', True)
    """
    return ScheduledTrigger.from_event(event, FUNCTION)


__all__ = ["FUNCTION", "ScheduledTrigger", "canary_trigger"]
