"""ECS Deployment State Change events, which an EventBridge rule publishes to the ops topic (so
the event arrives as the SNS message body) or sends to the queue directly.

Cluster and service exist only in `resources[0]`
(`arn:aws:ecs:<region>:<account>:service/<cluster>/<service>`). A circuit-breaker rollback is
not an event of its own: it arrives as SERVICE_DEPLOYMENT_IN_PROGRESS whose reason says it is
rolling back, and it counts as a failure. The reason text is the only signal ECS gives for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nightshift.notify.console import ecs_deployments_url
from nightshift.notify.model import Fact, Link, Notification, Severity, Source, State
from nightshift.notify.sources.message import Message, Recogniser
from nightshift.notify.sources.reading import (
    UnreadableMessage,
    arn_account,
    arn_partition,
    arn_region,
    iso_instant,
    optional_mapping,
    optional_text,
    required_text,
)

DETAIL_TYPE = "ECS Deployment State Change"


@dataclass(frozen=True)
class DeploymentOutcome:
    key: str
    headline: str
    state: State
    severity: Severity


_COMPLETED = DeploymentOutcome("completed", "Deployment completed", State.INFO, Severity.INFO)
_FAILED = DeploymentOutcome("failed", "Deployment FAILED", State.ALARM, Severity.CRITICAL)
_ROLLING_BACK = DeploymentOutcome(
    "rolling-back", "Deployment ROLLING BACK", State.ALARM, Severity.CRITICAL
)
_IN_PROGRESS = DeploymentOutcome("in-progress", "Deployment in progress", State.INFO, Severity.INFO)
_OUTCOMES = {
    "SERVICE_DEPLOYMENT_COMPLETED": _COMPLETED,
    "SERVICE_DEPLOYMENT_FAILED": _FAILED,
    "SERVICE_DEPLOYMENT_IN_PROGRESS": _IN_PROGRESS,
}
# An event name ECS adds later still gets a sensible severity from its eventType.
_BY_EVENT_TYPE = {
    "ERROR": DeploymentOutcome("error", "Deployment error", State.ALARM, Severity.CRITICAL),
    "WARN": DeploymentOutcome("warning", "Deployment warning", State.INFO, Severity.WARNING),
    "INFO": DeploymentOutcome("event", "Deployment event", State.INFO, Severity.INFO),
}
_ROLLBACK = re.compile(r"rolling back to deploymentId (?P<target>[\w/.:-]+?)\.?$", re.IGNORECASE)
_SERVICE = re.compile(r"^service/(?:(?P<cluster>[^/]+)/)?(?P<service>[^/]+)$")


def claims(message: Message) -> bool:
    document = message.json_object
    return document is not None and document.get("detail-type") == DETAIL_TYPE


def read(message: Message) -> Notification:
    """Turn an ECS Deployment State Change event into a Notification.

    >>> import json
    >>> from nightshift.notify.events import Inbound
    >>> event = {"detail-type": DETAIL_TYPE, "region": "eu-central-1",
    ...          "resources": ["arn:aws:ecs:eu-central-1:111122223333:service/c1/web"],
    ...          "detail": {"eventName": "SERVICE_DEPLOYMENT_FAILED", "deploymentId": "ecs-svc/1"}}
    >>> n = read(Message.of(Inbound("m-1", None, json.dumps(event), None, None)))
    >>> n.title, n.severity.value
    ('Deployment FAILED: web', 'critical')
    """
    document = message.json_object
    if document is None:
        raise UnreadableMessage("the message is not a JSON object")
    detail = optional_mapping(document, "detail")
    if detail is None:
        raise UnreadableMessage("field 'detail': expected an object")
    resources = document.get("resources")
    if not isinstance(resources, list) or not resources or not isinstance(resources[0], str):
        raise UnreadableMessage("field 'resources': expected the service ARN as its first item")
    service_arn = resources[0]
    resource = service_arn.split(":", 5)[-1]
    found = _SERVICE.match(resource)
    if found is None:
        raise UnreadableMessage(f"resources[0] is not an ECS service ARN: {service_arn!r}")
    service, cluster = found["service"], found["cluster"]
    event_name = required_text(detail, "eventName")
    reason = optional_text(detail, "reason")
    rollback = _ROLLBACK.search(reason or "")
    outcome = _outcome(event_name, optional_text(detail, "eventType"), rollback is not None)
    deployment = optional_text(detail, "deploymentId")
    region = optional_text(document, "region") or arn_region(service_arn)

    facts = [Fact("Service", service)]
    if cluster:
        facts.append(Fact("Cluster", cluster))
    if deployment:
        facts.append(Fact("Deployment", deployment))
    if rollback:
        facts.append(Fact("Rolling back to", rollback["target"]))
    facts.append(Fact("Event", event_name))
    links: tuple[Link, ...] = ()
    if region and cluster:
        url = ecs_deployments_url(region, cluster, service, arn_partition(service_arn))
        links = (Link("Deployments", url),)
    return Notification(
        source=Source.ECS_DEPLOYMENT,
        severity=outcome.severity,
        state=outcome.state,
        title=f"{outcome.headline}: {service}",
        name=service,
        summary=reason or f"{event_name} for {service}.",
        facts=tuple(facts),
        links=links,
        dedup_key=f"ecs-deployment:{service_arn}:{deployment or '-'}:{outcome.key}",
        raw=message.inbound.body,
        occurred_at=iso_instant(
            optional_text(detail, "updatedAt") or optional_text(document, "time")
        ),
        region=region,
        account=optional_text(document, "account") or arn_account(service_arn),
    )


RECOGNISER = Recogniser(
    source=Source.ECS_DEPLOYMENT,
    describes="an ECS deployment state change",
    claims=claims,
    read=read,
)


def _outcome(event_name: str, event_type: str | None, rolling_back: bool) -> DeploymentOutcome:
    outcome = _OUTCOMES.get(event_name) or _BY_EVENT_TYPE.get(event_type or "", _IN_PROGRESS)
    # A rollback is announced by an in-progress event; FAILED and COMPLETED keep their meaning.
    if rolling_back and outcome not in (_COMPLETED, _FAILED):
        return _ROLLING_BACK
    return outcome
