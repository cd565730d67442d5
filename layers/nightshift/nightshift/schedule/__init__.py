"""The scheduler's pure core: schedules, overrides, the reconciling planner and the week plan.

No boto3, no clock: time is an argument. The service (`service.Scheduler`) sweeps the tagged
resources and reads the parked records through its ports (`ports`), describes only the resources
`plan_describes` names, calls `plan_run` once, and carries out the returned RunPlan; `report`
turns the run into the report. The trigger is in `events`, the settings and
the scheduler's part of the policy in `settings`. Not imported here, so that the function's cold
start does not load them (tests/unit/test_cold_start.py): `week` (the week plan of
`tools/plan_schedule.py`) and `savings` (the pricing of a run that starts or stops something).
"""

from nightshift.schedule.model import (
    Period,
    Schedule,
    SchedulerPolicy,
    SchedulerSettings,
    parse_days,
)
from nightshift.schedule.override import InvalidOverride, Override, parse_override
from nightshift.schedule.plan import (
    Action,
    Decision,
    DescribeNeed,
    RunPlan,
    plan_describes,
    plan_run,
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

__all__ = [
    "OVERRIDE_TAG",
    "SCHEDULE_TAG",
    "Action",
    "Capacity",
    "Decision",
    "DescribeNeed",
    "InvalidOverride",
    "Override",
    "ParkState",
    "ParkedRecord",
    "Period",
    "PowerState",
    "ResourceKind",
    "RunPlan",
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
    "plan_describes",
    "plan_run",
    "previous_transition",
    "transitions",
]
