"""Canary: each run probes the policy's HTTP(S) checks at once (judging a parked environment as
parked), publishes their metrics, keeps their alarms and reports changes. See docs/canary.md.
"""

from __future__ import annotations

from functools import cache, partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.adapters.alarms import MetricAlarms
from nightshift.adapters.canary_memory import CanaryMemory
from nightshift.adapters.canary_snoozes import CanarySnoozes
from nightshift.adapters.emf import EmfMetrics
from nightshift.adapters.http_probe import HttpProber
from nightshift.adapters.parked_environment import ParkedEnvironment
from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.reporting import ReportPublisher, failure_reported
from nightshift.adapters.secrets import SecretReader
from nightshift.canary import Canary, CanarySettings, canary_policy, canary_trigger, unprobed_report
from nightshift.errors import PolicyError
from nightshift.library_logs import quiet_library_loggers
from nightshift.tracing import traced_handler

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger = Logger()
metrics = Metrics()  # the function's own metrics (with `service`); check metrics go through EMF
settings = cache(CanarySettings.from_environ)
publisher = cache(lambda: ReportPublisher(settings().common.ops_topic_arn))


@cache  # once per warm container; a policy that does not load is retried on the next run
def canary() -> Canary:
    config, table = settings(), settings().common.state_table
    policy = canary_policy(load_deployed_policy(config.common), base_dir=config.policy_dir)
    probe = HttpProber(SecretReader().value)  # one reader (one provider) for all threads
    emf, alarms, memory = EmfMetrics(config.namespace), MetricAlarms(), CanaryMemory(table)
    ports = (probe, emf, alarms, memory, publisher(), ParkedEnvironment(table))  # read only
    snoozes = CanarySnoozes(table)  # read only, like the parked records
    return Canary(policy.checks, config.alarm_rules, *ports, policy.schedules, snoozes)


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def lambda_handler(event: object, context: LambdaContext) -> dict[str, Any]:
    trigger, run_id = canary_trigger(event), context.aws_request_id
    unprobed = partial(unprobed_report, trigger, run_id, settings().common.environment)
    try:
        with failure_reported(publisher(), unprobed, logger):
            service = canary()
    except PolicyError:
        metrics.add_metric(name="CanaryPolicyErrors", unit=MetricUnit.Count, value=1)
        raise
    outcome = service.run(trigger, run_id=run_id)
    for name, count in outcome.counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
    return outcome.report.to_json()
