"""Core-stack resources in the local cloud's moto: made with tags, observed, removed.

The scheduler's integration test (and anyone trying the scheduler by hand) needs ECS services with
Application Auto Scaling targets, RDS instances, Aurora clusters, EC2 instances and Auto Scaling
groups, tagged the way teams opt in, in the same moto server the stack is deployed in. `Fleet`
makes them, remembers what it made, reads each one's state and capacity back as AWS describes it,
and removes it all again (databases without final snapshots, so nothing is left for the pruner).

    fleet = Fleet(stack.endpoint)
    fleet.ecs_service("todoapp", "api", desired=3, target=(2, 10), tags=OFFICE_HOURS)
    fleet.rds_instance("todoapp-db", tags=OFFICE_HOURS)
    before = fleet.observe()
    ...  # fire the scheduler's schedule
    assert fleet.observe() == before
    fleet.remove()

Kinds are named as the reports name them: `ecs-service`, `rds-instance`, `aurora-cluster`,
`ec2-instance`, `autoscaling-group`. Members are known by the name they were made with (for an
ECS service its service name, for an EC2 instance its `Name` tag, or its instance id when it was
launched with others by `ec2_instances`), which must be unique.

It is the one seeder of core-stack resources: the local cloud's tests and demo pass the moto
server's `Endpoint`, the functional tests `SessionClients` (boto3's default session, which
moto's `mock_aws` serves in-process), the bench its host's own endpoint (bench/fleets.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import boto3

from localcloud.errors import LocalCloudError

# Values moto accepts and AWS would too; the fleet's own, never read by Nightshift.
_IMAGE_ID = "ami-12c6146b"
_CIDR = "10.42.0.0/16"
_SUBNET_CIDR = "10.42.0.0/20"
_DB_USER = "todoapp"
_DB_PASSWORD = "correct-horse-battery"  # a moto database, never a real one
_ECS_DIMENSION = "ecs:service:DesiredCount"

ECS_SERVICE = "ecs-service"
RDS_INSTANCE = "rds-instance"
AURORA_CLUSTER = "aurora-cluster"
EC2_INSTANCE = "ec2-instance"
AUTOSCALING_GROUP = "autoscaling-group"


class Clients(Protocol):
    """Where the fleet is made: boto3 clients of one account and region (a `server.Endpoint`)."""

    @property
    def region(self) -> str: ...

    def client(self, service: str) -> Any: ...


@dataclass(frozen=True)
class SessionClients:
    """Clients of boto3's default session in `region`: moto's `mock_aws` in this process."""

    region: str

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Capacity:
    """How many tasks or instances: ECS `desiredCount` and its scalable target's min/max
    (`None` without a target), or an Auto Scaling group's min, desired and max."""

    desired: int | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Observed:
    """One member as AWS describes it now.

    `status` is AWS's own word: ECS `ACTIVE`, RDS/Aurora `available`/`stopped`, EC2
    `running`/`stopped`; an Auto Scaling group has none ("") unless it is being deleted.
    `capacity` is set for ECS services and Auto Scaling groups only.
    """

    kind: str
    arn: str
    status: str
    capacity: Capacity | None = None


@dataclass(frozen=True)
class Member:
    """A resource the fleet made: what it is, its ARN, and the identifiers to describe it by."""

    name: str
    kind: str
    arn: str
    identifier: str
    cluster: str = ""  # the ECS cluster of a service, the Aurora cluster of a member instance


@dataclass
class Fleet:
    """Tagged core-stack resources in the account `endpoint` reaches, made on request."""

    endpoint: Clients
    members: dict[str, Member] = field(default_factory=dict)
    aurora_members: dict[str, Member] = field(default_factory=dict)
    _ecs_clusters: list[str] = field(default_factory=list, init=False, repr=False)
    _task_definitions: list[str] = field(default_factory=list, init=False, repr=False)
    _network: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    # ----------------------------------------------------------------------------- make
    def ecs_service(
        self,
        cluster: str,
        name: str,
        desired: int,
        target: tuple[int, int] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """A Fargate service of `desired` tasks in `cluster` (made on first use), with an
        Application Auto Scaling target of (min, max) if given. Returns the service's ARN."""
        self._unique(name)
        self.ecs_cluster(cluster)
        service = self._client("ecs").create_service(
            cluster=cluster,
            serviceName=name,
            taskDefinition=cluster,
            desiredCount=desired,
            launchType="FARGATE",
            tags=[{"key": k, "value": v} for k, v in (tags or {}).items()],
        )["service"]
        if target is not None:
            self._client("application-autoscaling").register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId=_ecs_resource_id(cluster, name),
                ScalableDimension=_ECS_DIMENSION,
                MinCapacity=target[0],
                MaxCapacity=target[1],
                # AWS always answers SuspendedState (Cloud Custodian reads it); moto only if set.
                SuspendedState={
                    "DynamicScalingInSuspended": False,
                    "DynamicScalingOutSuspended": False,
                    "ScheduledScalingSuspended": False,
                },
            )
        return self._add(Member(name, ECS_SERVICE, service["serviceArn"], name, cluster))

    def rds_instance(self, name: str, tags: Mapping[str, str] | None = None) -> str:
        """An RDS PostgreSQL instance. Returns its ARN."""
        self._unique(name)
        database = self._client("rds").create_db_instance(
            DBInstanceIdentifier=name,
            Engine="postgres",
            DBInstanceClass="db.t4g.micro",
            AllocatedStorage=20,
            MasterUsername=_DB_USER,
            MasterUserPassword=_DB_PASSWORD,
            Tags=_tag_list(tags),
        )["DBInstance"]
        return self._add(Member(name, RDS_INSTANCE, database["DBInstanceArn"], name))

    def aurora_cluster(
        self, name: str, members: int = 1, tags: Mapping[str, str] | None = None
    ) -> str:
        """An Aurora PostgreSQL cluster with `members` instances `<name>-1`, ... carrying the
        same tags (as they do when the console or CloudFormation copies them). Returns the
        cluster's ARN; the members are in `aurora_members`."""
        self._unique(name)
        rds = self._client("rds")
        cluster = rds.create_db_cluster(
            DBClusterIdentifier=name,
            Engine="aurora-postgresql",
            MasterUsername=_DB_USER,
            MasterUserPassword=_DB_PASSWORD,
            Tags=_tag_list(tags),
        )["DBCluster"]
        arn = self._add(Member(name, AURORA_CLUSTER, cluster["DBClusterArn"], name))
        for index in range(1, members + 1):
            member = f"{name}-{index}"
            self._unique(member)
            instance = rds.create_db_instance(
                DBInstanceIdentifier=member,
                Engine="aurora-postgresql",
                DBInstanceClass="db.t4g.medium",
                DBClusterIdentifier=name,
                Tags=_tag_list(tags),
            )["DBInstance"]
            self.aurora_members[member] = Member(
                member, RDS_INSTANCE, instance["DBInstanceArn"], member, name
            )
        return arn

    def ec2_instance(self, name: str, tags: Mapping[str, str] | None = None) -> str:
        """A running EC2 instance with the tag Name=`name`. Returns its ARN."""
        self._unique(name)
        reservation = self._client("ec2").run_instances(
            ImageId=_IMAGE_ID,
            InstanceType="t4g.nano",
            MinCount=1,
            MaxCount=1,
            SubnetId=self._subnet,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": _tag_list({"Name": name, **(tags or {})})}
            ],
        )
        instance_id = reservation["Instances"][0]["InstanceId"]
        arn = f"arn:aws:ec2:{self.endpoint.region}:{reservation['OwnerId']}:instance/{instance_id}"
        return self._add(Member(name, EC2_INSTANCE, arn, instance_id))

    def ec2_instances(self, count: int, tags: Mapping[str, str] | None = None) -> list[str]:
        """`count` running EC2 instances launched together (one RunInstances call) and without
        a Name tag, as a fleet launched at once is; each is a member known by its instance id.
        Returns their ARNs."""
        specifications = [{"ResourceType": "instance", "Tags": _tag_list(tags)}] if tags else []
        reservation = self._client("ec2").run_instances(
            ImageId=_IMAGE_ID,
            InstanceType="t4g.nano",
            MinCount=count,
            MaxCount=count,
            SubnetId=self._subnet,
            TagSpecifications=specifications,
        )
        prefix = f"arn:aws:ec2:{self.endpoint.region}:{reservation['OwnerId']}:instance"
        return [
            self._add(
                Member(
                    i["InstanceId"], EC2_INSTANCE, f"{prefix}/{i['InstanceId']}", i["InstanceId"]
                )
            )
            for i in reservation["Instances"]
        ]

    def auto_scaling_group(
        self,
        name: str,
        minimum: int,
        desired: int,
        maximum: int,
        tags: Mapping[str, str] | None = None,
        propagate: bool = True,
    ) -> str:
        """An Auto Scaling group; with `propagate` its instances inherit the tags (so they are
        tagged with the schedule too, as they usually are). Returns the group's ARN."""
        self._unique(name)
        autoscaling = self._client("autoscaling")
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": self._launch_template, "Version": "$Latest"},
            MinSize=minimum,
            DesiredCapacity=desired,
            MaxSize=maximum,
            VPCZoneIdentifier=self._subnet,
            Tags=[
                {
                    "ResourceId": name,
                    "ResourceType": "auto-scaling-group",
                    "Key": k,
                    "Value": v,
                    "PropagateAtLaunch": propagate,
                }
                for k, v in (tags or {}).items()
            ],
        )
        group = self._group(name)
        return self._add(Member(name, AUTOSCALING_GROUP, group["AutoScalingGroupARN"], name))

    # -------------------------------------------------------------------------- observe
    def arn(self, name: str) -> str:
        return self._member(name).arn

    def observe(self) -> dict[str, Observed]:
        """Every member's state and capacity now, by name (Aurora member instances included)."""
        everything = {**self.members, **self.aurora_members}
        return {name: self._observe(member) for name, member in everything.items()}

    def group_instances(self, name: str) -> tuple[str, ...]:
        """The ids of the instances the Auto Scaling group `name` holds now."""
        return tuple(
            i["InstanceId"] for i in self._group(self._member(name).identifier)["Instances"]
        )

    def _observe(self, member: Member) -> Observed:
        observe = {
            ECS_SERVICE: self._observe_service,
            RDS_INSTANCE: self._observe_db_instance,
            AURORA_CLUSTER: self._observe_db_cluster,
            EC2_INSTANCE: self._observe_instance,
            AUTOSCALING_GROUP: self._observe_group,
        }[member.kind]
        return observe(member)

    def _observe_service(self, member: Member) -> Observed:
        service = self._client("ecs").describe_services(
            cluster=member.cluster, services=[member.identifier]
        )["services"][0]
        targets = self._client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="ecs",
            ResourceIds=[_ecs_resource_id(member.cluster, member.identifier)],
            ScalableDimension=_ECS_DIMENSION,
        )["ScalableTargets"]
        minimum, maximum = (
            (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) if targets else (None, None)
        )
        capacity = Capacity(service["desiredCount"], minimum, maximum)
        return Observed(member.kind, member.arn, service["status"], capacity)

    def _observe_db_instance(self, member: Member) -> Observed:
        database = self._client("rds").describe_db_instances(
            DBInstanceIdentifier=member.identifier
        )["DBInstances"][0]
        return Observed(member.kind, member.arn, database["DBInstanceStatus"])

    def _observe_db_cluster(self, member: Member) -> Observed:
        cluster = self._client("rds").describe_db_clusters(DBClusterIdentifier=member.identifier)[
            "DBClusters"
        ][0]
        return Observed(member.kind, member.arn, cluster["Status"])

    def _observe_instance(self, member: Member) -> Observed:
        reservations = self._client("ec2").describe_instances(InstanceIds=[member.identifier])
        state = reservations["Reservations"][0]["Instances"][0]["State"]["Name"]
        return Observed(member.kind, member.arn, state)

    def _observe_group(self, member: Member) -> Observed:
        group = self._group(member.identifier)
        capacity = Capacity(group["DesiredCapacity"], group["MinSize"], group["MaxSize"])
        return Observed(member.kind, member.arn, group.get("Status", ""), capacity)

    # --------------------------------------------------------------------------- remove
    def remove(self) -> None:
        """Delete everything the fleet made, newest first, then its clusters and network."""
        remove = {
            ECS_SERVICE: self._remove_service,
            RDS_INSTANCE: self._remove_db_instance,
            AURORA_CLUSTER: self._remove_db_cluster,
            EC2_INSTANCE: self._remove_instance,
            AUTOSCALING_GROUP: self._remove_group,
        }
        for member in reversed(list(self.members.values())):
            remove[member.kind](member)
        self.members.clear()
        self.aurora_members.clear()
        ecs = self._client("ecs")
        for cluster in self._ecs_clusters:
            ecs.delete_cluster(cluster=cluster)
        for task_definition in self._task_definitions:
            ecs.deregister_task_definition(taskDefinition=task_definition)
        self._ecs_clusters.clear()
        self._task_definitions.clear()
        self._remove_network()

    def _remove_service(self, member: Member) -> None:
        aas = self._client("application-autoscaling")
        resource_id = _ecs_resource_id(member.cluster, member.identifier)
        if aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])[
            "ScalableTargets"
        ]:
            aas.deregister_scalable_target(
                ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=_ECS_DIMENSION
            )
        self._client("ecs").delete_service(
            cluster=member.cluster, service=member.identifier, force=True
        )

    def _remove_db_instance(self, member: Member) -> None:
        self._client("rds").delete_db_instance(
            DBInstanceIdentifier=member.identifier,
            SkipFinalSnapshot=True,
            DeleteAutomatedBackups=True,
        )

    def _remove_db_cluster(self, member: Member) -> None:
        for instance in [m for m in self.aurora_members.values() if m.cluster == member.name]:
            self._remove_db_instance(instance)
        self._client("rds").delete_db_cluster(
            DBClusterIdentifier=member.identifier, SkipFinalSnapshot=True
        )

    def _remove_instance(self, member: Member) -> None:
        self._client("ec2").terminate_instances(InstanceIds=[member.identifier])

    def _remove_group(self, member: Member) -> None:
        self._client("autoscaling").delete_auto_scaling_group(
            AutoScalingGroupName=member.identifier, ForceDelete=True
        )

    def _remove_network(self) -> None:
        network, self._network = self._network, {}
        for cached in ("_subnet", "_launch_template"):
            self.__dict__.pop(cached, None)
        ec2 = self._client("ec2")
        if "launch_template" in network:
            ec2.delete_launch_template(LaunchTemplateName=network["launch_template"])
        if "subnet" in network:
            ec2.delete_subnet(SubnetId=network["subnet"])
        if "vpc" in network:
            ec2.delete_vpc(VpcId=network["vpc"])

    # ------------------------------------------------------------------------- plumbing
    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.endpoint.client(service)
        return self._clients[service]

    def _add(self, member: Member) -> str:
        self.members[member.name] = member
        return member.arn

    def _unique(self, name: str) -> None:
        if name in self.members or name in self.aurora_members:
            raise LocalCloudError(f"the fleet already has a member named {name!r}")

    def _member(self, name: str) -> Member:
        found = self.members.get(name) or self.aurora_members.get(name)
        if found is None:
            known = ", ".join(sorted({**self.members, **self.aurora_members})) or "none"
            raise LocalCloudError(f"the fleet has no member {name!r}; it has: {known}")
        return found

    def _group(self, name: str) -> dict[str, Any]:
        groups = self._client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[name]
        )["AutoScalingGroups"]
        if not groups:
            raise LocalCloudError(f"no Auto Scaling group {name!r} in the local cloud")
        return dict(groups[0])

    def ecs_cluster(self, cluster: str) -> None:
        """The ECS cluster `cluster` and its Fargate task definition (`ecs_service` makes them
        on first use; this makes an empty one)."""
        if cluster in self._ecs_clusters:
            return
        ecs = self._client("ecs")
        # CreateCluster returns an existing cluster as if it made it; the fleet removes only what
        # it made, so it never adopts someone else's.
        existing = ecs.describe_clusters(clusters=[cluster])["clusters"]
        if any(found["status"] == "ACTIVE" for found in existing):
            raise LocalCloudError(f"ECS cluster {cluster!r} exists already; give the fleet its own")
        ecs.create_cluster(clusterName=cluster)
        task_definition = ecs.register_task_definition(
            family=cluster,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "app", "image": f"{cluster}:latest", "essential": True}],
        )["taskDefinition"]
        self._ecs_clusters.append(cluster)
        self._task_definitions.append(task_definition["taskDefinitionArn"])

    @cached_property
    def _subnet(self) -> str:
        ec2 = self._client("ec2")
        vpc = ec2.create_vpc(CidrBlock=_CIDR)["Vpc"]["VpcId"]
        self._network["vpc"] = vpc
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock=_SUBNET_CIDR, AvailabilityZone=f"{self.endpoint.region}a"
        )["Subnet"]["SubnetId"]
        self._network["subnet"] = subnet
        return str(subnet)

    @cached_property
    def _launch_template(self) -> str:
        name = f"fleet-{self._subnet}"
        self._client("ec2").create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData={"ImageId": _IMAGE_ID, "InstanceType": "t4g.small"},
        )
        self._network["launch_template"] = name
        return name


def _ecs_resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


def _tag_list(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in (tags or {}).items()]
