"""Redeploy: an ECR push reaches the ECS services that follow it, exactly once; an ECS
deployment's outcome reaches people. Two EventBridge rules, one function (docs/redeploy.md).
The work is `nightshift.redeploy.service`; the push's runs under Powertools idempotency.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.adapters.deployed_pushes import DeployedPushes, PushIdempotency
from nightshift.adapters.ecs import EcsServices
from nightshift.adapters.held_redeploys import HeldRedeploys
from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.reporting import ReportPublisher, failure_reported
from nightshift.adapters.secrets import SecretReader
from nightshift.errors import AwsError, ConfigurationError
from nightshift.library_logs import quiet_library_loggers
from nightshift.redeploy.events import read_event
from nightshift.redeploy.service import DeploymentOutcomes, PushRedeployer, Redeploy
from nightshift.redeploy.settings import PUSH_IDEMPOTENCY_SECONDS, RedeployPolicy, RedeploySettings
from nightshift.tracing import traced_handler

if TYPE_CHECKING:
    from nightshift.adapters.redeploy_targets import TargetedEcs
    from nightshift.policy import Targets
    from nightshift.redeploy.approval import HeldRedeploy

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger = Logger()
metrics = Metrics()
idempotency = IdempotencyConfig(expires_after_seconds=PUSH_IDEMPOTENCY_SECONDS)


def canary_state(table: str) -> str:
    """The canary's last reported state ('unknown' when it cannot be read: never a reason to
    not ask for an approval)."""
    from nightshift.adapters.canary_memory import CanaryMemory  # a held push only (cold start)
    from nightshift.redeploy.approval import canary_summary

    try:
        return canary_summary(CanaryMemory(table).last())
    except AwsError as exc:
        logger.warning("canary state not read", error=str(exc))
        return "unknown"


def targeted_ecs(targets: Targets, *, environment: str, function_arn: str) -> TargetedEcs:
    """The ECS side of a push across the policy's targets (hub and spoke), whose adapters and
    fan-out are imported at the first push of a policy with targets (cold start)."""
    from nightshift.adapters.redeploy_targets import targeted_ecs as across_targets

    return across_targets(targets, environment=environment, function_arn=function_arn)


def approve_links(
    settings: RedeploySettings, secrets: SecretReader
) -> Callable[[HeldRedeploy], str | None]:
    def link(held: HeldRedeploy) -> str | None:
        from nightshift.redeploy.approval import approve_link  # a held push only (cold start)

        if not settings.actions_url or not settings.signing_key_secret:
            return None
        try:
            key = secrets.value(settings.signing_key_secret).encode()
        except ConfigurationError as exc:
            logger.warning("approve link not signed", error=str(exc))
            return None
        return approve_link(held, settings.actions_url, key)

    return link


@cache
def redeploy(function_arn: str) -> Redeploy:
    """Built once per container; `function_arn` (the Lambda context's) names the hub's account
    and Region for a policy with targets."""
    settings = RedeploySettings.from_environ()
    common = settings.common
    ecs, publisher = EcsServices(), ReportPublisher(common.ops_topic_arn)
    pushes = PushRedeployer(  # the policy is read at the first push (again after a PolicyError)
        policy=cache(lambda: RedeployPolicy.from_policy(load_deployed_policy(common))),
        environment=common.environment,
        ecs=ecs,
        # A policy with targets: each push reaches every target's services (hub and spoke).
        targets=partial(targeted_ecs, environment=common.environment, function_arn=function_arn),
        pushes=DeployedPushes(common.state_table),
        once=PushIdempotency(common.state_table, idempotency),
        publisher=publisher,
        failures=partial(failure_reported, publisher, logger=logger),
        metrics=metrics,
        logger=logger,
        held=HeldRedeploys(common.state_table),
        canary=partial(canary_state, common.state_table),
        links=approve_links(settings, SecretReader()),
    )
    outcomes = DeploymentOutcomes(
        environment=common.environment, ecs=ecs, publisher=publisher, metrics=metrics, logger=logger
    )
    return Redeploy(pushes=pushes, deployments=outcomes, metrics=metrics, logger=logger)


@logger.inject_lambda_context(correlation_id_path="id")
@traced_handler
@metrics.log_metrics
def lambda_handler(event: object, context: LambdaContext) -> dict[str, Any]:
    received = read_event(event, context.aws_request_id)
    idempotency.register_lambda_context(context)
    return redeploy(context.invoked_function_arn).handle(received)
