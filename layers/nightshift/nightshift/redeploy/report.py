"""What redeploy tells people. A push's report: one item per service that follows the
repository (planned, deployed, failed, superseded or skipped, and why), titled by the push; the
plan as plain text for the log. A deployment outcome's report: one item saying how the ECS
deployment ended, with why its tasks stopped and what ECS said last.

Pure: the service passes what AWS answered (a deployment id, an error, the time of a newer push
recorded meanwhile) and gets report items and reports back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from nightshift.redeploy.events import (
    DeploymentStateChange,
    DeploymentStatus,
    ImagePush,
    PushRun,
)
from nightshift.redeploy.image import short_digest
from nightshift.redeploy.plan import RedeployPlan, ServiceDecision, Verdict
from nightshift.redeploy.settings import FUNCTION
from nightshift.report import Outcome, Report, ReportItem

if TYPE_CHECKING:
    from nightshift.redeploy.outcome import ServiceEvent, StoppedTask

KIND = "ecs-service"
ACTION = "redeploy"
DEPLOYMENT_ACTION = "deployment"


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


@dataclass(frozen=True)
class PlanRow:
    """One container of one service that moves to the pushed image."""

    service: str
    container: str
    old_image: str
    new_image: str

    def __str__(self) -> str:
        return f"{self.service} {self.container}: {self.old_image} → {self.new_image}"


def plan_rows(plan: RedeployPlan) -> tuple[PlanRow, ...]:
    """Every image change the plan would make, one row per service and container.

    Example: `todoapp-cluster/todoapp-backend-service app: …/todoapp-backend:main-1 →
    …/todoapp-backend@sha256:9b2f…`; sidecars and skipped services have no row.
    """
    return tuple(
        PlanRow(
            service=decision.service.display_name,
            container=change.container,
            old_image=change.old_image,
            new_image=change.new_image,
        )
        for decision in plan.deployments
        for change in decision.changes
        if change.changes
    )


def render_plan(plan: RedeployPlan) -> str:
    """The plan as plain text: the push, then each change, then each skipped service and why.

    Example::

        push todoapp-backend:main-4f1c2e7 (sha256:9b2f6c1d8e0a)
          deploy todoapp-cluster/todoapp-backend-service app: …:main-1 → …@sha256:9b2f…
          skipped todoapp-cluster/todoapp-web: tag main-4f1c2e7 does not match …
    """
    push = plan.push
    label = f"{push.repository}:{push.tag}" if push.tag else f"{push.repository} (untagged)"
    lines = [f"push {label} ({short_digest(push.digest)})"]
    lines.extend(f"  deploy {row}" for row in plan_rows(plan))
    lines.extend(
        f"  warning {decision.service.display_name}: {warning}"
        for decision in plan.deployments
        for warning in decision.warnings
    )
    lines.extend(
        f"  {decision.outcome.value} {decision.service.display_name}: {decision.reason}"
        for decision in plan.decisions
        if not decision.deploys
    )
    return "\n".join(lines)


def report_item(
    decision: ServiceDecision,
    outcome: Outcome | None = None,
    details: Mapping[str, Any] | None = None,
) -> ReportItem:
    """One service's line in the report. `outcome` defaults to what the verdict means before
    anything is done (a deployment is PLANNED); the handler passes DONE or FAILED, with the
    deployment id in `details`, once ECS has answered."""
    service = decision.service
    reason = "; ".join((decision.reason, *decision.warnings))
    return ReportItem(
        resource=service.arn,
        kind=KIND,
        action=ACTION,
        outcome=outcome or decision.outcome,
        reason=reason,
        details=MappingProxyType(
            {
                "cluster": service.cluster,
                "service": service.name,
                "verdict": decision.verdict.value,
                "task_definition": service.task_definition_arn,
                "changes": [
                    {"container": c.container, "old_image": c.old_image, "new_image": c.new_image}
                    for c in decision.changes
                    if c.changes
                ],
                "warnings": list(decision.warnings),
                **(details or {}),
            }
        ),
    )


def report_items(plan: RedeployPlan) -> tuple[ReportItem, ...]:
    """The report items of a dry-run: every decision as planned or skipped, with why."""
    return tuple(report_item(decision) for decision in plan.decisions)


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


def push_report(
    run: PushRun,
    items: tuple[ReportItem, ...],
    environment: str,
    summary: str | None = None,
    error: str = "",
) -> Report:
    """The report of one push: its items, titled by what happened to how many services.

    Example summary: `todoapp-backend:main-4f1c2e7: 2 redeployed, 1 skipped`.
    """
    return Report(
        function=FUNCTION,
        run_id=run.run_id,
        time=run.push.time.isoformat(),
        environment=environment,
        dry_run=run.dry_run,
        summary=summary or push_summary(run.push, items),
        items=items,
        errors=(error,) if error else (),
    )


def push_failure(run: PushRun, environment: str) -> Callable[[str], Report]:
    """The report of a push that failed before anything was changed (policy, discovery), given
    the error: `todoapp-backend:main-4f1c2e7: nothing was redeployed`."""
    summary = f"{push_label(run.push)}: nothing was redeployed"
    return lambda error: push_report(run, (), environment, summary, error=error)


def deployment_report(change: DeploymentStateChange, item: ReportItem, environment: str) -> Report:
    """The report of one deployment's outcome (one item), titled e.g.
    `todoapp-cluster/todoapp-backend-service: deployment failed, rolling back`."""
    return Report(
        function=FUNCTION,
        run_id=change.event_id,
        time=change.time.isoformat(),
        environment=environment,
        dry_run=False,
        summary=deployment_summary(change),
        items=(item,),
    )


class Role(StrEnum):
    """What a deployment's outcome is to the people on call (one incident pages once)."""

    PAGE = "page"  # the deployment failed: the incident's one page
    FOLDED = "folded"  # the circuit breaker rolls back: part of the failure that paged
    RESOLVE = "resolve"  # completed: closes the service's open deployment page, if any


def deployment_role(change: DeploymentStateChange) -> tuple[Role, str]:
    """Whether this outcome pages, folds into the page of the same deployment's failure, or
    resolves, and why. ECS says a circuit-breaker rollback twice: SERVICE_DEPLOYMENT_FAILED,
    then an in-progress event whose reason says it rolls back. The failure is the page (it
    comes first and carries the cause); the rollback is routine, paged by it, whichever of the
    two arrives first; the completed deployment (the rollback's target) is the resolve.

    >>> import datetime as dt
    >>> from nightshift.redeploy.events import DeploymentStatus as S
    >>> change = DeploymentStateChange("arn:…:service/c/api", "c", "api", "ecs-svc/2", S.ROLLBACK,
    ...     "SERVICE_DEPLOYMENT_IN_PROGRESS", "INFO", "…", dt.datetime(2026, 11, 20), "ecs-svc/1",
    ...     "e-1")
    >>> role, why = deployment_role(change)
    >>> role
    <Role.FOLDED: 'folded'>
    >>> why
    'the rollback of deployment ecs-svc/2 follows its failure, which pages'
    """
    match change.status:
        case DeploymentStatus.FAILED:
            return Role.PAGE, f"deployment {change.deployment_id} failed: the incident's page"
        case DeploymentStatus.ROLLBACK:
            return (
                Role.FOLDED,
                (
                    f"the rollback of deployment {change.deployment_id} follows its failure, "
                    "which pages"
                ),
            )
        case _:
            return (
                Role.RESOLVE,
                f"deployment {change.deployment_id} completed: resolves an open deployment page",
            )


def incident_key(change: DeploymentStateChange) -> str:
    """What the page, its folded rollback and its resolve share: the service (the rollback's
    completion names another deployment id than the failure)."""
    return f"ecs-deployment:{change.service_arn}"


def paged_by(change: DeploymentStateChange) -> str:
    """The page a folded rollback belongs to, as the `paged_by` people read."""
    return f"{FUNCTION}: deployment {change.deployment_id} failed"


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
    from nightshift.redeploy.outcome import LATEST_EVENTS, STOPPED_TASKS  # deployment events only

    headline = _HEADLINE[change.status].format(
        id=change.deployment_id, reason=change.reason, to=change.rollback_to
    )
    role, why = deployment_role(change)
    paging: dict[str, Any] = {"incident": incident_key(change), "role": role.value, "why": why}
    if role is Role.FOLDED:
        paging["paged_by"] = paged_by(change)
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
                **paging,
            }
        ),
    )


def deployment_summary(change: DeploymentStateChange) -> str:
    """The report's title line, e.g. `todoapp-cluster/todoapp-backend-service: deployment
    failed, rolling back`."""
    name = f"{change.cluster}/{change.service}" if change.cluster else change.service
    return f"{name}: {_SUMMARY[change.status]}"


def _counted(reason: str, count: int) -> str:
    return reason if count == 1 else f"{reason} ({count} times)"
