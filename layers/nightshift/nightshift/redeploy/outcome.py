"""How an ECS deployment went, as ECS tells it: the service's latest events and its stopped
tasks (with why they stopped), whether a deployment state change is worth a report, and the error
of a push some services missed. Report lines are built in nightshift.redeploy.report.

Pure: the adapter turns DescribeServices / DescribeTasks answers into `ServiceEvent` and
`StoppedTask`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nightshift.errors import NightshiftError
from nightshift.redeploy.events import DeploymentStateChange, IgnoredEvent
from nightshift.redeploy.facts import REDEPLOY_TAG, ServiceFacts

_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
# How many of the service's latest events and stopped tasks a report carries.
LATEST_EVENTS = 5
STOPPED_TASKS = 5


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


def _container_line(container: Mapping[str, Any]) -> str:
    exit_code, reason = container.get("exitCode"), container.get("reason")
    if exit_code in (None, 0) and not reason:
        return ""
    said = [f"exit {exit_code}" if exit_code is not None else "", f"({reason})" if reason else ""]
    return f"{container.get('name')}: {' '.join(part for part in said if part)}"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
