"""When a run is worth a report: the status board and the publish decision."""

from __future__ import annotations

import datetime as dt

import pytest

from nightshift.canary import Check, CheckResult, Observation, ProbeResults, assess
from nightshift.canary.status import (
    CheckState,
    StatusBoard,
    changes,
    check_state,
    publish_decision,
)

API = Check.build(
    "api", "https://api.example.com/health", ["[STATUS] == 200", "[CERTIFICATE_EXPIRATION] > 14d"]
)


def result(run_time: dt.datetime, *, status: int = 200, cert_days: float = 40.0) -> CheckResult:
    seen = Observation(
        run_time,
        status=status,
        response_time_ms=80.0,
        certificate_not_after=run_time + dt.timedelta(days=cert_days),
    )
    return CheckResult(API, assess(API, seen), attempts=1)


@pytest.mark.parametrize(
    ("options", "state"),
    [
        ({}, CheckState.UP),
        ({"cert_days": 9.0}, CheckState.UP_WITH_WARNING),
        ({"status": 503}, CheckState.DOWN),
        ({"status": 503, "cert_days": 9.0}, CheckState.DOWN),
    ],
)
def test_check_state_follows_the_verdict_and_the_certificate_warning(run_time, options, state):
    assert check_state(result(run_time, **options)) is state


def test_check_that_could_not_be_probed_is_its_own_state():
    not_probed = CheckResult(API, verdict=None, attempts=0, setup_error="secret x cannot be read")

    assert check_state(not_probed) is CheckState.NOT_PROBED


def test_board_of_a_run_keeps_policy_order_and_the_alarm_problem(run_time):
    results = ProbeResults(run_time, (result(run_time, status=500),), 90.0)

    board = StatusBoard.of(results, "PutMetricAlarm failed with AccessDenied: no")

    assert board.checks == (("api", CheckState.DOWN),)
    assert board.alarms == "failing: PutMetricAlarm failed with AccessDenied: no"
    assert StatusBoard.from_json(board.to_json()) == board


UP = StatusBoard((("api", CheckState.UP), ("admin", CheckState.UP)))


@pytest.mark.parametrize(
    ("previous", "current", "alarms_changed", "dry_run", "publish", "reason"),
    [
        (None, UP, 0, False, True, "first run on record"),
        (UP, UP, 0, False, False, "nothing changed since the last report"),
        (UP, UP, 0, True, True, "a dry run always reports"),
        (UP, UP, 2, False, True, "changed: 2 alarm changes made"),
        (
            UP,
            StatusBoard((("api", CheckState.DOWN), ("admin", CheckState.UP))),
            0,
            False,
            True,
            "changed: api: up -> down",
        ),
        (
            UP,
            StatusBoard((("api", CheckState.UP_WITH_WARNING), ("admin", CheckState.UP))),
            0,
            False,
            True,
            "changed: api: up -> up, certificate warning",
        ),
        (
            UP,
            StatusBoard(UP.checks, alarms="failing: DescribeAlarms failed with Throttling: x"),
            0,
            False,
            True,
            "changed: alarms: in step -> failing: DescribeAlarms failed with Throttling: x",
        ),
    ],
)
def test_publish_decision_reports_only_what_people_have_not_seen(
    previous, current, alarms_changed, dry_run, publish, reason
):
    decision = publish_decision(previous, current, alarms_changed=alarms_changed, dry_run=dry_run)

    assert (decision.publish, decision.reason) == (publish, reason)


def test_same_failure_run_after_run_is_reported_once():
    down = StatusBoard((("api", CheckState.DOWN),), alarms="failing: PutMetricAlarm failed")

    assert not publish_decision(down, down).publish


def test_added_and_removed_checks_are_changes():
    now = StatusBoard((("admin", CheckState.UP), ("shop", CheckState.NOT_PROBED)))

    assert changes(UP, now) == ("shop: new check (not probed)", "api: removed from the policy")
