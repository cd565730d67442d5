"""Find every resource that opted into a schedule, as the core's ScheduledResource, in two
phases (docs/scheduler.md, "Discovery and its cost").

`sweep`, what every run reads:
1. one paginated Resource Groups Tagging API sweep (GetResources, up to 100 resources and 500
   tags a page) for ECS services, RDS instances, Aurora clusters and EC2 instances tagged
   `nightshift:schedule`: ARNs and tags, the resources not yet described;
2. one paginated DescribeAutoScalingGroups filtered on that tag key, because the Tagging API
   does not return Auto Scaling groups (GetResources "isn't supported at this time and returns
   an empty response" for them, AWS's list of supported services says); those come described.

`describe`, only for the resources the core names (`nightshift.schedule.plan.plan_describes`):
batched describes for state and capacity: DescribeServices (10 services a call, per cluster),
DescribeScalableTargets (50 of those ECS services a call), DescribeDBInstances and
DescribeDBClusters (100 ARNs a filter), DescribeInstances (200 ids a filter). No per-resource
tag calls: the describes return the tags too, and those are used (they are fresher than the
Tagging API's eventually consistent copy). `find` is both phases for every resource (the
plan-schedule command).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from nightshift.adapters.scheduler_clients import SchedulerClients
from nightshift.errors import AwsError
from nightshift.schedule import SCHEDULE_TAG, Capacity, ResourceKind, ScheduledResource

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling.literals import ScalableDimensionType
    from mypy_boto3_ecs.type_defs import ServiceTypeDef

logger = Logger(child=True)

# (service, resource type) in an ARN -> kind; the keys are also the sweep's type filters.
SWEPT_KINDS: Mapping[str, ResourceKind] = {
    "ecs:service": ResourceKind.ECS_SERVICE,
    "rds:db": ResourceKind.RDS_INSTANCE,
    "rds:cluster": ResourceKind.AURORA_CLUSTER,
    "ec2:instance": ResourceKind.EC2_INSTANCE,
}
TAGGING_PAGE_SIZE = 100  # ResourcesPerPage: the API's maximum
# TagsPerPage: the API's maximum. moto caps a page at 100 tags when it is not given, which made a
# page of resources with 2 tags 49 resources; AWS documents no default.
TAGGING_TAGS_PER_PAGE = 500
SERVICES_PER_DESCRIBE = 10  # DescribeServices' limit
TARGETS_PER_DESCRIBE = 50  # DescribeScalableTargets' ResourceIds limit
RDS_IDS_PER_FILTER = 100
EC2_IDS_PER_FILTER = 200
ASG_PAGE_SIZE = 100  # DescribeAutoScalingGroups' maximum
ECS_DIMENSION: ScalableDimensionType = "ecs:service:DesiredCount"
GONE_STATUSES = frozenset({"INACTIVE", "terminated"})  # deleted; the sweep can lag behind


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "tag:GetResources",
        "ecs:DescribeServices",
        "application-autoscaling:DescribeScalableTargets",
        "autoscaling:DescribeAutoScalingGroups",
        "ec2:DescribeInstances",
        "rds:DescribeDBInstances",
        "rds:DescribeDBClusters",
    }
)


def resource_type(arn: str) -> str:
    """`service:type` of an ARN, as the Tagging API's ResourceTypeFilters name it.

    >>> resource_type("arn:aws:ecs:eu-central-1:111122223333:service/app/api")
    'ecs:service'
    >>> resource_type("arn:aws:rds:eu-central-1:111122223333:cluster:app-aurora")
    'rds:cluster'
    """
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return ""
    service, rest = parts[2], parts[5]
    # The resource type ends at the first '/' (ecs, ec2) or ':' (rds).
    return f"{service}:{re.split('[/:]', rest, maxsplit=1)[0]}"


def ecs_service_id(arn: str) -> tuple[str, str]:
    """(cluster, service) from an ECS service ARN in the long format.

    >>> ecs_service_id("arn:aws:ecs:eu-central-1:111122223333:service/app/api")
    ('app', 'api')
    """
    path = arn.split(":", 5)[5].split("/")
    if len(path) != 3:
        raise ValueError(f"{arn} is not a service ARN in the long format service/cluster/name")
    return path[1], path[2]


def chunks[T](items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ScheduledResources:
    """The scheduler's view of the account: every resource tagged `nightshift:schedule`."""

    def __init__(self, clients: SchedulerClients) -> None:
        self._clients = clients

    def find(self) -> tuple[ScheduledResource, ...]:
        """Every tagged resource, described (both phases, for every resource)."""
        swept = self.sweep()
        return (
            *(r for r in swept if r.described),
            *self.describe([r for r in swept if not r.described]),
        )

    def sweep(self) -> tuple[ScheduledResource, ...]:
        """Phase 1: the resources tagged `nightshift:schedule`, with their tags; described only
        the Auto Scaling groups, whose listing is their describe."""
        swept = [
            ScheduledResource.tagged(arn, kind, tags)
            for kind, found in self._sweep().items()
            for arn, tags in found.items()
        ]
        groups = [g for g in self._auto_scaling_groups() if g.status not in GONE_STATUSES]
        logger.info("tagged resources swept", swept=len(swept), groups=len(groups))
        return tuple(sorted([*swept, *groups], key=_arn))

    def describe(self, resources: Sequence[ScheduledResource]) -> tuple[ScheduledResource, ...]:
        """Phase 2: the state and capacity of `resources` (tags from the describe calls);
        those that are gone (ECS `INACTIVE`, EC2 `terminated`) are left out."""
        wanted: dict[ResourceKind, dict[str, dict[str, str]]] = {k: {} for k in ResourceKind}
        for resource in resources:
            wanted[resource.kind][resource.arn] = dict(resource.tags)
        found = [
            *self._ecs_services(wanted[ResourceKind.ECS_SERVICE]),
            *self._rds_instances(wanted[ResourceKind.RDS_INSTANCE]),
            *self._aurora_clusters(wanted[ResourceKind.AURORA_CLUSTER]),
            *self._ec2_instances(wanted[ResourceKind.EC2_INSTANCE]),
        ]
        kept = tuple(sorted((r for r in found if r.status not in GONE_STATUSES), key=_arn))
        logger.info("scheduled resources described", asked=len(resources), kept=len(kept))
        return kept

    # -- the sweep ------------------------------------------------------------------------

    def _sweep(self) -> dict[ResourceKind, dict[str, dict[str, str]]]:
        """ARN -> tags of each tagged resource, by kind."""
        swept: dict[ResourceKind, dict[str, dict[str, str]]] = {k: {} for k in ResourceKind}
        pages = self._clients.tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": SCHEDULE_TAG}],
            ResourceTypeFilters=list(SWEPT_KINDS),
            TagsPerPage=TAGGING_TAGS_PER_PAGE,
            PaginationConfig={"PageSize": TAGGING_PAGE_SIZE},
        )
        for mapping in _items(pages, "ResourceTagMappingList", "GetResources"):
            arn = mapping["ResourceARN"]
            kind = SWEPT_KINDS.get(resource_type(arn))
            if kind is None:
                logger.warning("unexpected resource type in the sweep", arn=arn)
                continue
            if kind is ResourceKind.ECS_SERVICE and not _long_service_arn(arn):
                logger.warning("ECS service ARN without its cluster; not scheduled", arn=arn)
                continue
            swept[kind][arn] = _tags(mapping.get("Tags", ()), "Key", "Value")
        return swept

    # -- ECS ------------------------------------------------------------------------------

    def _ecs_services(self, swept: Mapping[str, dict[str, str]]) -> list[ScheduledResource]:
        by_cluster: dict[str, list[str]] = defaultdict(list)
        for arn in sorted(swept):
            try:
                cluster, _ = ecs_service_id(arn)
            except ValueError:
                logger.warning("ECS service ARN without its cluster; not scheduled", arn=arn)
                continue
            by_cluster[cluster].append(arn)
        services: list[ServiceTypeDef] = []
        for cluster, arns in sorted(by_cluster.items()):
            for batch in chunks(arns, SERVICES_PER_DESCRIBE):
                try:
                    response = self._clients.ecs.describe_services(
                        cluster=cluster, services=list(batch), include=["TAGS"]
                    )
                except ClientError as exc:
                    raise AwsError.from_client_error("DescribeServices", exc) from exc
                services.extend(response["services"])
                for failure in response.get("failures", ()):
                    logger.info("ECS service not found", arn=failure.get("arn"))
        targets = self._scalable_targets(
            "service/{}/{}".format(*ecs_service_id(s["serviceArn"])) for s in services
        )
        resources = []
        for service in services:
            arn = service["serviceArn"]
            target = targets.get("service/{}/{}".format(*ecs_service_id(arn)))
            resources.append(
                ScheduledResource(
                    arn=arn,
                    kind=ResourceKind.ECS_SERVICE,
                    tags=_tags(service["tags"], "key", "value")
                    if "tags" in service
                    else swept.get(arn, {}),
                    status=service.get("status", ""),
                    task_definition=service.get("taskDefinition"),
                    capacity=Capacity(
                        desired=int(service.get("desiredCount", 0)),
                        minimum=None if target is None else target[0],
                        maximum=None if target is None else target[1],
                    ),
                )
            )
        return resources

    def _scalable_targets(self, resource_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """ECS resource id (`service/cluster/name`) -> (min, max) of its scalable target."""
        targets: dict[str, tuple[int, int]] = {}
        paginator = self._clients.application_autoscaling.get_paginator("describe_scalable_targets")
        for batch in chunks(sorted(set(resource_ids)), TARGETS_PER_DESCRIBE):
            pages = paginator.paginate(
                ServiceNamespace="ecs", ResourceIds=list(batch), ScalableDimension=ECS_DIMENSION
            )
            for target in _items(pages, "ScalableTargets", "DescribeScalableTargets"):
                targets[target["ResourceId"]] = (
                    int(target["MinCapacity"]),
                    int(target["MaxCapacity"]),
                )
        return targets

    # -- RDS ------------------------------------------------------------------------------

    def _rds_instances(self, swept: Mapping[str, dict[str, str]]) -> list[ScheduledResource]:
        paginator = self._clients.rds.get_paginator("describe_db_instances")
        resources = []
        for batch in chunks(sorted(swept), RDS_IDS_PER_FILTER):
            pages = paginator.paginate(Filters=[{"Name": "db-instance-id", "Values": list(batch)}])
            for db in _items(pages, "DBInstances", "DescribeDBInstances"):
                resources.append(
                    ScheduledResource(
                        arn=db["DBInstanceArn"],
                        kind=ResourceKind.RDS_INSTANCE,
                        tags=_tags(db.get("TagList", ()), "Key", "Value"),
                        status=db.get("DBInstanceStatus", ""),
                        instance_type=db.get("DBInstanceClass"),
                        engine=db.get("Engine"),
                        multi_az=bool(db.get("MultiAZ", False)),
                        cluster=db.get("DBClusterIdentifier"),
                        replica_of=db.get("ReadReplicaSourceDBInstanceIdentifier")
                        or db.get("ReadReplicaSourceDBClusterIdentifier"),
                        replicas=(
                            *db.get("ReadReplicaDBInstanceIdentifiers", ()),
                            *db.get("ReadReplicaDBClusterIdentifiers", ()),
                        ),
                    )
                )
        return resources

    def _aurora_clusters(self, swept: Mapping[str, dict[str, str]]) -> list[ScheduledResource]:
        paginator = self._clients.rds.get_paginator("describe_db_clusters")
        resources = []
        for batch in chunks(sorted(swept), RDS_IDS_PER_FILTER):
            pages = paginator.paginate(Filters=[{"Name": "db-cluster-id", "Values": list(batch)}])
            for cluster in _items(pages, "DBClusters", "DescribeDBClusters"):
                resources.append(
                    ScheduledResource(
                        arn=cluster["DBClusterArn"],
                        kind=ResourceKind.AURORA_CLUSTER,
                        tags=_tags(cluster.get("TagList", ()), "Key", "Value"),
                        status=cluster.get("Status", ""),
                        replica_of=cluster.get("ReplicationSourceIdentifier"),
                        replicas=tuple(cluster.get("ReadReplicaIdentifiers", ())),
                    )
                )
        return resources

    # -- EC2 and Auto Scaling ---------------------------------------------------------------

    def _ec2_instances(self, swept: Mapping[str, dict[str, str]]) -> list[ScheduledResource]:
        arn_by_id = {arn.rsplit("/", 1)[-1]: arn for arn in swept}
        paginator = self._clients.ec2.get_paginator("describe_instances")
        resources = []
        # A filter, not InstanceIds: an id that no longer exists must not fail the whole call.
        for batch in chunks(sorted(arn_by_id), EC2_IDS_PER_FILTER):
            pages = paginator.paginate(Filters=[{"Name": "instance-id", "Values": list(batch)}])
            for reservation in _items(pages, "Reservations", "DescribeInstances"):
                for instance in reservation["Instances"]:
                    resources.append(
                        ScheduledResource(
                            arn=arn_by_id[instance["InstanceId"]],
                            kind=ResourceKind.EC2_INSTANCE,
                            tags=_tags(instance.get("Tags", ()), "Key", "Value"),
                            status=instance.get("State", {}).get("Name", ""),
                            instance_type=instance.get("InstanceType"),
                        )
                    )
        return resources

    def _auto_scaling_groups(self) -> list[ScheduledResource]:
        pages = self._clients.autoscaling.get_paginator("describe_auto_scaling_groups").paginate(
            Filters=[{"Name": "tag-key", "Values": [SCHEDULE_TAG]}],
            PaginationConfig={"PageSize": ASG_PAGE_SIZE},
        )
        return [
            ScheduledResource(
                arn=group["AutoScalingGroupARN"],
                kind=ResourceKind.ASG,
                tags=_tags(group.get("Tags", ()), "Key", "Value"),
                status=group.get("Status", ""),
                capacity=Capacity(
                    desired=int(group["DesiredCapacity"]),
                    minimum=int(group["MinSize"]),
                    maximum=int(group["MaxSize"]),
                ),
            )
            for group in _items(pages, "AutoScalingGroups", "DescribeAutoScalingGroups")
        ]


def _items(pages: Iterable[Mapping[str, Any]], key: str, operation: str) -> Iterator[Any]:
    try:
        for page in pages:
            yield from page.get(key, ())
    except ClientError as exc:
        raise AwsError.from_client_error(operation, exc) from exc


def _tags(tags: Iterable[Mapping[str, Any]], key: str, value: str) -> dict[str, str]:
    return {str(tag[key]): str(tag.get(value, "")) for tag in tags}


def _arn(resource: ScheduledResource) -> str:
    return resource.arn


def _long_service_arn(arn: str) -> bool:
    try:
        ecs_service_id(arn)
    except ValueError:
        return False
    return True
