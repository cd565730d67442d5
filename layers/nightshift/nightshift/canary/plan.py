"""A canary run's decisions (pure): which alarm changes bring CloudWatch in step with the checks,
and whether the run is worth a report. No I/O, no clock: what was found is passed in.

The parts live in `alarms` (the alarms each check calls for), `status` (the picture people
last saw) and `parking` (whether a check's environment is intentionally parked); this module is
the one place the service asks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from nightshift.canary.alarms import AlarmPlan, AlarmRules, AlarmSpec, desired_alarms, plan_alarms
from nightshift.canary.checks import Check
from nightshift.canary.parking import ParkingFacts, Watch, WatchDecision, decide
from nightshift.canary.status import PublishDecision, StatusBoard, publish_decision
from nightshift.canary.verdict import ProbeResults
from nightshift.schedule.model import Schedule


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


def watch_plan(
    checks: Iterable[Check],
    results: ProbeResults,
    *,
    facts: ParkingFacts | None,
    schedules: Mapping[str, Schedule],
    previous: Mapping[str, Watch],
    now: dt.datetime,
) -> dict[str, WatchDecision]:
    """The phase of every check with `depends_on` (see `parking.decide`), by check name."""
    decisions: dict[str, WatchDecision] = {}
    for check in checks:
        if check.depends_on is None:
            continue
        decisions[check.name] = decide(
            check.name,
            check.depends_on,
            up=results[check.name].up,
            now=now,
            facts=facts,
            schedules=schedules,
            previous=previous.get(check.name),
        )
    return decisions
