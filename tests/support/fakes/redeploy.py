"""In-memory stand-ins for redeploy's ports (nightshift.redeploy.ports), for tests of
`nightshift.redeploy.service` without AWS. Each keeps what was done to it, and can be told to
fail as AWS would (an `AwsError`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger

from nightshift.adapters.reporting import failure_reported
from nightshift.errors import AwsError, NightshiftError
from nightshift.policy import parse_policy
from nightshift.redeploy import ImagePush, RedeployPolicy, ServiceFacts, TaskDefinitionFacts
from nightshift.redeploy.approval import HeldRedeploy, HeldState
from nightshift.redeploy.outcome import ServiceHistory, StoppedTask
from nightshift.redeploy.ports import PushWork
from nightshift.redeploy.service import (
    DeploymentOutcomes,
    HeldRedeployApprover,
    PushRedeployer,
    Redeploy,
)
from nightshift.report import Report

ENVIRONMENT = "staging"


def aws_error(operation: str, code: str = "AccessDeniedException") -> AwsError:
    return AwsError(operation, code, "not allowed in this test")


class MemoryEcs:
    """The services that follow pushes and their task definitions. Registration gives revision
    `:<n+1>` of the source's family; UpdateService points the service at it."""

    def __init__(
        self,
        services: Iterable[ServiceFacts] = (),
        definitions: Iterable[TaskDefinitionFacts] = (),
    ) -> None:
        self.services = {service.arn: service for service in services}
        self.definitions = {definition.arn: definition for definition in definitions}
        self.histories: dict[str, ServiceHistory] = {}
        self.stopped: dict[str, tuple[StoppedTask, ...]] = {}
        self.registered: list[str] = []
        self.updated: dict[str, str] = {}  # service ARN -> task definition ARN
        self.fail: dict[str, AwsError] = {}  # operation -> the error its next calls raise

    def opted_in(self) -> tuple[ServiceFacts, ...]:
        self._maybe_fail("GetResources")
        return tuple(self.services.values())

    def describe_services(self, service_arns: Iterable[str]) -> tuple[ServiceFacts, ...]:
        return tuple(self.services[arn] for arn in service_arns if arn in self.services)

    def task_definitions(self, arns: Iterable[str]) -> dict[str, TaskDefinitionFacts]:
        return {arn: self.definitions[arn] for arn in sorted(set(arns)) if arn in self.definitions}

    def register_revision(self, source: TaskDefinitionFacts, push: ImagePush) -> str:
        self._maybe_fail("RegisterTaskDefinition")
        arn = f"{source.arn.rpartition(':')[0]}:{source.revision + 1}"
        self.registered.append(arn)
        return arn

    def update_service(self, service: ServiceFacts, task_definition_arn: str) -> str:
        self._maybe_fail("UpdateService")
        self.updated[service.arn] = task_definition_arn
        return f"ecs-svc/{len(self.updated)}"

    def history(self, service_arn: str) -> ServiceHistory | None:
        return self.histories.get(service_arn)

    def stopped_tasks(self, service: ServiceFacts) -> tuple[StoppedTask, ...]:
        return self.stopped.get(service.arn, ())

    def _maybe_fail(self, operation: str) -> None:
        if operation in self.fail:
            raise self.fail[operation]


class MemoryPushes:
    """The last push deployed per service. `race` records a newer push for a service just before
    this one claims it, as a concurrent invocation would."""

    def __init__(self, last: dict[str, dt.datetime] | None = None) -> None:
        self.last = dict(last or {})
        self.race: dict[str, dt.datetime] = {}

    def last_pushes(self) -> dict[str, dt.datetime]:
        return dict(self.last)

    def claim(self, service_arn: str, push: ImagePush) -> dt.datetime | None:
        if service_arn in self.race:
            self.last[service_arn] = self.race.pop(service_arn)
        held = self.last.get(service_arn)
        if held is not None and held > push.time:
            return held
        self.last[service_arn] = push.time
        return None


class MemoryOnce:
    """Powertools idempotency without DynamoDB: a result per push key; a failed run stores
    nothing. `in_progress` holds keys another invocation is running now."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}
        self.in_progress: set[str] = set()
        self.runs = 0

    def once(self, push_key: str, work: PushWork) -> dict[str, Any] | None:
        if push_key in self.in_progress:
            return None
        if push_key not in self.results:
            self.runs += 1
            self.results[push_key] = work()
        return self.results[push_key]


class MemoryHeld:
    """Held redeploys by key, with their state; `approve` is conditional as in DynamoDB."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[HeldRedeploy, HeldState]] = {}
        self.approved_by: dict[str, str] = {}

    def hold(self, held: HeldRedeploy) -> None:
        if self.records.get(held.key, (held, HeldState.HELD))[1] is HeldState.HELD:
            self.records[held.key] = (held, HeldState.HELD)

    def get(self, key: str) -> tuple[HeldRedeploy, HeldState] | None:
        return self.records.get(key)

    def approve(self, key: str, now: dt.datetime, by: str) -> bool:
        found = self.records.get(key)
        if found is None or found[1] is not HeldState.HELD or now >= found[0].expires:
            return False
        self.records[key] = (found[0], HeldState.APPROVED)
        self.approved_by[key] = by
        return True


class MemoryPublisher:
    def __init__(self) -> None:
        self.reports: list[Report] = []

    def publish(self, report: Report) -> str:
        self.reports.append(report)
        return f"message-{len(self.reports)}"


class MemoryMetrics:
    """Metric values summed by name; every redeploy metric is a Count."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()
        self.units: set[str] = set()

    def add_metric(self, name: str, unit: str, value: float) -> None:
        self.values[name] += int(value)
        self.units.add(str(unit))


def redeploy_policy(text: str) -> RedeployPolicy:
    return RedeployPolicy.from_policy(parse_policy(text))


@dataclass
class FakeRedeploy:
    """The function's services wired to in-memory ports, and the ports to look at."""

    policy: RedeployPolicy | NightshiftError
    ecs: MemoryEcs = field(default_factory=MemoryEcs)
    pushes: MemoryPushes = field(default_factory=MemoryPushes)
    once: MemoryOnce = field(default_factory=MemoryOnce)
    publisher: MemoryPublisher = field(default_factory=MemoryPublisher)
    metrics: MemoryMetrics = field(default_factory=MemoryMetrics)
    logger: Logger = field(default_factory=lambda: Logger(service="redeploy"))
    held: MemoryHeld = field(default_factory=MemoryHeld)
    now: dt.datetime = dt.datetime(2026, 11, 20, 9, 13, tzinfo=dt.UTC)

    def _policy(self) -> RedeployPolicy:
        if isinstance(self.policy, NightshiftError):
            raise self.policy
        return self.policy

    @property
    def push_service(self) -> PushRedeployer:
        return PushRedeployer(
            policy=self._policy,
            environment=ENVIRONMENT,
            ecs=self.ecs,
            pushes=self.pushes,
            once=self.once,
            publisher=self.publisher,
            failures=partial(failure_reported, self.publisher, logger=self.logger),
            metrics=self.metrics,
            logger=self.logger,
            held=self.held,
            canary=lambda: "all 2 checks up",
            links=lambda held: f"https://actions.example/?target={held.key}",
            clock=lambda: self.now,
        )

    @property
    def approver(self) -> HeldRedeployApprover:
        return HeldRedeployApprover(
            policy=self._policy, ecs=self.ecs, pushes=self.pushes, held=self.held
        )

    @property
    def outcome_service(self) -> DeploymentOutcomes:
        return DeploymentOutcomes(
            environment=ENVIRONMENT,
            ecs=self.ecs,
            publisher=self.publisher,
            metrics=self.metrics,
            logger=self.logger,
        )

    @property
    def service(self) -> Redeploy:
        return Redeploy(
            pushes=self.push_service,
            deployments=self.outcome_service,
            metrics=self.metrics,
            logger=self.logger,
        )
