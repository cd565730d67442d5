"""The scheduler handler under moto, against a core stack with every kind of resource it schedules.

The stack: ECS cluster `todoapp` (service `api` with an Application Auto Scaling target, `worker`
without one, `prod-api` tagged production), RDS PostgreSQL `todoapp-db`, Aurora cluster
`todoapp-aurora` with a tagged member, a read replica pair, EC2 instance `bastion`, and the Auto
Scaling group `workers` whose instances inherit the schedule tag. Policy: office-hours, Berlin,
mon-fri 07:30-19:00. 2026-11-20 is a Friday (19:00 CET = 18:00 UTC); 2026-11-23 a Monday.

What moto does and does not do, and how the tests adapt:
- the Tagging API returns ECS services, RDS instances and clusters, EC2 instances, and (as in
  AWS) no Auto Scaling groups: the scheduler finds those with DescribeAutoScalingGroups;
- RDS and Aurora stop and start at once (AWS takes minutes: `stopping`, `starting`), so the
  "databases first" wait lasts exactly one run here;
- Application Auto Scaling stores min/max but never scales; a failure is injected through a
  botocore before-call hook, the way botocore lets a handler answer a call itself.
"""

from __future__ import annotations

import doctest
import importlib.util
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from localcloud.fleet import Fleet, SessionClients
from nightshift.adapters import scheduled_resources
from nightshift.adapters.scheduler_clients import SchedulerClients
from nightshift.errors import PolicyError
from nightshift.notify.sources.nightshift_report import report_severity
from nightshift.report import Report
from tests.conftest import FakeLambdaContext, event_names, load_event, load_handler
from tests.support.faults import FaultInjector, FaultKind, ProcessCrash
from tests.support.nightshift import (
    OpsTopic,
    create_ops_topic,
    create_state_table,
    function_environment,
)

REGION = "eu-central-1"
ACCOUNT = "123456789012"
TABLE = "nightshift-state"
TOPIC = "nightshift-ops-staging"
SCHEDULE = {"nightshift:schedule": "office-hours"}
PRODUCTION = {"Environment": "production"}
FRIDAY_EVENING = "2026-11-20T18:00:00Z"  # 19:00 CET: office-hours stops
MONDAY_MORNING = "2026-11-23T06:30:00Z"  # 07:30 CET: office-hours starts
FIVE_MINUTES_LATER = "2026-11-23T06:35:00Z"
API_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/todoapp/api"
POLICY = """
version: 1
protect: {tag: Environment, values: [production, prod]}
schedules:
  office-hours:
    timezone: Europe/Berlin
    periods: [{days: mon-fri, start: "07:30", stop: "19:00"}]
    enforce: %(enforce)s
scheduler:
  max_stops: %(max_stops)d
  dry_run: %(dry_run)s
"""


def write_policy(
    path: Path, max_stops: int = 50, dry_run: bool = False, enforce: bool = False
) -> None:
    text = POLICY % {
        "max_stops": max_stops,
        "dry_run": str(dry_run).lower(),
        "enforce": str(enforce).lower(),
    }
    path.write_text(text, encoding="utf-8")


class Cloud:
    """The moto account: the core stack's resources, Nightshift's table and topic, and readers.

    Clients and the network are made on first use: most tests need only a few of them.
    """

    def __init__(self, policy: Path) -> None:
        self.policy = policy
        self.ops: OpsTopic | None = None
        self.app: ModuleType | None = None

    @cached_property
    def ecs(self) -> Any:
        return boto3.client("ecs")

    @cached_property
    def aas(self) -> Any:
        return boto3.client("application-autoscaling")

    @cached_property
    def rds(self) -> Any:
        return boto3.client("rds")

    @cached_property
    def ec2(self) -> Any:
        return boto3.client("ec2")

    @cached_property
    def autoscaling(self) -> Any:
        return boto3.client("autoscaling")

    @cached_property
    def dynamodb(self) -> Any:
        return boto3.client("dynamodb")

    @cached_property
    def sqs(self) -> Any:
        return boto3.client("sqs")

    @cached_property
    def fleet(self) -> Fleet:
        return Fleet(SessionClients(REGION))

    def create_nightshift(self) -> None:
        # As template.yaml's StateTable and OpsTopic (a queue subscribed to read the reports).
        create_state_table(self.dynamodb, TABLE)
        self.ops = create_ops_topic(boto3.client("sns"), self.sqs, TOPIC)

    # -- the core stack, made by the local cloud's fleet (the one seeder) -------------------------

    def cluster(self, name: str) -> None:
        self.fleet.ecs_cluster(name)

    def service(
        self,
        cluster: str,
        name: str,
        desired: int,
        target: tuple[int, int] | None = None,
        **tags: str,
    ) -> None:
        self.fleet.ecs_service(cluster, name, desired, target, tags)

    def set_target(self, cluster: str, name: str, minimum: int, maximum: int) -> None:
        self.aas.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=f"service/{cluster}/{name}",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=minimum,
            MaxCapacity=maximum,
        )

    def database(self, name: str, **tags: str) -> None:
        self.fleet.rds_instance(name, tags)

    def aurora(self, name: str, members: int = 1, **tags: str) -> None:
        self.fleet.aurora_cluster(name, members, tags)

    def instance(self, name: str, **tags: str) -> str:
        """Its instance id (the end of its ARN)."""
        return self.fleet.ec2_instance(name, tags).rsplit("/", 1)[-1]

    def group(
        self, name: str, minimum: int, desired: int, maximum: int, propagate: bool, **tags: str
    ) -> None:
        self.fleet.auto_scaling_group(name, minimum, desired, maximum, tags, propagate)

    # -- what is there now ----------------------------------------------------------------------

    def service_capacity(self, cluster: str, name: str) -> tuple[int, int | None, int | None]:
        service = self.ecs.describe_services(cluster=cluster, services=[name])["services"][0]
        targets = self.aas.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[f"service/{cluster}/{name}"]
        )["ScalableTargets"]
        if not targets:
            return service["desiredCount"], None, None
        return service["desiredCount"], targets[0]["MinCapacity"], targets[0]["MaxCapacity"]

    def db_status(self, name: str) -> str:
        return self.rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0][
            "DBInstanceStatus"
        ]

    def cluster_status(self, name: str) -> str:
        return self.rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"]

    def instance_state(self, instance_id: str) -> str:
        reservations = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        return reservations[0]["Instances"][0]["State"]["Name"]

    def group_capacity(self, name: str) -> tuple[int, int, int]:
        group = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
            "AutoScalingGroups"
        ][0]
        return group["MinSize"], group["DesiredCapacity"], group["MaxSize"]

    def parked(self) -> dict[str, dict[str, Any]]:
        items = self.dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "scheduler#parked"}},
        )["Items"]
        return {item["sk"]["S"]: item for item in items}

    def last_run(self) -> str | None:
        item = self.dynamodb.get_item(
            TableName=TABLE, Key={"pk": {"S": "scheduler#run"}, "sk": {"S": "last"}}
        ).get("Item")
        return None if item is None else item["scheduled_time"]["S"]

    def reports(self) -> list[dict[str, Any]]:
        """The reports published to the ops topic since the last call."""
        assert self.ops is not None, "create_nightshift() first"
        return self.ops.reports()

    # -- the function ---------------------------------------------------------------------------

    def handler(self) -> ModuleType:
        if self.app is None:
            self.app = load_handler("scheduler")
        return self.app

    def run(self, event: str | dict[str, Any]) -> dict[str, Any]:
        payload = {"time": event} if isinstance(event, str) else event
        return self.handler().lambda_handler(payload, FakeLambdaContext())


@cache
def shared_session() -> boto3.Session:
    return boto3.Session()


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cloud]:
    policy = tmp_path / "nightshift.yaml"
    write_policy(policy)
    function_environment(
        monkeypatch,
        service="scheduler",
        policy_file=policy,
        table=TABLE,
        topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}",
        region=REGION,
        # moto's EC2 loads hundreds of public AMIs into every fresh account; none is needed.
        extra={"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"},
    )
    with mock_aws():
        # moto gives each test a fresh default session, which would load every service model
        # again; one shared session keeps the file fast (moto restores the default on exit).
        boto3.DEFAULT_SESSION = shared_session()
        made = Cloud(policy)
        made.create_nightshift()
        yield made


@dataclass(frozen=True)
class CoreStack:
    bastion: str


@pytest.fixture
def stack(cloud: Cloud) -> CoreStack:
    cloud.cluster("todoapp")
    cloud.service("todoapp", "api", 2, target=(2, 6), **SCHEDULE)
    cloud.service("todoapp", "worker", 1, **SCHEDULE)
    cloud.service("todoapp", "prod-api", 3, target=(3, 9), **SCHEDULE, **PRODUCTION)
    cloud.database("todoapp-db", **SCHEDULE)
    cloud.aurora("todoapp-aurora", members=1, **SCHEDULE)
    bastion = cloud.instance("bastion", **SCHEDULE)
    cloud.group("workers", 1, 2, 4, propagate=True, **SCHEDULE)
    return CoreStack(bastion=bastion)


def items_by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Report items keyed by the resource's short name (the end of its ARN)."""
    return {
        item["resource"].rsplit("/", 1)[-1].rsplit(":", 1)[-1]: item for item in result["items"]
    }


def emitted_metrics(output: str) -> dict[str, float]:
    """Metric values from the EMF documents Powertools wrote to stdout."""
    values: dict[str, float] = {}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return values


def fail_calls(client: Any, operation: str, code: str) -> None:
    """Make every `operation` call on `client` answer with AWS error `code`."""

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://moto", 400, {}, None), {
            "Error": {"Code": code, "Message": f"{operation} refused by the test"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service}.{operation}", answer)


# -- evening and morning ----------------------------------------------------------------------


def test_evening_stops_every_kind_and_parks_capacities(
    cloud: Cloud, stack: CoreStack, capsys: pytest.CaptureFixture[str]
) -> None:
    result = cloud.run(FRIDAY_EVENING)

    assert cloud.service_capacity("todoapp", "api") == (0, 0, 0)
    assert cloud.service_capacity("todoapp", "worker") == (0, None, None)
    assert cloud.db_status("todoapp-db") == "stopped"
    assert cloud.cluster_status("todoapp-aurora") == "stopped"
    assert cloud.instance_state(stack.bastion) == "stopped"
    assert cloud.group_capacity("workers") == (0, 0, 0)
    parked = cloud.parked()
    api = parked[f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/todoapp/api"]
    assert api["capacity"]["M"] == {
        "desired": {"N": "2"},
        "minimum": {"N": "2"},
        "maximum": {"N": "6"},
    }
    assert api["schedule"] == {"S": "office-hours"}
    assert len(parked) == 6  # api, worker, db, aurora, bastion, workers
    assert cloud.last_run() == "2026-11-20T18:00:00+00:00"
    items = items_by_name(result)
    assert items["api"]["outcome"] == "done"
    assert items["api"]["details"]["hours_saved"] == 60.5  # Friday 19:00 to Monday 07:30
    assert result["totals"]["hours_saved"] == 6 * 60.5
    assert result["summary"].startswith("stopped 6, 1 refused")
    assert emitted_metrics(capsys.readouterr().out) == {
        "Stopped": 6.0,
        "Started": 0.0,
        "Failed": 0.0,
        "HoursSaved": 363.0,
        "DollarsSaved": 0.0,  # a stop's saving is realised (and counted) at the start
    }
    [published] = cloud.reports()
    assert published == result
    assert published["run_id"] == "scheduler-2026-11-20T18:00:00Z"


def test_stops_run_compute_first_and_databases_last(cloud: Cloud, stack: CoreStack) -> None:
    result = cloud.run(FRIDAY_EVENING)

    stops = [item["kind"] for item in result["items"] if item["action"] == "stop"]
    assert stops == [
        "autoscaling-group",
        "ec2-instance",
        "ecs-service",
        "ecs-service",
        "aurora-cluster",
        "rds-instance",
    ]


def test_stops_and_starts_are_priced_from_the_describes_and_the_task_definitions(
    cloud: Cloud, stack: CoreStack, capsys: pytest.CaptureFixture[str]
) -> None:
    evening = items_by_name(cloud.run(FRIDAY_EVENING))
    capsys.readouterr()

    # todoapp-db: PostgreSQL db.t4g.micro in eu-central-1, $0.019 an hour, 60.5 h until Monday
    assert evening["todoapp-db"]["details"]["hourly_usd"] == 0.019
    assert evening["todoapp-db"]["details"]["estimated_saving_usd"] == round(60.5 * 0.019, 2)
    # api: 2 Fargate tasks of the fleet's 256 CPU units / 512 MiB task definition
    api_hourly = 2 * (0.25 * 0.04656 + 0.5 * 0.00511)
    assert evening["api"]["details"]["hourly_usd"] == round(api_hourly, 5)
    # Aurora and Auto Scaling groups are unpriced, with the reason, never guessed
    assert evening["todoapp-aurora"]["details"]["unpriced"].startswith("unpriced: Aurora")
    assert evening["workers"]["details"]["unpriced"].startswith("unpriced: Auto Scaling")

    cloud.run(MONDAY_MORNING)
    capsys.readouterr()
    morning = cloud.run(FIVE_MINUTES_LATER)

    started = items_by_name(morning)
    # Parked Friday 19:00, restored Monday 07:35: 60.58 h at the 2 tasks it restores
    assert started["api"]["details"]["hours_parked"] == 60.58
    assert started["api"]["details"]["saved_usd"] == round(60.58 * api_hourly, 2)
    assert morning["totals"]["saved_usd"] > started["api"]["details"]["saved_usd"]
    assert (
        emitted_metrics(capsys.readouterr().out)["DollarsSaved"] == morning["totals"]["saved_usd"]
    )


def test_morning_starts_databases_first_then_restores_every_capacity_exactly(
    cloud: Cloud, stack: CoreStack
) -> None:
    cloud.run(FRIDAY_EVENING)
    cloud.reports()

    databases_first = items_by_name(cloud.run(MONDAY_MORNING))

    assert cloud.db_status("todoapp-db") == "available"
    assert cloud.cluster_status("todoapp-aurora") == "available"
    assert databases_first["api"]["action"] == "none"
    assert (
        "waits for the databases of office-hours to start first"
        in (databases_first["api"]["reason"])
    )
    assert cloud.service_capacity("todoapp", "api") == (0, 0, 0)

    then_compute = items_by_name(cloud.run(FIVE_MINUTES_LATER))

    assert cloud.service_capacity("todoapp", "api") == (2, 2, 6)
    assert cloud.service_capacity("todoapp", "worker") == (1, None, None)
    assert cloud.group_capacity("workers") == (1, 2, 4)
    assert cloud.instance_state(stack.bastion) == "running"
    assert cloud.service_capacity("todoapp", "prod-api") == (3, 3, 9)
    assert cloud.parked() == {}
    assert then_compute["api"]["outcome"] == "done"
    assert then_compute["api"]["details"]["capacity_to_restore"] == {
        "desired": 2,
        "minimum": 2,
        "maximum": 6,
    }
    assert [r["summary"].split(",")[0] for r in cloud.reports()] == ["started 2", "started 4"]


def test_steady_state_changes_nothing_and_publishes_nothing(cloud: Cloud, stack: CoreStack) -> None:
    cloud.run(FRIDAY_EVENING)
    cloud.reports()
    parked = cloud.parked()

    result = cloud.run("2026-11-20T18:05:00Z")

    assert cloud.reports() == []
    assert cloud.parked() == parked
    assert result["counts"]["done"] == 0
    assert cloud.last_run() == "2026-11-20T18:05:00+00:00"


# -- what is left alone, and why --------------------------------------------------------------


def test_production_tagged_service_is_refused_and_left_running(
    cloud: Cloud, stack: CoreStack
) -> None:
    items = items_by_name(cloud.run(FRIDAY_EVENING))

    assert cloud.service_capacity("todoapp", "prod-api") == (3, 3, 9)
    assert items["prod-api"]["outcome"] == "refused"
    assert items["prod-api"]["reason"].startswith("protected (Environment=production)")


def test_a_refusal_the_same_as_the_last_runs_is_one_warning_then_routine(
    cloud: Cloud, stack: CoreStack
) -> None:
    # Office hours: nothing to switch, only prod-api refused (protected) in every run.
    cloud.run("2026-11-20T11:00:00Z")
    cloud.run("2026-11-20T11:05:00Z")
    first_two = cloud.reports()
    cloud.run(FRIDAY_EVENING)  # stops staging; prod-api is refused as before
    (evening,) = cloud.reports()

    assert [(r["run_id"], r["severity"]) for r in first_two] == [
        ("scheduler-2026-11-20T11:00:00Z", "warning")
    ]
    known = items_by_name(evening)["prod-api"]
    assert known["details"]["known"] == "refused alike in the last run"
    # The notifier reads the evening's report as routine: the refusal was said at 11:00.
    severity, _ = report_severity(Report.from_json(evening))
    assert severity.value == "info"


def test_aurora_member_and_group_instances_are_skipped_with_reason(
    cloud: Cloud, stack: CoreStack
) -> None:
    items = items_by_name(cloud.run(FRIDAY_EVENING))

    member = items["todoapp-aurora-1"]
    assert (member["kind"], member["outcome"]) == ("rds-instance", "skipped")
    assert "todoapp-aurora" in member["reason"]
    assert items["todoapp-aurora"]["outcome"] == "done"
    in_group = [
        item
        for name, item in items.items()
        if item["kind"] == "ec2-instance" and name != stack.bastion
    ]
    assert len(in_group) == 2  # the group's desired capacity, tagged by propagation
    assert all(item["outcome"] == "skipped" for item in in_group)
    assert all("workers" in item["reason"] for item in in_group)
    assert items[stack.bastion]["outcome"] == "done"


def test_read_replica_and_its_source_are_skipped_with_reason(cloud: Cloud) -> None:
    cloud.database("reporting-db", **SCHEDULE)
    cloud.rds.create_db_instance_read_replica(
        DBInstanceIdentifier="reporting-db-replica",
        SourceDBInstanceIdentifier="reporting-db",
        Tags=[{"Key": k, "Value": v} for k, v in SCHEDULE.items()],
    )

    items = items_by_name(cloud.run(FRIDAY_EVENING))

    assert items["reporting-db"]["outcome"] == "skipped"
    assert "replica" in items["reporting-db"]["reason"]
    assert items["reporting-db-replica"]["outcome"] == "skipped"
    assert "replica" in items["reporting-db-replica"]["reason"]
    assert cloud.db_status("reporting-db") == "available"


def test_unknown_schedule_is_refused_with_the_defined_names(cloud: Cloud) -> None:
    cloud.database("typo-db", **{"nightshift:schedule": "ofice-hours"})

    result = cloud.run(FRIDAY_EVENING)

    [item] = result["items"]
    assert item["outcome"] == "refused"
    assert "unknown schedule 'ofice-hours'" in item["reason"]
    assert "office-hours" in item["reason"]
    assert cloud.reports()[0]["severity"] == "warning"  # first run of the day: reported
    cloud.run("2026-11-20T18:05:00Z")
    assert cloud.reports() == []  # the same refusal is not repeated every 5 minutes


def test_override_holds_a_service_running_until_it_expires(cloud: Cloud) -> None:
    cloud.cluster("todoapp")
    cloud.service(
        "todoapp",
        "reports",
        1,
        **SCHEDULE,
        **{"nightshift:override": "running-until=2026-11-20T22:00"},
    )

    held = items_by_name(cloud.run(FRIDAY_EVENING))["reports"]

    assert cloud.service_capacity("todoapp", "reports") == (1, None, None)
    assert held["action"] == "none"
    assert "override holds it running until 2026-11-20 22:00 CET" in held["reason"]

    expired = items_by_name(cloud.run("2026-11-20T21:05:00Z"))["reports"]

    assert cloud.service_capacity("todoapp", "reports") == (0, None, None)
    assert expired["outcome"] == "done"
    assert "expired at 2026-11-20 22:00 CET; the tag can go" in expired["details"]["notes"][0]


def test_database_woken_off_hours_is_left_running_unless_the_schedule_enforces(
    cloud: Cloud,
) -> None:
    cloud.database("todoapp-db", **SCHEDULE)
    cloud.run(FRIDAY_EVENING)
    cloud.rds.start_db_instance(DBInstanceIdentifier="todoapp-db")  # by hand, or AWS after 7 days

    left = items_by_name(cloud.run("2026-11-20T22:00:00Z"))["todoapp-db"]

    assert cloud.db_status("todoapp-db") == "available"
    assert left["action"] == "none"
    assert "does not enforce" in left["reason"]

    write_policy(cloud.policy, enforce=True)
    cloud.app = None  # a new container reads the changed policy
    enforced = items_by_name(cloud.run("2026-11-20T22:05:00Z"))["todoapp-db"]

    assert cloud.db_status("todoapp-db") == "stopped"
    assert enforced["outcome"] == "done"
    assert "stop again: office-hours enforces" in enforced["reason"]


# -- changes made while parked ----------------------------------------------------------------


def test_scalable_target_changed_while_parked_is_reported_not_overwritten(
    cloud: Cloud,
) -> None:
    cloud.cluster("todoapp")
    cloud.service("todoapp", "api", 2, target=(2, 6), **SCHEDULE)
    cloud.run(FRIDAY_EVENING)
    cloud.reports()
    cloud.set_target("todoapp", "api", 0, 10)  # someone raises the maximum over the weekend

    result = cloud.run(MONDAY_MORNING)

    assert cloud.service_capacity("todoapp", "api") == (0, 0, 10)
    [item] = result["items"]
    assert item["outcome"] == "refused"
    assert item["details"]["conflict"] == (
        "changed while parked: now desired 0, min 0, max 10, Nightshift left desired 0, "
        "min 0, max 0; not restored to desired 2, min 2, max 6"
    )
    assert cloud.parked() == {}  # released: the next run does not report it again
    [published] = cloud.reports()
    assert published["severity"] == "warning"


def test_group_resized_by_hand_while_parked_keeps_its_new_size_and_is_reported(
    cloud: Cloud,
) -> None:
    cloud.group("workers", 1, 2, 4, propagate=False, **SCHEDULE)
    cloud.run(FRIDAY_EVENING)
    cloud.autoscaling.update_auto_scaling_group(
        AutoScalingGroupName="workers", MinSize=1, DesiredCapacity=1, MaxSize=1
    )
    cloud.reports()

    result = cloud.run(MONDAY_MORNING)

    assert cloud.group_capacity("workers") == (1, 1, 1)
    [item] = result["items"]
    assert "changed while parked" in item["details"]["conflict"]
    assert len(cloud.reports()) == 1


# -- safety -------------------------------------------------------------------------------------


def test_dry_run_event_changes_nothing_and_returns_the_plan(cloud: Cloud, stack: CoreStack) -> None:
    result = cloud.run(load_event("scheduler", "evening-dry-run"))

    assert result["dry_run"] is True
    assert result["run_id"] == "scheduler-2026-11-20T18:00:00Z-dry-run"
    assert result["counts"]["planned"] == 6
    assert cloud.service_capacity("todoapp", "api") == (2, 2, 6)
    assert cloud.db_status("todoapp-db") == "available"
    assert cloud.group_capacity("workers") == (1, 2, 4)
    assert cloud.parked() == {}
    assert cloud.last_run() is None
    assert cloud.reports() == []


def test_dry_run_policy_publishes_the_plan_and_changes_nothing(
    cloud: Cloud, stack: CoreStack
) -> None:
    write_policy(cloud.policy, dry_run=True)

    cloud.run(FRIDAY_EVENING)

    [published] = cloud.reports()
    assert published["dry_run"] is True
    assert published["summary"].startswith("would stop 6")
    assert cloud.service_capacity("todoapp", "api") == (2, 2, 6)
    assert cloud.parked() == {}


def test_circuit_breaker_refuses_every_stop_of_a_run_that_stops_too_many(
    cloud: Cloud, stack: CoreStack
) -> None:
    write_policy(cloud.policy, max_stops=3)

    result = cloud.run(FRIDAY_EVENING)

    assert cloud.service_capacity("todoapp", "api") == (2, 2, 6)
    assert cloud.db_status("todoapp-db") == "available"
    assert cloud.parked() == {}
    assert result["counts"]["refused"] == 7  # six stops and prod-api
    assert "more than max_stops 3" in result["errors"][0]
    assert cloud.reports()[0]["severity"] == "critical"


def test_event_older_than_the_last_run_is_refused(
    cloud: Cloud, stack: CoreStack, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.run("2026-11-20T17:00:00Z")
    capsys.readouterr()

    result = cloud.run("2026-11-20T16:55:00Z")

    assert result["summary"].startswith("refused: the event for 2026-11-20T16:55:00Z is older")
    assert cloud.last_run() == "2026-11-20T17:00:00+00:00"
    assert emitted_metrics(capsys.readouterr().out) == {"StaleEvents": 1.0}


def test_policy_that_cannot_be_loaded_is_reported_and_nothing_is_touched(
    cloud: Cloud, stack: CoreStack, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.policy.write_text(
        POLICY.replace("Europe/Berlin", "Europe/Berln")
        % {"max_stops": 50, "dry_run": "false", "enforce": "false"},
        encoding="utf-8",
    )

    with pytest.raises(PolicyError, match="unknown time zone 'Europe/Berln'"):
        cloud.run(FRIDAY_EVENING)

    [published] = cloud.reports()
    assert published["severity"] == "critical"
    assert "schedules.office-hours.timezone" in published["errors"][0]
    assert cloud.service_capacity("todoapp", "api") == (2, 2, 6)
    assert cloud.last_run() is None
    assert emitted_metrics(capsys.readouterr().out) == {"PolicyErrors": 1.0}


def test_failed_stop_is_reported_its_record_kept_and_finished_next_run(
    cloud: Cloud, stack: CoreStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # As IAM answers when the service lost its nightshift:schedule tag between sweep and stop.
    fail_calls(cloud.handler().clients().ecs, "UpdateService", "AccessDeniedException")

    result = cloud.run(FRIDAY_EVENING)

    api = items_by_name(result)["api"]
    assert api["outcome"] == "failed"
    assert "stop failed: UpdateService failed with AccessDeniedException" in api["reason"]
    # Half a stop: the target is at 0/0 and the record, still STOPPING, keeps 2/2/6.
    assert cloud.service_capacity("todoapp", "api") == (2, 0, 0)
    assert cloud.parked()[API_ARN]["state"] == {"S": "stopping"}
    assert cloud.parked()[API_ARN]["capacity"]["M"]["maximum"] == {"N": "6"}
    assert cloud.db_status("todoapp-db") == "stopped"  # the run went on
    assert emitted_metrics(capsys.readouterr().out)["Failed"] == 2.0  # api and worker
    assert cloud.reports()[0]["severity"] == "critical"

    cloud.app = None  # a new container: clients without the injected failure
    retried = items_by_name(cloud.run("2026-11-20T18:05:00Z"))

    assert retried["api"]["outcome"] == "done"
    assert "a stop was interrupted" in retried["api"]["reason"]
    assert cloud.service_capacity("todoapp", "api") == (0, 0, 0)
    assert cloud.parked()[API_ARN]["state"] == {"S": "parked"}


def answer_with_parameters(
    client: Any, operation: str, answer: Callable[[dict[str, Any]], Any]
) -> None:
    """Let `answer` see each `operation` call's API parameters and answer it (or return None to
    let the call through)."""
    service = client.meta.service_model.service_id.hyphenize()

    def keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    def reply(context: dict[str, Any], **_: Any) -> Any:
        return answer(context["api_params"])

    client.meta.events.register(f"before-parameter-build.{service}.{operation}", keep)
    client.meta.events.register(f"before-call.{service}.{operation}", reply)


def refuse_calls_naming(client: Any, operation: str, refused: str, code: str) -> list[str]:
    """Make every `operation` call on `client` whose InstanceIds name `refused` answer with AWS
    error `code`; returns the InstanceIds of every call."""
    calls: list[str] = []

    def answer(params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]] | None:
        calls.append(",".join(params["InstanceIds"]))
        if refused not in params["InstanceIds"]:
            return None
        return AWSResponse("https://moto", 400, {}, None), {
            "Error": {"Code": code, "Message": f"{operation} refused by the test"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    answer_with_parameters(client, operation, answer)
    return calls


def test_instances_stop_in_one_call_and_one_refused_fails_alone(cloud: Cloud) -> None:
    bastion = cloud.instance("bastion", **SCHEDULE)
    runner = cloud.instance("runner", **SCHEDULE)
    calls = refuse_calls_naming(
        cloud.handler().clients().ec2, "StopInstances", runner, "IncorrectInstanceState"
    )

    result = cloud.run(FRIDAY_EVENING)

    # The batch call fails as a whole, so each instance is stopped on its own.
    assert sorted(calls[0].split(",")) == sorted([bastion, runner])
    assert sorted(calls[1:]) == sorted([bastion, runner])
    items = items_by_name(result)
    assert items[bastion]["outcome"] == "done"
    assert items[runner]["outcome"] == "failed"
    assert (
        "stop failed: StopInstances failed with IncorrectInstanceState" in items[runner]["reason"]
    )
    assert cloud.instance_state(bastion) == "stopped"
    assert cloud.instance_state(runner) == "running"
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/"
    assert parked_state(cloud, arn + bastion) == "parked"
    assert parked_state(cloud, arn + runner) == "stopping"  # the next run finishes or undoes it


def test_records_left_unprocessed_by_a_batch_write_are_written_one_by_one(cloud: Cloud) -> None:
    bastion = cloud.instance("bastion", **SCHEDULE)
    runner = cloud.instance("runner", **SCHEDULE)
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/"
    dynamodb = cloud.handler().clients().dynamodb
    batches: list[int] = []

    def unprocessed(params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        # DynamoDB under load: nothing written, everything handed back.
        batches.append(len(params["RequestItems"][TABLE]))
        return AWSResponse("https://moto", 200, {}, None), {
            "UnprocessedItems": params["RequestItems"],
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    def refuse_runner(
        params: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        if params["Item"]["sk"]["S"] != arn + runner:
            return None
        return AWSResponse("https://moto", 400, {}, None), {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    answer_with_parameters(dynamodb, "BatchWriteItem", unprocessed)
    answer_with_parameters(dynamodb, "PutItem", refuse_runner)

    result = cloud.run(FRIDAY_EVENING)

    items = items_by_name(result)
    assert batches == [2, 1]  # the STOPPING records, then the bastion's PARKED one
    assert items[bastion]["outcome"] == "done"
    assert parked_state(cloud, arn + bastion) == "parked"
    assert cloud.instance_state(bastion) == "stopped"
    # The runner's record was not written, so its stop was not begun.
    assert items[runner]["outcome"] == "failed"
    assert "stop not begun: parked record not written" in items[runner]["reason"]
    assert parked_state(cloud, arn + runner) is None
    assert cloud.instance_state(runner) == "running"


# -- interrupted stops and starts (issue 12's three sequences) ----------------------------------


def inject(cloud: Cloud, *rules: tuple[str, int, FaultKind]) -> FaultInjector:
    """Fault the n-th call of an operation in the handler's current container."""
    injector = FaultInjector().attach(cloud.handler().clients().each())
    injector.arm(rules=list(rules))
    return injector


def parked_state(cloud: Cloud, arn: str) -> str | None:
    item = cloud.parked().get(arn)
    return None if item is None else item["state"]["S"]


def test_stop_whose_update_and_target_restore_fail_keeps_the_record_and_is_finished_next_run(
    cloud: Cloud,
) -> None:
    cloud.cluster("todoapp")
    cloud.service("todoapp", "api", 2, target=(2, 6), **SCHEDULE)
    inject(
        cloud,
        ("UpdateService", 1, FaultKind.SERVER_ERROR),
        ("RegisterScalableTarget", 2, FaultKind.SERVER_ERROR),
    )

    failed = cloud.run(FRIDAY_EVENING)

    assert failed["items"][0]["outcome"] == "failed"
    assert parked_state(cloud, API_ARN) == "stopping"  # the capacity is not forgotten
    cloud.app = None  # a new container, without the faults
    cloud.run("2026-11-20T18:05:00Z")
    assert cloud.service_capacity("todoapp", "api") == (0, 0, 0)
    assert parked_state(cloud, API_ARN) == "parked"
    cloud.run(MONDAY_MORNING)
    assert cloud.service_capacity("todoapp", "api") == (2, 2, 6)
    assert cloud.parked() == {}


def test_start_that_dies_between_target_and_update_is_finished_by_the_next_run(
    cloud: Cloud,
) -> None:
    cloud.cluster("todoapp")
    cloud.service("todoapp", "api", 2, target=(2, 6), **SCHEDULE)
    cloud.run(FRIDAY_EVENING)
    cloud.app = None
    inject(cloud, ("RegisterScalableTarget", 1, FaultKind.CRASH_AFTER))

    with pytest.raises(ProcessCrash):
        cloud.run(MONDAY_MORNING)

    assert cloud.service_capacity("todoapp", "api") == (0, 2, 6)
    assert parked_state(cloud, API_ARN) == "starting"
    cloud.app = None
    finished = cloud.run(FIVE_MINUTES_LATER)
    assert cloud.service_capacity("todoapp", "api") == (2, 2, 6)
    assert finished["items"][0]["outcome"] == "done"
    assert cloud.parked() == {}


def test_start_whose_update_and_target_restore_fail_is_finished_by_the_next_run(
    cloud: Cloud,
) -> None:
    cloud.cluster("todoapp")
    cloud.service("todoapp", "api", 2, target=(2, 6), **SCHEDULE)
    cloud.run(FRIDAY_EVENING)
    cloud.app = None
    inject(
        cloud,
        ("UpdateService", 1, FaultKind.THROTTLE),
        ("RegisterScalableTarget", 2, FaultKind.THROTTLE),
    )

    failed = cloud.run(MONDAY_MORNING)

    assert failed["items"][0]["outcome"] == "failed"
    assert parked_state(cloud, API_ARN) == "starting"
    cloud.app = None
    cloud.run(FIVE_MINUTES_LATER)
    assert cloud.service_capacity("todoapp", "api") == (2, 2, 6)
    assert cloud.parked() == {}


@pytest.mark.parametrize("name", event_names("scheduler"))
def test_every_event_fixture_gives_a_report_for_its_time(
    cloud: Cloud, stack: CoreStack, name: str
) -> None:
    event = load_event("scheduler", name)

    result = cloud.run(event)

    assert result["schema"] == "nightshift.report/v1"
    assert result["time"] == event["time"]
    assert result["dry_run"] is event.get("dry_run", False)
    assert len(result["items"]) == 10  # 3 services, db, cluster, member, 2 instances, group, prod
    expected = "stop" if name.startswith("evening") else "none"
    assert items_by_name(result)["api"]["action"] == expected


# -- API calls for 100 resources ------------------------------------------------------------


def build_fleet(cloud: Cloud) -> dict[str, int]:
    """100 scheduled resources: 40 ECS services in two clusters (each with a scalable target),
    20 RDS instances, 10 Aurora clusters (one untagged member each), 20 EC2 instances and 10
    Auto Scaling groups (no tag propagation)."""
    tags = {**SCHEDULE, "team": "todoapp"}
    for cluster in ("blue", "green"):
        for index in range(20):
            cloud.service(cluster, f"{cluster}-svc-{index:02d}", 1, target=(1, 3), **tags)
    for index in range(20):
        cloud.database(f"db-{index:02d}", **tags)
    for index in range(10):
        cloud.aurora(f"aurora-{index:02d}", members=0, **tags)
        cloud.rds.create_db_instance(
            DBInstanceIdentifier=f"aurora-{index:02d}-1",
            Engine="aurora-postgresql",
            DBInstanceClass="db.t4g.medium",
            DBClusterIdentifier=f"aurora-{index:02d}",
        )
    cloud.fleet.ec2_instances(20, tags)
    for index in range(10):
        cloud.group(f"asg-{index:02d}", 1, 1, 2, propagate=False, **tags)
    return {"ecs_per_cluster": 20, "clusters": 2, "resources": 100}


def count_calls(cloud: Cloud) -> Callable[[], Counter[str]]:
    """Count every API call of every client the handler uses (botocore before-call events)."""
    calls: Counter[str] = Counter()

    def counter(event_name: str, **_: Any) -> None:
        calls[event_name.split(".", 2)[2]] += 1

    for client in cloud.handler().clients().each():
        client.meta.events.register("before-call.*.*", counter)

    def taken() -> Counter[str]:
        snapshot = Counter(calls)
        calls.clear()
        return snapshot

    return taken


def test_api_calls_for_100_resources_stay_few_in_steady_state_and_are_batched_on_stop(
    cloud: Cloud, record_property: Callable[[str, object], None]
) -> None:
    fleet = build_fleet(cloud)
    write_policy(cloud.policy, max_stops=100)
    taken = count_calls(cloud)
    cloud.run("2026-11-20T09:00:00Z")  # Friday 10:00 in Berlin: all running, nothing to do
    taken()

    cloud.run("2026-11-20T09:05:00Z")
    steady = taken()
    cloud.run(FRIDAY_EVENING)
    full_stop = taken()
    cloud.run("2026-11-20T18:05:00Z")
    parked_steady = taken()

    # Every run reads the same few things whatever the number of resources: one tag sweep (90
    # resources carry the tag, 100 a page), the groups (the sweep does not return them), the
    # parked records and the last run. During the day, with nothing parked and nothing wanted
    # stopped, nothing else is read: no describe.
    every_run = {
        "GetResources": math.ceil(90 / 100),
        "DescribeAutoScalingGroups": 1,
        "Query": 1,
        "GetItem": 1,
    }
    assert steady == Counter({**every_run, "PutItem": 1})  # PutItem: last_run
    # When a resource is wanted stopped or is parked, it is described, in batches.
    batches = fleet["clusters"] * math.ceil(fleet["ecs_per_cluster"] / 10)
    reads = {
        **every_run,
        "DescribeServices": batches,
        "DescribeScalableTargets": 1,
        "DescribeDBInstances": 1,
        "DescribeDBClusters": 1,
        "DescribeInstances": 1,
    }
    assert parked_steady == Counter({**reads, "PutItem": 1})
    assert sum(steady.values()) == 5
    # A full stop goes in batches of 25 resources in the plan's order (compute by ARN: 10 groups,
    # 20 instances, 40 services; then 20 databases and 10 clusters): per batch one BatchWriteItem
    # of the STOPPING records before the first call and one of the PARKED records after the last,
    # one StopInstances for the batch's instances (20 in batches 1 and 2: 2 calls), one call per
    # switch for the other kinds, and one DescribeTaskDefinition per distinct task definition of
    # the services stopped (one per cluster here), to price them; nothing else.
    assert full_stop == Counter(
        {
            **reads,
            "DescribeTaskDefinition": fleet["clusters"],
            "RegisterScalableTarget": 40,
            "UpdateService": 40,
            "StopDBInstance": 20,
            "StopDBCluster": 10,
            "StopInstances": 2,
            "UpdateAutoScalingGroup": 10,
            "BatchWriteItem": 2 * math.ceil(100 / 25),
            "PutItem": 1,  # last_run
            "Publish": 1,
        }
    )
    record_property("steady_state_calls", sum(steady.values()))
    record_property("full_stop_calls", sum(full_stop.values()))


# -- the plan-schedule command ----------------------------------------------------------------


def plan_schedule_command() -> ModuleType:
    """tools/plan_schedule.py, loaded by path (scripts/plan-schedule runs it as a script)."""
    path = Path(__file__).resolve().parents[2] / "tools" / "plan_schedule.py"
    spec = importlib.util.spec_from_file_location("plan_schedule", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plan_schedule_prints_each_resources_week_and_next_run_reading_only(
    cloud: Cloud, stack: CoreStack
) -> None:
    cloud.run(FRIDAY_EVENING)
    clients = SchedulerClients.create()
    operations: Counter[str] = Counter()
    for client in clients.each():
        client.meta.events.register(
            "before-call.*.*", lambda event_name, **_: operations.update([event_name])
        )
    out = io.StringIO()

    arguments = ["--policy", str(cloud.policy), "--from", "2026-11-20T18:05:00Z", "--days", "4"]

    status = plan_schedule_command().main(
        [*arguments, "--state-table", TABLE],
        clients=clients,
        out=out,
    )

    assert status == 0
    text = out.getvalue()
    assert "ecs-service todoapp/api (office-hours, Europe/Berlin)\n" in text
    assert (
        "  next run: none: office-hours: outside its periods; next start 2026-11-23 07:30 CET; "
        "parked since 2026-11-20 19:00 CET\n"
        "  2026-11-23 07:30 CET   start  office-hours starts at 2026-11-23 07:30 CET"
    ) in text
    assert "stops at 2026-11-23 19:00 CET (period mon-fri 07:30-19:00) (saves 12.5 h)" in text
    assert "ecs-service todoapp/prod-api (office-hours)\n  next run: refuse: protected" in text
    assert {name.split(".")[-1] for name in operations} <= {
        "GetResources",
        "DescribeAutoScalingGroups",
        "DescribeServices",
        "DescribeScalableTargets",
        "DescribeDBInstances",
        "DescribeDBClusters",
        "DescribeInstances",
        "Query",
        "GetItem",
    }


def test_plan_schedule_json_lists_planned_actions_and_fails_cleanly_on_a_bad_policy(
    cloud: Cloud, stack: CoreStack, tmp_path: Path
) -> None:
    command = plan_schedule_command()
    out, err = io.StringIO(), io.StringIO()

    assert (
        command.main(
            ["--policy", str(cloud.policy), "--from", "2026-11-20T17:00Z", "--json", "--days", "1"],
            out=out,
        )
        == 0
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nschedules: {x: {timezone: Mars/Base}}\n", encoding="utf-8")
    assert command.main(["--policy", str(broken)], out=io.StringIO(), err=err) == 2

    planned = json.loads(out.getvalue())["planned"]
    api = [p for p in planned if p["resource"].endswith("service/todoapp/api")]
    assert [(p["action"], p["local"]) for p in api] == [("stop", "2026-11-20 19:00 CET")]
    assert err.getvalue().startswith("plan-schedule: ")
    assert "schedules.x" in err.getvalue()


def test_discovery_docstring_examples_hold() -> None:
    result = doctest.testmod(scheduled_resources, optionflags=doctest.NORMALIZE_WHITESPACE)

    assert result.attempted > 0
    assert result.failed == 0
