"""In-memory ports of the actions service (`nightshift.actions.ports`): used nonces, tagged
resources, snoozes, ECS services and the published reports, with failures on demand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from nightshift.actions.plan import TaggedResource
from nightshift.actions.ports import ServiceFacts
from nightshift.errors import AwsError
from nightshift.report import Report


@dataclass
class World:
    resources: list[TaggedResource] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    snoozed: dict[str, tuple[dt.datetime, str]] = field(default_factory=dict)
    services: dict[str, ServiceFacts] = field(default_factory=dict)
    task_definitions: list[str] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)

    def _fail(self, operation: str) -> None:
        if operation in self.failing:
            raise AwsError(operation, "AccessDeniedException", "not allowed")

    # UsedTokens
    def claim(self, nonce: str, expires: dt.datetime) -> bool:
        self._fail("PutItem")
        if nonce in self.used:
            return False
        self.used.add(nonce)
        return True

    # Overrides
    def resources_of(self, schedule: str) -> Sequence[TaggedResource]:
        self._fail("GetResources")
        return [r for r in self.resources if r.tags.get("nightshift:schedule") == schedule]

    def set_override(self, arn: str, value: str) -> None:
        self._fail("TagResource")
        self.overrides[arn] = value

    # Snoozes
    def snooze(self, check: str, until: dt.datetime, by: str) -> None:
        self._fail("PutSnooze")
        self.snoozed[check] = (until, by)

    # Services
    def describe(self, arn: str) -> ServiceFacts:
        self._fail("DescribeServices")
        return self.services[arn]

    def revisions(self, family: str) -> Sequence[str]:
        return [arn for arn in self.task_definitions if f"task-definition/{family}:" in arn]

    def update(self, arn: str, task_definition: str) -> None:
        self._fail("UpdateService")
        facts = self.services[arn]
        self.services[arn] = ServiceFacts(arn, task_definition, facts.tags)

    # ReportSink
    def publish(self, report: Report) -> str:
        self.reports.append(report)
        return f"message-{len(self.reports)}"


class OverridesOf:
    """The Overrides port over a World (its `resources` name is the world's list)."""

    def __init__(self, world: World) -> None:
        self._world = world

    def resources(self, schedule: str) -> Sequence[TaggedResource]:
        return self._world.resources_of(schedule)

    def set_override(self, arn: str, value: str) -> None:
        self._world.set_override(arn, value)


def service_facts(arn: str, task_definition: str, **tags: str) -> ServiceFacts:
    return ServiceFacts(arn, task_definition, MappingProxyType(dict(tags)))
