"""The reports redeploy publishes: one per push (what happened to each service that follows the
repository) and one per deployment outcome (how an ECS deployment ended, and why)."""

from __future__ import annotations

from collections.abc import Callable

from nightshift.redeploy.events import DeploymentStateChange, PushRun
from nightshift.redeploy.outcome import deployment_summary, push_label, push_summary
from nightshift.redeploy.settings import FUNCTION
from nightshift.report import Report, ReportItem


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
