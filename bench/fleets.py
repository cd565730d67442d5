"""What the bench puts in the moto account before each run: a snapshot fleet for the pruner
comparison and a fleet of scheduled resources for the scheduler comparison.

The fleets are described by frozen dataclasses (shared by the orchestrator, which computes what
each run must do, and by the cloud host, which creates them). Creation runs inside the host
process (bench/cloud.py): snapshots are made directly in moto's backends with their creation time
set, which takes a second where 6,000 API calls would take minutes; the scheduled fleet is made
by the local cloud's one seeder (localcloud.fleet.Fleet) through the host's own endpoint.

Every resource carries the tags of both tools: Nightshift's (`nightshift:schedule`, the
`Environment` the retention rule matches) and Cloud Custodian's (`maid_offhours`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localcloud.fleet import Fleet
    from localcloud.server import Endpoint

ACCOUNT = "123456789012"
REGION = "eu-central-1"
ZONE = f"{REGION}a"
STAGING = "staging"
PRODUCTION = "production"
# Nightshift's schedule tag and Cloud Custodian's offhours tag: `tz=cet` takes the policy's
# default hours (off 19, on 7, Monday to Friday) in Europe/Berlin, the same as `office-hours`.
SCHEDULE_TAGS = {"nightshift:schedule": "office-hours", "maid_offhours": "tz=cet"}


@dataclass(frozen=True)
class SnapshotFleet:
    """EBS snapshots of `volumes` volumes and RDS snapshots of `instances` DB instances, one a day
    for as many days as the counts need; the last `production_share` of volumes and instances are
    tagged production (neither tool may delete those), the others staging.

    >>> fleet = SnapshotFleet(ebs=5000, rds=1000, older_than_days=30)
    >>> fleet.ebs_days, fleet.expected_deletions()
    (100, {'ebs': 3195, 'rds': 639})
    """

    ebs: int = 5000
    rds: int = 1000
    volumes: int = 50
    instances: int = 10
    production_volumes: int = 5
    production_instances: int = 1
    older_than_days: int = 30

    @property
    def ebs_days(self) -> int:
        return -(-self.ebs // self.volumes)

    @property
    def rds_days(self) -> int:
        return -(-self.rds // self.instances)

    def ebs_plan(self) -> list[tuple[int, int]]:
        """(volume index, days before now) of every EBS snapshot, `ebs` in all."""
        return _spread(self.ebs, self.volumes)

    def rds_plan(self) -> list[tuple[int, int]]:
        return _spread(self.rds, self.instances)

    def expected_deletions(self) -> dict[str, int]:
        """Staging snapshots older than `older_than_days` (each is `days` days and one hour old,
        so a snapshot of day N is older than N days)."""
        return {
            "ebs": sum(
                1
                for volume, day in self.ebs_plan()
                if volume < self.volumes - self.production_volumes and day >= self.older_than_days
            ),
            "rds": sum(
                1
                for instance, day in self.rds_plan()
                if instance < self.instances - self.production_instances
                and day >= self.older_than_days
            ),
        }

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _spread(count: int, lineages: int) -> list[tuple[int, int]]:
    """One snapshot a day per lineage, newest (day 1) first, until `count` are placed."""
    return [(n % lineages, 1 + n // lineages) for n in range(count)]


@dataclass(frozen=True)
class ScheduledFleet:
    """ECS services (each with an Application Auto Scaling target), RDS instances and EC2
    instances, all running and all tagged for office hours.

    >>> ScheduledFleet().total
    1000
    """

    ecs_services: int = 400
    rds_instances: int = 200
    ec2_instances: int = 400
    clusters: int = 4
    desired: int = 2
    target: tuple[int, int] = (1, 4)

    @property
    def total(self) -> int:
        return self.ecs_services + self.rds_instances + self.ec2_instances

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------ creation, in the host process
def seed_snapshots(fleet: SnapshotFleet, now: dt.datetime, endpoint: Endpoint) -> dict[str, int]:
    """Create the snapshot fleet; snapshot times are `now` minus their day and one hour."""
    from moto.ec2.models import ec2_backends
    from moto.rds.models import rds_backends

    ec2 = ec2_backends[ACCOUNT][REGION]
    volumes = [ec2.create_volume(size=100, zone_name=ZONE) for _ in range(fleet.volumes)]
    naive_now = now.astimezone(dt.UTC).replace(tzinfo=None)  # moto keeps naive UTC times
    for index, day in fleet.ebs_plan():
        snapshot = ec2.create_snapshot(volumes[index].id, f"daily backup, day {day}")
        snapshot.start_time = naive_now - dt.timedelta(days=day, hours=1)
        ec2.create_tags([snapshot.id], {"Environment": _environment(index, fleet.volumes, fleet)})
    instances = [f"db-{n:02d}" for n in range(fleet.instances)]
    for index, name in enumerate(instances):
        endpoint.client("rds").create_db_instance(
            DBInstanceIdentifier=name,
            Engine="postgres",
            DBInstanceClass="db.t4g.micro",
            AllocatedStorage=50,
            MasterUsername="app",
            MasterUserPassword="correct-horse-battery",
            BackupRetentionPeriod=0,
            Tags=[{"Key": "Environment", "Value": _db_environment(index, fleet)}],
        )
    rds = rds_backends[ACCOUNT][REGION]
    for index, day in fleet.rds_plan():
        snapshot = rds.create_db_snapshot(
            instances[index],
            f"{instances[index]}-day-{day:04d}",
            tags=[{"Key": "Environment", "Value": _db_environment(index, fleet)}],
        )
        snapshot.created = naive_now - dt.timedelta(days=day, hours=1)
        snapshot.original_snapshot_create_time = snapshot.created
    return snapshot_inventory()


def _environment(index: int, count: int, fleet: SnapshotFleet) -> str:
    return PRODUCTION if index >= count - fleet.production_volumes else STAGING


def _db_environment(index: int, fleet: SnapshotFleet) -> str:
    return PRODUCTION if index >= fleet.instances - fleet.production_instances else STAGING


def snapshot_inventory() -> dict[str, int]:
    """Snapshots left, by kind and Environment tag (`ebs:staging`, `rds:production`, ...)."""
    from moto.ec2.models import ec2_backends
    from moto.rds.models import rds_backends

    ec2 = ec2_backends[ACCOUNT][REGION]
    counts: Counter[str] = Counter()
    for snapshot_id in ec2.snapshots:
        counts[f"ebs:{ec2.tags.get(snapshot_id, {}).get('Environment', 'untagged')}"] += 1
    for snapshot in rds_backends[ACCOUNT][REGION].database_snapshots.values():
        tags = {tag["Key"]: tag["Value"] for tag in snapshot.tags or ()}
        counts[f"rds:{tags.get('Environment', 'untagged')}"] += 1
    return dict(counts)


def staging_older_than(now: dt.datetime, days: int) -> dict[str, list[str]]:
    """The rule both tools apply, read straight from moto's backends: the EBS snapshot ids and
    RDS snapshot identifiers tagged staging and older than `days` at `now`, oldest first."""
    from moto.ec2.models import ec2_backends
    from moto.rds.models import rds_backends

    cutoff = now.astimezone(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days)
    ec2 = ec2_backends[ACCOUNT][REGION]
    ebs = sorted(
        (snapshot.start_time, snapshot_id)
        for snapshot_id, snapshot in ec2.snapshots.items()
        if ec2.tags.get(snapshot_id, {}).get("Environment") == STAGING
        and snapshot.start_time < cutoff
    )
    rds = sorted(
        (snapshot.created, name)
        for name, snapshot in rds_backends[ACCOUNT][REGION].database_snapshots.items()
        if {tag["Key"]: tag["Value"] for tag in snapshot.tags or ()}.get("Environment") == STAGING
        and snapshot.created < cutoff
    )
    return {"ebs": [name for _, name in ebs], "rds": [name for _, name in rds]}


def seed_scheduled_fleet(fleet: ScheduledFleet, seeder: Fleet) -> dict[str, int]:
    """Create the scheduled fleet, all running, with the local cloud's seeder on the host's own
    endpoint."""
    per_cluster = -(-fleet.ecs_services // fleet.clusters)
    for service in range(fleet.ecs_services):
        seeder.ecs_service(
            f"app-{service // per_cluster}",
            f"svc-{service:04d}",
            desired=fleet.desired,
            target=fleet.target,
            tags=SCHEDULE_TAGS,
        )
    for instance in range(fleet.rds_instances):
        seeder.rds_instance(f"db-{instance:04d}", tags=SCHEDULE_TAGS)
    for start in range(0, fleet.ec2_instances, 100):  # RunInstances launches at most 100 here
        seeder.ec2_instances(min(100, fleet.ec2_instances - start), tags=SCHEDULE_TAGS)
    return fleet_inventory()


def fleet_inventory() -> dict[str, int]:
    """Resources by kind and state: `ecs:running` (desiredCount > 0), `rds:stopped`, ..."""
    from moto.ec2.models import ec2_backends
    from moto.ecs.models import ecs_backends
    from moto.rds.models import rds_backends

    counts: Counter[str] = Counter()
    for service in ecs_backends[ACCOUNT][REGION].services.values():
        counts["ecs:running" if service.desired_count else "ecs:stopped"] += 1
    for database in rds_backends[ACCOUNT][REGION].databases.values():
        counts[f"rds:{database.status}"] += 1
    for reservation in ec2_backends[ACCOUNT][REGION].reservations.values():
        for instance in reservation.instances:
            counts[f"ec2:{instance.state}"] += 1
    return dict(counts)


# ------------------------------------------------------------------ an organization (issue 14)
MEMBER_REGIONS = (REGION, "eu-west-1")
SPOKE_TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
    f'{{"AWS": "arn:aws:iam::{ACCOUNT}:root"}}, "Action": "sts:AssumeRole"}}]}}'
)


@dataclass(frozen=True)
class OrganizationFleet:
    """`accounts` member accounts (the hub, ACCOUNT, is not one of them), each with the same
    scheduled fleet in each of `regions` and, in every account but those in `without_role`, the
    spoke role `role` (spoke.yaml's name for the scheduler's).

    >>> fleet = OrganizationFleet(accounts=50)
    >>> fleet.account_ids()[:2], len(fleet.targets()), fleet.total
    (['210000000000', '210000000001'], 100, 10000)
    """

    accounts: int = 50
    regions: tuple[str, ...] = MEMBER_REGIONS
    per_target: ScheduledFleet = ScheduledFleet(
        ecs_services=40, rds_instances=20, ec2_instances=40, clusters=1
    )
    role: str = "nightshift-spoke-scheduler-bench"
    without_role: tuple[str, ...] = ()

    def account_ids(self) -> list[str]:
        return [str(210_000_000_000 + n) for n in range(self.accounts)]

    def targets(self) -> list[tuple[str, str]]:
        return [(account, region) for account in self.account_ids() for region in self.regions]

    @property
    def total(self) -> int:
        return len(self.targets()) * self.per_target.total

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrganizationFleet:
        per_target = dict(data["per_target"])
        per_target["target"] = tuple(per_target["target"])
        return cls(
            accounts=data["accounts"],
            regions=tuple(data["regions"]),
            per_target=ScheduledFleet(**per_target),
            role=data["role"],
            without_role=tuple(data["without_role"]),
        )


@dataclass(frozen=True)
class AccountClients:
    """Clients of one member account and Region on the host's endpoint, with the credentials of
    a role assumed there (moto keeps accounts apart by them, as AWS does). All made from one
    boto3 session, so that each service's model is loaded once, not once per account."""

    url: str
    region: str
    credentials: tuple[str, str, str]

    def client(self, service: str) -> Any:
        key, secret, token = self.credentials
        return _seeding_session().client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
        )


@cache
def _seeding_session() -> Any:
    import boto3

    return boto3.session.Session()


def seed_organization(fleet: OrganizationFleet, account: str, endpoint: Endpoint) -> dict[str, int]:
    """One member account of `fleet`: its spoke role (unless `without_role`) and the scheduled
    fleet in each Region, made through the host's endpoint with the account's own credentials.
    Returns the resources made, by kind and state."""
    from localcloud.fleet import Fleet

    answer = endpoint.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/bench-seeder", RoleSessionName="seed"
    )["Credentials"]
    credentials = (answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"])
    if account not in fleet.without_role:
        AccountClients(endpoint.url, REGION, credentials).client("iam").create_role(
            RoleName=fleet.role, AssumeRolePolicyDocument=SPOKE_TRUST
        )
    made: Counter[str] = Counter()
    for region in fleet.regions:
        seeder = Fleet(AccountClients(endpoint.url, region, credentials))
        seed_scheduled_fleet(fleet.per_target, seeder)
        made.update(member.kind for member in seeder.members.values())
    return dict(made)


def organization_inventory(fleet: OrganizationFleet) -> dict[str, int]:
    """Resources by state over every target (`ecs:running`, `rds:stopped`, ...), and per
    target the number stopped (`stopped <account> <region>`)."""
    from moto.ec2.models import ec2_backends
    from moto.ecs.models import ecs_backends
    from moto.rds.models import rds_backends

    counts: Counter[str] = Counter()
    for account, region in fleet.targets():
        before = counts.copy()
        for service in ecs_backends[account][region].services.values():
            counts["ecs:running" if service.desired_count else "ecs:stopped"] += 1
        for database in rds_backends[account][region].databases.values():
            counts[f"rds:{database.status}"] += 1
        for reservation in ec2_backends[account][region].reservations.values():
            for instance in reservation.instances:
                counts[f"ec2:{instance.state}"] += 1
        counts[f"stopped {account} {region}"] = sum(
            counts[key] - before[key] for key in ("ecs:stopped", "rds:stopped", "ec2:stopped")
        )
    return dict(counts)


def refuse_missing_spoke_roles() -> None:
    """AWS's answer to AssumeRole on a role that does not exist: AccessDenied. moto hands out
    credentials for any role ARN (its documentation says so); this makes its STS look the
    spoke role up in the member account's IAM first, as AWS does. Roles not named
    `nightshift-spoke-*` (the seeder's) are assumed as moto assumes them. For the whole
    process, once."""
    from moto.core.exceptions import AccessDeniedError
    from moto.iam.models import iam_backends
    from moto.sts.models import STSBackend

    original = STSBackend.assume_role
    if getattr(original, "refuses_missing_roles", False):
        return

    def assume_role(
        self: Any,
        region_name: str,
        role_session_name: str,
        role_arn: str,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
        if name.startswith("nightshift-spoke-") and not any(
            role.name == name for role in iam_backends[account]["aws"].roles.values()
        ):
            raise AccessDeniedError(  # AWS's 403 and words
                f"arn:aws:sts::{ACCOUNT}:assumed-role/nightshift-scheduler/bench",
                f"sts:AssumeRole on resource: {role_arn}",
            )
        return original(self, region_name, role_session_name, role_arn, *args, **kwargs)

    assume_role.refuses_missing_roles = True  # type: ignore[attr-defined]
    STSBackend.assume_role = assume_role  # type: ignore[method-assign]
