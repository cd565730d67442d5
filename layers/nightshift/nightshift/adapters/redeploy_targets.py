"""Redeploy's hub and spoke wiring (docs/organization.md): a push in the hub's ECR (the
shared-services registry) reaches the services that follow it in every account x Region the
policy's targets name for redeploy, staging and production alike, each through the spoke role
`nightshift-spoke-redeploy-<environment>`.

`TargetedEcs` is redeploy's `EcsPort` over many targets: discovery is fanned out with the shared
`nightshift.fanout.work_targets` (a target that cannot be reached is one line in `unreached`,
the others' services are planned); every later call (describe a task definition, register a
revision, update a service) goes to the target the ARN names. A service of a target marked
`production: true` is gated as production whatever its tags say. The plan, the claims and the
idempotency of a push are the single-account ones, unchanged.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from nightshift.adapters.ecs import EcsServices
from nightshift.adapters.ecs_deploy import RETRIES
from nightshift.adapters.tagging import RETRIES as TAGGING_RETRIES
from nightshift.adapters.tagging import TaggedResources
from nightshift.adapters.target_sessions import TargetSessions, function_expansion
from nightshift.errors import AwsError
from nightshift.fanout import WorkItem, work_targets

if TYPE_CHECKING:
    from nightshift.policy import Targets
    from nightshift.redeploy import ImagePush, ServiceFacts, TaskDefinitionFacts
    from nightshift.redeploy.outcome import ServiceHistory, StoppedTask

logger = Logger(child=True)

# The IAM actions this module needs: none of its own (the adapters it uses declare theirs).
IAM_ACTIONS = frozenset[str]()

FUNCTION = "redeploy"


def target_of(arn: str) -> tuple[str, str]:
    """The (account, Region) an ECS ARN names.

    >>> target_of("arn:aws:ecs:eu-west-1:222222222222:service/todoapp/api")
    ('222222222222', 'eu-west-1')
    """
    region, account = arn.split(":")[3:5]
    return account, region


class TargetedEcs:
    """The ECS side of redeploy across the targets of one push; built per push."""

    def __init__(
        self,
        items: Sequence[WorkItem],
        sessions: TargetSessions,
        max_workers: int,
        excluded: Sequence[str] = (),
    ) -> None:
        self._items = {(item.account, item.region): item for item in items}
        self._sessions = sessions
        self._max_workers = max_workers
        self._ecs: dict[tuple[str, str], EcsServices] = {}
        self._lock = threading.Lock()
        self.excluded = tuple(excluded)
        self.unreached: tuple[str, ...] = ()

    def _of(self, item: WorkItem) -> EcsServices:
        key = (item.account, item.region)
        with self._lock:
            found = self._ecs.get(key)
        if found is None:
            session = self._sessions.session(item)
            found = EcsServices(
                session.client("ecs", config=RETRIES),
                TaggedResources(session.client("resourcegroupstaggingapi", config=TAGGING_RETRIES)),
            )
            with self._lock:
                found = self._ecs.setdefault(key, found)
        return found

    def _for(self, arn: str, operation: str) -> EcsServices:
        item = self._items.get(target_of(arn))
        if item is None:
            raise AwsError(operation, "NotATarget", f"{arn} is in no target of the policy")
        return self._of(item)

    # ------------------------------------------------------------------------------ discovery
    def opted_in(self) -> tuple[ServiceFacts, ...]:
        """Every target's services that follow pushes; a target that cannot be reached is
        said in `unreached`, and the others' services are returned."""
        run = work_targets(
            tuple(self._items.values()), lambda item: self._of(item).opted_in(), self._max_workers
        )
        self.unreached = tuple(
            f"{result.item.label}: not reached: {result.error}" for result in run.failed
        )
        return tuple(
            replace(service, production_target=True) if result.item.production else service
            for result in run.results
            for service in result.value or ()
        )

    def describe_services(self, service_arns: Iterable[str]) -> tuple[ServiceFacts, ...]:
        """The services described in the targets their ARNs name: grouped by target, so each
        target's are described 10 per call and cluster (EcsServices.describe_services). An ARN
        in no target of the policy raises AwsError (NotATarget) before any call."""
        by_target: dict[tuple[str, str], list[str]] = defaultdict(list)
        for arn in service_arns:
            self._for(arn, "DescribeServices")  # in no target: raised, nothing described
            by_target[target_of(arn)].append(arn)
        return tuple(
            service
            for key, found in by_target.items()
            for service in self._of(self._items[key]).describe_services(found)
        )

    def task_definitions(self, arns: Iterable[str]) -> dict[str, TaskDefinitionFacts]:
        by_target: dict[tuple[str, str], list[str]] = defaultdict(list)
        for arn in arns:
            by_target[target_of(arn)].append(arn)
        described: dict[str, TaskDefinitionFacts] = {}
        for key, found in by_target.items():
            item = self._items.get(key)
            if item is None:  # the planner reports the service as failed, with the ARN
                logger.warning("task definition in no target", task_definitions=found)
                continue
            described.update(self._of(item).task_definitions(found))
        return described

    # ---------------------------------------------------------------------------------- acting
    def register_revision(self, source: TaskDefinitionFacts, push: ImagePush) -> str:
        return self._for(source.arn, "RegisterTaskDefinition").register_revision(source, push)

    def update_service(self, service: ServiceFacts, task_definition_arn: str) -> str:
        return self._for(service.arn, "UpdateService").update_service(service, task_definition_arn)

    # -------------------------------------------------------------------- deployment outcomes
    def history(self, service_arn: str) -> ServiceHistory | None:
        return self._for(service_arn, "DescribeServices").history(service_arn)

    def stopped_tasks(self, service: ServiceFacts) -> tuple[StoppedTask, ...]:
        return self._for(service.arn, "ListTasks").stopped_tasks(service)


def targeted_ecs(targets: Targets, *, environment: str, function_arn: str) -> TargetedEcs:
    """The ECS side of one push across the policy's targets; `function_arn` (the Lambda
    context's) names the hub's account and Region."""
    region, account = function_arn.split(":")[3:5]
    expansion = function_expansion(
        FUNCTION, targets, hub_account=account, hub_region=region, environment=environment
    )
    sessions = TargetSessions(session_name=f"nightshift-{FUNCTION}-{environment}")
    return TargetedEcs(expansion.items, sessions, targets.max_concurrency, expansion.excluded)
