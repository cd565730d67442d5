"""The scheduler's hub and spoke wiring: the policy's targets expanded (an OU's accounts listed),
and for each target a `Scheduler` on that target's own clients (its spoke role's session), with
the hub's parking store seen from that target. Used by the handler and `plan-schedule`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from nightshift.adapters.parking import ParkedSnapshot, ParkingStore, TargetParkingStore
from nightshift.adapters.power import PowerSwitch
from nightshift.adapters.scheduled_resources import ScheduledResources
from nightshift.adapters.scheduler_clients import SchedulerClients
from nightshift.adapters.target_sessions import (
    OrganizationAccounts,
    TargetSessions,
    function_expansion,
)
from nightshift.adapters.task_sizes import TaskDefinitionSizes
from nightshift.fanout import Expansion, WorkItem
from nightshift.schedule.service import Scheduler
from nightshift.schedule.settings import DEFAULT_RATE, SchedulerConfig
from nightshift.schedule.targets import TargetedScheduler

if TYPE_CHECKING:
    from nightshift.policy import Policy, Targets
    from nightshift.settings import CommonSettings

# The IAM actions this module needs: none of its own (the adapters it uses declare theirs).
IAM_ACTIONS = frozenset[str]()

FUNCTION = "scheduler"


def scheduler_expansion(
    targets: Targets,
    *,
    hub_account: str,
    hub_region: str,
    environment: str,
    organizations: OrganizationAccounts | None = None,
) -> Expansion:
    """The run's work items; an OU that cannot be listed is left out, and said so."""
    return function_expansion(
        FUNCTION,
        targets,
        hub_account=hub_account,
        hub_region=hub_region,
        environment=environment,
        organizations=organizations,
    )


def targeted_scheduler(
    loaded: Policy,
    settings: CommonSettings,
    hub: SchedulerClients,
    function_arn: str,
    rate: dt.timedelta = DEFAULT_RATE,
) -> TargetedScheduler:
    """A run across the policy's targets; `function_arn` (the Lambda context's) names the hub's
    account and Region; `rate`, how often runs come. Built per run: the spoke roles'
    credentials are cached for the run."""
    targets = loaded.targets
    assert targets is not None, "targeted_scheduler is for a policy with targets"
    config = SchedulerConfig.from_policy(loaded)
    region, account = function_arn.split(":")[3:5]
    expansion = scheduler_expansion(
        targets, hub_account=account, hub_region=region, environment=settings.environment
    )
    sessions = TargetSessions(session_name=f"nightshift-{FUNCTION}-{settings.environment}")
    # The parked records are read once for the run (one paginated Query), not once a target.
    snapshot = ParkedSnapshot(ParkingStore(settings.state_table, hub.dynamodb))

    def scheduler_for(item: WorkItem) -> Scheduler:
        aws = SchedulerClients.create(sessions.session(item))
        parking = TargetParkingStore(
            settings.state_table, item.account, item.region, hub.dynamodb, snapshot
        )
        return Scheduler(
            config.policy,
            config.protect,
            ScheduledResources(aws),
            parking,
            PowerSwitch(aws),
            TaskDefinitionSizes(aws.ecs),
        )

    return TargetedScheduler(
        expansion.items, scheduler_for, targets.max_concurrency, expansion.excluded, rate
    )
