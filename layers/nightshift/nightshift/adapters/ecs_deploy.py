"""ECS for deploying a push to services: describe the services and what they run, register the
digest-pinned revision (a lossless copy of the running one), point a service at it. Redeploy's
`EcsServices` (adapters/ecs.py) adds discovery and deployment outcomes; the actions function uses
this alone to carry out an approved held redeploy, so its role needs only these calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from itertools import batched
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.errors import AwsError
from nightshift.redeploy import (
    ImagePush,
    ServiceFacts,
    TaskDefinitionFacts,
    register_request,
    registered_as,
    unexpected_fields,
)

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

logger = Logger(child=True)

# DescribeServices takes at most 10 services per call, all of one cluster.
DESCRIBE_SERVICES_CHUNK = 10
PRIMARY = "PRIMARY"
# Revisions newer than the source looked at for one an earlier attempt registered.
RECENT_REVISIONS = 5
# RegisterTaskDefinition and UpdateService have low rate limits; adaptive mode retries throttling
# with backoff and slows this client down instead of failing a deployment halfway.
RETRIES = Config(retries={"mode": "adaptive", "total_max_attempts": 8})

_SERVICE_ARN = re.compile(
    r"arn:[^:]+:ecs:[^:]+:\d{12}:service/(?:(?P<cluster>[^/]+)/)?(?P<name>.+)"
)


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md): a new
# revision also passes its roles (iam:PassRole) and is tagged as it is registered.
IAM_ACTIONS = frozenset(
    {
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "ecs:ListTaskDefinitions",
        "ecs:RegisterTaskDefinition",
        "ecs:TagResource",
        "iam:PassRole",
        "ecs:UpdateService",
    }
)


class EcsDeployer:
    """Describes services and deploys a digest to them. The client is injectable."""

    def __init__(self, client: ECSClient | None = None) -> None:
        self._client = client or boto3.client("ecs", config=RETRIES)

    def describe_services(self, service_arns: Iterable[str]) -> tuple[ServiceFacts, ...]:
        """The services, described with their tags, 10 per call and cluster. A service the
        Tagging API still lists but ECS no longer knows is left out (and logged)."""
        return tuple(
            ServiceFacts.from_description(service) for service in self._described(service_arns)
        )

    def task_definitions(self, arns: Iterable[str]) -> dict[str, TaskDefinitionFacts]:
        """Each distinct task definition, with its tags. One that cannot be described is left
        out and logged; the planner then reports its services as failed, with the ARN."""
        described = {}
        for arn in sorted(set(arns)):
            try:
                response = self._client.describe_task_definition(
                    taskDefinition=arn, include=["TAGS"]
                )
            except ClientError as exc:
                error = AwsError.from_client_error("DescribeTaskDefinition", exc)
                logger.warning(
                    "task definition not described", task_definition=arn, error=str(error)
                )
                continue
            described[arn] = TaskDefinitionFacts.from_description(response)
        return described

    # ---------------------------------------------------------------------------------- acting
    @cached_property
    def accepted_fields(self) -> frozenset[str]:
        """What RegisterTaskDefinition accepts, from botocore's model of the API (so a field AWS
        adds later is copied without a code change)."""
        model = self._client.meta.service_model.operation_model("RegisterTaskDefinition")
        shape = model.input_shape
        if shape is None:  # botocore's type allows it: an operation without a request has none
            raise AwsError(
                "RegisterTaskDefinition", "NoInputShape", "botocore's model has no request shape"
            )
        return frozenset(shape.members)

    def register_revision(self, source: TaskDefinitionFacts, push: ImagePush) -> str:
        """Register the lossless copy of `source` with the pushed repository's containers pinned
        to the pushed digest; return the new revision's ARN."""
        dropped = unexpected_fields(source.definition, self.accepted_fields)
        if dropped:
            logger.warning(
                "fields not copied to the new revision",
                task_definition=source.arn,
                fields=sorted(dropped),
            )
        request = register_request(source.definition, source.tags, push, self.accepted_fields)
        existing = self._registered_copy(source, request)
        if existing is not None:
            logger.info("revision reused", source=source.arn, task_definition=existing)
            return existing
        try:
            response = self._client.register_task_definition(**request)
        except ClientError as exc:
            raise AwsError.from_client_error("RegisterTaskDefinition", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("RegisterTaskDefinition", exc) from exc
        arn = response["taskDefinition"]["taskDefinitionArn"]
        logger.info("revision registered", source=source.arn, task_definition=arn)
        return arn

    def _registered_copy(
        self, source: TaskDefinitionFacts, request: Mapping[str, Any]
    ) -> str | None:
        """A revision of the family newer than `source` that is exactly `request`: registered by
        an earlier attempt at this push that failed afterwards (a retry must not register a
        second identical revision). Costs one ListTaskDefinitions when there is none; the
        newest few revisions are looked at, newest first."""
        try:
            listed = self._client.list_task_definitions(
                familyPrefix=source.family,
                status="ACTIVE",
                sort="DESC",
                maxResults=RECENT_REVISIONS,
            )["taskDefinitionArns"]
            for arn in listed:
                family, _, revision = arn.rsplit("/", 1)[-1].rpartition(":")
                if family != source.family or int(revision) <= _revision(source.arn):
                    continue
                described = self._client.describe_task_definition(
                    taskDefinition=arn, include=["TAGS"]
                )
                candidate = TaskDefinitionFacts.from_description(described)
                if registered_as(candidate.definition, candidate.tags, self.accepted_fields) == (
                    request
                ):
                    return arn
        except ClientError as exc:
            raise AwsError.from_client_error("ListTaskDefinitions", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("ListTaskDefinitions", exc) from exc
        return None

    def update_service(self, service: ServiceFacts, task_definition_arn: str) -> str:
        """Point the service at the new revision, changing nothing else of it; return the id of
        the deployment ECS started (the PRIMARY one)."""
        try:
            response = self._client.update_service(
                cluster=service.cluster, service=service.arn, taskDefinition=task_definition_arn
            )
        except ClientError as exc:
            raise AwsError.from_client_error("UpdateService", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("UpdateService", exc) from exc
        deployments = response["service"].get("deployments") or ()
        primary = next((d for d in deployments if d.get("status") == PRIMARY), None)
        deployment_id = str(primary["id"]) if primary else ""
        logger.info(
            "service updated",
            service_arn=service.arn,
            task_definition=task_definition_arn,
            deployment_id=deployment_id,
        )
        return deployment_id

    # ----------------------------------------------------------------------------- internals
    def _described(self, service_arns: Iterable[str]) -> Iterator[Mapping[str, Any]]:
        for cluster, arns in _by_cluster(service_arns).items():
            for chunk in batched(arns, DESCRIBE_SERVICES_CHUNK, strict=False):
                try:
                    response = self._client.describe_services(
                        cluster=cluster, services=list(chunk), include=["TAGS"]
                    )
                except ClientError as exc:
                    raise AwsError.from_client_error("DescribeServices", exc) from exc
                for failure in response.get("failures") or ():
                    logger.info(
                        "service not described",
                        service_arn=failure.get("arn"),
                        failure=failure.get("reason"),
                    )
                yield from response.get("services") or ()


def _by_cluster(service_arns: Iterable[str]) -> dict[str, list[str]]:
    """Service ARNs grouped by cluster name, in a stable order. Old short ARNs
    (`service/<name>`) do not name their cluster; ECS reads them in the `default` cluster."""
    groups: dict[str, list[str]] = {}
    for arn in sorted(set(service_arns)):
        match = _SERVICE_ARN.fullmatch(arn)
        if match is None:
            logger.warning("not an ECS service ARN", arn=arn)
            continue
        groups.setdefault(match["cluster"] or "default", []).append(arn)
    return groups


def _revision(task_definition_arn: str) -> int:
    return int(task_definition_arn.rsplit(":", 1)[-1])
