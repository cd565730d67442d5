"""The two EventBridge events redeploy reacts to, turned into typed objects at the edge.

`ECR Image Action` (a push starts a redeploy) and `ECS Deployment State Change` (how it ended).
Shapes: tests/fixtures/reference and events/redeploy/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nightshift.errors import EventError
from nightshift.redeploy.image import EcrRegistry, ImageReference
from nightshift.trigger import quoted, within_years

ECR_SOURCE = "aws.ecr"
ECR_DETAIL_TYPE = "ECR Image Action"
ECS_SOURCE = "aws.ecs"
ECS_DEPLOYMENT_DETAIL_TYPE = "ECS Deployment State Change"

_SERVICE_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"service/(?:(?P<cluster>[^/]+)/)?(?P<service>[^/]+)"
)
# ECS says a rollback only in the reason of an IN_PROGRESS event; there is no other field for it.
_ROLLBACK = re.compile(r"circuit breaker: rolling back to deploymentId (?P<target>\S+?)\.?$")
# What AWS allows in each field of a push (ECR's and EventBridge's documented limits), so an
# event that does not fit is refused here, not when its copy outgrows a DynamoDB item.
_PUSH_FIELDS = {
    "account": re.compile(r"\d{12}"),
    "region": re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}"),
    "id": re.compile(r"[A-Za-z0-9-]{1,64}"),
    "repository-name": re.compile(
        r"(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
    ),
    "image-digest": re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-f0-9]{32,256}"),
    "image-tag": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,299}"),
}
_LONGEST_TEXT = 4096  # characters of a free-text field (a deployment's reason) kept


@dataclass(frozen=True)
class IgnoredEvent:
    """An event redeploy receives but must not act on, and why."""

    reason: str
    event_id: str | None = None


@dataclass(frozen=True)
class ImagePush:
    """A successful push of one image (by digest, maybe with a tag) to an ECR repository.

    >>> push = ImagePush.from_event({
    ...     "id": "4f8e", "source": "aws.ecr", "detail-type": "ECR Image Action",
    ...     "account": "111122223333", "region": "eu-central-1", "time": "2026-11-20T09:12:45Z",
    ...     "detail": {"action-type": "PUSH", "result": "SUCCESS", "image-tag": "v1.2.3",
    ...                "repository-name": "todoapp-backend",
    ...                "image-digest": "sha256:" + "9b" * 32}})
    >>> push.tag, str(push.image)[:70]
    ('v1.2.3', '111122223333.dkr.ecr.eu-central-1.amazonaws.com/todoapp-backend@sha256')
    """

    registry: EcrRegistry
    repository: str
    digest: str
    tag: str | None
    time: dt.datetime
    event_id: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> ImagePush | None:
        """The push this event reports, or None for anything redeploy ignores (DELETE, FAILURE,
        other sources); `read_image_action` says why it was ignored."""
        read = read_image_action(event)
        return read if isinstance(read, ImagePush) else None

    @property
    def image(self) -> ImageReference:
        """The pushed image, pinned by digest."""
        return ImageReference(self.registry.host, self.repository, digest=self.digest)

    @property
    def key(self) -> str:
        """What makes two deliveries the same push: registry, repository, digest and tag (a
        second tag on a pushed digest is a new push that may reach other services)."""
        return f"{self.registry.host}/{self.repository}@{self.digest}#{self.tag or ''}"

    def runs_in(self, reference: ImageReference) -> bool:
        """Whether `reference` names this push's repository (with any tag, digest or none)."""
        return reference.ecr_registry == self.registry and reference.repository == self.repository


def read_image_action(event: Mapping[str, Any]) -> ImagePush | IgnoredEvent:
    """Parse an `ECR Image Action` event: a PUSH that succeeded becomes an ImagePush, anything
    else an IgnoredEvent with the reason.

    >>> read_image_action({"source": "aws.s3", "detail-type": "Object Created"}).reason
    "not an ECR image action (aws.s3 'Object Created')"
    """
    envelope = _object(event)
    source, detail_type = envelope.get("source"), envelope.get("detail-type")
    event_id = _optional_id(envelope)
    if (source, detail_type) != (ECR_SOURCE, ECR_DETAIL_TYPE):
        return IgnoredEvent(
            f"not an ECR image action ({_said(source)} {quoted(detail_type)})", event_id
        )
    detail = _mapping(envelope, "detail")
    action, result = detail.get("action-type"), detail.get("result")
    if action != "PUSH":
        return IgnoredEvent(f"{_said(action)} of an image is not a push", event_id)
    if result != "SUCCESS":
        return IgnoredEvent(f"push result is {_said(result)}, not SUCCESS", event_id)
    tag = detail.get("image-tag")
    return ImagePush(
        registry=EcrRegistry(
            account=_field(envelope, "account"), region=_field(envelope, "region")
        ),
        repository=_field(detail, "repository-name"),
        digest=_field(detail, "image-digest"),
        tag=_field(detail, "image-tag") if tag not in (None, "") else None,
        time=_instant(_text(envelope, "time")),
        event_id=_field(envelope, "id"),
    )


class DeploymentStatus(StrEnum):
    """Where an ECS deployment stands. A circuit-breaker rollback is a failure of the deployment
    being rolled back, even though ECS reports it as in progress."""

    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLBACK = "rollback"


_EVENT_STATUS = {
    "SERVICE_DEPLOYMENT_IN_PROGRESS": DeploymentStatus.IN_PROGRESS,
    "SERVICE_DEPLOYMENT_COMPLETED": DeploymentStatus.COMPLETED,
    "SERVICE_DEPLOYMENT_FAILED": DeploymentStatus.FAILED,
}
_FAILURES = frozenset({DeploymentStatus.FAILED, DeploymentStatus.ROLLBACK})
_FINAL = frozenset({DeploymentStatus.COMPLETED, *_FAILURES})


@dataclass(frozen=True)
class DeploymentStateChange:
    """One `ECS Deployment State Change` event.

    `cluster` is None only for services with the old short ARN format (`service/<name>`).

    >>> change = DeploymentStateChange.from_event({
    ...     "id": "7c1e", "source": "aws.ecs", "detail-type": "ECS Deployment State Change",
    ...     "time": "2026-11-20T09:19:40Z",
    ...     "resources": ["arn:aws:ecs:eu-central-1:111122223333:service/todoapp/backend"],
    ...     "detail": {"eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_IN_PROGRESS",
    ...                "deploymentId": "ecs-svc/2", "updatedAt": "2026-11-20T09:19:40.451Z",
    ...                "reason": "ECS deployment circuit breaker: rolling back to deploymentId"
    ...                          " ecs-svc/1."}})
    >>> change.cluster, change.status.value, change.is_failure, change.rollback_to
    ('todoapp', 'rollback', True, 'ecs-svc/1')
    """

    service_arn: str
    cluster: str | None
    service: str
    deployment_id: str
    status: DeploymentStatus
    event_name: str
    event_type: str
    reason: str
    time: dt.datetime
    rollback_to: str | None
    event_id: str

    @classmethod
    def from_event(cls, event: object) -> DeploymentStateChange:
        envelope = _object(event)
        source, detail_type = envelope.get("source"), envelope.get("detail-type")
        if (source, detail_type) != (ECS_SOURCE, ECS_DEPLOYMENT_DETAIL_TYPE):
            raise EventError(
                f"not an ECS deployment state change ({_said(source)} {quoted(detail_type)})"
            )
        resources = envelope.get("resources")
        first = resources[0] if isinstance(resources, list) and resources else None
        if not isinstance(first, str) or not (arn := _SERVICE_ARN.fullmatch(first[:2048])):
            raise EventError(f"resources[0] is not an ECS service ARN: {quoted(resources)}")
        detail = _mapping(envelope, "detail")
        event_name = _text(detail, "eventName")
        if event_name not in _EVENT_STATUS:
            raise EventError(
                f"unknown deployment eventName {quoted(event_name)}; "
                f"known: {', '.join(_EVENT_STATUS)}"
            )
        reason = _free_text(detail.get("reason"))
        rollback = _ROLLBACK.search(reason)
        status = _EVENT_STATUS[event_name]
        if status is DeploymentStatus.IN_PROGRESS and rollback:
            status = DeploymentStatus.ROLLBACK
        updated = detail.get("updatedAt")
        return cls(
            service_arn=arn.group(0),
            cluster=arn["cluster"],
            service=arn["service"],
            deployment_id=_text(detail, "deploymentId"),
            status=status,
            event_name=event_name,
            event_type=_free_text(detail.get("eventType"))[:64],
            reason=reason,
            time=_instant(updated if isinstance(updated, str) else _text(envelope, "time")),
            rollback_to=rollback["target"]
            if rollback and status is DeploymentStatus.ROLLBACK
            else None,
            event_id=_field(envelope, "id"),
        )

    @property
    def is_failure(self) -> bool:
        return self.status in _FAILURES

    @property
    def is_final(self) -> bool:
        """Whether this is the deployment's outcome (completed, failed or rolled back)."""
        return self.status in _FINAL


@dataclass(frozen=True)
class PushRun:
    """One handling of one push: the Lambda request it runs in, and whether it only plans
    (`"dry_run": true` beside the EventBridge fields)."""

    push: ImagePush
    run_id: str
    dry_run: bool


@dataclass(frozen=True)
class UnknownEvent:
    """An event of a kind redeploy has no rule for: refused with `error`, which names the kinds
    it handles."""

    error: str


type RedeployEvent = PushRun | DeploymentStateChange | IgnoredEvent | UnknownEvent


def read_event(event: object, run_id: str) -> RedeployEvent:
    """Route an event by its (source, detail-type) to the typed event of its kind. `run_id` is
    the Lambda request the event arrives in.

    >>> read_event(["a", "list"], "r-1").error.endswith("not a JSON list")
    True
    """
    kind = _kind(event)
    read = _ROUTES.get(kind) if kind is not None else None
    if read is None or not isinstance(event, Mapping):
        known = ", ".join(f"{source} {detail_type!r}" for source, detail_type in _ROUTES)
        return UnknownEvent(f"redeploy handles {known}, not {_described(event)}")
    return read(event, run_id)


def _push_run(event: Mapping[str, Any], run_id: str) -> PushRun | IgnoredEvent:
    read = read_image_action(event)
    if isinstance(read, IgnoredEvent):
        return read
    return PushRun(read, run_id, dry_run=event.get("dry_run") is True)


def _deployment_state_change(event: Mapping[str, Any], _run_id: str) -> DeploymentStateChange:
    return DeploymentStateChange.from_event(event)


_ROUTES: Mapping[tuple[str, str], Callable[[Mapping[str, Any], str], RedeployEvent]] = {
    (ECR_SOURCE, ECR_DETAIL_TYPE): _push_run,
    (ECS_SOURCE, ECS_DEPLOYMENT_DETAIL_TYPE): _deployment_state_change,
}


def _kind(event: object) -> tuple[str, str] | None:
    """The event's (source, detail-type) when it is an object with both as text."""
    if not isinstance(event, Mapping):
        return None
    source, detail_type = event.get("source"), event.get("detail-type")
    if isinstance(source, str) and isinstance(detail_type, str):
        return source, detail_type
    return None


def _described(event: object) -> str:
    if not isinstance(event, Mapping):
        return f"a JSON {type(event).__name__}"
    return f"{quoted(event.get('source'))} {quoted(event.get('detail-type'))}"


def _object(event: object) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        raise EventError(f"an EventBridge event must be a JSON object, got {type(event).__name__}")
    return event


def _optional_id(envelope: Mapping[str, Any]) -> str | None:
    value = envelope.get("id")
    return value if isinstance(value, str) and _PUSH_FIELDS["id"].fullmatch(value) else None


def _field(data: Mapping[str, Any], key: str) -> str:
    """A push's identifying field, checked against what AWS allows in it."""
    value = _text(data, key)
    if not _PUSH_FIELDS[key].fullmatch(value):
        raise EventError(f"event field {key!r} is not a valid value: {quoted(value)}")
    return value


def _said(value: object) -> str:
    """A short text as it is, anything else quoted briefly."""
    return value if isinstance(value, str) and len(value) <= 80 else quoted(value)


def _free_text(value: object) -> str:
    """A free-text field as text, cut to a length a report can carry."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text[:_LONGEST_TEXT]


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise EventError(f"event field {key!r} is missing or not an object")
    return value


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise EventError(f"event field {key!r} is missing or empty")
    return value


def _instant(text: str) -> dt.datetime:
    try:
        if len(text) > 64:
            raise ValueError("too long for a time")
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise EventError(f"{quoted(text)} is not an ISO 8601 time") from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise EventError(f"{quoted(text)} has no time zone")
    return within_years(moment, "event time")
