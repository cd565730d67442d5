"""The canary handler under moto, probing real local health endpoints whose answers we switch.

Each test writes a policy into tmp_path pointing at local servers (tests/support/health_server.py),
sets the environment the template sets, and invokes `functions/canary/app.py` with the scheduled
input. It asserts what a run really does: EMF documents on stdout (dimensions exactly as the
alarms expect), alarms in CloudWatch, the status item in the state table, and the report on the
ops topic (read from an SQS queue subscribed to it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from nightshift.errors import EventError, PolicyError
from tests.conftest import FakeLambdaContext, event_names, load_event, load_handler
from tests.support.health_server import (
    Certificate,
    HealthServer,
    Reply,
    refused_url,
    self_signed_certificate,
)
from tests.support.nightshift import (
    OpsTopic,
    create_ops_topic,
    create_state_table,
    function_environment,
)

REGION = "eu-central-1"
ENVIRONMENT = "staging"
NAMESPACE = "Nightshift"
HEALTH_CONDITIONS = [
    "[STATUS] == 200",
    "[RESPONSE_TIME] < 2s",
    "[BODY].status == healthy",
    "[BODY].services.database.status == up",
]


def check(name: str, url: str, conditions: list[str] = HEALTH_CONDITIONS, **options) -> dict:
    return {"name": name, "url": url, "conditions": conditions, **options}


def recent_time() -> str:
    """A scheduled time CloudWatch accepts and certificates are measured from (the last minute)."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    return now.isoformat().replace("+00:00", "Z")


@dataclass
class Stack:
    """The AWS side of a canary deployment in moto, and how to run the handler against it."""

    tmp_path: Path
    capsys: pytest.CaptureFixture[str]
    ops: OpsTopic
    table: str
    policy_file: Path
    invocations: int = 0
    stdout: list[str] = field(default_factory=list)

    @property
    def topic_arn(self) -> str:
        return self.ops.arn

    def write_policy(self, *checks: dict[str, Any]) -> None:
        document: dict[str, Any] = {"version": 1}
        if checks:
            document["canaries"] = list(checks)
        self.policy_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    def invoke(self, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """One run, with a fresh handler module (as a new deployment would load it)."""
        self.invocations += 1
        handler = load_handler("canary")
        context = FakeLambdaContext(aws_request_id=f"run-{self.invocations}")
        self.capsys.readouterr()
        try:
            return handler.lambda_handler(event or load_event("canary", "scheduled"), context)
        finally:
            self.stdout = self.capsys.readouterr().out.splitlines()

    def run_at(self, time: str, **extra: Any) -> dict[str, Any]:
        return self.invoke({**load_event("canary", "scheduled"), "time": time, **extra})

    # ------------------------------------------------------------------------ what a run did

    def emf(self) -> list[dict[str, Any]]:
        """The EMF documents of the last run's checks (those with a Check dimension)."""
        documents = []
        for line in self.stdout:
            if not line.startswith("{"):
                continue
            document = json.loads(line)
            directives = document.get("_aws", {}).get("CloudWatchMetrics", [])
            if any("Check" in dims for d in directives for dims in d["Dimensions"]):
                documents.append(document)
        return documents

    def metric(self, name: str, **dimensions: str) -> float | None:
        """The value of `name` in the EMF document with exactly these dimensions."""
        for document in self.emf():
            directive = document["_aws"]["CloudWatchMetrics"][0]
            if directive["Dimensions"] != [list(dimensions)]:
                continue
            if all(document[k] == v for k, v in dimensions.items()) and name in document:
                [value] = document[name]  # Powertools writes values as a list; one per run
                return value
        return None

    def reports(self) -> list[dict[str, Any]]:
        """Every report published to the ops topic so far (drained from the queue)."""
        return self.ops.reports()

    def alarms(self) -> dict[str, dict[str, Any]]:
        pages = (
            boto3.client("cloudwatch")
            .get_paginator("describe_alarms")
            .paginate(AlarmNamePrefix=f"nightshift-{ENVIRONMENT}-canary-check-")
        )
        return {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}


def deployed_stack(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: Mapping[str, str] | None = None,
) -> Stack:
    """The canary's ops topic and state table in the account moto answers for, and the
    function's environment (with `extra`); the policy file is written by `Stack.write_policy`."""
    ops = create_ops_topic(
        boto3.client("sns", region_name=REGION),
        boto3.client("sqs", region_name=REGION),
        f"nightshift-ops-{ENVIRONMENT}",
    )
    table = create_state_table(boto3.client("dynamodb", region_name=REGION), "nightshift-state")
    policy_file = tmp_path / "nightshift.yaml"
    function_environment(
        monkeypatch,
        service="canary",
        policy_file=policy_file,
        table=table,
        topic_arn=ops.arn,
        environment=ENVIRONMENT,
        region=REGION,
        extra=extra,
    )
    return Stack(tmp_path, capsys, ops, table, policy_file)


@pytest.fixture
def stack(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[Stack]:
    with mock_aws():
        yield deployed_stack(monkeypatch, tmp_path, capsys)


@pytest.fixture
def app(health_server: HealthServer) -> HealthServer:
    return health_server


@pytest.fixture(scope="module")
def certificate_10_days(certificate_folder: Path) -> Certificate:
    return self_signed_certificate(certificate_folder, days=10)


def item(report: dict[str, Any], resource: str, kind: str = "http-check") -> dict[str, Any]:
    return next(i for i in report["items"] if i["resource"] == resource and i["kind"] == kind)


# ------------------------------------------------------------------------------ healthy


def test_healthy_check_publishes_success_latency_and_dependency_metrics(stack, app):
    stack.write_policy(check("api", app.url()))
    scheduled = recent_time()

    result = stack.run_at(scheduled)

    assert stack.metric("Success", Check="api") == 1.0
    assert stack.metric("Latency", Check="api") > 0
    assert stack.metric("DaysToCertExpiry", Check="api") is None  # plain HTTP
    assert stack.metric("Success", Check="api", Dependency="database") == 1.0
    assert stack.metric("Latency", Check="api", Dependency="database") == 2.5
    assert stack.metric("Success", Check="api", Dependency="s3") == 1.0
    stamped = {d["_aws"]["Timestamp"] for d in stack.emf()}
    assert stamped == {int(dt.datetime.fromisoformat(scheduled).timestamp() * 1000)}
    assert item(result, "api")["outcome"] == "done"
    assert result["summary"].startswith("1 of 1 checks up")
    assert result["time"] == scheduled


def test_check_metrics_carry_exactly_the_check_dimensions_and_no_service(stack, app):
    stack.write_policy(check("api", app.url()))

    stack.invoke()

    dimension_sets = [d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for d in stack.emf()]
    assert dimension_sets[0] == [["Check"]]
    assert all(dims in ([["Check"]], [["Check", "Dependency"]]) for dims in dimension_sets)
    assert all("service" not in document for document in stack.emf())
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in stack.emf()} == {NAMESPACE}


def test_first_run_publishes_its_report_to_the_ops_topic(stack, app):
    stack.write_policy(check("api", app.url()))

    result = stack.invoke()

    [published] = stack.reports()
    assert published == result
    assert published["schema"] == "nightshift.report/v1"
    assert published["function"] == "canary"
    assert published["environment"] == ENVIRONMENT
    assert published["run_id"] == "run-1"
    assert published["time"] == "2026-11-20T13:00:00Z"
    assert published["severity"] == "info"


# ----------------------------------------------------------------------------- failures


def test_degraded_endpoint_reports_each_failing_condition_with_what_was_seen(stack, app):
    app.answer(app.degraded())
    stack.write_policy(check("api", app.url()))

    result = stack.invoke()

    api = item(result, "api")
    assert api["outcome"] == "failed"
    assert api["reason"] == (
        "down: [STATUS] == 200: got 503; [BODY].status == healthy: got degraded; "
        "[BODY].services.database.status == up: got down"
    )
    assert api["details"]["dependencies"] == {"database": "down", "redis": "up", "s3": "up"}
    assert api["details"]["attempts"] == 2
    assert stack.metric("Success", Check="api") == 0.0
    assert stack.metric("Success", Check="api", Dependency="database") == 0.0
    assert stack.metric("Latency", Check="api", Dependency="database") == 5012.0
    assert result["severity"] == "critical"
    assert result["summary"].startswith("0 of 1 checks up; down: api")


def test_server_error_is_down_with_the_status_seen(stack, app):
    app.answer(app.server_error())
    stack.write_policy(check("api", app.url()))

    result = stack.invoke()

    assert item(result, "api")["reason"].startswith(
        "down: [STATUS] == 200: got 500; [BODY].status == healthy: got a body that is not JSON"
    )
    assert stack.metric("Success", Check="api") == 0.0
    assert stack.metric("Latency", Check="api") is not None


def test_refused_connection_is_down_without_latency(stack):
    url = refused_url()
    stack.write_policy(check("api", url))

    result = stack.invoke()

    api = item(result, "api")
    port = url.split(":")[2].split("/")[0]
    assert api["reason"] == f"down: connection refused by 127.0.0.1:{port}"
    assert api["details"]["error"] == api["reason"].removeprefix("down: ")
    assert stack.metric("Success", Check="api") == 0.0
    assert stack.metric("Latency", Check="api") is None


def test_invalid_json_body_fails_the_body_conditions_but_not_the_status(stack, app):
    app.answer(app.invalid_json())
    stack.write_policy(check("api", app.url()))

    result = stack.invoke()

    details = item(result, "api")["details"]
    conditions = {c["condition"]: c["ok"] for c in details["conditions"]}
    assert conditions["[STATUS] == 200"] is True
    assert conditions["[BODY].status == healthy"] is False
    assert details["failures"] == [
        "[BODY].status == healthy: got a body that is not JSON",
        "[BODY].services.database.status == up: got a body that is not JSON",
    ]
    assert stack.metric("Success", Check="api") == 0.0


def test_one_check_down_does_not_hide_the_others(stack, app):
    with HealthServer() as other:
        other.answer(other.degraded())
        stack.write_policy(check("api", app.url()), check("admin", other.url()))

        result = stack.invoke()

    assert result["summary"].startswith("1 of 2 checks up; down: admin")
    assert stack.metric("Success", Check="api") == 1.0
    assert stack.metric("Success", Check="admin") == 0.0
    assert result["totals"]["checks_down_count"] == 1


def test_a_check_snoozed_from_chat_publishes_no_success_until_its_snooze_ends(stack, app):
    # As the actions function writes it (adapters.action_stores.SnoozeTable): docs/actions.md.
    dynamodb = boto3.client("dynamodb")
    scheduled = recent_time()
    run_time = dt.datetime.fromisoformat(scheduled)

    def snooze(until: dt.datetime) -> None:
        item = {"pk": {"S": "canary#snooze"}, "sk": {"S": "api"}}
        dynamodb.put_item(
            TableName=stack.table,
            Item={**item, "until": {"S": until.isoformat()}, "by": {"S": "via a link"}},
        )

    with HealthServer() as other:
        other.answer(other.degraded())
        app.answer(app.server_error())
        stack.write_policy(check("api", app.url()), check("admin", other.url()))
        snooze(run_time + dt.timedelta(hours=1))
        result = stack.run_at(scheduled)
        assert item(result, "api")["outcome"] == "failed"  # still probed and reported
        assert stack.metric("Success", Check="api") is None  # its down alarm sees no data
        assert stack.metric("Success", Check="admin") == 0.0
        snooze(run_time - dt.timedelta(minutes=1))  # over, and DynamoDB's TTL has not run yet
        stack.run_at(scheduled)
        assert stack.metric("Success", Check="api") == 0.0


# ----------------------------------------------------------------------------- certificates


def test_certificate_near_expiry_warns_on_its_own_alarm_and_is_not_downtime(
    stack, certificate_10_days
):
    with HealthServer(certificate_10_days) as secure:
        stack.write_policy(
            check(
                "secure",
                secure.url(),
                [*HEALTH_CONDITIONS, "[CERTIFICATE_EXPIRATION] > 14d"],
                ca_bundle=str(certificate_10_days.cert_file),
            )
        )

        result = stack.run_at(recent_time())

    secure_item = item(result, "secure")
    assert secure_item["outcome"] == "done"
    assert "; warning: [CERTIFICATE_EXPIRATION] > 14d: got 1" in secure_item["reason"]
    assert 9.9 < secure_item["details"]["days_to_cert_expiry"] < 10.1
    assert stack.metric("Success", Check="secure") == 1.0
    assert 9.9 < stack.metric("DaysToCertExpiry", Check="secure") < 10.1
    assert result["summary"].startswith("1 of 1 checks up; certificate warning: secure")
    alarm = stack.alarms()["nightshift-staging-canary-check-certificate-secure"]
    assert alarm["MetricName"] == "DaysToCertExpiry"
    assert alarm["Threshold"] == 14.0
    assert alarm["ComparisonOperator"] == "LessThanOrEqualToThreshold"


# ----------------------------------------------------------------------------------- alarms


def test_each_check_gets_a_down_alarm_on_exactly_the_emitted_metric(stack, app):
    stack.write_policy(check("api", app.url()))

    result = stack.invoke()

    alarms = stack.alarms()
    assert set(alarms) == {"nightshift-staging-canary-check-down-api"}  # plain HTTP: no certificate
    down = alarms["nightshift-staging-canary-check-down-api"]
    [document] = [d for d in stack.emf() if "Dependency" not in d]
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert down["Namespace"] == directive["Namespace"]
    assert down["MetricName"] in {m["Name"] for m in directive["Metrics"]}
    assert down["Dimensions"] == [
        {"Name": k, "Value": document[k]} for k in directive["Dimensions"][0]
    ]
    assert (down["Statistic"], down["Period"], down["Threshold"]) == ("Minimum", 60, 1.0)
    assert (down["DatapointsToAlarm"], down["EvaluationPeriods"]) == (3, 5)
    assert down["ComparisonOperator"] == "LessThanThreshold"
    assert down["AlarmActions"] == [stack.topic_arn]
    assert down["OKActions"] == [stack.topic_arn]
    created = item(result, "nightshift-staging-canary-check-down-api", "cloudwatch-alarm")
    assert (created["action"], created["outcome"]) == ("create", "done")
    assert result["summary"].endswith("alarms: 1 created")


def test_unchanged_second_run_changes_no_alarm_and_publishes_no_report(stack, app):
    stack.write_policy(check("api", app.url()))
    stack.invoke()
    assert len(stack.reports()) == 1

    second = stack.invoke()

    assert stack.reports() == []
    assert [i for i in second["items"] if i["kind"] == "cloudwatch-alarm"] == []
    assert second["totals"]["alarms_changed_count"] == 0
    assert stack.metric("Success", Check="api") == 1.0  # metrics are published on every run


def test_check_going_down_and_coming_back_is_reported_each_time(stack, app):
    stack.write_policy(check("api", app.url()))
    stack.invoke()
    stack.reports()

    app.answer(app.degraded())
    stack.invoke()
    stack.invoke()  # still down: nothing new to say
    app.answer(app.healthy())
    stack.invoke()

    down, back = stack.reports()
    assert item(down, "api")["outcome"] == "failed"
    assert item(back, "api")["outcome"] == "done"


def test_alarm_changed_by_hand_is_put_back_as_the_policy_says(stack, app):
    stack.write_policy(check("api", app.url()))
    stack.invoke()
    name = "nightshift-staging-canary-check-down-api"
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace=NAMESPACE,
        MetricName="Success",
        Dimensions=[{"Name": "Check", "Value": "api"}],
        Statistic="Minimum",
        Period=60,
        EvaluationPeriods=5,
        DatapointsToAlarm=1,
        Threshold=1.0,
        ComparisonOperator="LessThanThreshold",
    )

    result = stack.invoke()

    updated = item(result, name, "cloudwatch-alarm")
    assert updated["action"] == "update"
    assert "datapoints to alarm 1 -> 3" in updated["reason"]
    assert "alarm actions none -> " in updated["reason"]
    assert stack.alarms()[name]["DatapointsToAlarm"] == 3


def test_the_templates_own_canary_errors_alarm_is_left_alone(stack, app):
    errors_alarm = {
        "AlarmName": f"nightshift-{ENVIRONMENT}-canary-errors",
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": "nightshift-staging-CanaryFunction"}],
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.put_metric_alarm(**errors_alarm)
    stack.write_policy(check("api", app.url()))

    result = stack.invoke()

    assert errors_alarm["AlarmName"] not in {i["resource"] for i in result["items"]}
    [kept] = cloudwatch.describe_alarms(AlarmNames=[errors_alarm["AlarmName"]])["MetricAlarms"]
    assert kept["MetricName"] == "Errors"


def test_removed_check_has_its_alarms_deleted(stack, app, certificate_30_days):
    with HealthServer(certificate_30_days) as secure:
        stack.write_policy(
            check("api", app.url()),
            check("secure", secure.url(), ca_bundle=str(certificate_30_days.cert_file)),
        )
        stack.run_at(recent_time())
    assert len(stack.alarms()) == 3
    stack.write_policy(check("api", app.url()))

    result = stack.invoke()

    assert set(stack.alarms()) == {"nightshift-staging-canary-check-down-api"}
    deleted = [i for i in result["items"] if i["action"] == "delete"]
    assert {i["resource"] for i in deleted} == {
        "nightshift-staging-canary-check-down-secure",
        "nightshift-staging-canary-check-certificate-secure",
    }
    assert all(i["outcome"] == "done" for i in deleted)
    assert [r["run_id"] for r in stack.reports()] == ["run-1", "run-2"]


# ------------------------------------------------------------------------ secrets, dry run


def test_header_secret_is_sent_and_never_reported(stack, app):
    boto3.client("secretsmanager").create_secret(
        Name="nightshift/canary-api-token", SecretString="Bearer s3cr3t"
    )
    stack.write_policy(
        check(
            "api", app.url(), headers={"Authorization": {"secret": "nightshift/canary-api-token"}}
        )
    )

    result = stack.invoke()

    assert app.requests[0].headers["Authorization"] == "Bearer s3cr3t"
    assert item(result, "api")["outcome"] == "done"
    assert "s3cr3t" not in json.dumps(result)
    assert all("s3cr3t" not in line for line in stack.stdout)


def test_missing_header_secret_means_not_probed_and_no_metrics(stack, app):
    stack.write_policy(
        check("api", app.url(), headers={"Authorization": {"secret": "nightshift/canary-missing"}})
    )

    result = stack.invoke()

    api = item(result, "api")
    assert api["outcome"] == "failed"
    assert api["reason"].startswith("not probed: secret nightshift/canary-missing cannot be read")
    assert app.requests == []
    assert stack.emf() == []


def test_dry_run_probes_and_reports_without_metrics_or_alarm_changes(stack, app):
    stack.write_policy(check("api", app.url()))

    result = stack.invoke(load_event("canary", "dry-run"))

    assert result["dry_run"] is True
    assert item(result, "api")["outcome"] == "done"
    planned = item(result, "nightshift-staging-canary-check-down-api", "cloudwatch-alarm")
    assert (planned["action"], planned["outcome"]) == ("create", "planned")
    assert stack.emf() == []
    assert stack.alarms() == {}
    assert [r["dry_run"] for r in stack.reports()] == [True]
    # A dry run leaves no memory: the next real run still reports as the first.
    stack.invoke()
    assert len(stack.reports()) == 1


# ------------------------------------------------------------------------ broken inputs


def test_policy_that_does_not_load_is_reported_and_raised_with_nothing_probed(stack, app):
    stack.write_policy(check("api", app.url(), ["[RESPONSE_TIME] =< 800"]))

    with pytest.raises(PolicyError, match=r"canaries\[0\]\.conditions\[0\]"):
        stack.invoke()

    [report] = stack.reports()
    assert report["summary"] == "nothing probed: the canary could not load its policy"
    assert "cannot parse '[RESPONSE_TIME] =< 800' at position 16" in report["errors"][0]
    assert str(stack.policy_file) in report["errors"][0]
    assert report["severity"] == "critical"
    assert app.requests == []
    assert stack.emf() == []
    assert stack.alarms() == {}


# The handler raises before any metric is added, which Powertools notes with a warning.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_input_without_the_scheduled_time_is_refused(stack, app):
    stack.write_policy(check("api", app.url()))

    with pytest.raises(EventError, match=r"<aws\.scheduler\.scheduled-time>"):
        stack.invoke({"dry_run": True})

    assert app.requests == []
    assert stack.reports() == []


def test_no_checks_configured_is_a_quiet_run(stack):
    stack.write_policy()

    result = stack.invoke()

    assert result["summary"] == "no canary checks configured"
    assert result["items"] == []
    assert stack.emf() == []


@pytest.mark.parametrize("name", event_names("canary"))
def test_every_canary_event_fixture_runs_the_canary(stack, app, name):
    stack.write_policy(check("api", app.url()))
    event = load_event("canary", name)

    result = stack.invoke(event)

    assert result["time"] == event["time"]
    assert result["dry_run"] is event.get("dry_run", False)
    assert item(result, "api")["outcome"] == "done"
    assert len(app.requests) == 1


def test_slow_endpoint_beyond_its_timeout_is_down_in_about_twice_the_timeout(stack, app):
    app.answer(Reply(body=b"{}", delay_s=1.0))
    stack.write_policy(check("api", app.url(), timeout_ms=200))

    result = stack.invoke()

    assert item(result, "api")["reason"] == "down: timed out after 200 ms"
