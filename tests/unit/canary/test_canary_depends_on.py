"""`depends_on` in the policy: parsed into the check, validated at load, warned about by
check-policy when missing, and the start alarm and metrics it calls for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from nightshift.canary import Check, canary_policy
from nightshift.canary.alarms import AlarmRules, desired_alarms
from nightshift.canary.metrics import metric_points
from nightshift.canary.parking import Dependency, Phase, Watch, WatchDecision
from nightshift.canary.verdict import CheckResult, Observation, ProbeResults, assess
from nightshift.errors import PolicyError
from nightshift.policy import parse_policy
from nightshift_tools.policy_check import review_text

ROOT = Path(__file__).resolve().parents[3]
TOPIC = "arn:aws:sns:eu-central-1:111122223333:nightshift-ops-staging"
RULES = AlarmRules("staging", "Nightshift", TOPIC, period_seconds=60)
OFFICE_HOURS = {
    "timezone": "Europe/Berlin",
    "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}],
}


def policy_text(depends_on: object = None, *, schedules: bool = True) -> str:
    check: dict[str, object] = {
        "name": "backend",
        "url": "https://staging.example.com/health",
        "conditions": ["[STATUS] == 200"],
    }
    if depends_on is not None:
        check["depends_on"] = depends_on
    document: dict[str, object] = {"version": 1, "canaries": [check]}
    if schedules:
        document["schedules"] = {"office-hours": OFFICE_HOURS}
    return yaml.safe_dump(document, sort_keys=False)


def test_schedule_dependency_is_read_with_its_bound_and_the_policys_schedules():
    loaded = canary_policy(
        parse_policy(policy_text({"schedule": "office-hours", "healthy_within_minutes": 20}))
    )

    [check] = loaded.checks
    assert check.depends_on == Dependency(
        schedule="office-hours", healthy_within=dt.timedelta(minutes=20)
    )
    assert set(loaded.schedules) == {"office-hours"}


def test_schedule_dependency_in_a_target_account_and_region():
    spec = {"schedule": "office-hours", "account": "222222222222", "region": "eu-west-1"}

    [check] = canary_policy(parse_policy(policy_text(spec))).checks

    assert check.depends_on == Dependency(
        schedule="office-hours", account="222222222222", region="eu-west-1"
    )


def test_tag_dependency_defaults_to_fifteen_minutes():
    [check] = canary_policy(parse_policy(policy_text({"tags": {"app": "todoapp"}}))).checks

    assert check.depends_on == Dependency(tags=(("app", "todoapp"),))
    assert check.depends_on.healthy_within == dt.timedelta(minutes=15)


@pytest.mark.parametrize(
    ("depends_on", "problem"),
    [
        ({"schedule": "nights"}, "unknown schedule 'nights'; defined: office-hours"),
        ({"schedule": "office-hours", "tags": {"app": "x"}}, "needs exactly one of"),
        ({"healthy_within_minutes": 10}, "needs exactly one of"),
        ({"schedule": "office-hours", "healthy_within_minutes": 0}, "healthy_within_minutes"),
        ("nothing", "depends_on"),
        ({"tags": {"app": "x"}, "account": "222222222222"}, "go with `schedule` only"),
        ({"schedule": "office-hours", "account": "2222"}, "depends_on.account"),
        ({"schedule": "office-hours", "region": "Ireland"}, "depends_on.region"),
    ],
)
def test_a_wrong_dependency_is_a_policy_error_naming_the_field(depends_on, problem):
    review = review_text(policy_text(depends_on), "nightshift.yaml")

    assert not review.ok
    assert problem in "; ".join(str(m) for m in review.mistakes)
    assert all("canaries[0]" in str(m) for m in review.mistakes)
    if isinstance(depends_on, dict) and "nights" in str(depends_on):
        with pytest.raises(PolicyError, match=r"canaries\[0\]\.depends_on\.schedule"):
            parse_policy(policy_text(depends_on))


def test_check_policy_warns_about_a_check_that_does_not_say_in_a_policy_with_schedules():
    silent = review_text(policy_text(), "nightshift.yaml")
    said = review_text(policy_text({"schedule": "office-hours"}), "nightshift.yaml")
    opted_out = review_text(policy_text("none"), "nightshift.yaml")
    no_schedules = review_text(policy_text(schedules=False), "prod.yaml")

    assert silent.ok
    assert [w.split(" does not say")[0] for w in silent.warnings] == [
        "nightshift.yaml: canaries[0]: check 'backend'"
    ]
    assert "add `depends_on: {schedule: <name>}`" in silent.warnings[0]
    assert (said.warnings, opted_out.warnings, no_schedules.warnings) == ((), (), ())


@pytest.mark.parametrize("name", ["nightshift.yaml", "demo.yaml", "prod.yaml"])
def test_shipped_policies_have_no_parking_warning(name):
    text = (ROOT / "policy" / name).read_text(encoding="utf-8")

    review = review_text(text, name)

    assert review.ok
    assert not review.warnings


def test_shipped_staging_backend_depends_on_office_hours():
    text = (ROOT / "policy" / "nightshift.yaml").read_text(encoding="utf-8")

    [backend] = canary_policy(parse_policy(text)).checks

    assert backend.depends_on is not None
    assert backend.depends_on.schedule == "office-hours"


def test_a_check_with_depends_on_gets_a_start_alarm_paging_on_late_start():
    api = Check.build("api", "http://api.internal/health", ["[STATUS] == 200"])
    backend = Check.build(
        "backend",
        "http://backend.internal/health",
        ["[STATUS] == 200"],
        depends_on=Dependency(schedule="office-hours"),
    )

    alarms = {a.name: a for a in desired_alarms([api, backend], RULES)}

    start = alarms["nightshift-staging-canary-check-start-backend"]
    assert "nightshift-staging-canary-check-start-api" not in alarms
    assert (start.metric_name, start.statistic, start.threshold, start.comparison) == (
        "LateStart",
        "Maximum",
        1.0,
        "GreaterThanOrEqualToThreshold",
    )
    assert (start.datapoints_to_alarm, start.evaluation_periods, start.period) == (1, 1, 60)
    assert start.treat_missing_data == "ignore"
    assert start.alarm_actions == start.ok_actions == (TOPIC,)
    assert "not healthy 15 min after" in start.description
    assert {a.treat_missing_data for a in alarms.values()} == {"ignore"}


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (Phase.PARKED, {"Parked": 1.0, "DaysToCertExpiry": 30.0}),
        (Phase.STARTING, {"Parked": 0.0, "DaysToCertExpiry": 30.0}),
        (Phase.LATE, {"Parked": 0.0, "LateStart": 1.0, "DaysToCertExpiry": 30.0}),
    ],
)
def test_a_check_not_live_publishes_no_success_latency_or_dependency_points(phase, expected):
    now = dt.datetime(2026, 12, 7, 20, tzinfo=dt.UTC)
    check = Check.build(
        "backend",
        "https://backend.example.com/health",
        ["[STATUS] == 200"],
        depends_on=Dependency(schedule="office-hours"),
    )
    seen = Observation(
        now,
        status=503,
        response_time_ms=12.0,
        body=b'{"services": {"database": {"status": "down"}}}',
        certificate_not_after=now + dt.timedelta(days=30),
    )
    results = ProbeResults(now, (CheckResult(check, assess(check, seen), 1),), 10.0)
    watch = WatchDecision("backend", phase, "why", Watch(phase, now, now))

    points = metric_points(results, {"backend": watch})

    assert {p.name: p.value for p in points} == expected
    assert {p.dimensions for p in points} == {(("Check", "backend"),)}
