"""Redeploy: an ECR push reaches the ECS services that follow it, exactly once; an ECS
deployment's outcome reaches people. Two EventBridge rules, one function (docs/redeploy.md).

Push: discover (Tagging API, DescribeServices, DescribeTaskDefinition) → plan (pure core) →
register one revision per source revision → UpdateService each service → report. The work for
one push runs under Powertools idempotency keyed on the push (repository, digest, tag), so
duplicate and concurrent deliveries deploy once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.adapters.deployed_pushes import DeployedPushes, push_idempotency_store
from nightshift.adapters.ecs import EcsServices
from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.reporting import ReportPublisher
from nightshift.errors import AwsError, EventError, NightshiftError
from nightshift.library_logs import quiet_library_loggers
from nightshift.redeploy import (
    DeploymentStateChange,
    IgnoredEvent,
    ImagePush,
    RedeployPlan,
    RedeployPolicy,
    RevisionPlan,
    ServiceDecision,
    plan_redeploy,
    read_image_action,
    render_plan,
    report_item,
    report_items,
)
from nightshift.redeploy.events import (
    ECR_DETAIL_TYPE,
    ECR_SOURCE,
    ECS_DEPLOYMENT_DETAIL_TYPE,
    ECS_SOURCE,
)
from nightshift.redeploy.outcome import (
    RedeployIncompleteError,
    deployed_item,
    deployment_item,
    deployment_summary,
    failed_item,
    push_label,
    push_summary,
    reportable,
    superseded_item,
    worth_reporting,
)
from nightshift.report import Outcome, Report, ReportItem
from nightshift.settings import CommonSettings
from nightshift.trigger import quoted

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger = Logger()
tracer = Tracer()
metrics = Metrics()

FUNCTION = "redeploy"
# EventBridge retries a delivery for up to 24 hours: a push seen again within a day is a duplicate.
# Later copies are still harmless: services already on the digest are no-ops.
PUSH_IDEMPOTENCY_SECONDS = 24 * 60 * 60
OUTCOME_METRICS = {
    Outcome.DONE: "ServicesRedeployed",
    Outcome.PLANNED: "ServicesPlanned",
    Outcome.FAILED: "RedeployFailures",
    Outcome.REFUSED: "PushesRefused",
}


@dataclass(frozen=True)
class PushRun:
    """One handling of one push: the Lambda request it runs in, and whether it only plans."""

    push: ImagePush
    run_id: str
    dry_run: bool


@dataclass(frozen=True)
class Redeployer:
    """What a push needs, built once per warm container."""

    policy: RedeployPolicy
    ecs: EcsServices
    pushes: DeployedPushes
    idempotency: IdempotencyConfig
    redeploy_once: Callable[..., dict[str, Any]]


@cache
def settings() -> CommonSettings:
    return CommonSettings.from_environ()


@cache
def publisher() -> ReportPublisher:
    return ReportPublisher(settings().ops_topic_arn)


@cache
def ecs() -> EcsServices:
    return EcsServices()


@cache
def redeployer() -> Redeployer:
    """Raises PolicyError when the policy cannot be loaded (not cached: the next event retries)."""
    policy = RedeployPolicy.from_policy(load_deployed_policy(settings()))
    config = IdempotencyConfig(expires_after_seconds=PUSH_IDEMPOTENCY_SECONDS)
    store = push_idempotency_store(settings().state_table)
    once = idempotent_function(
        data_keyword_argument="push_key", persistence_store=store, config=config, key_prefix="push"
    )(redeploy)
    return Redeployer(policy, ecs(), DeployedPushes(settings().state_table), config, once)


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: object, context: LambdaContext) -> dict[str, Any]:
    kind = event_kind(event)
    route = ROUTES.get(kind) if kind is not None else None
    if route is None or not isinstance(event, dict):
        metrics.add_metric(name="UnknownEvents", unit=MetricUnit.Count, value=1)
        known = ", ".join(f"{source} {detail_type!r}" for source, detail_type in ROUTES)
        raise EventError(f"redeploy handles {known}, not {described(event)}")
    return route(event, context)


def event_kind(event: object) -> tuple[str, str] | None:
    """The event's (source, detail-type) when it is an object with both as text."""
    if not isinstance(event, dict):
        return None
    source, detail_type = event.get("source"), event.get("detail-type")
    if isinstance(source, str) and isinstance(detail_type, str):
        return source, detail_type
    return None


def described(event: object) -> str:
    if not isinstance(event, dict):
        return f"a JSON {type(event).__name__}"
    return f"{quoted(event.get('source'))} {quoted(event.get('detail-type'))}"


# ------------------------------------------------------------------------------------- pushes
def on_image_action(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    read = read_image_action(event)
    if isinstance(read, IgnoredEvent):
        return ignored(read)
    metrics.add_metric(name="PushesReceived", unit=MetricUnit.Count, value=1)
    run = PushRun(read, context.aws_request_id, dry_run=event.get("dry_run") is True)
    with failure_reported(run):
        deps = redeployer()
    if run.dry_run or deps.policy.dry_run:
        # A plan changes nothing, so it is made afresh every time it is asked for.
        return redeploy(run=replace(run, dry_run=True))
    deps.idempotency.register_lambda_context(context)
    try:
        result = deps.redeploy_once(push_key=run.push.key, run=run)
    except IdempotencyAlreadyInProgressError:
        # Another invocation is deploying this push now; if it fails, Lambda retries *it*.
        logger.info("push already in progress", push=run.push.key)
        metrics.add_metric(name="DuplicatePushes", unit=MetricUnit.Count, value=1)
        return {"duplicate": run.push.key, "in_progress": True}
    if result.get("run_id") != run.run_id:
        logger.info("push already handled", push=run.push.key, run_id=result.get("run_id"))
        metrics.add_metric(name="DuplicatePushes", unit=MetricUnit.Count, value=1)
    return result


def redeploy(*, run: PushRun, push_key: str | None = None) -> dict[str, Any]:
    """Plan the push and, unless dry-run, carry the plan out; publish and return the report.
    `push_key` is what Powertools idempotency hashes; the work reads only `run`."""
    deps = redeployer()
    with failure_reported(run):
        services = deps.ecs.opted_in()
        definitions = deps.ecs.task_definitions(s.task_definition_arn for s in services)
        last_pushes = deps.pushes.last_pushes() if services else {}
    plan = plan_redeploy(run.push, services, definitions, deps.policy, last_pushes)
    logger.info("plan built", push=push_key or run.push.key, plan=render_plan(plan))
    items = report_items(plan) if run.dry_run else deploy(plan, deps)
    report = push_report(run, items)
    if worth_reporting(items):
        publisher().publish(report)
    for outcome, name in OUTCOME_METRICS.items():
        if count := report.counts[outcome.value]:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
    failed = [item.resource for item in items if item.outcome is Outcome.FAILED]
    if failed and not run.dry_run:
        # The report is out; raising releases the idempotency record so Lambda's retry (or a
        # person re-sending the event) deploys what is missing.
        raise RedeployIncompleteError(failed)
    return report.to_json()


def deploy(plan: RedeployPlan, deps: Redeployer) -> tuple[ReportItem, ...]:
    """Carry out the plan: one registration per revision, then one UpdateService per service.
    Items come back in the plan's order (by service ARN)."""
    done = {d.service.arn: report_item(d) for d in plan.decisions if not d.deploys}
    decisions = {d.service.arn: d for d in plan.deployments}
    for revision in plan.revisions:
        done.update(
            deploy_revision(
                revision, [decisions[arn] for arn in revision.services], plan.push, deps
            )
        )
    return tuple(done[d.service.arn] for d in plan.decisions)


def deploy_revision(
    revision: RevisionPlan, decisions: list[ServiceDecision], push: ImagePush, deps: Redeployer
) -> dict[str, ReportItem]:
    try:
        new_revision = deps.ecs.register_revision(revision.source, push)
    except AwsError as exc:
        return {d.service.arn: failed_item(d, str(exc)) for d in decisions}
    return {d.service.arn: deploy_service(d, new_revision, push, deps) for d in decisions}


def deploy_service(
    decision: ServiceDecision, new_revision: str, push: ImagePush, deps: Redeployer
) -> ReportItem:
    try:
        # Claimed first, so a newer push racing this one for the service wins (docs/redeploy.md).
        newer = deps.pushes.claim(decision.service.arn, push)
        if newer is not None:
            return superseded_item(decision, push.time, newer)
        deployment_id = deps.ecs.update_service(decision.service, new_revision)
    except AwsError as exc:
        return failed_item(decision, str(exc), new_revision)
    return deployed_item(decision, deployment_id, new_revision)


def push_report(
    run: PushRun, items: tuple[ReportItem, ...], summary: str | None = None, error: str = ""
) -> Report:
    return Report(
        function=FUNCTION,
        run_id=run.run_id,
        time=run.push.time.isoformat(),
        environment=settings().environment,
        dry_run=run.dry_run,
        summary=summary or push_summary(run.push, items),
        items=items,
        errors=(error,) if error else (),
    )


@contextmanager
def failure_reported(run: PushRun) -> Iterator[None]:
    """A failure before anything was changed (policy, discovery) is reported, then raised so
    Lambda retries the push."""
    try:
        yield
    except NightshiftError as exc:
        logger.exception("push not handled", push=run.push.key)
        try:
            summary = f"{push_label(run.push)}: nothing was redeployed"
            publisher().publish(push_report(run, (), summary, error=str(exc)))
        except NightshiftError:
            logger.exception("failure report not published")
        raise


# ---------------------------------------------------------------------- deployment outcomes
def on_deployment_state_change(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    change = DeploymentStateChange.from_event(event)
    history = reportable(change, ecs().history(change.service_arn))
    if isinstance(history, IgnoredEvent):
        return ignored(history)
    stopped = ecs().stopped_tasks(history.service) if change.is_failure else ()
    report = Report(
        function=FUNCTION,
        run_id=change.event_id,
        time=change.time.isoformat(),
        environment=settings().environment,
        dry_run=False,
        summary=deployment_summary(change),
        items=(deployment_item(change, history.events, stopped),),
    )
    publisher().publish(report)
    name = "DeploymentsFailed" if change.is_failure else "DeploymentsCompleted"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return report.to_json()


def ignored(event: IgnoredEvent) -> dict[str, Any]:
    logger.info("event ignored", reason=event.reason)
    metrics.add_metric(name="EventsIgnored", unit=MetricUnit.Count, value=1)
    return {"ignored": event.reason, "event_id": event.event_id}


ROUTES: dict[tuple[str, str], Callable[[dict[str, Any], LambdaContext], dict[str, Any]]] = {
    (ECR_SOURCE, ECR_DETAIL_TYPE): on_image_action,
    (ECS_SOURCE, ECS_DEPLOYMENT_DETAIL_TYPE): on_deployment_state_change,
}
