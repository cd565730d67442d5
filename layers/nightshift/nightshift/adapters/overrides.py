"""The resources of one schedule and their `nightshift:override` tag, for the actions function.

One Resource Groups Tagging API sweep finds the resources tagged `nightshift:schedule=<name>`
(the kinds the scheduler sweeps with it; Auto Scaling groups are not returned by that API and are
left to their schedule), then each is tagged with its own service's call: tagging through the
Tagging API would need the same service permissions and more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.actions.plan import OVERRIDE_TAG, SCHEDULE_TAG, TaggedResource
from nightshift.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

RESOURCE_TYPES = ("ecs:service", "rds:db", "rds:cluster", "ec2:instance")
PAGE_SIZE = 100
RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 5})


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {"tag:GetResources", "ecs:TagResource", "rds:AddTagsToResource", "ec2:CreateTags"}
)


class OverrideTagger:
    def __init__(
        self, tagging: ResourceGroupsTaggingAPIClient | None = None, clients: Any = None
    ) -> None:
        self._tagging = tagging or boto3.client("resourcegroupstaggingapi", config=RETRIES)
        self._clients: dict[str, Any] = clients or {}

    def resources(self, schedule: str) -> Sequence[TaggedResource]:
        pages = self._tagging.get_paginator("get_resources").paginate(
            ResourceTypeFilters=list(RESOURCE_TYPES),
            TagFilters=[{"Key": SCHEDULE_TAG, "Values": [schedule]}],
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
        try:
            return tuple(
                TaggedResource(
                    mapping["ResourceARN"],
                    {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", ())},
                )
                for page in pages
                for mapping in page.get("ResourceTagMappingList", ())
            )
        except ClientError as exc:
            raise AwsError.from_client_error("GetResources", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("GetResources", exc) from exc

    def set_override(self, arn: str, value: str) -> None:
        service = arn.split(":")[2]
        operation = {"ecs": "TagResource", "rds": "AddTagsToResource", "ec2": "CreateTags"}[service]
        try:
            if service == "ecs":
                self._client("ecs").tag_resource(
                    resourceArn=arn, tags=[{"key": OVERRIDE_TAG, "value": value}]
                )
            elif service == "rds":
                self._client("rds").add_tags_to_resource(
                    ResourceName=arn, Tags=[{"Key": OVERRIDE_TAG, "Value": value}]
                )
            else:
                self._client("ec2").create_tags(
                    Resources=[arn.rsplit("/", 1)[-1]], Tags=[{"Key": OVERRIDE_TAG, "Value": value}]
                )
        except ClientError as exc:
            raise AwsError.from_client_error(operation, exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error(operation, exc) from exc

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service, config=RETRIES)  # type: ignore[call-overload]
        return self._clients[service]
