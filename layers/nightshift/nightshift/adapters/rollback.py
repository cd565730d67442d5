"""An ECS service's task definition, its family's revisions, and the update that rolls it back."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.actions.ports import ServiceFacts
from nightshift.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 5})
RECENT_REVISIONS = 20  # the previous revision is among the newest few


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset({"ecs:DescribeServices", "ecs:ListTaskDefinitions", "ecs:UpdateService"})


class EcsRollback:
    def __init__(self, client: ECSClient | None = None) -> None:
        self._client = client or boto3.client("ecs", config=RETRIES)

    def describe(self, arn: str) -> ServiceFacts:
        cluster = arn.split(":service/", 1)[1].split("/")[0]
        try:
            response = self._client.describe_services(
                cluster=cluster, services=[arn], include=["TAGS"]
            )
        except ClientError as exc:
            raise AwsError.from_client_error("DescribeServices", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("DescribeServices", exc) from exc
        services = response.get("services", [])
        if not services or services[0].get("status") != "ACTIVE":
            raise AwsError("DescribeServices", "ServiceNotFoundException", f"{arn} is not active")
        service = services[0]
        tags = {tag.get("key", ""): tag.get("value", "") for tag in service.get("tags", [])}
        return ServiceFacts(arn, service["taskDefinition"], MappingProxyType(tags))

    def revisions(self, family: str) -> Sequence[str]:
        try:
            response = self._client.list_task_definitions(
                familyPrefix=family, status="ACTIVE", sort="DESC", maxResults=RECENT_REVISIONS
            )
        except ClientError as exc:
            raise AwsError.from_client_error("ListTaskDefinitions", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("ListTaskDefinitions", exc) from exc
        return tuple(response.get("taskDefinitionArns", []))

    def update(self, arn: str, task_definition: str) -> None:
        cluster = arn.split(":service/", 1)[1].split("/")[0]
        try:
            self._client.update_service(
                cluster=cluster, service=arn, taskDefinition=task_definition
            )
        except ClientError as exc:
            raise AwsError.from_client_error("UpdateService", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("UpdateService", exc) from exc
