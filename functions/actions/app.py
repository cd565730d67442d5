"""Actions: signed links and Slack buttons act on Nightshift's resources, once each.

Served by a Lambda function URL (AuthType NONE: the authority is the token's signature).
GET /?token=…&target=… shows what a link does (nothing changes); POST / (its form) acts;
POST /slack takes a Slack button click, signed by the Slack app. See docs/actions.md."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.actions.http import Answer, follow_link, show_link, slack_click
from nightshift.actions.service import ActionService
from nightshift.actions.settings import settings_from_environ
from nightshift.adapters.action_stores import SnoozeTable, UsedTokenTable
from nightshift.adapters.overrides import OverrideTagger
from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.reporting import ReportPublisher
from nightshift.adapters.rollback import EcsRollback
from nightshift.adapters.secrets import SecretReader
from nightshift.library_logs import quiet_library_loggers
from nightshift.tracing import traced_handler

quiet_library_loggers()  # before any client: no bodies or secrets at DEBUG
logger, metrics, app = Logger(), Metrics(), LambdaFunctionUrlResolver()
settings, secrets = cache(settings_from_environ), cache(SecretReader)


@cache
def service() -> ActionService:
    table, s = boto3.client("dynamodb"), settings()
    return ActionService(
        s.environment,
        s.zone,
        load_deployed_policy(s).protect,
        UsedTokenTable(s.state_table, table),
        OverrideTagger(),
        SnoozeTable(s.state_table, table),
        EcsRollback(),
        ReportPublisher(s.ops_topic_arn, boto3.client("sns")),
    )


def key() -> bytes:
    return secrets().value(settings().signing_key_secret).encode()


def respond(answer: Answer) -> Response[str]:
    logger.info("answered", extra={"status": answer.status, "reason": answer.reason})
    metrics.add_metric(name="Answers", unit="Count", value=1)
    return Response(answer.status, answer.content_type, answer.body, {"Cache-Control": "no-store"})


@app.get("/")
def link_page() -> Response[str]:
    params = app.current_event.query_string_parameters or {}
    return respond(show_link(params, key(), dt.datetime.now(dt.UTC), settings().zone))


@app.post("/")
def link_form() -> Response[str]:
    body, now = (app.current_event.decoded_body or "").encode(), dt.datetime.now(dt.UTC)
    return respond(follow_link(body, key(), now, lambda t, via: service().act(t, via, now)))


@app.post("/slack")
def slack_button() -> Response[str]:
    body, now = (app.current_event.decoded_body or "").encode(), dt.datetime.now(dt.UTC)
    secret = secrets().value(settings().slack_secret).encode()
    act = lambda t, via: service().act(t, via, now)  # noqa: E731
    return respond(slack_click(app.current_event.headers, body, secret, key(), now, act))


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
