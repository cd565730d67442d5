"""The canary's alarms: what each check calls for, and the plan that brings CloudWatch in step."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nightshift.canary import Check
from nightshift.canary.alarms import (
    MAX_CHANGES_PER_RUN,
    AlarmAction,
    AlarmRules,
    AlarmSpec,
    alarm_item,
    alarm_summary,
    certificate_threshold,
    desired_alarms,
    plan_alarms,
)
from nightshift.errors import ConfigurationError
from nightshift.report import Outcome

PROPERTIES = settings(max_examples=200, deadline=None)
TOPIC = "arn:aws:sns:eu-central-1:111122223333:nightshift-ops-staging"
RULES = AlarmRules("staging", "Nightshift", TOPIC, period_seconds=60)
API = Check.build("api", "https://api.example.com/health", ["[STATUS] == 200"])
ADMIN = Check.build("admin", "http://admin.internal/health", ["[STATUS] < 500"])


def by_name(alarms: tuple[AlarmSpec, ...]) -> dict[str, AlarmSpec]:
    return {alarm.name: alarm for alarm in alarms}


# ------------------------------------------------------------------------------ desired alarms


def test_https_check_gets_a_down_and_a_certificate_alarm_plain_http_only_a_down_alarm():
    alarms = by_name(desired_alarms([API, ADMIN], RULES))

    assert list(alarms) == [
        "nightshift-staging-canary-check-down-api",
        "nightshift-staging-canary-check-certificate-api",
        "nightshift-staging-canary-check-down-admin",
    ]


def test_down_alarm_is_m_of_n_runs_with_success_below_one_on_the_check_dimension_only():
    down = by_name(desired_alarms([API], RULES))["nightshift-staging-canary-check-down-api"]

    assert (down.namespace, down.metric_name, down.dimensions) == (
        "Nightshift",
        "Success",
        (("Check", "api"),),
    )
    assert (down.statistic, down.period, down.threshold, down.comparison) == (
        "Minimum",
        60,
        1.0,
        "LessThanThreshold",
    )
    assert (down.datapoints_to_alarm, down.evaluation_periods) == (3, 5)
    assert down.alarm_actions == down.ok_actions == (TOPIC,)
    assert down.treat_missing_data == "ignore"  # no data holds the state
    assert "in ALARM while it fails 3 of the last 5 runs (one run every 1 min)" in down.description


def test_alarm_period_follows_the_schedule_rate():
    rules = dataclasses.replace(
        RULES, period_seconds=300, datapoints_to_alarm=2, evaluation_periods=3
    )

    down = desired_alarms([ADMIN], rules)[0]

    assert (down.period, down.datapoints_to_alarm, down.evaluation_periods) == (300, 2, 3)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (["[CERTIFICATE_EXPIRATION] > 14d"], (14.0, "LessThanOrEqualToThreshold")),
        (["[CERTIFICATE_EXPIRATION] >= 21d"], (21.0, "LessThanThreshold")),
        (["[CERTIFICATE_EXPIRATION] > 1d12h"], (1.5, "LessThanOrEqualToThreshold")),
        (
            ["[CERTIFICATE_EXPIRATION] > 7d", "[CERTIFICATE_EXPIRATION] > 30d"],
            (30.0, "LessThanOrEqualToThreshold"),
        ),
        (["[STATUS] == 200"], (14.0, "LessThanThreshold")),
    ],
)
def test_certificate_alarm_threshold_comes_from_the_checks_own_condition(conditions, expected):
    check = Check.build("api", "https://api.example.com/health", conditions)

    assert certificate_threshold(check) == expected
    certificate = by_name(desired_alarms([check], RULES))[
        "nightshift-staging-canary-check-certificate-api"
    ]
    assert (certificate.threshold, certificate.comparison) == expected
    assert (certificate.metric_name, certificate.period, certificate.evaluation_periods) == (
        "DaysToCertExpiry",
        3600,
        1,
    )


def test_long_url_keeps_the_description_within_cloudwatchs_limit():
    check = Check.build("api", "https://api.example.com/" + "x" * 2000, ["[STATUS] == 200"])

    assert all(len(a.description) <= 1024 for a in desired_alarms([check], RULES))


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"period_seconds": 90}, "whole minutes"),
        ({"datapoints_to_alarm": 6}, "datapoints"),
        ({"datapoints_to_alarm": 0}, "datapoints"),
        ({"period_seconds": 3600, "evaluation_periods": 25}, "one day"),
    ],
)
def test_alarm_rules_cloudwatch_would_refuse_are_a_configuration_error(options, problem):
    with pytest.raises(ConfigurationError, match=problem):
        dataclasses.replace(RULES, **options)


# ---------------------------------------------------------------------------------- the plan


def test_missing_alarms_are_created_with_the_check_named_in_the_reason():
    plan = plan_alarms(desired_alarms([API], RULES), ())

    assert [(c.action, c.name) for c in plan.changes] == [
        (AlarmAction.CREATE, "nightshift-staging-canary-check-down-api"),
        (AlarmAction.CREATE, "nightshift-staging-canary-check-certificate-api"),
    ]
    assert plan.changes[1].reason == "check 'api' has no certificate alarm yet"


def test_alarms_in_step_need_no_change_even_as_cloudwatch_returns_them():
    wanted = desired_alarms([API], RULES)
    # CloudWatch gives ints back as floats and lists in its own order; neither is a difference.
    described = tuple(
        dataclasses.replace(a, check="", kind=None, threshold=float(a.threshold)) for a in wanted
    )

    plan = plan_alarms(wanted, described)

    assert plan.changes == ()
    assert plan.in_step == tuple(a.name for a in wanted)


def test_alarm_edited_by_hand_is_updated_and_the_reason_says_what_differed():
    wanted = desired_alarms([ADMIN], RULES)
    edited = dataclasses.replace(wanted[0], threshold=0.5, alarm_actions=())

    [change] = plan_alarms(wanted, (edited,)).changes

    assert change.action is AlarmAction.UPDATE
    assert change.reason == (
        f"differs from the policy: threshold 0.5 -> 1.0; alarm actions none -> {TOPIC}"
    )
    assert change.spec == wanted[0]


def test_alarm_of_a_removed_check_is_deleted():
    before = desired_alarms([API, ADMIN], RULES)

    plan = plan_alarms(desired_alarms([ADMIN], RULES), before)

    assert [(c.action, c.name) for c in plan.changes] == [
        (AlarmAction.DELETE, "nightshift-staging-canary-check-certificate-api"),
        (AlarmAction.DELETE, "nightshift-staging-canary-check-down-api"),
    ]
    assert plan.changes[0].reason == "no check in the policy needs it any more"


def test_changes_beyond_the_per_run_limit_are_deferred_to_the_next_runs():
    checks = [
        Check.build(f"c{i}", f"https://c{i}.example.com/", ["[STATUS] == 200"]) for i in range(16)
    ]

    plan = plan_alarms(desired_alarms(checks, RULES), ())

    assert len(plan.changes) == MAX_CHANGES_PER_RUN
    assert len(plan.deferred) == 32 - MAX_CHANGES_PER_RUN


def test_report_lines_and_summary_say_what_was_done_planned_failed_and_deferred():
    change = plan_alarms(desired_alarms([ADMIN], RULES), ()).changes[0]

    failed = alarm_item(change, Outcome.FAILED, "PutMetricAlarm failed with AccessDenied: no")

    assert failed.resource == "nightshift-staging-canary-check-down-admin"
    assert (failed.kind, failed.action) == ("cloudwatch-alarm", "create")
    assert failed.reason.endswith("; PutMetricAlarm failed with AccessDenied: no")
    assert failed.details["check"] == "admin"
    assert failed.details["datapoints"] == "3 of 5"
    assert (
        alarm_summary(
            [
                alarm_item(change, Outcome.DONE),
                alarm_item(change, Outcome.DONE),
                failed,
                alarm_item(change, Outcome.SKIPPED, "deferred"),
            ]
        )
        == "alarms: 2 created, 1 failed, 1 deferred"
    )
    assert alarm_summary([]) is None


# ---------------------------------------------------------------------------------- property

CHECK_NAMES = st.lists(st.sampled_from(["api", "admin", "shop", "web", "auth"]), unique=True)


@st.composite
def checks(draw: st.DrawFn) -> list[Check]:
    return [
        Check.build(
            name,
            f"{draw(st.sampled_from(['http', 'https']))}://{name}.example.com/health",
            [f"[CERTIFICATE_EXPIRATION] > {draw(st.integers(1, 60))}d"]
            if draw(st.booleans())
            else ["[STATUS] == 200"],
        )
        for name in draw(CHECK_NAMES)
    ]


def applied(existing: dict[str, AlarmSpec], plan) -> dict[str, AlarmSpec]:
    after = dict(existing)
    for change in plan.changes:
        if change.action is AlarmAction.DELETE:
            after.pop(change.name)
        else:
            after[change.name] = change.spec
    return after


@PROPERTIES
@given(before=checks(), after=checks(), periods=st.integers(1, 10))
def test_applying_the_plans_converges_on_exactly_the_desired_alarms(before, after, periods):
    """Whatever the alarms were, applying the plan run after run leaves exactly what the policy
    calls for, and then the plan is empty."""
    old_rules = dataclasses.replace(RULES, evaluation_periods=periods, datapoints_to_alarm=1)
    existing = by_name(desired_alarms(before, old_rules))
    wanted = desired_alarms(after, RULES)

    for _ in range(1 + len(existing) + len(wanted)):
        plan = plan_alarms(wanted, tuple(existing.values()), limit=3)
        if not plan.changes:
            break
        existing = applied(existing, plan)

    assert existing == by_name(wanted)
    assert plan_alarms(wanted, tuple(existing.values())).changes == ()
