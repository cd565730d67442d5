"""Find resources by tag with the Resource Groups Tagging API: one paginated sweep covers every
cluster (or database, or volume) of the region, instead of listing and describing them all."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from nightshift.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

# GetResources allows 100 resources per page, the most it returns in one call.
RESOURCES_PER_PAGE = 100
RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 5})


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "tag:GetResources",
    }
)


class TaggedResources:
    """ARNs of the resources of one type that carry a tag key (any value)."""

    def __init__(self, client: ResourceGroupsTaggingAPIClient | None = None) -> None:
        self._client = client or boto3.client("resourcegroupstaggingapi", config=RETRIES)

    def arns(self, resource_type: str, tag_key: str) -> tuple[str, ...]:
        """E.g. `arns("ecs:service", "nightshift:redeploy")`. The API may still list a resource
        deleted moments ago; whoever describes it next sees that."""
        paginator = self._client.get_paginator("get_resources")
        pages = paginator.paginate(
            ResourceTypeFilters=[resource_type],
            TagFilters=[{"Key": tag_key}],
            PaginationConfig={"PageSize": RESOURCES_PER_PAGE},
        )
        try:
            return tuple(
                mapping["ResourceARN"]
                for page in pages
                for mapping in page.get("ResourceTagMappingList", ())
            )
        except ClientError as exc:
            raise AwsError.from_client_error("GetResources", exc) from exc
