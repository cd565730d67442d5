"""The probe engine against real local HTTP and HTTPS servers whose health we switch."""

from __future__ import annotations

import datetime as dt
import random
import time
from pathlib import Path

import pytest

from nightshift.adapters.http_probe import ProbeTiming, probe_all
from nightshift.canary import (
    Check,
    Header,
    MetricPoint,
    ProbeResults,
    Unit,
    metric_points,
    report_items,
)
from nightshift.errors import NightshiftError
from nightshift.report import Outcome
from tests.support.health_server import (
    Certificate,
    HealthServer,
    Reply,
    refused_url,
    self_signed_certificate,
)

HEALTH_CONDITIONS = [
    "[STATUS] == 200",
    "[RESPONSE_TIME] < 2s",
    "[BODY].status == healthy",
    "[BODY].services.database.status == up",
]
SECRETS = {"nightshift/canary-token": "Bearer s3cr3t"}


class SecretUnavailableError(NightshiftError):
    pass


def resolve_secret(name: str) -> str:
    if name not in SECRETS:
        raise SecretUnavailableError(f"secret {name} could not be read")
    return SECRETS[name]


def probe(*checks: Check, now: dt.datetime | None = None, **options) -> ProbeResults:
    return probe_all(
        checks,
        resolve_header_secret=resolve_secret,
        now=now or dt.datetime.now(dt.UTC),
        rng=random.Random(6),
        **options,
    )


@pytest.fixture
def app(health_server: HealthServer) -> HealthServer:
    return health_server


@pytest.fixture(scope="module")
def certificates(
    certificate_folder: Path, certificate_30_days: Certificate
) -> dict[str, Certificate]:
    return {
        "30 days": certificate_30_days,
        "10 days": self_signed_certificate(certificate_folder, days=10),
        "other host": self_signed_certificate(
            certificate_folder, days=30, names=("DNS:other.example",)
        ),
    }


def https_check(server: HealthServer, certificate: Certificate, **options) -> Check:
    return Check.build(
        "secure",
        server.url(),
        [*HEALTH_CONDITIONS, "[CERTIFICATE_EXPIRATION] > 14d"],
        ca_bundle=str(certificate.cert_file),
        **options,
    )


# -------------------------------------------------------------------------------- plain HTTP


def test_healthy_endpoint_is_up_after_one_attempt_with_dependency_metrics(app):
    results = probe(Check.build("api", app.url(), HEALTH_CONDITIONS))
    result = results["api"]
    assert result.up
    assert result.attempts == 1
    assert result.reason.startswith("up: 4/4 conditions passed, HTTP 200 in ")
    points = {(p.name, p.dimensions): p for p in metric_points(results)}
    assert points[("Success", (("Check", "api"),))].value == 1.0
    assert points[("Latency", (("Check", "api"),))].unit is Unit.MILLISECONDS
    assert points[("Success", (("Check", "api"), ("Dependency", "database")))].value == 1.0
    assert ("DaysToCertExpiry", (("Check", "api"),)) not in points


def test_endpoint_switching_from_healthy_to_degraded_and_back_is_followed(app):
    check = Check.build("api", app.url(), HEALTH_CONDITIONS)
    assert probe(check)["api"].up

    app.answer(app.degraded())
    down = probe(check)
    result = down["api"]
    assert not result.up
    assert result.attempts == 2  # one quick retry before the failure counts
    assert result.reason == (
        "down: [STATUS] == 200: got 503; [BODY].status == healthy: got degraded; "
        "[BODY].services.database.status == up: got down"
    )
    database = MetricPoint(
        "Success", (("Check", "api"), ("Dependency", "database")), 0.0, Unit.COUNT
    )
    assert database in metric_points(down)
    assert report_items(down)[0].outcome is Outcome.FAILED

    app.answer(app.healthy())
    assert probe(check)["api"].up
    assert len(app.requests) == 4


def test_server_error_is_down_with_the_status_seen(app):
    app.answer(app.server_error())
    result = probe(Check.build("api", app.url(), HEALTH_CONDITIONS))["api"]
    assert not result.up
    assert result.reason.startswith(
        "down: [STATUS] == 200: got 500; [BODY].status == healthy: got a body that is not JSON"
    )


def test_one_failed_attempt_followed_by_success_counts_as_up(app):
    app.answer_next(app.server_error())
    result = probe(Check.build("api", app.url(), HEALTH_CONDITIONS))["api"]
    assert result.up
    assert result.attempts == 2
    assert "(on retry; first attempt down: [STATUS] == 200: got 500" in result.reason


def test_invalid_json_body_fails_json_conditions_but_not_status(app):
    app.answer(app.invalid_json())
    result = probe(Check.build("api", app.url(), ["[STATUS] == 200", "[BODY].status == healthy"]))
    verdict = result["api"].verdict
    assert verdict is not None
    assert [r.ok for r in verdict.results] == [True, False]
    assert verdict.failures[0].reason == "[BODY].status == healthy: got a body that is not JSON"


def test_slow_endpoint_times_out_within_its_timeout_on_both_attempts(app):
    app.answer(app.healthy(delay_s=1.5))
    check = Check.build("api", app.url(), ["[STATUS] == 200"], timeout_ms=300)
    started = time.monotonic()
    result = probe(check)["api"]
    elapsed = time.monotonic() - started
    assert not result.up
    assert result.reason == "down: timed out after 300 ms"
    assert result.attempts == 2
    assert elapsed < 1.4  # two 300 ms attempts and a pause of at most 300 ms, not 2 x 1.5 s


def test_refused_connection_is_down_with_reason_and_success_zero():
    url = refused_url()
    results = probe(Check.build("api", url, ["[STATUS] == 200"]))
    port = url.split(":")[2].split("/")[0]
    assert results["api"].reason == f"down: connection refused by 127.0.0.1:{port}"
    assert metric_points(results) == (MetricPoint("Success", (("Check", "api"),), 0.0, Unit.COUNT),)


def test_connection_closed_without_response_is_down(app):
    app.answer(Reply(hang_up=True))
    result = probe(Check.build("api", app.url(), ["[STATUS] == 200"]))["api"]
    assert result.reason == "down: connection closed without a response"


def test_body_beyond_the_size_limit_is_cut_and_not_read_as_json(app):
    app.answer(Reply(body=b'{"status": "healthy", "pad": "' + b"x" * 5000 + b'"}'))
    check = Check.build("api", app.url(), ["[BODY] contains healthy", "[BODY].status == healthy"])
    verdict = probe(check, timing=ProbeTiming(max_body_bytes=1024))["api"].verdict
    assert verdict is not None
    assert len(verdict.observation.body) == 1024
    assert verdict.observation.body_truncated
    assert [r.ok for r in verdict.results] == [True, False]


def test_headers_are_sent_with_secret_values_resolved(app):
    check = Check.build(
        "api",
        app.url("/health?deep=1"),
        ["[STATUS] == 200"],
        method="POST",
        body='{"probe": true}',
        headers=(
            Header("X-Canary", value="nightshift"),
            Header("Authorization", secret="nightshift/canary-token"),
        ),
    )
    assert probe(check)["api"].up
    (request,) = app.requests
    assert (request.method, request.path, request.body) == (
        "POST",
        "/health?deep=1",
        b'{"probe": true}',
    )
    assert request.headers["Authorization"] == "Bearer s3cr3t"
    assert request.headers["X-Canary"] == "nightshift"
    assert request.headers["User-Agent"].startswith("nightshift-canary/")


def test_unreadable_header_secret_means_not_probed_and_no_metrics(app):
    check = Check.build(
        "api",
        app.url(),
        ["[STATUS] == 200"],
        headers=(Header("Authorization", secret="nightshift/canary-missing"),),
    )
    results = probe(check)
    assert results["api"].reason == "not probed: secret nightshift/canary-missing could not be read"
    assert metric_points(results) == ()
    assert app.requests == []


def test_head_request_is_judged_on_status(app):
    result = probe(Check.build("api", app.url(), ["[STATUS] == 200"], method="HEAD"))["api"]
    assert result.up
    assert app.requests[0].method == "HEAD"


def test_twenty_slow_endpoints_are_probed_in_about_the_time_of_one(app):
    app.answer(app.healthy(delay_s=0.2))
    checks = [
        Check.build(f"svc-{n:02d}", app.url(f"/health/{n}"), ["[STATUS] == 200"]) for n in range(20)
    ]
    started = time.monotonic()
    results = probe(*checks)
    elapsed = time.monotonic() - started
    assert all(result.up for result in results.results)
    assert [r.check.name for r in results.results] == [c.name for c in checks]
    assert elapsed < 2.0  # sequentially it would take 20 x 200 ms = 4 s
    assert results.wall_time_ms < 2000


def test_no_checks_is_an_empty_run():
    assert probe().results == ()


# ------------------------------------------------------------------------------------- HTTPS


def test_https_endpoint_reports_days_to_certificate_expiry(certificates):
    certificate = certificates["30 days"]
    now = dt.datetime.now(dt.UTC)
    with HealthServer(certificate) as app:
        results = probe(https_check(app, certificate), now=now)
    result = results["secure"]
    assert result.up, result.reason
    days = [p.value for p in metric_points(results) if p.name == "DaysToCertExpiry"]
    expected = (certificate.not_after - now).total_seconds() / 86400
    assert days == [pytest.approx(expected, abs=0.01)]
    assert 29 < days[0] <= 30


def test_certificate_close_to_expiry_warns_but_the_check_stays_up(certificates):
    certificate = certificates["10 days"]
    with HealthServer(certificate) as app:
        results = probe(https_check(app, certificate))
    result = results["secure"]
    assert result.up
    assert result.attempts == 1  # a warning is not a failure worth a retry
    assert "; warning: [CERTIFICATE_EXPIRATION] > 14d: got " in result.reason
    success = [p.value for p in metric_points(results) if p.name == "Success"]
    assert success[0] == 1.0


def test_expiry_is_measured_from_the_run_time_not_the_clock(certificates):
    certificate = certificates["30 days"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=20)
    with HealthServer(certificate) as app:
        result = probe(https_check(app, certificate), now=later)["secure"]
    assert result.verdict is not None
    days = result.verdict.observation.days_to_certificate_expiry
    assert days is not None
    assert 9 < days <= 10
    assert [w.condition for w in result.verdict.warnings] == ["[CERTIFICATE_EXPIRATION] > 14d"]


def test_self_signed_certificate_without_its_ca_bundle_is_rejected(certificates):
    certificate = certificates["30 days"]
    with HealthServer(certificate) as app:
        check = Check.build("secure", app.url(), ["[STATUS] == 200"])
        result = probe(check)["secure"]
    assert not result.up
    assert result.reason == "down: TLS certificate rejected: self-signed certificate"


def test_certificate_for_another_host_is_rejected(certificates):
    certificate = certificates["other host"]
    with HealthServer(certificate) as app:
        result = probe(https_check(app, certificate))["secure"]
    assert not result.up
    assert result.reason.startswith("down: TLS certificate rejected: ")
    assert "mismatch" in result.reason


def test_https_check_against_a_plain_http_server_is_a_tls_failure(app, certificates):
    check = Check.build(
        "secure",
        app.url().replace("http://", "https://"),
        ["[STATUS] == 200"],
        ca_bundle=str(certificates["30 days"].cert_file),
    )
    result = probe(check)["secure"]
    assert not result.up
    assert result.reason.startswith("down: TLS handshake failed: ")


def test_missing_ca_bundle_file_means_not_probed(tmp_path: Path):
    check = Check.build(
        "secure", "https://127.0.0.1:1/", ["[STATUS] == 200"], ca_bundle=str(tmp_path / "no.pem")
    )
    result = probe(check)["secure"]
    assert not result.attempted
    assert result.reason.startswith(f"not probed: cannot load CA bundle {tmp_path / 'no.pem'}")
