"""Actions, behind a function URL (AuthType NONE: the token's signature is the authority):
GET / shows what a signed link does, changing nothing; POST / (its form) acts, once; POST /slack
takes a Slack button click signed by the Slack app; GET /status shows the read-only status page
to a signed status link. See docs/actions.md."""

from __future__ import annotations

import datetime as dt
from functools import cache, partial
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.actions.http import Request, request_time
from nightshift.actions.http import answer as respond
from nightshift.actions.settings import settings_from_environ
from nightshift.adapters.secrets import SecretReader
from nightshift.library_logs import quiet_library_loggers
from nightshift.tracing import traced_handler

if TYPE_CHECKING:
    from nightshift.actions.service import ActionService
    from nightshift.actions.status import StatusFacts
    from nightshift.actions.token import ActionToken

# A link (GET /, the first request of most actions) needs neither the policy nor an AWS adapter:
# service() imports what acting needs and status_facts() what the status page reads, at the
# first request that needs them, so a cold start loads neither (tests/unit/test_cold_start.py).
quiet_library_loggers()  # before any client: no bodies or secrets at DEBUG
logger, metrics, app = Logger(), Metrics(), LambdaFunctionUrlResolver()
settings, secrets = cache(settings_from_environ), SecretReader()  # secrets cached 5 min
read = lambda name: secrets.value(name).encode()  # noqa: E731


@cache
def service() -> ActionService:
    from nightshift.actions.service import ActionService
    from nightshift.adapters.action_stores import SnoozeTable, UsedTokenTable
    from nightshift.adapters.ecs_deploy import EcsDeployer
    from nightshift.adapters.held_redeploys import HeldRedeploys
    from nightshift.adapters.last_pushes import DeployedPushes
    from nightshift.adapters.overrides import OverrideTagger
    from nightshift.adapters.policy_parameter import load_deployed_policy
    from nightshift.adapters.reporting import ReportPublisher
    from nightshift.adapters.rollback import EcsRollback
    from nightshift.redeploy.policy import RedeployPolicy
    from nightshift.redeploy.service import HeldRedeployApprover

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


def status_facts(token: ActionToken, now: dt.datetime) -> StatusFacts:
    """What the status page shows, read through the adapters (nothing is written)."""
    from nightshift.actions.status import CheckFacts, StatusFacts, hour_starts
    from nightshift.adapters.canary_memory import CanaryMemory
    from nightshift.adapters.parked_environment import ParkedEnvironment
    from nightshift.adapters.policy_parameter import load_deployed_policy
    from nightshift.adapters.status_metrics import StatusMetrics
    from nightshift.canary.checks import canary_policy
    from nightshift.schedule.resources import SCHEDULE_TAG

    s, table = settings(), boto3.client("dynamodb")
    policy = canary_policy(load_deployed_policy(s))
    filters = [((SCHEDULE_TAG, name),) for name in sorted(policy.schedules)]
    parking = ParkedEnvironment(s.state_table, table).facts(filters)
    board = CanaryMemory(s.state_table, table).last()
    states = board.states if board is not None else {}
    hours = hour_starts(now)
    names = [check.name for check in policy.checks]
    day = StatusMetrics(s.metrics_namespace).last_day(
        names, hours[0], hours[-1] + dt.timedelta(hours=1)
    )
    return StatusFacts(
        environment=s.environment,
        now=now,
        zone=s.zone,
        schedules=policy.schedules,
        records=parking.records,
        resources=parking.resources,
        checks=tuple(
            CheckFacts(
                name=check.name,
                schedule=check.depends_on.schedule if check.depends_on else None,
                state=str(states[check.name]) if check.name in states else None,
                success=day.success.get(check.name, {}),
                parked=day.parked.get(check.name, {}),
            )
            for check in policy.checks
        ),
        stopped=day.scheduler["Stopped"],
        started=day.scheduler["Started"],
        dollars_saved=day.scheduler["DollarsSaved"],
        link_expires=token.expires,
    )


def answer(route: str) -> Response[str]:
    event, s = app.current_event, settings()
    stamped = event.raw_event.get("requestContext") or {}  # the time AWS received it
    epoch = stamped.get("timeEpoch") if isinstance(stamped, dict) else None
    now = request_time(epoch, dt.datetime.now(dt.UTC))
    body, params = (event.decoded_body or "").encode(), event.query_string_parameters or {}
    key, slack = partial(read, s.signing_key_secret), partial(read, s.slack_secret)
    act = lambda token, via: service().act(token, via, now)  # noqa: E731
    gather = partial(status_facts, now=now)
    request = Request(route, event.headers, body, params)
    result = respond(request, key, slack, now, s.zone, act, s.environment, gather)
    logger.info("answered", extra={"route": route, "reason": result.reason})
    metrics.add_metric(name=f"Answers{result.status}", unit="Count", value=1)
    return Response(result.status, result.content_type, result.body, {"Cache-Control": "no-store"})


app.get("/")(lambda: answer("link")), app.post("/")(lambda: answer("form"))
app.post("/slack")(lambda: answer("slack")), app.get("/status")(lambda: answer("status"))


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
