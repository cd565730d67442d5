"""ECS for redeploy: find the services that follow pushes, describe what they run, register the
new revision, point services at it (`EcsDeployer`, adapters/ecs_deploy.py), and read what
happened to a deployment.

Discovery never scans task definitions or clusters: one Resource Groups Tagging API sweep for
`nightshift:redeploy`, DescribeServices (10 per call) for those services only, and
DescribeTaskDefinition once per distinct task definition they run. What happened to a
deployment is read with `redeploy.outcome`'s model, imported at the first deployment event (a push
does not load it: tests/unit/test_cold_start.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from nightshift.adapters.ecs_deploy import EcsDeployer
from nightshift.adapters.tagging import TaggedResources
from nightshift.errors import AwsError
from nightshift.redeploy import REDEPLOY_TAG, ServiceFacts

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

    from nightshift.redeploy.outcome import ServiceHistory, StoppedTask

SERVICE_RESOURCE_TYPE = "ecs:service"


# The IAM actions this adapter's own calls need (checked against the role; docs/iam.md); the
# deploying ones are EcsDeployer's.
IAM_ACTIONS = frozenset({"ecs:DescribeTasks", "ecs:ListTasks"})


class EcsServices(EcsDeployer):
    """The ECS side of redeploy. Both clients are injectable; production passes none."""

    def __init__(
        self, client: ECSClient | None = None, tagging: TaggedResources | None = None
    ) -> None:
        super().__init__(client)
        self._tagging = tagging or TaggedResources()

    # ------------------------------------------------------------------------------ discovery
    def opted_in(self) -> tuple[ServiceFacts, ...]:
        """Every service of the region that carries the `nightshift:redeploy` tag (any value)."""
        return self.describe_services(self._tagging.arns(SERVICE_RESOURCE_TYPE, REDEPLOY_TAG))

    # -------------------------------------------------------------------- deployment outcomes
    def history(self, service_arn: str) -> ServiceHistory | None:
        """The service with its tags and latest events; None if ECS does not know it."""
        from nightshift.redeploy.outcome import LATEST_EVENTS, ServiceEvent, ServiceHistory

        described = list(self._described([service_arn]))
        if not described:
            return None
        service = described[0]
        return ServiceHistory(
            service=ServiceFacts.from_description(service),
            events=tuple(
                ServiceEvent.from_description(e)
                for e in (service.get("events") or ())[:LATEST_EVENTS]
            ),
        )

    def stopped_tasks(self, service: ServiceFacts) -> tuple[StoppedTask, ...]:
        """A few of the service's stopped tasks (ECS keeps them about an hour), newest first,
        with why they stopped."""
        from nightshift.redeploy.outcome import STOPPED_TASKS, StoppedTask, latest_stopped

        paginator = self._client.get_paginator("list_tasks")
        pages = paginator.paginate(
            cluster=service.cluster,
            serviceName=service.name,
            desiredStatus="STOPPED",
            PaginationConfig={"MaxItems": STOPPED_TASKS},
        )
        try:
            arns = [arn for page in pages for arn in page.get("taskArns", ())]
            if not arns:
                return ()
            response = self._client.describe_tasks(cluster=service.cluster, tasks=arns)
        except ClientError as exc:
            raise AwsError.from_client_error("DescribeTasks", exc) from exc
        return latest_stopped(StoppedTask.from_description(task) for task in response["tasks"])
