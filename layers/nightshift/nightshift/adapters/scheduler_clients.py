"""The boto3 clients the scheduler talks to, built once with botocore's standard retry mode.

One bundle, so the handler, the `plan-schedule` command and the tests share one place that
knows which services the scheduler calls (and tests can count every call on every client).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_sns import SNSClient

# Standard mode retries throttling and transient errors with backoff; the run is short and
# every action is retried by the next run anyway, so a handful of attempts is enough.
RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 5})


# The IAM actions this module needs: none (it only builds clients).
IAM_ACTIONS = frozenset[str]()


@dataclass(frozen=True)
class SchedulerClients:
    tagging: ResourceGroupsTaggingAPIClient
    ecs: ECSClient
    application_autoscaling: ApplicationAutoScalingClient
    rds: RDSClient
    ec2: EC2Client
    autoscaling: AutoScalingClient
    dynamodb: DynamoDBClient
    sns: SNSClient

    @classmethod
    def create(cls, session: boto3.Session | None = None) -> SchedulerClients:
        """Clients for the session's region (boto3's default session unless given, so service
        models are loaded once per process); AWS_ENDPOINT_URL (the local cloud) is honoured by
        botocore itself."""
        client: Any = boto3.client if session is None else session.client
        return cls(
            tagging=client("resourcegroupstaggingapi", config=RETRIES),
            ecs=client("ecs", config=RETRIES),
            application_autoscaling=client("application-autoscaling", config=RETRIES),
            rds=client("rds", config=RETRIES),
            ec2=client("ec2", config=RETRIES),
            autoscaling=client("autoscaling", config=RETRIES),
            dynamodb=client("dynamodb", config=RETRIES),
            sns=client("sns", config=RETRIES),
        )

    def each(self) -> tuple[BaseClient, ...]:
        """Every client, e.g. to register a botocore event handler on all of them."""
        return tuple(getattr(self, field.name) for field in fields(self))
