"""Actions, behind a function URL (AuthType NONE: the token's signature is the authority):
GET / shows what a signed link does, changing nothing; POST / (its form) acts, once; POST /slack
takes a Slack button click signed by the Slack app. See docs/actions.md."""

from __future__ import annotations

import datetime as dt
from functools import cache, partial
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.actions.http import Request, request_time
from nightshift.actions.http import answer as respond
from nightshift.actions.service import ActionService
from nightshift.actions.settings import settings_from_environ
from nightshift.adapters.action_stores import SnoozeTable, UsedTokenTable
from nightshift.adapters.ecs_deploy import EcsDeployer
from nightshift.adapters.held_redeploys import HeldRedeploys
from nightshift.adapters.last_pushes import DeployedPushes
from nightshift.adapters.overrides import OverrideTagger
from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.reporting import ReportPublisher
from nightshift.adapters.rollback import EcsRollback
from nightshift.adapters.secrets import SecretReader
from nightshift.library_logs import quiet_library_loggers
from nightshift.redeploy.policy import RedeployPolicy
from nightshift.redeploy.service import HeldRedeployApprover
from nightshift.tracing import traced_handler

quiet_library_loggers()  # before any client: no bodies or secrets at DEBUG
logger, metrics, app = Logger(), Metrics(), LambdaFunctionUrlResolver()
settings, secrets = cache(settings_from_environ), SecretReader()  # secrets cached 5 min
read = lambda name: secrets.value(name).encode()  # noqa: E731


@cache
def service() -> ActionService:
    s, table, publish = settings(), boto3.client("dynamodb"), boto3.client("sns")
    used, snoozes = UsedTokenTable(s.state_table, table), SnoozeTable(s.state_table, table)
    policy = load_deployed_policy(s)
    protect, reports = policy.protect, ReportPublisher(s.ops_topic_arn, publish)
    tagger, services = OverrideTagger(), EcsRollback()
    approvals = HeldRedeployApprover(  # a held redeploy goes out through redeploy's own path
        policy=lambda: RedeployPolicy.from_policy(policy),
        ecs=EcsDeployer(),
        pushes=DeployedPushes(s.state_table, table),
        held=HeldRedeploys(s.state_table, table),
    )
    return ActionService(
        s.environment, s.zone, protect, used, tagger, snoozes, services, reports, approvals
    )


def answer(route: str) -> Response[str]:
    event, s = app.current_event, settings()
    stamped = event.raw_event.get("requestContext") or {}  # the time AWS received it
    epoch = stamped.get("timeEpoch") if isinstance(stamped, dict) else None
    now = request_time(epoch, dt.datetime.now(dt.UTC))
    body, params = (event.decoded_body or "").encode(), event.query_string_parameters or {}
    key, slack = partial(read, s.signing_key_secret), partial(read, s.slack_secret)
    act = lambda token, via: service().act(token, via, now)  # noqa: E731
    result = respond(Request(route, event.headers, body, params), key, slack, now, s.zone, act)
    logger.info("answered", extra={"route": route, "reason": result.reason})
    metrics.add_metric(name=f"Answers{result.status}", unit="Count", value=1)
    return Response(result.status, result.content_type, result.body, {"Cache-Control": "no-store"})


app.get("/")(lambda: answer("link")), app.post("/")(lambda: answer("form"))
app.post("/slack")(lambda: answer("slack"))


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
