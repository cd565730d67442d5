"""What the planner knows about ECS services and task definitions: plain frozen data, built by the
adapter from DescribeServices / DescribeTaskDefinition output (`from_description`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

REDEPLOY_TAG = "nightshift:redeploy"
ECS_CONTROLLER = "ECS"
ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class CircuitBreaker:
    """The service's deployment circuit breaker: `enable` stops a failing deployment, `rollback`
    returns to the last completed one."""

    enable: bool = False
    rollback: bool = False

    @property
    def rolls_back(self) -> bool:
        return self.enable and self.rollback


@dataclass(frozen=True)
class ServiceFacts:
    """One ECS service that may follow pushes.

    `last_push_at` is the time of the push the service runs, when the adapter knows it from AWS
    (e.g. ECR `imagePushedAt` of the digest it runs); Nightshift's own record of deployed pushes
    is passed to the planner separately, and the later of the two counts.

    >>> ServiceFacts(arn="arn:aws:ecs:eu-central-1:111122223333:service/c/api", cluster="c",
    ...     name="api", tags={"nightshift:redeploy": "main-*"},
    ...     task_definition_arn="arn:aws:ecs:eu-central-1:111122223333:task-definition/api:7",
    ... ).follows
    'main-*'
    """

    arn: str
    cluster: str
    name: str
    tags: Mapping[str, str]
    task_definition_arn: str
    circuit_breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    status: str = ACTIVE
    deployment_controller: str = ECS_CONTROLLER
    last_push_at: dt.datetime | None = None
    # Set by the hub for a service in a target marked `production: true` (docs/organization.md):
    # gated as production whatever its tags say.
    production_target: bool = False

    @classmethod
    def from_description(
        cls, service: Mapping[str, Any], last_push_at: dt.datetime | None = None
    ) -> ServiceFacts:
        """From one `services[]` entry of DescribeServices (called with `include=["TAGS"]`)."""
        configuration = service.get("deploymentConfiguration") or {}
        breaker = configuration.get("deploymentCircuitBreaker") or {}
        controller = service.get("deploymentController") or {}
        return cls(
            arn=service["serviceArn"],
            cluster=str(service["clusterArn"]).rpartition("/")[2],
            name=service["serviceName"],
            tags=_tag_map(service.get("tags") or ()),
            task_definition_arn=service["taskDefinition"],
            circuit_breaker=CircuitBreaker(
                enable=bool(breaker.get("enable")), rollback=bool(breaker.get("rollback"))
            ),
            status=str(service.get("status") or ACTIVE),
            deployment_controller=str(controller.get("type") or ECS_CONTROLLER),
            last_push_at=last_push_at,
        )

    @property
    def follows(self) -> str | None:
        """The value of the `nightshift:redeploy` tag: a tag glob or a name under
        `redeploy.follow` in the policy; None when the service has not opted in."""
        return self.tags.get(REDEPLOY_TAG)

    @property
    def display_name(self) -> str:
        return f"{self.cluster}/{self.name}"


@dataclass(frozen=True)
class TaskDefinitionFacts:
    """One task definition revision exactly as DescribeTaskDefinition returned it, with its tags
    in the API's own `[{"key": …, "value": …}]` form so nothing is lost on the way back.

    >>> TaskDefinitionFacts({"taskDefinitionArn": "arn:…:task-definition/api:7",
    ...     "family": "api", "revision": 7, "containerDefinitions": []}).family
    'api'
    """

    definition: Mapping[str, Any]
    tags: tuple[Mapping[str, str], ...] = ()

    @classmethod
    def from_description(cls, response: Mapping[str, Any]) -> TaskDefinitionFacts:
        """From a DescribeTaskDefinition response (called with `include=["TAGS"]`)."""
        return cls(
            definition=MappingProxyType(dict(response["taskDefinition"])),
            tags=tuple(MappingProxyType(dict(tag)) for tag in response.get("tags") or ()),
        )

    @property
    def arn(self) -> str:
        return str(self.definition["taskDefinitionArn"])

    @property
    def family(self) -> str:
        return str(self.definition["family"])

    @property
    def revision(self) -> int:
        return int(self.definition["revision"])

    @property
    def containers(self) -> Sequence[Mapping[str, Any]]:
        return self.definition.get("containerDefinitions") or ()


def _tag_map(tags: Sequence[Mapping[str, str]]) -> Mapping[str, str]:
    return MappingProxyType({tag["key"]: tag.get("value", "") for tag in tags})
