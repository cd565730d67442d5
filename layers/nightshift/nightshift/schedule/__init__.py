"""The scheduler's pure core: schedules, overrides and the reconciling planner.

No boto3, no clock: time is an argument. The service (`service.Scheduler`) sweeps the tagged
resources and reads the parked records through its ports (`ports`), describes only the resources
`plan.plan_describes` names, calls `plan.plan_run` once, and carries out the returned RunPlan;
`report` turns the run into the report. The trigger is in `events`, the settings and
the scheduler's part of the policy in `settings`.

This package re-exports only the schedules and the resources (`model`, `override`, `resources`,
`timeline`), which the canary reads too, and the scheduler's view of the policy (`policy`), each
imported from its module when first asked for. The planner (`plan`) and the pricing of a run that
starts or stops something (`savings`) are imported from their own modules, so that a cold
start loads them only where its first run needs them: the canary plans nothing, and the
scheduler prices only when it switches (tests/unit/test_cold_start.py).
"""

from typing import TYPE_CHECKING

from nightshift.lazy import lazy_exports

if TYPE_CHECKING:
    from nightshift.schedule.model import (
        Period,
        Schedule,
        parse_days,
    )
    from nightshift.schedule.override import (
        InvalidOverride,
        Override,
        parse_override,
    )
    from nightshift.schedule.policy import (
        SchedulerPolicy,
        SchedulerSettings,
    )
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

# Each name is imported from its module when first asked for (nightshift.lazy): a function that
# reads one module (the actions function formats times with `timeline`) loads that module and
# what it imports, and the scheduler's view of the policy (`policy`) is built only where asked
# for: the canary reads the schedules only (tests/unit/test_cold_start.py).
__getattr__ = lazy_exports(
    __name__,
    globals(),
    {
        "model": (
            "Period",
            "Schedule",
            "parse_days",
        ),
        "override": (
            "InvalidOverride",
            "Override",
            "parse_override",
        ),
        "resources": (
            "OVERRIDE_TAG",
            "SCHEDULE_TAG",
            "Capacity",
            "ParkedRecord",
            "ParkState",
            "PowerState",
            "ResourceKind",
            "ScheduledResource",
        ),
        "timeline": (
            "ScheduleState",
            "Transition",
            "is_running_at",
            "next_start",
            "next_transition",
            "previous_transition",
            "transitions",
        ),
        "policy": (
            "SchedulerPolicy",
            "SchedulerSettings",
        ),
    },
)

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
