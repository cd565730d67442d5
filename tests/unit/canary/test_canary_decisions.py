"""Pure decisions on probe results: is a check up, which metrics, which report lines."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from nightshift.canary import (
    Check,
    CheckResult,
    MetricPoint,
    Observation,
    ProbeResults,
    Unit,
    assess,
    dependencies_of,
    metric_points,
    report_items,
    run_summary,
)
from nightshift.canary.alarms import AlarmRules
from nightshift.canary.metrics import MAX_DEPENDENCIES, Dependency, dimension_value
from nightshift.report import Outcome

API = Check.build(
    "api",
    "https://api.example.com/health",
    [
        "[STATUS] == 200",
        "[BODY].services.database.status == up",
        "[CERTIFICATE_EXPIRATION] > 14d",
    ],
)
ADMIN = Check.build("admin", "http://admin.internal/health", ["[STATUS] < 500"])


def observed(run_time, body=b"", *, status=200, millis=120.0, cert_days=None, error=None):
    if error is not None:
        return Observation(run_time, error=error)
    not_after = None if cert_days is None else run_time + dt.timedelta(days=cert_days)
    return Observation(
        run_time, status=status, response_time_ms=millis, body=body, certificate_not_after=not_after
    )


def run(run_time, *results):
    return ProbeResults(time=run_time, results=results, wall_time_ms=250.0)


def probed(check, observation, *, attempts=1, first_failure=None):
    return CheckResult(
        check, assess(check, observation), attempts=attempts, first_failure=first_failure
    )


# ---------------------------------------------------------------------------------- verdicts


def test_healthy_answer_is_up_with_all_conditions_passed(run_time, healthy_body):
    verdict = assess(API, observed(run_time, healthy_body, cert_days=60))
    assert verdict.up
    assert verdict.reason == "up: 3/3 conditions passed, HTTP 200 in 120 ms"


def test_degraded_dependency_makes_the_check_down_naming_the_observed_value(
    run_time, degraded_body
):
    verdict = assess(API, observed(run_time, degraded_body, status=503, cert_days=60))
    assert not verdict.up
    assert verdict.reason == (
        "down: [STATUS] == 200: got 503; [BODY].services.database.status == up: got down"
    )


def test_certificate_close_to_expiry_is_a_warning_not_downtime(run_time, healthy_body):
    verdict = assess(API, observed(run_time, healthy_body, cert_days=9.5))
    assert verdict.up
    assert [w.reason for w in verdict.warnings] == ["[CERTIFICATE_EXPIRATION] > 14d: got 9.5d"]
    assert verdict.reason.endswith("; warning: [CERTIFICATE_EXPIRATION] > 14d: got 9.5d")


def test_unreachable_endpoint_is_down_with_the_network_reason(run_time):
    verdict = assess(API, observed(run_time, error="connection refused by api.example.com:443"))
    assert not verdict.up
    assert verdict.reason.startswith("down: connection refused by api.example.com:443")


def test_recovered_on_retry_says_what_the_first_attempt_saw(run_time, healthy_body):
    result = probed(
        ADMIN, observed(run_time, healthy_body), attempts=2, first_failure="down: connection reset"
    )
    assert result.up
    assert result.reason.endswith("(on retry; first attempt down: connection reset)")


# ----------------------------------------------------------------------------------- metrics


def test_healthy_https_check_publishes_success_latency_expiry_and_each_dependency(
    run_time, healthy_body
):
    points = metric_points(
        run(run_time, probed(API, observed(run_time, healthy_body, cert_days=41.5)))
    )
    check = (("Check", "api"),)

    def dep(name):
        return (*check, ("Dependency", name))

    assert points == (
        MetricPoint("Success", check, 1.0, Unit.COUNT),
        MetricPoint("Latency", check, 120.0, Unit.MILLISECONDS),
        MetricPoint("DaysToCertExpiry", check, 41.5, Unit.NONE),
        MetricPoint("Success", dep("database"), 1.0, Unit.COUNT),
        MetricPoint("Latency", dep("database"), 2.5, Unit.MILLISECONDS),
        MetricPoint("Success", dep("redis"), 1.0, Unit.COUNT),
        MetricPoint("Latency", dep("redis"), 0.8, Unit.MILLISECONDS),
        MetricPoint("Success", dep("s3"), 1.0, Unit.COUNT),
        MetricPoint("Latency", dep("s3"), 45.2, Unit.MILLISECONDS),
    )


def test_degraded_body_publishes_failure_for_the_down_dependency_only(run_time, degraded_body):
    points = metric_points(
        run(run_time, probed(ADMIN, observed(run_time, degraded_body, status=200)))
    )
    dependency_success = {
        p.dimension_map["Dependency"]: p.value
        for p in points
        if p.name == "Success" and "Dependency" in p.dimension_map
    }
    assert dependency_success == {"database": 0.0, "redis": 1.0, "s3": 1.0}
    check_success = [p.value for p in points if p.name == "Success" and len(p.dimensions) == 1]
    assert check_success == [1.0]  # only the check's own conditions decide its Success


def test_unreachable_check_publishes_failure_but_no_latency(run_time):
    points = metric_points(run(run_time, probed(ADMIN, observed(run_time, error="timed out"))))
    assert points == (MetricPoint("Success", (("Check", "admin"),), 0.0, Unit.COUNT),)


def test_snoozed_check_publishes_no_success_only_its_certificate(run_time):
    # Snoozed from chat (docs/actions.md): down, but its down alarm sees no data, so no page.
    down = probed(API, observed(run_time, b"", status=503, cert_days=41.5))
    counted = probed(ADMIN, observed(run_time, error="timed out"))
    points = metric_points(run(run_time, down, counted), snoozed=frozenset({"api"}))
    assert points == (
        MetricPoint("DaysToCertExpiry", (("Check", "api"),), 41.5, Unit.NONE),
        MetricPoint("Success", (("Check", "admin"),), 0.0, Unit.COUNT),
    )


def test_check_not_probed_publishes_nothing(run_time):
    result = CheckResult(ADMIN, verdict=None, attempts=0, setup_error="secret x unavailable")
    assert metric_points(run(run_time, result)) == ()


def test_dependency_metrics_are_capped_and_names_sanitised():
    services = {f"svc {i:02d}/primary": {"status": "up", "latency_ms": i} for i in range(25)}
    dependencies = dependencies_of({"services": services})
    assert len(dependencies.kept) == MAX_DEPENDENCIES
    assert dependencies.dropped == 25 - MAX_DEPENDENCIES
    assert dependencies.kept[0] == Dependency("svc_00_primary", True, 0.0)
    assert all(len(d.name) <= 64 for d in dependencies.kept)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"status": "UP"}, Dependency("x", True, None)),
        ({"status": "pass", "latency_ms": 3}, Dependency("x", True, 3.0)),
        ({"status": "degraded", "latency_ms": -1}, Dependency("x", False, None)),
        ({"status": "down", "latency_ms": "slow"}, Dependency("x", False, None)),
        ("healthy", Dependency("x", True, None)),
        (False, Dependency("x", False, None)),
        ({"latency_ms": 4.5}, Dependency("x", None, 4.5)),
        (42, Dependency("x", None, None)),
    ],
)
def test_dependency_entry_shapes_are_read_leniently(entry, expected):
    assert dependencies_of({"services": {"x": entry}}).kept == (expected,)


@pytest.mark.parametrize("document", [None, [], {"services": []}, {"services": "up"}, {}])
def test_body_without_a_services_map_has_no_dependencies(document):
    assert dependencies_of(document).kept == ()


def test_dimension_value_keeps_safe_characters_and_bounds_length():
    assert dimension_value("db.primary-1_eu") == "db.primary-1_eu"
    assert dimension_value("  weird name!! ") == "weird_name"
    assert len(dimension_value("x" * 300)) == 64


# ------------------------------------------------------------------------------------ report


def test_report_items_name_failing_conditions_with_observed_values(
    run_time, healthy_body, degraded_body
):
    results = run(
        run_time,
        probed(API, observed(run_time, degraded_body, cert_days=60), attempts=2, first_failure="x"),
        probed(ADMIN, observed(run_time, healthy_body, millis=80.04)),
    )
    api, admin = report_items(results)
    assert (api.resource, api.kind, api.action, api.outcome) == (
        "api",
        "http-check",
        "probe",
        Outcome.FAILED,
    )
    assert api.reason == "down: [BODY].services.database.status == up: got down"
    assert api.details["failures"] == ["[BODY].services.database.status == up: got down"]
    assert api.details["dependencies"] == {"database": "down", "redis": "up", "s3": "up"}
    assert api.details["attempts"] == 2
    assert api.details["days_to_cert_expiry"] == 60.0
    assert admin.outcome is Outcome.DONE
    assert admin.details["latency_ms"] == 80.0
    json.dumps([api.to_json(), admin.to_json()])  # the report must serialise


def test_a_failure_names_the_alarm_that_pages_for_it_only_when_alarms_are_in_place(
    run_time, healthy_body, degraded_body
):
    """One incident, one page: the down alarm pages, the report's line says so (the notifier
    then shows the report as routine); without alarms in place the line names none."""
    rules = AlarmRules("staging", "Nightshift", "arn:t", 60)
    results = run(
        run_time,
        probed(API, observed(run_time, degraded_body)),
        probed(ADMIN, observed(run_time, healthy_body)),
        CheckResult(ADMIN, verdict=None, attempts=0, setup_error="secret x unavailable"),
    )

    api, admin, unprobed = report_items(results, alarms=rules.name)
    (without,) = report_items(run(run_time, probed(API, observed(run_time, degraded_body))))

    assert api.details["paged_by"] == "nightshift-staging-canary-check-down-api"
    assert "paged_by" not in admin.details  # up
    assert "paged_by" not in unprobed.details  # no datapoint, so no alarm can page
    assert "paged_by" not in without.details


def test_report_item_of_a_check_not_probed_is_failed_with_the_setup_error(run_time):
    result = CheckResult(ADMIN, verdict=None, attempts=0, setup_error="secret x unavailable")
    (item,) = report_items(run(run_time, result))
    assert (item.outcome, item.reason) == (Outcome.FAILED, "not probed: secret x unavailable")


def test_run_summary_counts_up_checks_and_names_down_and_warned_ones(run_time, healthy_body):
    results = run(
        run_time,
        probed(API, observed(run_time, healthy_body, cert_days=3)),
        probed(ADMIN, observed(run_time, error="connection refused")),
    )
    assert run_summary(results) == "1 of 2 checks up; down: admin; certificate warning: api"
    assert results["admin"].up is False
    assert [r.check.name for r in results.failing] == ["admin"]
