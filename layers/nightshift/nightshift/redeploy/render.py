"""A redeploy plan as people read it: rows (service, container, old image → new image) for a
dry-run, and report items for the one report every function publishes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from nightshift.redeploy.image import short_digest
from nightshift.redeploy.plan import RedeployPlan, ServiceDecision
from nightshift.report import Outcome, ReportItem

KIND = "ecs-service"
ACTION = "redeploy"


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
