"""Carry out one start or stop decided by the core, per kind of resource.

- ECS service: RegisterScalableTarget min/max (if it has a target), then UpdateService
  desiredCount: zeros on a stop, exactly the parked values on a start;
- Auto Scaling group: UpdateAutoScalingGroup min/desired/max, zeros or the parked values;
- RDS instance: StopDBInstance / StartDBInstance;
- Aurora cluster: StopDBCluster / StartDBCluster;
- EC2 instance: StopInstances / StartInstances, one call for the instances of a batch
  (`apply_all`); when that call fails, each instance is switched on its own so that each gets
  its own outcome.

The scalable target is set first both ways: while its max is still above 0 the autoscaler would
undo a stop, and while its max is still 0 it would undo a start.

A failed call raises AwsError and nothing is put back here: the parked record (in state
STOPPING or STARTING) holds the capacity, and the next run finishes or undoes the switch from
it (docs/scheduler.md). A timeout or lost connection is an AwsError too (code: botocore's
exception name), since the call may or may not have taken effect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.adapters.scheduled_resources import ECS_DIMENSION, ecs_service_id
from nightshift.adapters.scheduler_clients import SchedulerClients
from nightshift.errors import AwsError
from nightshift.schedule import Capacity, ResourceKind, ScheduledResource
from nightshift.schedule.plan import Action, Decision

logger = Logger(child=True)

ASG_NAME_MARKER = "autoScalingGroupName/"


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "ecs:UpdateService",
        "application-autoscaling:RegisterScalableTarget",
        "rds:StopDBInstance",
        "rds:StartDBInstance",
        "rds:StopDBCluster",
        "rds:StartDBCluster",
        "ec2:StopInstances",
        "ec2:StartInstances",
        "autoscaling:UpdateAutoScalingGroup",
    }
)


class PowerSwitch:
    def __init__(self, clients: SchedulerClients) -> None:
        self._clients = clients
        self._switches: Mapping[
            tuple[ResourceKind, Action], Callable[[ScheduledResource, Capacity | None], None]
        ] = MappingProxyType(
            {
                (ResourceKind.ECS_SERVICE, Action.STOP): self._set_service,
                (ResourceKind.ECS_SERVICE, Action.START): self._set_service,
                (ResourceKind.ASG, Action.STOP): self._set_group,
                (ResourceKind.ASG, Action.START): self._set_group,
                (ResourceKind.RDS_INSTANCE, Action.STOP): self._stop_db_instance,
                (ResourceKind.RDS_INSTANCE, Action.START): self._start_db_instance,
                (ResourceKind.AURORA_CLUSTER, Action.STOP): self._stop_db_cluster,
                (ResourceKind.AURORA_CLUSTER, Action.START): self._start_db_cluster,
                (ResourceKind.EC2_INSTANCE, Action.STOP): self._stop_instance,
                (ResourceKind.EC2_INSTANCE, Action.START): self._start_instance,
            }
        )

    def apply_all(self, decisions: Sequence[Decision]) -> dict[str, AwsError]:
        """Start or stop each decision's resource, in order, the EC2 instances of one action in
        one call (where the first of them comes); returns the error of each ARN AWS refused."""
        failures: dict[str, AwsError] = {}
        instances: dict[Action, list[Decision]] = {}
        for decision in decisions:
            if decision.kind is ResourceKind.EC2_INSTANCE:
                instances.setdefault(decision.action, []).append(decision)
        for decision in decisions:
            if decision.kind is not ResourceKind.EC2_INSTANCE:
                failures.update(self._apply_each([decision]))
            elif group := instances.pop(decision.action, []):  # empty: switched with the first
                switch = self._switch_instances if len(group) > 1 else self._apply_each
                failures.update(switch(group))
        return failures

    def _apply_each(self, decisions: Sequence[Decision]) -> dict[str, AwsError]:
        """`apply` each decision in turn; returns the error of each ARN AWS refused."""
        failures: dict[str, AwsError] = {}
        for decision in decisions:
            try:
                self.apply(decision)
            except AwsError as exc:
                failures[decision.arn] = exc
        return failures

    def _switch_instances(self, decisions: Sequence[Decision]) -> dict[str, AwsError]:
        """One StopInstances or StartInstances for all of `decisions` (EC2, one action); if it
        fails, or leaves an instance out, those are switched one by one."""
        ids = [decision.resource.name for decision in decisions]
        try:
            if decisions[0].action is Action.STOP:
                changes = self._clients.ec2.stop_instances(InstanceIds=ids)["StoppingInstances"]
            else:
                changes = self._clients.ec2.start_instances(InstanceIds=ids)["StartingInstances"]
            switched = {change.get("InstanceId") for change in changes}
        except (ClientError, BotoCoreError) as exc:
            logger.warning("instances not switched together; one by one", error=str(exc))
            switched = set()
        for decision in decisions:
            if decision.resource.name in switched:
                _log_switched(decision)
        return self._apply_each([d for d in decisions if d.resource.name not in switched])

    def apply(self, decision: Decision) -> None:
        """Start or stop the decision's resource; raises AwsError when AWS refuses."""
        switch = self._switches.get((decision.kind, decision.action))
        if switch is None:
            raise ValueError(f"no {decision.action} for {decision.kind} {decision.arn}")
        switch(decision.resource, decision.target_capacity)
        _log_switched(decision)

    # -- capacity kinds -------------------------------------------------------------------------

    def _set_service(self, resource: ScheduledResource, capacity: Capacity | None) -> None:
        target = _required(resource, capacity)
        cluster, service = ecs_service_id(resource.arn)
        resource_id = f"service/{cluster}/{service}"
        if target.minimum is not None and target.maximum is not None:
            self._register_target(resource_id, target.minimum, target.maximum)
        _call(
            "UpdateService",
            self._clients.ecs.update_service,
            cluster=cluster,
            service=service,
            desiredCount=target.desired,
        )

    def _register_target(self, resource_id: str, minimum: int | None, maximum: int | None) -> None:
        _call(
            "RegisterScalableTarget",
            self._clients.application_autoscaling.register_scalable_target,
            ServiceNamespace="ecs",
            ResourceId=resource_id,
            ScalableDimension=ECS_DIMENSION,
            MinCapacity=minimum,
            MaxCapacity=maximum,
        )

    def _set_group(self, resource: ScheduledResource, capacity: Capacity | None) -> None:
        target = _required(resource, capacity)
        _call(
            "UpdateAutoScalingGroup",
            self._clients.autoscaling.update_auto_scaling_group,
            AutoScalingGroupName=resource.arn.split(ASG_NAME_MARKER, 1)[-1],
            MinSize=target.minimum,
            DesiredCapacity=target.desired,
            MaxSize=target.maximum,
        )

    # -- power kinds ----------------------------------------------------------------------------

    def _stop_db_instance(self, resource: ScheduledResource, _: Capacity | None) -> None:
        _call(
            "StopDBInstance",
            self._clients.rds.stop_db_instance,
            DBInstanceIdentifier=resource.name,
        )

    def _start_db_instance(self, resource: ScheduledResource, _: Capacity | None) -> None:
        _call(
            "StartDBInstance",
            self._clients.rds.start_db_instance,
            DBInstanceIdentifier=resource.name,
        )

    def _stop_db_cluster(self, resource: ScheduledResource, _: Capacity | None) -> None:
        _call("StopDBCluster", self._clients.rds.stop_db_cluster, DBClusterIdentifier=resource.name)

    def _start_db_cluster(self, resource: ScheduledResource, _: Capacity | None) -> None:
        _call(
            "StartDBCluster", self._clients.rds.start_db_cluster, DBClusterIdentifier=resource.name
        )

    def _stop_instance(self, resource: ScheduledResource, _: Capacity | None) -> None:
        _call("StopInstances", self._clients.ec2.stop_instances, InstanceIds=[resource.name])

    def _start_instance(self, resource: ScheduledResource, _: Capacity | None) -> None:
        _call("StartInstances", self._clients.ec2.start_instances, InstanceIds=[resource.name])


def _log_switched(decision: Decision) -> None:
    logger.info(
        "resource switched",
        arn=decision.arn,
        action=decision.action.value,
        capacity=None if decision.target_capacity is None else str(decision.target_capacity),
    )


def _required(resource: ScheduledResource, capacity: Capacity | None) -> Capacity:
    if capacity is None:
        raise ValueError(f"{resource.kind} {resource.arn} needs a target capacity")
    return capacity


def _call(operation: str, method: Callable[..., object], **parameters: object) -> None:
    try:
        method(**parameters)
    except ClientError as exc:
        raise AwsError.from_client_error(operation, exc) from exc
    except BotoCoreError as exc:
        raise AwsError.from_botocore_error(operation, exc) from exc
