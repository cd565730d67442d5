"""The scheduler's pure core: schedules, overrides and the reconciling planner.

No boto3, no clock: time is an argument. The service (`service.Scheduler`) sweeps the tagged
resources and reads the parked records through its ports (`ports`), describes only the resources
`plan.plan_describes` names, calls `plan.plan_run` once, and carries out the returned RunPlan;
`report` turns the run into the report. The trigger is in `events`, the settings and
the scheduler's part of the policy in `settings`.

This package re-exports only the schedules and the resources (`model`, `override`, `resources`,
`timeline`), which the canary reads too, and the scheduler's view of the policy (`policy`,
imported when asked for). The planner (`plan`) and the pricing of a run that
starts or stops something (`savings`) are imported from their own modules, so that a cold
start loads them only where its first run needs them: the canary plans nothing, and the
scheduler prices only when it switches (tests/unit/test_cold_start.py).
"""

from typing import TYPE_CHECKING, Any

from nightshift.schedule.model import Period, Schedule, parse_days
from nightshift.schedule.override import InvalidOverride, Override, parse_override
from nightshift.schedule.resources import (
    OVERRIDE_TAG,
    SCHEDULE_TAG,
    Capacity,
    ParkedRecord,
    ParkState,
    PowerState,
    ResourceKind,
    ScheduledResource,
)
from nightshift.schedule.timeline import (
    ScheduleState,
    Transition,
    is_running_at,
    next_start,
    next_transition,
    previous_transition,
    transitions,
)

if TYPE_CHECKING:
    from nightshift.schedule.policy import SchedulerPolicy, SchedulerSettings


def __getattr__(name: str) -> Any:
    """`SchedulerPolicy` and `SchedulerSettings` (`policy`), imported when first asked for: the
    canary reads the schedules only (tests/unit/test_cold_start.py)."""
    if name in {"SchedulerPolicy", "SchedulerSettings"}:
        from nightshift.schedule import policy

        return getattr(policy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "OVERRIDE_TAG",
    "SCHEDULE_TAG",
    "Capacity",
    "InvalidOverride",
    "Override",
    "ParkState",
    "ParkedRecord",
    "Period",
    "PowerState",
    "ResourceKind",
    "Schedule",
    "ScheduleState",
    "ScheduledResource",
    "SchedulerPolicy",
    "SchedulerSettings",
    "Transition",
    "is_running_at",
    "next_start",
    "next_transition",
    "parse_days",
    "parse_override",
    "previous_transition",
    "transitions",
]
