"""The built canary in the local cloud: the example app degrades, and the check's down alarm
reaches Slack through CloudWatch's alarm evaluation, the ops topic and the built notifier.

On a simulated clock the canary's schedule fires once a period (`Router.fire_schedule`), the
canary (Lambda RIE) probes a local health server whose answers the test switches, its EMF lines
become metrics in moto (`localcloud.metrics`, after every invocation), and after each run
`localcloud.alarms.AlarmEvaluator` does what CloudWatch does at the end of that period: it
evaluates the canary's alarms and publishes each state change to the ops topic, from which the
notifier posts to the webhook receiver.

The policy: the deployed PolicyLayer's policy probes a public URL, which must never be contacted.
So the canary's invocations get `NIGHTSHIFT_POLICY_FILE` pointing at a policy in tmp_path (a
Router of their own with `env_overrides`), probing only 127.0.0.1; the notifier, invoked by the
session's `router`, keeps the deployed policy and its Slack destination.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcloud import Router, Stack, WebhookReceiver, format_chat_message
from localcloud.alarms import AlarmEvaluator, AlarmState, EvaluationReport
from nightshift.canary.settings import rate_seconds
from tests.support.health_server import (
    HealthServer,
    Reply,
    openssl_available,
    self_signed_certificate,
)

pytestmark = pytest.mark.integration

FUNCTION = "CanaryFunction"
CONDITIONS = [
    "[STATUS] == 200",
    "[BODY].status == healthy",
    "[BODY].services.database.status == up",
]
OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA


@dataclass(frozen=True)
class AlarmShape:
    """The canary's alarm settings, read from the deployed function (the template's values)."""

    environment: str
    ops_topic: str
    period: int
    datapoints_to_alarm: int
    evaluation_periods: int

    @classmethod
    def deployed(cls, stack: Stack) -> AlarmShape:
        variables = (
            stack.endpoint.client("lambda")
            .get_function_configuration(FunctionName=stack.function_name(FUNCTION))["Environment"]
            .get("Variables", {})
        )
        return cls(
            environment=variables["NIGHTSHIFT_ENVIRONMENT"],
            ops_topic=variables["NIGHTSHIFT_OPS_TOPIC_ARN"],
            period=rate_seconds(variables["NIGHTSHIFT_CANARY_RATE"]),
            datapoints_to_alarm=int(variables["NIGHTSHIFT_CANARY_ALARM_DATAPOINTS"]),
            evaluation_periods=int(variables["NIGHTSHIFT_CANARY_ALARM_PERIODS"]),
        )

    @property
    def prefix(self) -> str:
        return f"nightshift-{self.environment}-canary-check-"


@dataclass
class CanaryClock:
    """The deployed canary run once a period on a simulated clock, alarms evaluated after each.

    The clock starts half an hour ago, on a whole minute: the canary stamps its metrics with the
    scheduled time, and CloudWatch (so the EMF extraction) refuses times more than two weeks old.
    """

    stack: Stack
    runner: Router  # the canary's invocations, with the test's policy
    router: Router  # everything else: the notifier keeps the deployed policy
    evaluator: AlarmEvaluator
    shape: AlarmShape
    schedule: str
    report_queues: tuple[str, ...]
    clock: dt.datetime = field(
        default_factory=lambda: (
            dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=30)
        )
    )
    evaluations: list[EvaluationReport] = field(default_factory=list)

    def run(self, app: HealthServer, reply: Reply) -> EvaluationReport:
        """One scheduled run with the app answering `reply`, then the evaluation at the end of
        the run's period."""
        app.answer(reply)
        scheduled = self.clock.isoformat().replace("+00:00", "Z")
        (delivery,) = self.runner.fire_schedule(self.schedule, scheduled).deliveries
        assert delivery.result is not None
        assert not delivery.result.error, delivery.result.logs
        for queue in self.report_queues:  # the run's report, if any, reaches the notifier
            assert self.router.drain(queue).failed == ()
        self.clock += dt.timedelta(seconds=self.shape.period)
        report = self.evaluator.evaluate(self.clock)
        self.evaluations.append(report)
        return report

    def transitions(self, alarm: str) -> list[tuple[int, AlarmState, AlarmState]]:
        """(run index, old state, new state) of every change of `alarm`."""
        return [
            (run, change.old_state, change.new_state)
            for run, report in enumerate(self.evaluations)
            if (change := report.transition(alarm)) is not None
        ]

    def success(self, since: dt.datetime, *dimensions: tuple[str, str]) -> list[float]:
        """The Success metric with exactly these dimensions, one minimum per period, in moto."""
        query = {
            "Id": "success",
            "MetricStat": {
                "Metric": {
                    "Namespace": "Nightshift",
                    "MetricName": "Success",
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions],
                },
                "Period": self.shape.period,
                "Stat": "Minimum",
            },
        }
        (result,) = self.stack.endpoint.client("cloudwatch").get_metric_data(
            MetricDataQueries=[query],
            StartTime=since,
            EndTime=self.clock,
            ScanBy="TimestampAscending",
        )["MetricDataResults"]
        return [float(value) for value in result["Values"]]

    def state(self, alarm: str) -> str:
        (described,) = self.stack.endpoint.client("cloudwatch").describe_alarms(AlarmNames=[alarm])[
            "MetricAlarms"
        ]
        return str(described["StateValue"])


def write_policy(folder: Path, *checks: dict[str, Any]) -> Path:
    policy = folder / "canary-policy.yaml"
    document = {"version": 1, "canaries": list(checks)}
    policy.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return policy


def check_name(kind: str) -> str:
    """A check of this test's own: alarms and metrics of earlier tests in the session stay apart."""
    return f"{kind}-{uuid.uuid4().hex[:6]}"


def chat_messages(receiver: WebhookReceiver, alarm: str) -> list[tuple[str, str]]:
    """(title, rendered text) of every chat message about `alarm`, in the order received."""
    found = []
    for request in receiver.requests:
        body = request.json
        title = str(body.get("text", "")) if isinstance(body, dict) else ""
        if alarm in title.split(" — ")[0]:
            found.append((title.split(" — ")[0], format_chat_message(body)))
    return found


@pytest.fixture
def shape(stack: Stack) -> AlarmShape:
    return AlarmShape.deployed(stack)


@pytest.fixture
def health_app() -> Iterator[HealthServer]:
    with HealthServer() as app:
        yield app


def canary_clock(stack: Stack, router: Router, shape: AlarmShape, policy: Path) -> CanaryClock:
    runner = Router(stack, env_overrides={"NIGHTSHIFT_POLICY_FILE": str(policy)})
    (schedule,) = [s for s in runner.schedules() if s.startswith(FUNCTION)]
    # Only the canary's alarms: the template's alarms watch AWS/Lambda and AWS/SQS metrics, which
    # the local cloud does not produce (docs/local-cloud.md, "Metrics and alarms").
    evaluator = AlarmEvaluator(stack.endpoint, router, alarm_name_prefix=shape.prefix)
    queues = report_queues(router, shape)
    return CanaryClock(stack, runner, router, evaluator, shape, schedule, queues)


def report_queues(router: Router, shape: AlarmShape) -> tuple[str, ...]:
    """The queues subscribed to the ops topic that a function reads (the notifier's)."""
    read = {trigger.queue_arn for trigger in router.queue_triggers()}
    subscriptions = router.stack.endpoint.client("sns").list_subscriptions_by_topic(
        TopicArn=shape.ops_topic
    )["Subscriptions"]
    return tuple(s["Endpoint"] for s in subscriptions if s["Endpoint"] in read)


def test_degraded_app_raises_the_down_alarm_in_slack_and_recovery_resolves_it(
    stack: Stack,
    router: Router,
    receiver: WebhookReceiver,
    shape: AlarmShape,
    health_app: HealthServer,
    tmp_path: Path,
) -> None:
    check = check_name("backend")
    policy = write_policy(
        tmp_path, {"name": check, "url": health_app.url("/health"), "conditions": CONDITIONS}
    )
    canary = canary_clock(stack, router, shape, policy)
    down = f"{shape.prefix}down-{check}"
    m, n = shape.datapoints_to_alarm, shape.evaluation_periods
    healthy, degraded = health_app.healthy(), health_app.degraded()
    plan = [healthy] + [degraded] * m + [healthy] * (n - m + 1)
    start = canary.clock

    for reply in plan:
        canary.run(health_app, reply)

    first_bad, first_good = 1, 1 + m
    assert canary.transitions(down) == [
        (0, INSUFFICIENT, OK),  # a new alarm's first evaluation, as in CloudWatch
        (first_bad + m - 1, OK, ALARM),  # the M-th failed run, not before
        (first_good + n - m, ALARM, OK),  # once fewer than M of the last N failed
    ]
    assert canary.state(down) == "OK"
    # The EMF lines became metrics with exactly the emitted dimensions: the alarm's metric has
    # only Check, the dependency's its own series (the degraded body has the database down).
    runs = [1.0 if reply is healthy else 0.0 for reply in plan]
    assert canary.success(start, ("Check", check)) == runs
    assert canary.success(start, ("Check", check), ("Dependency", "database")) == runs
    assert canary.success(start, ("Check", check), ("Dependency", "redis")) == [1.0] * len(plan)
    alarm_change = canary.evaluations[first_bad + m - 1].transition(down)
    assert alarm_change is not None
    assert alarm_change.reason.startswith(
        f"Threshold Crossed: {m} out of the last {n} datapoints [0.0 ("
    )
    assert alarm_change.subject == f'ALARM: "{down}" in EU (Frankfurt)'

    titles = [title for title, _ in chat_messages(receiver, down)]
    # The new alarm's first verdict (INSUFFICIENT_DATA -> OK) is remembered, not posted.
    assert titles == [f"ALARM: {down}", f"RESOLVED: {down}"]
    (_, alarm_text), (_, resolved_text) = chat_messages(receiver, down)
    for fact in (
        f"Canary check {check}: in ALARM while it fails",
        "OK → ALARM",
        f"for {m} of {n} datapoints",
        "Success",
        f"Check={check}",
    ):
        assert fact in alarm_text, alarm_text
    assert "ALARM → OK" in resolved_text
    assert "Resolved after" in resolved_text
    why = [format_chat_message(r.json) for r in receiver.requests if "down: " in r.body.decode()]
    assert any(check in text and "[STATUS] == 200: got 503" in text for text in why)


@pytest.mark.skipif(not openssl_available(), reason="needs the openssl CLI for a certificate")
def test_certificate_close_to_expiry_warns_on_its_own_alarm_and_never_raises_the_down_alarm(
    stack: Stack,
    router: Router,
    receiver: WebhookReceiver,
    shape: AlarmShape,
    tmp_path: Path,
) -> None:
    certificate = self_signed_certificate(tmp_path, days=10)
    check = check_name("tls")
    with HealthServer(certificate) as app:
        policy = write_policy(
            tmp_path,
            {
                "name": check,
                "url": app.url("/health"),
                "ca_bundle": certificate.cert_file.name,  # next to the policy file
                "conditions": [*CONDITIONS, "[CERTIFICATE_EXPIRATION] > 14d"],
            },
        )
        canary = canary_clock(stack, router, shape, policy)
        for _ in range(shape.datapoints_to_alarm):
            canary.run(app, app.healthy())

    down = f"{shape.prefix}down-{check}"
    warning = f"{shape.prefix}certificate-{check}"
    assert canary.transitions(warning) == [(0, INSUFFICIENT, ALARM)]
    assert canary.transitions(down) == [(0, INSUFFICIENT, OK)]
    assert canary.state(down) == "OK"
    assert [title for title, _ in chat_messages(receiver, warning)] == [f"ALARM: {warning}"]
    assert chat_messages(receiver, down) == []  # its first verdict, OK: not posted
    (_, text) = chat_messages(receiver, warning)[0]
    assert "DaysToCertExpiry" in text
    assert "vs threshold <= 14" in text  # the value read from CloudWatch's reason
    change = canary.evaluations[0].transition(warning)
    assert change is not None
    assert change.message["Trigger"]["MetricName"] == "DaysToCertExpiry"
    assert change.message["Trigger"]["Period"] == 3600  # hourly: one run is enough to warn
