"""What the scheduler has parked, read by the canary (read only): the facts behind "this check's
environment is intentionally parked" (`nightshift.canary.parking`).

- The scheduler's parked records: one paginated `Query` on `pk` = `scheduler#parked` in the state
  table (the item format of `adapters/parking.py`, which writes them; the canary's role may only
  read that partition).
- The resources each dependency names, with their tags (`nightshift:schedule`,
  `nightshift:override`): one paginated Resource Groups Tagging API `GetResources` per distinct
  tag filter (one for the shipped policy), over the kinds the scheduler sweeps. Auto Scaling
  groups are not returned by that API: their parked records still count by schedule, their
  override tags are not seen (the scheduler acts on them and releases the records).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.canary.parking import ParkingFacts, TaggedResource
from nightshift.errors import AwsError
from nightshift.schedule.resources import ParkedRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

PARKED_PK = "scheduler#parked"  # adapters/parking.py writes it; the template's IAM names it
# The kinds the scheduler finds with the Tagging API (adapters/scheduled_resources.SWEPT_KINDS).
RESOURCE_TYPES = ("ecs:service", "rds:db", "rds:cluster", "ec2:instance")
PAGE_SIZE = 100  # GetResources' maximum
RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 5})

_deserialize = TypeDeserializer().deserialize


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "dynamodb:Query",
        "tag:GetResources",
    }
)


class ParkedEnvironment:
    def __init__(
        self,
        table: str,
        dynamodb: DynamoDBClient | None = None,
        tagging: ResourceGroupsTaggingAPIClient | None = None,
    ) -> None:
        self._table = table
        self._dynamodb = dynamodb or boto3.client("dynamodb")
        self._tagging = tagging or boto3.client("resourcegroupstaggingapi", config=RETRIES)

    def facts(
        self,
        tag_filters: Sequence[tuple[tuple[str, str], ...]],
        *,
        resources_if: Callable[[tuple[ParkedRecord, ...]], bool] | None = None,
    ) -> ParkingFacts:
        """The parked records, then the resources of each tag filter; with `resources_if`, the
        resources only when it says so for the records found (the canary skips them when they
        cannot change a decision: `canary.parking.resources_matter`)."""
        records = self._records()
        if resources_if is not None and not resources_if(records):
            return ParkingFacts(records=records)
        resources: dict[str, TaggedResource] = {}
        for tag_filter in tag_filters:
            for resource in self._tagged(tag_filter):
                resources[resource.arn] = resource
        return ParkingFacts(records=records, resources=tuple(resources.values()))

    def _records(self) -> tuple[ParkedRecord, ...]:
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": PARKED_PK}},
            ConsistentRead=True,
        )
        try:
            return tuple(_record(item) for page in pages for item in page.get("Items", ()))
        except ClientError as exc:
            raise AwsError.from_client_error("Query", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("Query", exc) from exc

    def _tagged(self, tag_filter: tuple[tuple[str, str], ...]) -> list[TaggedResource]:
        pages = self._tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": key, "Values": [value]} for key, value in tag_filter],
            ResourceTypeFilters=list(RESOURCE_TYPES),
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
        try:
            return [
                TaggedResource(
                    arn=mapping["ResourceARN"],
                    tags={tag["Key"]: tag["Value"] for tag in mapping.get("Tags", ())},
                )
                for page in pages
                for mapping in page.get("ResourceTagMappingList", ())
            ]
        except ClientError as exc:
            raise AwsError.from_client_error("GetResources", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("GetResources", exc) from exc


def _record(item: Mapping[str, Any]) -> ParkedRecord:
    """A parked record as `adapters/parking.py` wrote it (the ARN is the sort key)."""
    data = {key: _deserialize(value) for key, value in item.items()}
    return ParkedRecord.from_json({**data, "arn": data["sk"]})
