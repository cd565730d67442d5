"""The scheduler's trigger: the shared `ScheduledTrigger` (EventBridge Scheduler's
`{"time": "<aws.scheduler.scheduled-time>"}`, optionally `"dry_run": true`), and the refusal of
an event older than the last run.

>>> trigger = ScheduledTrigger.from_event({"time": "2026-11-20T19:00:00+01:00"}, "scheduler")
>>> trigger.label
'2026-11-20T18:00:00Z'
"""

from __future__ import annotations

import datetime as dt

from nightshift.errors import NightshiftError
from nightshift.trigger import ScheduledTrigger

__all__ = ["ScheduledTrigger", "StaleEventError"]


class StaleEventError(NightshiftError):
    """The event is older than the last run; replayed, it would see no schedule boundary
    crossed and could undo what the later run did."""

    def __init__(self, scheduled_time: dt.datetime, last_run: dt.datetime) -> None:
        self.scheduled_time = scheduled_time
        self.last_run = last_run
        super().__init__(
            f"event for {scheduled_time.isoformat()} is older than the last run "
            f"({last_run.isoformat()}); refused"
        )
