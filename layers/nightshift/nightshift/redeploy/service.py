"""Redeploy's work through its ports: a push is planned and carried out (one registration per
source revision, then one UpdateService per service, each claimed first against newer pushes)
at most once; a deployment's outcome is reported with why its tasks stopped. docs/redeploy.md.

A push loads neither the held redeploys' model (`redeploy.approval`: a push the policy holds, an
approval) nor the deployment outcomes' (`redeploy.outcome`: a deployment event, a push some
services missed): each is imported where it is first needed (tests/unit/test_cold_start.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from nightshift.errors import AwsError, EventError
from nightshift.redeploy.events import (
    DeploymentStateChange,
    IgnoredEvent,
    ImagePush,
    PushRun,
    RedeployEvent,
    UnknownEvent,
)
from nightshift.redeploy.plan import RedeployPlan, RevisionPlan, ServiceDecision, plan_redeploy
from nightshift.redeploy.policy import RedeployPolicy
from nightshift.redeploy.report import (
    deployed_item,
    deployment_item,
    deployment_report,
    failed_item,
    push_failure,
    push_report,
    render_plan,
    report_item,
    report_items,
    superseded_item,
    worth_reporting,
)
from nightshift.report import Outcome, ReportItem

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from nightshift.redeploy.approval import ApprovalDecision, HeldRedeploy
    from nightshift.redeploy.ports import (
        DeployedPushesPort,
        DeployPort,
        EcsPort,
        FailureGuard,
        HeldRedeploysPort,
        MetricsSink,
        OncePerPush,
        PolicySource,
        ReportSink,
        TargetedEcsSource,
    )

COUNT = "Count"  # the unit of every redeploy metric (MetricUnit.Count)
# The metric each outcome of a push's services is counted in (template.yaml's alarms use them).
OUTCOME_METRICS = {
    Outcome.DONE: "ServicesRedeployed",
    Outcome.PLANNED: "ServicesPlanned",
    Outcome.FAILED: "RedeployFailures",
    Outcome.REFUSED: "PushesRefused",
}


class PlanDeployer:
    """Carries a plan out: one registration per revision (digest-pinned), then one UpdateService
    per service, each claimed first against newer pushes. Used for a push as it arrives and for
    a held push once approved, so both take exactly the same path."""

    def __init__(self, ecs: DeployPort, pushes: DeployedPushesPort) -> None:
        self._ecs = ecs
        self._pushes = pushes

    def deploy(self, plan: RedeployPlan, ecs: DeployPort | None = None) -> tuple[ReportItem, ...]:
        """Items come back in the plan's order (by service ARN); `ecs` is a target account's
        (hub and spoke), the deployer's own by default."""
        ecs = ecs or self._ecs
        done = {d.service.arn: report_item(d) for d in plan.decisions if not d.deploys}
        decisions = {d.service.arn: d for d in plan.deployments}
        for revision in plan.revisions:
            deploying = [decisions[arn] for arn in revision.services]
            done.update(self._deploy_revision(revision, deploying, plan.push, ecs))
        return tuple(done[d.service.arn] for d in plan.decisions)

    def _deploy_revision(
        self,
        revision: RevisionPlan,
        decisions: list[ServiceDecision],
        push: ImagePush,
        ecs: DeployPort,
    ) -> dict[str, ReportItem]:
        try:
            new_revision = ecs.register_revision(revision.source, push)
        except AwsError as exc:
            return {d.service.arn: failed_item(d, str(exc)) for d in decisions}
        return {d.service.arn: self._deploy_service(d, new_revision, push, ecs) for d in decisions}

    def _deploy_service(
        self, decision: ServiceDecision, new_revision: str, push: ImagePush, ecs: DeployPort
    ) -> ReportItem:
        try:
            # Claimed first, so a newer push racing this one for the service wins
            # (docs/redeploy.md).
            newer = self._pushes.claim(decision.service.arn, push)
            if newer is not None:
                return superseded_item(decision, push.time, newer)
            deployment_id = ecs.update_service(decision.service, new_revision)
        except AwsError as exc:
            return failed_item(decision, str(exc), new_revision)
        return deployed_item(decision, deployment_id, new_revision)


def _no_link(held: HeldRedeploy) -> str | None:
    del held
    return None


class PushRedeployer:
    """Carries one push to the services that follow its repository, at most once per push.
    A service the policy's `approval` holds is recorded (`held`) and an approval report is
    published instead; `canary` reads the canary's last state, `links` signs an approve link."""

    def __init__(
        self,
        *,
        policy: PolicySource,
        environment: str,
        ecs: EcsPort,
        pushes: DeployedPushesPort,
        once: OncePerPush,
        publisher: ReportSink,
        failures: FailureGuard,
        metrics: MetricsSink,
        logger: Logger,
        targets: TargetedEcsSource | None = None,
        held: HeldRedeploysPort | None = None,
        canary: Callable[[], str] = lambda: "unknown",
        links: Callable[[HeldRedeploy], str | None] = _no_link,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._policy = policy
        self._environment = environment
        self._ecs = ecs
        self._targets = targets
        self._pushes = pushes
        self._deployer = PlanDeployer(ecs, pushes)
        self._held = held
        self._canary = canary
        self._links = links
        self._clock = clock
        self._once = once
        self._publisher = publisher
        self._failures = failures
        self._metrics = metrics
        self._logger = logger

    def handle(self, run: PushRun) -> dict[str, Any]:
        """Deploy the push (or only plan it, when the run or the policy says dry-run); return
        the report's JSON, or what a duplicate delivery is answered with."""
        self._metrics.add_metric(name="PushesReceived", unit=COUNT, value=1)
        with self._failures(push_failure(run, self._environment)):
            policy = self._policy()
        if run.dry_run or policy.dry_run:
            # A plan changes nothing, so it is made afresh every time it is asked for.
            return self.redeploy(replace(run, dry_run=True), policy)
        result = self._once.once(run.push.key, lambda: self.redeploy(run, policy))
        if result is None:
            # Another invocation is deploying this push now; if it fails, Lambda retries *it*.
            self._logger.info("push already in progress", push=run.push.key)
            self._metrics.add_metric(name="DuplicatePushes", unit=COUNT, value=1)
            return {"duplicate": run.push.key, "in_progress": True}
        if result.get("run_id") != run.run_id:
            self._logger.info(
                "push already handled", push=run.push.key, run_id=result.get("run_id")
            )
            self._metrics.add_metric(name="DuplicatePushes", unit=COUNT, value=1)
        return result

    def redeploy(self, run: PushRun, policy: RedeployPolicy) -> dict[str, Any]:
        """Plan the push and, unless dry-run, carry the plan out; publish and return the report.
        Raises RedeployIncompleteError (after publishing) when a service was not deployed, or
        (with targets) a target's services could not be listed.

        With the policy's `targets` (hub and spoke), the services are those of every target's
        account and Region, each reached through its spoke role; a target that cannot be
        reached is an error line of the report, and the others' services are deployed."""
        with self._failures(push_failure(run, self._environment)):
            targeted = (
                self._targets(policy.targets)
                if policy.targets is not None and self._targets is not None
                else None
            )
            ecs: EcsPort = self._ecs if targeted is None else targeted
            services = ecs.opted_in()
            unreached = () if targeted is None else targeted.unreached
            definitions = ecs.task_definitions(s.task_definition_arn for s in services)
            last_pushes = self._pushes.last_pushes() if services else {}
        plan = plan_redeploy(run.push, services, definitions, policy, last_pushes)
        self._logger.info("plan built", push=run.push.key, plan=render_plan(plan))
        items = report_items(plan) if run.dry_run else self.deploy(plan, ecs)
        report = push_report(run, items, self._environment)
        if unreached:
            report = replace(report, errors=(*report.errors, *unreached))
            self._metrics.add_metric(name="TargetsFailed", unit=COUNT, value=len(unreached))
        if worth_reporting(items) or unreached:
            self._publisher.publish(report)
        for outcome, name in OUTCOME_METRICS.items():
            if count := report.counts[outcome.value]:
                self._metrics.add_metric(name=name, unit=COUNT, value=count)
        failed = [item.resource for item in items if item.outcome is Outcome.FAILED]
        failed += [line.split(": not reached:", 1)[0] for line in unreached]
        if failed and not run.dry_run:
            # The report is out; raising releases the idempotency record so Lambda's retry (or a
            # person re-sending the event) deploys what is missing.
            from nightshift.redeploy.outcome import RedeployIncompleteError

            raise RedeployIncompleteError(failed)
        return report.to_json()

    def deploy(self, plan: RedeployPlan, ecs: DeployPort | None = None) -> tuple[ReportItem, ...]:
        """Carry out the plan (PlanDeployer) through `ecs` (default: the hub's own), and hold
        what the policy holds."""
        items = self._deployer.deploy(plan, ecs)
        held = {d.service.arn: self._hold(d, plan.push) for d in plan.holds}
        return tuple(held.get(item.resource, item) for item in items)

    def _hold(self, decision: ServiceDecision, push: ImagePush) -> ReportItem:
        """Record the held redeploy and ask for its approval; a service nothing can hold (no
        store configured) or whose record fails is reported as failed, never deployed."""
        from nightshift.redeploy.approval import approval_report, hold

        if self._held is None:
            return failed_item(decision, "held for approval, but no store for held redeploys")
        held = hold(decision, push, self._clock())
        try:
            self._held.hold(held)
        except AwsError as exc:
            return failed_item(decision, str(exc))
        link = self._links(held)
        self._publisher.publish(approval_report(held, self._environment, self._canary(), link))
        self._metrics.add_metric(name="RedeploysHeld", unit=COUNT, value=1)
        return report_item(decision, details={"held_until": held.expires.isoformat()})


class HeldRedeployApprover:
    """Deploys a held redeploy once a person approved it: at most once (a conditional write
    moves the record from held to approved), only within its 24 h, by re-planning the push for
    that one service and carrying it out through PlanDeployer."""

    def __init__(
        self,
        *,
        policy: PolicySource,
        ecs: DeployPort,
        pushes: DeployedPushesPort,
        held: HeldRedeploysPort,
    ) -> None:
        self._policy = policy
        self._ecs = ecs
        self._pushes = pushes
        self._held = held

    def approve(self, key: str, now: dt.datetime, by: str) -> ReportItem:
        """The report line of approving `key`: DONE (deployed), SKIPPED (nothing held, or
        approved already), REFUSED (expired; a gate of the re-plan) or FAILED (AWS said no)."""
        from nightshift.redeploy.approval import ApprovalDecision, HeldState, approval_decision

        found = self._held.get(key)
        held, state = found if found is not None else (None, None)
        decision = approval_decision(held, state, now)
        if not decision.go or held is None:
            return _approval_item(key, decision)
        if not self._held.approve(key, now, by):
            # Another approval (a second link, a Slack button) took it first.
            return _approval_item(key, approval_decision(held, HeldState.APPROVED, now))
        push = held.push
        services = self._ecs.describe_services([held.service_arn])
        definitions = self._ecs.task_definitions(s.task_definition_arn for s in services)
        plan = plan_redeploy(
            push,
            services,
            definitions,
            self._policy(),
            self._pushes.last_pushes(),
            approved={held.service_arn},
        )
        items = PlanDeployer(self._ecs, self._pushes).deploy(plan)
        if not items:
            return _approval_item(
                key, ApprovalDecision(False, "the service no longer exists", Outcome.SKIPPED)
            )
        item = items[0]
        return replace(item, action=_APPROVE_ACTION, details={**item.details, "key": key})


_APPROVE_ACTION = "approve-redeploy"


def _approval_item(key: str, decision: ApprovalDecision) -> ReportItem:
    service = key.rsplit("@", 1)[0]
    return ReportItem(
        service, "ecs-service", _APPROVE_ACTION, decision.outcome, decision.reason, {"key": key}
    )


class DeploymentOutcomes:
    """Reports how an ECS deployment of a service that follows pushes ended."""

    def __init__(
        self,
        *,
        environment: str,
        ecs: EcsPort,
        publisher: ReportSink,
        metrics: MetricsSink,
        logger: Logger,
    ) -> None:
        self._environment = environment
        self._ecs = ecs
        self._publisher = publisher
        self._metrics = metrics
        self._logger = logger

    def handle(self, change: DeploymentStateChange) -> dict[str, Any]:
        """Publish the outcome's report (a failure with the stopped tasks' reasons) and return
        its JSON; an event that is not an outcome of a following service is ignored."""
        from nightshift.redeploy.outcome import reportable

        history = reportable(change, self._ecs.history(change.service_arn))
        if isinstance(history, IgnoredEvent):
            return ignored(history, self._metrics, self._logger)
        stopped = self._ecs.stopped_tasks(history.service) if change.is_failure else ()
        item = deployment_item(change, history.events, stopped)
        report = deployment_report(change, item, self._environment)
        self._publisher.publish(report)
        name = "DeploymentsFailed" if change.is_failure else "DeploymentsCompleted"
        self._metrics.add_metric(name=name, unit=COUNT, value=1)
        return report.to_json()


class Redeploy:
    """The function: each event to the service of its kind."""

    def __init__(
        self,
        *,
        pushes: PushRedeployer,
        deployments: DeploymentOutcomes,
        metrics: MetricsSink,
        logger: Logger,
    ) -> None:
        self._pushes = pushes
        self._deployments = deployments
        self._metrics = metrics
        self._logger = logger

    def handle(self, event: RedeployEvent) -> dict[str, Any]:
        """The answer to one event; an event of an unknown kind raises EventError."""
        match event:
            case PushRun():
                return self._pushes.handle(event)
            case DeploymentStateChange():
                return self._deployments.handle(event)
            case IgnoredEvent():
                return ignored(event, self._metrics, self._logger)
            case UnknownEvent():
                self._metrics.add_metric(name="UnknownEvents", unit=COUNT, value=1)
                raise EventError(event.error)


def ignored(event: IgnoredEvent, metrics: MetricsSink, logger: Logger) -> dict[str, Any]:
    """Log and count an event redeploy receives but does not act on; answer with why."""
    logger.info("event ignored", reason=event.reason)
    metrics.add_metric(name="EventsIgnored", unit=COUNT, value=1)
    return {"ignored": event.reason, "event_id": event.event_id}
