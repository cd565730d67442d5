"""Canary: every scheduled run probes the policy's HTTP(S) health checks at once, publishes their
metrics (EMF), keeps one alarm pair per check in step with the policy, and reports to the ops
topic when the picture changed. Reference: docs/canary.md.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.adapters.alarms import MetricAlarms
from nightshift.adapters.canary_memory import CanaryMemory
from nightshift.adapters.emf import EmfMetrics
from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.reporting import ReportPublisher
from nightshift.adapters.secrets import SecretReader
from nightshift.canary import from_section, probe_all
from nightshift.canary.run import Canary, unprobed_report
from nightshift.canary.settings import CanarySettings
from nightshift.canary.trigger import ScheduledRun
from nightshift.errors import PolicyError
from nightshift.library_logs import quiet_library_loggers

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger = Logger()
tracer = Tracer()
metrics = Metrics()  # the function's own metrics (with `service`); check metrics go through EMF


@cache
def settings() -> CanarySettings:
    return CanarySettings.from_environ()


@cache
def publisher() -> ReportPublisher:
    return ReportPublisher(settings().common.ops_topic_arn)


@cache
def canary() -> Canary:
    """Built once per warm container; a policy that does not load is retried on the next run."""
    config = settings()
    policy = load_deployed_policy(config.common)
    checks = from_section(
        policy.section("canaries"),
        source=policy.source,
        base_dir=str(Path(config.common.policy_file).parent),
    )
    secrets = SecretReader(SecretsProvider())  # one provider, shared by the probe threads
    return Canary(
        checks=checks,
        rules=config.alarm_rules,
        environment=config.common.environment,
        probe=lambda checks, now: probe_all(checks, resolve_header_secret=secrets.value, now=now),
        metrics=EmfMetrics(config.namespace),
        alarms=MetricAlarms(),
        memory=CanaryMemory(config.common.state_table),
        publisher=publisher(),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: object, context: LambdaContext) -> dict[str, Any]:
    trigger = ScheduledRun.from_event(event)
    try:
        run = canary()
    except PolicyError as exc:
        logger.exception("policy not loaded: nothing probed")
        metrics.add_metric(name="CanaryPolicyErrors", unit=MetricUnit.Count, value=1)
        report = unprobed_report(
            trigger, context.aws_request_id, settings().common.environment, exc
        )
        publisher().publish(report)
        raise
    outcome = run.run(trigger, run_id=context.aws_request_id)
    metrics.add_metric(name="ChecksDown", unit=MetricUnit.Count, value=len(outcome.results.failing))
    metrics.add_metric(
        name="CanaryReportsPublished", unit=MetricUnit.Count, value=int(outcome.decision.publish)
    )
    return outcome.report.to_json()
