"""What parking saves, in dollars: each start or stop of a run priced with the price table.

Pure. A stop is priced forward: hours until the schedule's next start x the hourly price (the
*estimated* saving of the night). A start is priced backward: hours since the parked record says
the resource was parked x the hourly price (the saving *realised*; the `DollarsSaved` metric).
The sizes come from the describes the scheduler already made (RDS class, EC2 type) and, for ECS
services, from one DescribeTaskDefinition per distinct task definition of the services switched
this run (`TaskSize`, gathered by the service); anything else is unpriced, with the reason.

Only a run that starts or stops something prices, so the service imports this module (and with
it `nightshift.pricing` and its table) in that step, not at cold start
(tests/unit/test_cold_start.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.pricing import (
    DatabaseSize,
    FargateSize,
    HourlyPrice,
    InstanceSize,
    PriceTable,
    ResourceSize,
    hourly_price,
    shipped_table,
)
from nightshift.schedule.plan import Action, Decision
from nightshift.schedule.ports import TaskSize
from nightshift.schedule.resources import ResourceKind


@dataclass(frozen=True)
class Saving:
    """One start or stop priced: `usd` saved over `hours` (None with `price.reason` when
    unpriced); `realised` for a start (the park is over), an estimate for a stop."""

    arn: str
    name: str
    action: Action
    price: HourlyPrice
    hours: float | None
    realised: bool

    @property
    def usd(self) -> float | None:
        if self.hours is None:
            return None
        return self.price.over(self.hours)


def price_table(pricing: Mapping[str, Any] | None) -> PriceTable:
    """The shipped price table with the policy's `scheduler.pricing` (SchedulerSettings.pricing)
    laid over it, price by price.

    >>> price_table(None).source.startswith("AWS public on-demand prices")
    True
    """
    return shipped_table().overridden(pricing)


def task_definitions_to_size(decisions: Iterable[Decision]) -> tuple[str, ...]:
    """The distinct task definitions of the ECS services among `decisions` (those switched)."""
    return tuple(
        sorted(
            {
                d.resource.task_definition
                for d in decisions
                if d.kind is ResourceKind.ECS_SERVICE and d.resource.task_definition
            }
        )
    )


def price_switches(
    decisions: Iterable[Decision],
    now: dt.datetime,
    table: PriceTable,
    task_sizes: Mapping[str, TaskSize],
) -> tuple[Saving, ...]:
    """Each start and stop in `decisions` (those carried out, or planned in a dry run), priced.

    >>> from nightshift.pricing import shipped_table
    >>> from nightshift.schedule.resources import ParkedRecord, ScheduledResource
    >>> db = ScheduledResource("arn:aws:rds:eu-central-1:1:db:app", ResourceKind.RDS_INSTANCE,
    ...     status="stopped", instance_type="db.t4g.micro", engine="postgres")
    >>> parked = dt.datetime(2026, 12, 2, 18, tzinfo=dt.UTC)
    >>> record = ParkedRecord(db.arn, db.kind, parked, "office-hours")
    >>> start = Decision(db, Action.START, "restore", park=record)
    >>> [saving] = price_switches([start], parked + dt.timedelta(hours=12.5), shipped_table(), {})
    >>> saving.hours, round(saving.usd, 4), saving.realised
    (12.5, 0.2375, True)
    """
    savings = []
    for decision in decisions:
        if decision.action is Action.STOP:
            hours, realised = decision.hours_saved, False
        elif decision.action is Action.START:
            since = decision.park.parked_at if decision.park is not None else None
            hours = None if since is None else round((now - since).total_seconds() / 3600, 2)
            realised = True
        else:
            continue
        size = resource_size(decision, task_sizes)
        savings.append(
            Saving(
                decision.arn,
                decision.resource.name,
                decision.action,
                hourly_price(size, table) if size is not None else _unsized(decision),
                hours,
                realised,
            )
        )
    return tuple(savings)


def resource_size(decision: Decision, task_sizes: Mapping[str, TaskSize]) -> ResourceSize | None:
    """The size to price: what runs while the resource is up (an ECS service's tasks at the
    capacity it runs with, restored or parked)."""
    resource = decision.resource
    region = _region(resource.arn)
    match resource.kind:
        case ResourceKind.RDS_INSTANCE if resource.instance_type and resource.engine:
            return DatabaseSize(region, resource.engine, resource.instance_type, resource.multi_az)
        case ResourceKind.EC2_INSTANCE if resource.instance_type:
            return InstanceSize(region, resource.instance_type)
        case ResourceKind.ECS_SERVICE:
            task = task_sizes.get(resource.task_definition or "")
            running = decision.capacity_to_restore or resource.capacity
            if task is None or running is None:
                return None
            return FargateSize(region, task.vcpu, task.gib, running.desired, task.architecture)
    return None


def _unsized(decision: Decision) -> HourlyPrice:
    reasons = {
        ResourceKind.AURORA_CLUSTER: "Aurora clusters are not priced (their instances' "
        "classes are not described by the scheduler)",
        ResourceKind.ASG: "Auto Scaling groups are not priced (their instance types are in "
        "launch templates the scheduler does not read)",
        ResourceKind.ECS_SERVICE: "its task definition's size is not known",
    }
    return HourlyPrice(None, f"unpriced: {reasons.get(decision.kind, 'its size is not known')}")


def _region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""
