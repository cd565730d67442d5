"""What redeploy's services talk to. The real adapters are in `nightshift.adapters` (ecs:
`EcsServices`; deployed_pushes: `DeployedPushes`, `PushIdempotency`; reporting:
`ReportPublisher`, `failure_reported`); in-memory fakes are in tests/support/fakes/redeploy.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from nightshift.policy import Targets
from nightshift.ports import FailureGuard, MetricsSink, ReportSink
from nightshift.redeploy.approval import HeldRedeploy, HeldState
from nightshift.redeploy.events import ImagePush
from nightshift.redeploy.facts import ServiceFacts, TaskDefinitionFacts
from nightshift.redeploy.outcome import ServiceHistory, StoppedTask
from nightshift.redeploy.policy import RedeployPolicy


class DeployPort(Protocol):
    """Describing services and deploying a digest to them (adapter:
    `nightshift.adapters.ecs_deploy.EcsDeployer`). Failures raise AwsError."""

    def describe_services(self, service_arns: Iterable[str]) -> tuple[ServiceFacts, ...]: ...

    def task_definitions(self, arns: Iterable[str]) -> dict[str, TaskDefinitionFacts]: ...

    def register_revision(self, source: TaskDefinitionFacts, push: ImagePush) -> str: ...

    def update_service(self, service: ServiceFacts, task_definition_arn: str) -> str: ...


class EcsPort(DeployPort, Protocol):
    """The services that follow pushes, what they run, and acting on them (adapter:
    `nightshift.adapters.ecs.EcsServices`). Failures raise AwsError."""

    def opted_in(self) -> tuple[ServiceFacts, ...]: ...

    def history(self, service_arn: str) -> ServiceHistory | None: ...

    def stopped_tasks(self, service: ServiceFacts) -> tuple[StoppedTask, ...]: ...


class TargetedEcsPort(EcsPort, Protocol):
    """Redeploy's ECS side across the policy's targets, built per push (adapter:
    `nightshift.adapters.redeploy_targets.TargetedEcs`): after `opted_in`, `unreached` holds one
    error line per target whose services could not be listed."""

    @property
    def unreached(self) -> tuple[str, ...]: ...


TargetedEcsSource = Callable[[Targets], TargetedEcsPort]
"""The ECS side of one push across the policy's targets (hub and spoke, docs/organization.md)."""


class DeployedPushesPort(Protocol):
    """The last push deployed to each service (adapter:
    `nightshift.adapters.deployed_pushes.DeployedPushes`)."""

    def last_pushes(self) -> dict[str, dt.datetime]: ...

    def claim(self, service_arn: str, push: ImagePush) -> dt.datetime | None:
        """Record `push` for the service unless a newer one is recorded; return that one's time."""
        ...


class HeldRedeploysPort(Protocol):
    """Held redeploys waiting for an approval (adapter:
    `nightshift.adapters.held_redeploys.HeldRedeploys`). Failures raise AwsError."""

    def hold(self, held: HeldRedeploy) -> None: ...

    def get(self, key: str) -> tuple[HeldRedeploy, HeldState] | None: ...

    def approve(self, key: str, now: dt.datetime, by: str) -> bool:
        """Move the record from held to approved (conditional: still held, not expired);
        False when it was not held any more."""
        ...


PushWork = Callable[[], dict[str, Any]]


class OncePerPush(Protocol):
    """Runs the work of one push at most once (adapter:
    `nightshift.adapters.deployed_pushes.PushIdempotency`, Powertools idempotency)."""

    def once(self, push_key: str, work: PushWork) -> dict[str, Any] | None:
        """The work's result, or the stored result of an earlier run of the same push; None when
        another invocation is running it now."""
        ...


PolicySource = Callable[[], RedeployPolicy]
"""The deployed policy's `redeploy` section; raises PolicyError when unusable."""

__all__ = [
    "DeployPort",
    "DeployedPushesPort",
    "EcsPort",
    "FailureGuard",
    "HeldRedeploysPort",
    "MetricsSink",
    "OncePerPush",
    "PolicySource",
    "PushWork",
    "ReportSink",
    "TargetedEcsPort",
    "TargetedEcsSource",
]
