"""A canary run's decisions (pure): which alarm changes bring CloudWatch in step with the checks,
and whether the run is worth a report. No I/O, no clock: what was found is passed in.

The parts live in `alarms` (the alarms each check calls for) and `status` (the picture people
last saw); this module is the one place the service asks.
"""

from __future__ import annotations

from collections.abc import Iterable

from nightshift.canary.alarms import AlarmPlan, AlarmRules, AlarmSpec, desired_alarms, plan_alarms
from nightshift.canary.checks import Check
from nightshift.canary.status import PublishDecision, StatusBoard, publish_decision


def alarm_plan(
    checks: Iterable[Check], rules: AlarmRules, existing: Iterable[AlarmSpec]
) -> AlarmPlan:
    """The creates, updates and deletes that make the alarms under `rules.prefix` what `checks`
    call for (at most MAX_CHANGES_PER_RUN; the rest deferred), each with its reason.

    >>> alarm_plan((), AlarmRules("staging", "Nightshift", "arn:t", 60), ()).changes
    ()
    """
    return plan_alarms(desired_alarms(checks, rules), tuple(existing))


def report_decision(
    previous: StatusBoard | None, current: StatusBoard, *, alarms_changed: int, dry_run: bool
) -> PublishDecision:
    """Whether this run publishes its report, and why (see `status.publish_decision`)."""
    return publish_decision(previous, current, alarms_changed=alarms_changed, dry_run=dry_run)
