"""The scheduler's hub and spoke wiring: the policy's targets expanded (an OU's accounts listed),
and for each target a `Scheduler` on that target's own clients (its spoke role's session), with
the hub's parking store seen from that target. Used by the handler and `plan-schedule`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nightshift.adapters.parking import ParkedSnapshot, ParkingStore, TargetParkingStore
from nightshift.adapters.power import PowerSwitch
from nightshift.adapters.scheduled_resources import ScheduledResources
from nightshift.adapters.scheduler_clients import SchedulerClients
from nightshift.adapters.target_queue import FanOutLedger, TargetQueue
from nightshift.adapters.target_sessions import (
    OrganizationAccounts,
    TargetSessions,
    function_expansion,
)
from nightshift.adapters.task_sizes import TaskDefinitionSizes
from nightshift.errors import EventError
from nightshift.fanout import Expansion, WorkItem, spoke_role_name
from nightshift.fanout.queue import TargetMessage
from nightshift.report import Report
from nightshift.schedule.queued import QueuedRun
from nightshift.schedule.report import FUNCTION as REPORTED_FUNCTION
from nightshift.schedule.service import Scheduler
from nightshift.schedule.settings import DEFAULT_RATE, SchedulerConfig
from nightshift.schedule.targets import TargetedScheduler

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

    from nightshift.policy import Policy, Targets
    from nightshift.schedule import ParkedRecord
    from nightshift.settings import CommonSettings

# The IAM actions this module needs: none of its own (the adapters it uses declare theirs).
IAM_ACTIONS = frozenset[str]()

FUNCTION = "scheduler"
# The services whose resources the scheduler parks: ECS services, RDS instances and Aurora
# clusters, EC2 instances, Auto Scaling groups (the first part of their ARNs).
PARKING_SERVICES = ("ecs", "rds", "ec2", "autoscaling")


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


def target_scheduler(
    config: SchedulerConfig, aws: SchedulerClients, parking: TargetParkingStore
) -> Scheduler:
    """The single-target Scheduler on a target's clients (its spoke role's) with its view of
    the hub's parked records: the same in one invocation and for a queued message."""
    return Scheduler(
        config.policy,
        config.protect,
        ScheduledResources(aws),
        parking,
        PowerSwitch(aws),
        TaskDefinitionSizes(aws.ecs),
    )


def targeted_scheduler(
    loaded: Policy,
    settings: CommonSettings,
    hub: SchedulerClients,
    function_arn: str,
    rate: dt.timedelta = DEFAULT_RATE,
    queue: QueueWiring | None = None,
) -> TargetedScheduler:
    """A run across the policy's targets; `function_arn` (the Lambda context's) names the hub's
    account and Region; `rate`, how often runs come; `queue`, the function's own target queue
    (the SQS engine: used when the policy's `targets.queue_above` says so). Built per run: the
    spoke roles' credentials are cached for the run."""
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
        return target_scheduler(config, aws, parking)

    queued = (
        None
        if queue is None
        else QueuedRun(
            ParkingStore(settings.state_table, hub.dynamodb),
            TargetQueue(queue.url, queue.sqs),
            FanOutLedger(settings.state_table, FUNCTION, hub.dynamodb),
            queue.publish,
        )
    )
    return TargetedScheduler(
        expansion.items,
        scheduler_for,
        targets.max_concurrency,
        expansion.excluded,
        rate,
        targets.queue_above,
        queued,
    )


@dataclass(frozen=True)
class QueueWiring:
    """The function's target queue (its URL, an SQS client) and how the run's report is
    published."""

    url: str
    sqs: SQSClient
    publish: Callable[[Report], object]


class QueuedParkingStore(TargetParkingStore):
    """One queued target's view of the hub's parking store: its parked records, and the last
    run as the scheduled invocation read it (carried in the message), never read or stored
    here: every target of the run decides from the same last run, as in one invocation."""

    def __init__(
        self,
        table: str,
        item: WorkItem,
        last_run: dt.datetime | None,
        client: DynamoDBClient,
    ) -> None:
        super().__init__(table, item.account, item.region, client)
        self._last_run = last_run

        partition = (item.role_arn or "arn:aws:").split(":")[1]
        # The target's own records only, read by ARN prefix (one Query per service that parks):
        # a queued target does not read the records of every other target of the organization.
        self._prefixes = tuple(
            f"arn:{partition}:{service}:{item.region}:{item.account}:"
            for service in PARKING_SERVICES
        )

    def parked(self) -> dict[str, ParkedRecord]:
        return self.parked_under(self._prefixes)

    def last_record(self) -> tuple[dt.datetime | None, str | None]:
        return self._last_run, None

    def record_run(self, scheduled_time: dt.datetime, refusals: str = "") -> bool:
        return True  # the scheduled invocation stored the run's time when it queued it


def checked_message(message: TargetMessage, environment: str, partition: str = "aws") -> None:
    """Refuse a message that is not one this function's run would send: another function's,
    a production target, or a role other than the account's scheduler spoke role."""
    role = f"arn:{partition}:iam::{message.item.account}:role/" + spoke_role_name(
        FUNCTION, environment
    )
    if message.function != REPORTED_FUNCTION:
        raise EventError(f"a queued target of {message.function!r}, not of the scheduler")
    if message.item.production:
        raise EventError(f"{message.item.label}: production: the scheduler never acts there")
    if message.item.role_arn != role:
        raise EventError(f"{message.item.label}: role {message.item.role_arn!r} is not {role}")


def queued_scheduler(
    loaded: Policy, settings: CommonSettings, hub: SchedulerClients
) -> Callable[[TargetMessage], Scheduler]:
    """A Scheduler for one queued target, on its spoke role's clients (the SQS engine)."""
    config = SchedulerConfig.from_policy(loaded)
    sessions = TargetSessions(session_name=f"nightshift-{FUNCTION}-{settings.environment}")

    def scheduler_for(message: TargetMessage) -> Scheduler:
        aws = SchedulerClients.create(sessions.session(message.item))
        parking = QueuedParkingStore(
            settings.state_table, message.item, message.last_run, hub.dynamodb
        )
        return target_scheduler(config, aws, parking)

    return scheduler_for
