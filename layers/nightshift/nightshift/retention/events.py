"""The pruner's trigger: EventBridge Scheduler's `{"time": ..., "dry_run": ...}`, read by the one
parser the scheduled functions share (`nightshift.trigger.ScheduledTrigger`)."""

from __future__ import annotations

from nightshift.trigger import ScheduledTrigger

FUNCTION = "pruner"


def pruner_trigger(event: object) -> ScheduledTrigger:
    """The run `event` asks for; EventError says what is wrong with it.

    >>> pruner_trigger({"time": "2026-11-20T03:00:00Z", "dry_run": True}).label
    '2026-11-20T03:00:00Z'
    """
    return ScheduledTrigger.from_event(event, FUNCTION)


__all__ = ["FUNCTION", "ScheduledTrigger", "pruner_trigger"]
