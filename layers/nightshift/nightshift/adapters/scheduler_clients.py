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

# Standard mode retries throttling and transient errors with backoff; the run is short and
# every action is retried by the next run anyway, so a handful of attempts is enough.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


@dataclass(frozen=True)
class SchedulerClients:
    tagging: Any  # resourcegroupstaggingapi
    ecs: Any
    application_autoscaling: Any
    rds: Any
    ec2: Any
    autoscaling: Any
    dynamodb: Any
    sns: Any

    @classmethod
    def create(cls, session: boto3.Session | None = None) -> SchedulerClients:
        """Clients for the session's region; AWS_ENDPOINT_URL (the local cloud) is honoured by
        botocore itself."""
        made = session or boto3.Session()
        return cls(
            tagging=made.client("resourcegroupstaggingapi", config=RETRIES),
            ecs=made.client("ecs", config=RETRIES),
            application_autoscaling=made.client("application-autoscaling", config=RETRIES),
            rds=made.client("rds", config=RETRIES),
            ec2=made.client("ec2", config=RETRIES),
            autoscaling=made.client("autoscaling", config=RETRIES),
            dynamodb=made.client("dynamodb", config=RETRIES),
            sns=made.client("sns", config=RETRIES),
        )

    def each(self) -> tuple[BaseClient, ...]:
        """Every client, e.g. to register a botocore event handler on all of them."""
        return tuple(getattr(self, field.name) for field in fields(self))
