"""How a redeploy ended, as people read it: the report lines after ECS answered a push's
RegisterTaskDefinition / UpdateService calls, and the report of an `ECS Deployment State Change`
enriched with the service's latest events and the reasons its tasks stopped.

Pure: the adapter turns DescribeServices / DescribeTasks answers into `ServiceEvent` and
`StoppedTask`; the handler passes what AWS said (a deployment id, an error, the time of a newer
push recorded meanwhile) and gets report items back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from nightshift.errors import NightshiftError
from nightshift.redeploy.events import (
    DeploymentStateChange,
    DeploymentStatus,
    IgnoredEvent,
    ImagePush,
)
from nightshift.redeploy.facts import REDEPLOY_TAG, ServiceFacts
from nightshift.redeploy.image import short_digest
from nightshift.redeploy.plan import ServiceDecision, Verdict
from nightshift.redeploy.render import KIND, report_item
from nightshift.report import Outcome, ReportItem

DEPLOYMENT_ACTION = "deployment"
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
# How many of the service's latest events and stopped tasks a report carries.
LATEST_EVENTS = 5
STOPPED_TASKS = 5

_HEADLINE = MappingProxyType(
    {
        DeploymentStatus.COMPLETED: "deployment {id} completed",
        DeploymentStatus.FAILED: "deployment {id} failed: {reason}",
        DeploymentStatus.ROLLBACK: "deployment {id} failed: the circuit breaker rolls back to {to}",
        DeploymentStatus.IN_PROGRESS: "deployment {id} is in progress",
    }
)
_SUMMARY = MappingProxyType(
    {
        DeploymentStatus.COMPLETED: "deployment completed",
        DeploymentStatus.FAILED: "deployment failed",
        DeploymentStatus.ROLLBACK: "deployment failed, rolling back",
        DeploymentStatus.IN_PROGRESS: "deployment in progress",
    }
)
# How a push's summary names each outcome (dry-run: PLANNED reads "would be redeployed").
_COUNTED = MappingProxyType(
    {
        Outcome.DONE: "redeployed",
        Outcome.PLANNED: "would be redeployed",
        Outcome.FAILED: "failed",
        Outcome.REFUSED: "refused",
        Outcome.SKIPPED: "skipped",
    }
)


class RedeployIncompleteError(NightshiftError):
    """Some services of a push could not be deployed. The report saying which and why is already
    published; raising lets Lambda retry the push, and the retry deploys only what is missing
    (services already moved read as already on the digest)."""

    def __init__(self, failed: Sequence[str]) -> None:
        self.failed = tuple(failed)
        super().__init__(f"{len(self.failed)} service(s) not redeployed: {', '.join(self.failed)}")


@dataclass(frozen=True)
class ServiceEvent:
    """One entry of a service's `events` (DescribeServices lists them newest first)."""

    message: str
    created_at: dt.datetime | None = None

    @classmethod
    def from_description(cls, event: Mapping[str, Any]) -> ServiceEvent:
        created = event.get("createdAt")
        return cls(
            message=str(event.get("message") or ""),
            created_at=created if isinstance(created, dt.datetime) else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "created_at": _iso(self.created_at)}


@dataclass(frozen=True)
class StoppedTask:
    """A stopped task of the service, why ECS stopped it, and which containers exited how.

    >>> StoppedTask.from_description({"taskArn": "arn:…:task/c/1",
    ...     "stoppedReason": "Essential container in task exited",
    ...     "containers": [{"name": "app", "exitCode": 137, "reason": "OutOfMemoryError"},
    ...                    {"name": "log-router", "exitCode": 0}]}).containers
    ('app: exit 137 (OutOfMemoryError)',)
    """

    task_arn: str
    stopped_reason: str
    stopped_at: dt.datetime | None = None
    containers: tuple[str, ...] = ()

    @classmethod
    def from_description(cls, task: Mapping[str, Any]) -> StoppedTask:
        stopped = task.get("stoppedAt")
        return cls(
            task_arn=str(task["taskArn"]),
            stopped_reason=str(task.get("stoppedReason") or "no reason given"),
            stopped_at=stopped if isinstance(stopped, dt.datetime) else None,
            containers=tuple(
                line for c in task.get("containers") or () if (line := _container_line(c))
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task_arn,
            "stopped_reason": self.stopped_reason,
            "stopped_at": _iso(self.stopped_at),
            "containers": list(self.containers),
        }


@dataclass(frozen=True)
class ServiceHistory:
    """A service as DescribeServices shows it, with its latest events."""

    service: ServiceFacts
    events: tuple[ServiceEvent, ...] = ()


def deployed_item(
    decision: ServiceDecision, deployment_id: str, task_definition: str
) -> ReportItem:
    """The report line of a service that UpdateService moved to `task_definition`, with the id
    of the deployment ECS started (the one its deployment state changes will name).

    Example: `deployed_item(decision, "ecs-svc/4732891650394821371", "…:task-definition/api:8")`
    is DONE with `details["deployment_id"] == "ecs-svc/4732891650394821371"`.
    """
    return report_item(
        decision,
        Outcome.DONE,
        {"deployment_id": deployment_id, "new_task_definition": task_definition},
    )


def failed_item(
    decision: ServiceDecision, error: str, task_definition: str | None = None
) -> ReportItem:
    """The report line of a planned deployment AWS refused: the error first, then the plan.

    Example: reason `UpdateService failed with AccessDeniedException: …; planned: tag
    main-4f1c2e7 matches main-*; app → sha256:9b2f6c1d8e0a`.
    """
    failed = replace(decision, reason=f"{error}; planned: {decision.reason}")
    details = {"error": error}
    if task_definition is not None:
        details["new_task_definition"] = task_definition
    return report_item(failed, Outcome.FAILED, details)


def superseded_item(
    decision: ServiceDecision, pushed_at: dt.datetime, recorded_at: dt.datetime
) -> ReportItem:
    """A deployment refused at the last moment: while this push was planned, a newer push
    (of `recorded_at`) was deployed to the service, and an older image must not replace it.

    Example: REFUSED, verdict `stale`, reason `push of 2026-11-20T09:12:45+00:00 is older than
    the push of 2026-11-20T09:15:00+00:00 deployed meanwhile`.
    """
    reason = (
        f"push of {pushed_at.isoformat()} is older than the push of {recorded_at.isoformat()} "
        "deployed meanwhile"
    )
    return report_item(replace(decision, verdict=Verdict.STALE, reason=reason, warnings=()))


def push_label(push: ImagePush) -> str:
    """How people name a push: `repository:tag`, or `repository@sha256:…` without a tag.

    Example: `todoapp-backend:main-4f1c2e7`, `todoapp-backend@sha256:9b2f6c1d8e0a`.
    """
    if push.tag:
        return f"{push.repository}:{push.tag}"
    return f"{push.repository}@{short_digest(push.digest)}"


def push_summary(push: ImagePush, items: Iterable[ReportItem]) -> str:
    """The report's title line: the push, and what happened to how many services.

    Example: `todoapp-backend:main-4f1c2e7: 1 redeployed, 1 skipped`.
    """
    counted = Counter(item.outcome for item in items)
    parts = [f"{counted[outcome]} {word}" for outcome, word in _COUNTED.items() if counted[outcome]]
    return f"{push_label(push)}: {', '.join(parts) or 'no service follows pushes'}"


def worth_reporting(items: Iterable[ReportItem]) -> bool:
    """Whether a push's report goes to the ops topic: only when a service was (or would be)
    deployed, failed, or was refused. A push no service follows is logged, not sent; otherwise
    every CI push of every repository would reach the chat.

    >>> worth_reporting([ReportItem("a", "ecs-service", "redeploy", Outcome.SKIPPED, "no tag")])
    False
    """
    return any(item.outcome is not Outcome.SKIPPED for item in items)


def reportable(
    change: DeploymentStateChange, history: ServiceHistory | None
) -> ServiceHistory | IgnoredEvent:
    """The service's history when this deployment state change is reported, else why not: only
    outcomes (completed, failed, rolled back) of services that follow pushes are reported.

    Example: a COMPLETED event for a service without the `nightshift:redeploy` tag gives
    `IgnoredEvent("service todoapp-cluster/worker does not follow pushes (no nightshift:redeploy
    tag)")`.
    """
    if not change.is_final:
        return IgnoredEvent(
            f"deployment {change.deployment_id} is {change.status.value}, not an outcome",
            change.event_id,
        )
    if history is None:
        return IgnoredEvent(f"service {change.service_arn} was not found", change.event_id)
    if history.service.follows is None:
        return IgnoredEvent(
            f"service {history.service.display_name} does not follow pushes "
            f"(no {REDEPLOY_TAG} tag)",
            change.event_id,
        )
    return history


def deployment_item(
    change: DeploymentStateChange,
    events: Sequence[ServiceEvent] = (),
    stopped: Sequence[StoppedTask] = (),
) -> ReportItem:
    """The report line of a deployment's outcome. A failure or a circuit-breaker rollback is a
    FAILED item (the report's severity follows), and its reason carries why the tasks stopped and
    what ECS said last, so people see the cause without opening the console.

    Example (SERVICE_DEPLOYMENT_FAILED, two tasks stopped for the same reason): FAILED, reason
    `deployment ecs-svc/47… failed: ECS deployment circuit breaker: task failed to start.;
    stopped tasks: Essential container in task exited (2 times); latest events: (service …) …`.
    """
    headline = _HEADLINE[change.status].format(
        id=change.deployment_id, reason=change.reason, to=change.rollback_to
    )
    parts = [headline]
    if change.is_failure:
        reasons = Counter(task.stopped_reason for task in stopped)
        if reasons:
            parts.append("stopped tasks: " + " | ".join(_counted(r, n) for r, n in reasons.items()))
        if events:
            parts.append("latest events: " + " | ".join(e.message for e in events[:LATEST_EVENTS]))
    return ReportItem(
        resource=change.service_arn,
        kind=KIND,
        action=DEPLOYMENT_ACTION,
        outcome=Outcome.FAILED if change.is_failure else Outcome.DONE,
        reason="; ".join(parts),
        details=MappingProxyType(
            {
                "cluster": change.cluster,
                "service": change.service,
                "deployment_id": change.deployment_id,
                "status": change.status.value,
                "event_name": change.event_name,
                "ecs_reason": change.reason,
                "rollback_to": change.rollback_to,
                "events": [event.to_json() for event in events[:LATEST_EVENTS]],
                "stopped_tasks": [task.to_json() for task in stopped[:STOPPED_TASKS]],
            }
        ),
    )


def deployment_summary(change: DeploymentStateChange) -> str:
    """The report's title line, e.g. `todoapp-cluster/todoapp-backend-service: deployment
    failed, rolling back`."""
    name = f"{change.cluster}/{change.service}" if change.cluster else change.service
    return f"{name}: {_SUMMARY[change.status]}"


def latest_stopped(
    tasks: Iterable[StoppedTask], limit: int = STOPPED_TASKS
) -> tuple[StoppedTask, ...]:
    """The `limit` most recently stopped tasks, newest first (tasks without a time last).

    >>> at = dt.datetime(2026, 11, 20, 9, 15, tzinfo=dt.UTC)
    >>> tasks = [StoppedTask("t1", "a"), StoppedTask("t2", "b", at),
    ...          StoppedTask("t3", "c", at + dt.timedelta(seconds=30))]
    >>> [task.task_arn for task in latest_stopped(tasks, limit=2)]
    ['t3', 't2']
    """
    listed = list(tasks)
    timed = sorted(
        (t for t in listed if t.stopped_at is not None),
        key=lambda t: t.stopped_at or _NEVER,
        reverse=True,
    )
    untimed = [t for t in listed if t.stopped_at is None]
    return tuple([*timed, *untimed][:limit])


def _counted(reason: str, count: int) -> str:
    return reason if count == 1 else f"{reason} ({count} times)"


def _container_line(container: Mapping[str, Any]) -> str:
    exit_code, reason = container.get("exitCode"), container.get("reason")
    if exit_code in (None, 0) and not reason:
        return ""
    said = [f"exit {exit_code}" if exit_code is not None else "", f"({reason})" if reason else ""]
    return f"{container.get('name')}: {' '.join(part for part in said if part)}"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
