"""What the scheduler knows about a resource, and what it keeps about one it parked.

Adapters build these from AWS responses; the core never sees a boto3 shape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

SCHEDULE_TAG = "nightshift:schedule"
OVERRIDE_TAG = "nightshift:override"
ASG_MEMBER_TAG = "aws:autoscaling:groupName"  # AWS puts it on every instance of a group


class ResourceKind(StrEnum):
    ECS_SERVICE = "ecs-service"
    RDS_INSTANCE = "rds-instance"
    AURORA_CLUSTER = "aurora-cluster"
    EC2_INSTANCE = "ec2-instance"
    ASG = "autoscaling-group"


class PowerState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    OTHER = "other"  # in transition (starting, backing-up, ...) or broken: not acted on


# Databases start first and stop last; compute starts after them and stops before them.
DATABASE_KINDS = frozenset({ResourceKind.RDS_INSTANCE, ResourceKind.AURORA_CLUSTER})
CAPACITY_KINDS = frozenset({ResourceKind.ECS_SERVICE, ResourceKind.ASG})


@dataclass(frozen=True)
class Capacity:
    """How much of a service or group runs: ECS desiredCount with the Application Auto Scaling
    target's min/max (None when the service has no scalable target), or ASG min/desired/max.

    >>> str(Capacity(desired=2, minimum=1, maximum=4).parked())
    'desired 0, min 0, max 0'
    """

    desired: int
    minimum: int | None = None
    maximum: int | None = None

    def parked(self) -> Capacity:
        """What parking sets: zero everywhere, so no autoscaler can undo the stop."""
        return Capacity(
            desired=0,
            minimum=None if self.minimum is None else 0,
            maximum=None if self.maximum is None else 0,
        )

    def __str__(self) -> str:
        parts = [f"desired {self.desired}"]
        if self.minimum is not None:
            parts.append(f"min {self.minimum}")
        if self.maximum is not None:
            parts.append(f"max {self.maximum}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, int | None]:
        return {"desired": self.desired, "minimum": self.minimum, "maximum": self.maximum}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Capacity:
        def number(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else int(value)

        return cls(
            desired=int(data["desired"]), minimum=number("minimum"), maximum=number("maximum")
        )


@dataclass(frozen=True)
class ScheduledResource:
    """One resource that carries (or may carry) a `nightshift:schedule` tag.

    `status` is AWS's own word for it (RDS/Aurora `available`/`stopped`/..., EC2 `running`/
    `stopped`/..., ECS service `ACTIVE`/`DRAINING`, ASG `Status` or empty). ECS services and
    ASGs are running when their desired capacity is above zero.

    `described` is False for a resource known only from the tag sweep (ARN, kind and tags,
    `ScheduledResource.tagged`): its state and capacity were not read, because nothing the run
    could decide depends on them (`nightshift.schedule.discovery`).

    >>> ScheduledResource("arn:aws:rds:eu-central-1:1:db:app", ResourceKind.RDS_INSTANCE,
    ...     {}, status="stopped").power
    <PowerState.STOPPED: 'stopped'>
    """

    arn: str
    kind: ResourceKind
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    status: str = ""
    capacity: Capacity | None = None
    cluster: str | None = None  # RDS instance: the Aurora cluster it is a member of
    replica_of: str | None = None  # RDS instance or Aurora cluster: the source it replicates
    replicas: tuple[str, ...] = ()  # its read replicas
    # What it costs to run, as the describes already made say (nightshift.schedule.savings):
    instance_type: str | None = None  # RDS DB instance class, EC2 instance type
    engine: str | None = None  # RDS engine (postgres, mysql, ...)
    multi_az: bool = False  # RDS: a standby billed as much as the primary
    task_definition: str | None = None  # ECS service: its task definition's ARN
    described: bool = True  # False: known from the tag sweep only, state and capacity unread

    @classmethod
    def tagged(cls, arn: str, kind: ResourceKind, tags: Mapping[str, str]) -> ScheduledResource:
        """A resource as the tag sweep found it, before (or instead of) its describe call."""
        return cls(arn, kind, MappingProxyType(dict(tags)), described=False)

    def __post_init__(self) -> None:
        if self.described and self.kind in CAPACITY_KINDS and self.capacity is None:
            raise ValueError(f"{self.kind} {self.arn} needs its capacity")
        if (
            self.kind is ResourceKind.ASG
            and self.capacity is not None
            and (self.capacity.minimum is None or self.capacity.maximum is None)
        ):
            raise ValueError(f"autoscaling group {self.arn} needs min, desired and max")

    @property
    def name(self) -> str:
        """The short name people know: the last part of the ARN."""
        return self.arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]

    @property
    def schedule_name(self) -> str | None:
        value = self.tags.get(SCHEDULE_TAG, "").strip()
        return value or None

    @property
    def override_text(self) -> str | None:
        value = self.tags.get(OVERRIDE_TAG, "").strip()
        return value or None

    @property
    def is_database(self) -> bool:
        return self.kind in DATABASE_KINDS

    @property
    def power(self) -> PowerState:
        return POWER_RULES[self.kind](self)


def _by_status(running: str, stopped: str) -> Callable[[ScheduledResource], PowerState]:
    def rule(resource: ScheduledResource) -> PowerState:
        status = resource.status.lower()
        if status == running:
            return PowerState.RUNNING
        if status == stopped:
            return PowerState.STOPPED
        return PowerState.OTHER

    return rule


def _by_capacity(*healthy: str) -> Callable[[ScheduledResource], PowerState]:
    def rule(resource: ScheduledResource) -> PowerState:
        if resource.status.lower() not in healthy or resource.capacity is None:
            return PowerState.OTHER
        return PowerState.RUNNING if resource.capacity.desired > 0 else PowerState.STOPPED

    return rule


POWER_RULES: Mapping[ResourceKind, Callable[[ScheduledResource], PowerState]] = MappingProxyType(
    {
        ResourceKind.RDS_INSTANCE: _by_status("available", "stopped"),
        ResourceKind.AURORA_CLUSTER: _by_status("available", "stopped"),
        ResourceKind.EC2_INSTANCE: _by_status("running", "stopped"),
        ResourceKind.ECS_SERVICE: _by_capacity("active"),
        ResourceKind.ASG: _by_capacity(""),  # an ASG has a Status only while being deleted
    }
)


class ParkState(StrEnum):
    """Where a parked record's resource is in the parking protocol (docs/scheduler.md).

    STOPPING: written before the first stop call; PARKED: every stop call succeeded (or the
    resource was found stopped); STARTING: written before the first start call. A record in
    STOPPING or STARTING that a run finds means that run's predecessor was interrupted: the
    stop or start is finished or undone, from the record's capacity, never from what the
    resource shows.
    """

    STOPPING = "stopping"
    PARKED = "parked"
    STARTING = "starting"


@dataclass(frozen=True)
class ParkedRecord:
    """What the scheduler keeps about a resource it parked, to restore it exactly.

    Written before a stop begins (or when the scheduler finds the resource already stopped as
    an off period begins), deleted only once a start has restored the resource (or the
    resource is seen running at the recorded capacity). It is the source of truth for the
    capacity throughout. `capacity` is None for kinds that have none (RDS, Aurora, EC2).

    >>> record = ParkedRecord("arn:svc", ResourceKind.ECS_SERVICE,
    ...     dt.datetime(2026, 3, 2, 18, tzinfo=dt.UTC), "office-hours", Capacity(2, 1, 4))
    >>> ParkedRecord.from_json(record.to_json()) == record
    True
    """

    arn: str
    kind: ResourceKind
    parked_at: dt.datetime
    schedule: str
    capacity: Capacity | None = None
    state: ParkState = ParkState.PARKED

    @property
    def interrupted(self) -> bool:
        """A stop or start was begun and not seen to the end."""
        return self.state is not ParkState.PARKED

    def moved_to(self, state: ParkState) -> ParkedRecord:
        return replace(self, state=state)

    def to_json(self) -> dict[str, Any]:
        return {
            "arn": self.arn,
            "kind": self.kind.value,
            "parked_at": self.parked_at.isoformat(),
            "schedule": self.schedule,
            "capacity": None if self.capacity is None else self.capacity.to_json(),
            "state": self.state.value,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ParkedRecord:
        capacity = data.get("capacity")
        return cls(
            arn=str(data["arn"]),
            kind=ResourceKind(data["kind"]),
            parked_at=dt.datetime.fromisoformat(str(data["parked_at"])),
            schedule=str(data["schedule"]),
            capacity=None if capacity is None else Capacity.from_json(capacity),
            # Records written before the protocol had states were all written after a stop.
            state=ParkState(data.get("state") or ParkState.PARKED),
        )
