"""The pruner's handler under moto: a staging core stack with EBS, RDS and Aurora snapshot
histories, the state table and the ops topic, as the template would create them.

Three things moto cannot do are done at the botocore level, on the default boto3 session the
handler's clients are made from (a `before-call` handler that answers returns the response
botocore would have parsed, so the adapters' real error handling runs):
- moto does not implement DescribeLockedSnapshots: `Cloud.locked` answers it in AWS's shape;
- moto cannot put a snapshot in a state that refuses deletion: `Cloud.refuse` answers one
  snapshot's delete call with the error AWS returns (InvalidDBSnapshotState,
  InvalidDBClusterSnapshotStateFault, ...), only for the tests about that;
- moto returns disabled AMIs whether or not IncludeDisabled is set, so the test of a disabled AMI
  also checks that the adapter asks for disabled and deprecated AMIs.
Snapshot creation times come from moto's clock (`Cloud.at`), patched while a snapshot is made.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from nightshift.errors import EventError, PolicyError
from nightshift.retention import service
from tests.conftest import FakeLambdaContext, event_names, load_event, load_handler
from tests.support.nightshift import (
    OpsTopic,
    create_ops_topic,
    create_state_table,
    function_environment,
)

REGION = "eu-central-1"
EVENT_TIME = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
STAGING = [{"Key": "Environment", "Value": "staging"}]
POLICY = """
version: 1
protect: {tag: Environment, values: [production, prod]}
retention:
  - name: staging
    resources: [rds-snapshot, aurora-snapshot, ebs-snapshot]
    match: {tags: {Environment: staging}}
    keep: {last: 2, daily: 3}
pruner:
  max_delete_share: 0.9
"""
DELETE_OPERATIONS = {
    "DeleteSnapshot": "SnapshotId",
    "DeleteDBSnapshot": "DBSnapshotIdentifier",
    "DeleteDBClusterSnapshot": "DBClusterSnapshotIdentifier",
}


@dataclass
class Cloud:
    """The moto account the handler runs against, and what the tests steer or observe in it."""

    monkeypatch: pytest.MonkeyPatch
    policy_file: Path
    ops: OpsTopic
    locked: dict[str, str] = field(default_factory=dict)  # snapshot id -> LockState
    refuse: dict[str, str] = field(default_factory=dict)  # snapshot id -> error code of its delete
    delete_calls: list[str] = field(default_factory=list)  # every delete call, by snapshot id
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (operation, params)

    def __post_init__(self) -> None:
        self.ec2 = boto3.client("ec2")
        self.rds = boto3.client("rds")
        self.dynamodb = boto3.client("dynamodb")

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        """Resources moto creates inside this block carry `moment` as their creation time."""
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        with self.monkeypatch.context() as patch:
            patch.setattr("moto.ec2.models.elastic_block_store.utcnow", lambda: naive)
            patch.setattr("moto.rds.models.utcnow", lambda: naive)
            yield

    # ------------------------------------------------------------------------- building
    def ebs_history(self, days: int, tags: list[dict[str, str]] = STAGING, size: int = 50) -> str:
        """A volume with one snapshot a day at 02:00 UTC for `days` days; returns the volume id."""
        volume = self.ec2.create_volume(Size=size, AvailabilityZone=f"{REGION}a")["VolumeId"]
        for day in range(1, days + 1):
            self.ebs_snapshot(volume, days_ago=day, tags=tags)
        return volume

    def ebs_snapshot(
        self, volume: str, days_ago: float, tags: list[dict[str, str]] = STAGING
    ) -> str:
        with self.at(EVENT_TIME - timedelta(days=days_ago, hours=1)):
            return self.ec2.create_snapshot(
                VolumeId=volume,
                TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}],
            )["SnapshotId"]

    def ebs_copy(self, source: str, days_ago: float) -> str:
        with self.at(EVENT_TIME - timedelta(days=days_ago, hours=1)):
            copy = self.ec2.copy_snapshot(SourceSnapshotId=source, SourceRegion=REGION)
        self.ec2.create_tags(Resources=[copy["SnapshotId"]], Tags=STAGING)
        return copy["SnapshotId"]

    def rds_history(self, instance: str, days: int) -> None:
        """A PostgreSQL instance (with its automated snapshot) and a manual snapshot a day."""
        with self.at(EVENT_TIME - timedelta(days=days + 2)):
            self.rds.create_db_instance(
                DBInstanceIdentifier=instance,
                Engine="postgres",
                DBInstanceClass="db.t4g.micro",
                AllocatedStorage=20,
                MasterUsername="app",
                MasterUserPassword="correct-horse-battery",
                BackupRetentionPeriod=7,
            )
        for day in range(1, days + 1):
            with self.at(EVENT_TIME - timedelta(days=day, hours=1)):
                self.rds.create_db_snapshot(
                    DBInstanceIdentifier=instance,
                    DBSnapshotIdentifier=self.rds_name(instance, day),
                    Tags=STAGING,
                )

    def aurora_history(self, cluster: str, days: int) -> None:
        """An Aurora PostgreSQL cluster (with its automated snapshot) and a manual snapshot a day."""
        with self.at(EVENT_TIME - timedelta(days=days + 2)):
            self.rds.create_db_cluster(
                DBClusterIdentifier=cluster,
                Engine="aurora-postgresql",
                MasterUsername="app",
                MasterUserPassword="correct-horse-battery",
                BackupRetentionPeriod=7,
            )
        for day in range(1, days + 1):
            with self.at(EVENT_TIME - timedelta(days=day, hours=1)):
                self.rds.create_db_cluster_snapshot(
                    DBClusterIdentifier=cluster,
                    DBClusterSnapshotIdentifier=self.rds_name(cluster, day),
                    Tags=STAGING,
                )

    @staticmethod
    def rds_name(resource: str, days_ago: int) -> str:
        return f"{resource}-{(EVENT_TIME - timedelta(days=days_ago)):%Y-%m-%d}"

    def ami_snapshot(self, *, disabled: bool) -> tuple[str, str]:
        """An AMI made from an instance (moto snapshots its root volume); returns (ami, snap)."""
        instance = self.ec2.run_instances(
            ImageId="ami-0abcdef1234567890", MinCount=1, MaxCount=1, InstanceType="t4g.micro"
        )["Instances"][0]["InstanceId"]
        with self.at(EVENT_TIME - timedelta(days=40)):
            image = self.ec2.create_image(InstanceId=instance, Name="web-2026-10")["ImageId"]
        mapping = self.ec2.describe_images(ImageIds=[image])["Images"][0]["BlockDeviceMappings"]
        snapshot = mapping[0]["Ebs"]["SnapshotId"]
        self.ec2.create_tags(Resources=[snapshot], Tags=STAGING)
        if disabled:
            self.ec2.disable_image(ImageId=image)
        return image, snapshot

    def write_policy(self, text: str) -> None:
        self.policy_file.write_text(text, encoding="utf-8")

    # ------------------------------------------------------------------------- observing
    def ebs_ids(self) -> set[str]:
        snapshots = self.ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
        return {s["SnapshotId"] for s in snapshots}

    def rds_ids(self) -> set[str]:
        return {s["DBSnapshotIdentifier"] for s in self.rds.describe_db_snapshots()["DBSnapshots"]}

    def aurora_ids(self) -> set[str]:
        listed = self.rds.describe_db_cluster_snapshots()["DBClusterSnapshots"]
        return {s["DBClusterSnapshotIdentifier"] for s in listed}

    def reports(self) -> list[dict[str, Any]]:
        """Reports published to the ops topic since the last call, read from its SQS subscriber."""
        return self.ops.reports()

    def saved_cursor(self) -> dict[str, Any] | None:
        return self.dynamodb.get_item(
            TableName="nightshift-state", Key={"pk": {"S": "pruner#cursor"}, "sk": {"S": "cycle"}}
        ).get("Item")

    def requested(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.requests if name == operation]

    # ------------------------------------------------------------------------- botocore hooks
    def _answer_locks(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        snapshots = [{"SnapshotId": i, "LockState": s} for i, s in self.locked.items()]
        return AWSResponse("https://ec2.test", 200, {}, None), {"Snapshots": snapshots}

    def _on_delete(
        self, model: Any, params: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        snapshot_id = params["body"][DELETE_OPERATIONS[model.name]]
        self.delete_calls.append(snapshot_id)
        code = self.refuse.get(snapshot_id)
        if code is None:
            return None  # on to moto
        error = {"Error": {"Code": code, "Message": f"{snapshot_id} cannot be deleted now"}}
        return AWSResponse("https://aws.test", 400, {}, None), {
            **error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.requests.append((model.name, dict(params)))


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    policy_file = tmp_path / "nightshift.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    # A default session of our own: the hooks below must not outlive this test.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        boto3.setup_default_session()
        table = create_state_table(boto3.client("dynamodb", region_name=REGION), "nightshift-state")
        ops = create_ops_topic(
            boto3.client("sns", region_name=REGION),
            boto3.client("sqs", region_name=REGION),
            "nightshift-ops-staging",
        )
        function_environment(
            monkeypatch,
            service="pruner",
            policy_file=policy_file,
            table=table,
            topic_arn=ops.arn,
            region=REGION,
            extra={"MOTO_EC2_LOAD_DEFAULT_AMIS": "false", "NIGHTSHIFT_PRUNER_DRY_RUN": "false"},
        )
        made = Cloud(monkeypatch, policy_file, ops)
        events = boto3.DEFAULT_SESSION.events
        events.register("before-call.ec2.DescribeLockedSnapshots", made._answer_locks)
        for operation in DELETE_OPERATIONS:
            service = "ec2" if operation == "DeleteSnapshot" else "rds"
            events.register(f"before-call.{service}.{operation}", made._on_delete)
        events.register("before-parameter-build.*.*", made._record)
        yield made


@pytest.fixture
def staging(cloud: Cloud) -> dict[str, Any]:
    """A week of daily snapshots of one EBS volume, one RDS instance and one Aurora cluster:
    `keep: {last: 2, daily: 3}` keeps the newest three of each and deletes four."""
    volume = cloud.ebs_history(days=7)
    cloud.rds_history("orders-db", days=7)
    cloud.aurora_history("orders-aurora", days=7)
    return {"volume": volume}


@pytest.fixture
def handler(cloud: Cloud) -> ModuleType:
    return load_handler("pruner")


class RealTimeContext(FakeLambdaContext):
    """A Lambda context whose remaining time runs down with the real clock, as Lambda's does."""

    def __init__(self, remaining_ms: int = 900_000) -> None:
        super().__init__(remaining_ms=remaining_ms)
        self._started = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms - int((time.monotonic() - self._started) * 1000)


def run(
    handler: ModuleType,
    event: dict[str, Any] | str = "daily",
    context: FakeLambdaContext | None = None,
) -> dict[str, Any]:
    body = load_event("pruner", event) if isinstance(event, str) else event
    return handler.lambda_handler(body, context or RealTimeContext())


def emitted_metrics(out: str) -> dict[str, float]:
    """The EMF metrics Powertools printed, summed by name."""
    found: Counter[str] = Counter()
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "Nightshift"
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                found[metric["Name"]] += sum(value) if isinstance(value, list) else value
    return dict(found)


def items_by_resource(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["resource"]: item for item in report["items"]}


# --------------------------------------------------------------------------------- the tests
def test_daily_run_deletes_what_retention_no_longer_keeps_of_each_kind(
    cloud: Cloud,
    staging: dict[str, Any],
    handler: ModuleType,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(handler)

    kept_days = (1, 2, 3)
    assert len(cloud.ebs_ids()) == 3
    automated_rds = {s for s in cloud.rds_ids() if s.startswith("rds:orders-db-")}
    automated_aurora = {s for s in cloud.aurora_ids() if s.startswith("rds:orders-aurora-")}
    assert len(automated_rds) == len(automated_aurora) == 1, "automated snapshots stay"
    assert cloud.rds_ids() - automated_rds == {cloud.rds_name("orders-db", d) for d in kept_days}
    assert cloud.aurora_ids() - automated_aurora == {
        cloud.rds_name("orders-aurora", d) for d in kept_days
    }
    assert len(cloud.delete_calls) == 12

    [report] = cloud.reports()
    assert report == result
    assert report["function"] == "pruner"
    assert report["time"] == "2026-11-21T03:00:00Z"
    assert report["dry_run"] is False
    assert report["severity"] == "info"
    assert report["counts"]["done"] == 12
    assert report["counts"]["skipped"] == 2  # the automated RDS and Aurora snapshots
    totals = report["totals"]
    assert totals["deleted"] == 12
    assert totals["keep: last"] == 6
    assert totals["keep: daily"] == 3
    assert totals["protected: automated"] == 2
    # 4 x 50 GiB EBS + 4 x 20 GiB RDS + 4 x 1 GiB Aurora (moto's allocated storage)
    assert totals["deleted_gib"] == 284
    assert totals["monthly_savings_usd"] == round(4 * (50 * 0.05 + 20 * 0.095 + 0.021), 2)
    assert report["summary"].startswith("Deleted 12 of 12 planned snapshots (284.0 GiB")
    deleted = [item for item in report["items"] if item["action"] == "delete"]
    assert {item["outcome"] for item in deleted} == {"done"}
    assert {item["reason"] for item in deleted} == {"deleted"}

    assert emitted_metrics(capsys.readouterr().out) == {
        "SnapshotsDeleted": 12,
        "GiBDeleted": 284,
        "DeleteFailures": 0,
        "ApiThrottles": 0,
    }
    assert cloud.saved_cursor()["finished"] == {"BOOL": True}


def test_backup_dlm_retained_production_and_automated_snapshots_are_protected_with_reason(
    cloud: Cloud, handler: ModuleType
) -> None:
    volume = cloud.ebs_history(days=5)
    backup = cloud.ebs_snapshot(
        volume, 20, [*STAGING, {"Key": "aws:backup:source-resource", "Value": f"arn:{volume}"}]
    )
    dlm = cloud.ebs_snapshot(
        volume, 21, [*STAGING, {"Key": "aws:dlm:lifecycle-policy-id", "Value": "policy-0a1b"}]
    )
    retained = cloud.ebs_snapshot(
        volume, 22, [*STAGING, {"Key": "nightshift:retain", "Value": "True"}]
    )
    production = cloud.ebs_snapshot(volume, 23, [{"Key": "Environment", "Value": "prod"}])
    cloud.rds_history("billing-db", days=1)
    with cloud.at(EVENT_TIME - timedelta(days=30)):
        cloud.rds.create_db_snapshot(
            DBInstanceIdentifier="billing-db",
            DBSnapshotIdentifier="billing-db-backup-plan",
            Tags=[*STAGING, {"Key": "aws:backup:source-resource", "Value": "arn:billing-db"}],
        )

    report = run(handler)

    protected = {backup, dlm, retained, production, "billing-db-backup-plan"}
    assert protected <= cloud.ebs_ids() | cloud.rds_ids()
    assert not protected & set(cloud.delete_calls)
    reasons = {r: item["reason"] for r, item in items_by_resource(report).items()}
    assert reasons[backup] == "protected: AWS Backup"
    assert reasons["billing-db-backup-plan"] == "protected: AWS Backup"
    assert reasons[dlm] == "protected: DLM"
    assert reasons[retained] == "protected: retain tag"
    assert reasons[production] == "protected: production (Environment=prod)"
    automated = [r for r in reasons if r.startswith("rds:billing-db-")]
    assert [reasons[r] for r in automated] == ["protected: automated"]
    assert report["totals"]["deleted"] == 2  # vol's 4th and 5th day; billing-db keeps its one
    assert {i["outcome"] for i in report["items"] if i["action"] == "protect"} == {"skipped"}


def test_snapshot_of_a_disabled_ami_is_protected_and_disabled_amis_are_asked_for(
    cloud: Cloud, handler: ModuleType
) -> None:
    image, snapshot = cloud.ami_snapshot(disabled=True)
    # Newer copies of it share its lineage, so without the AMI it would be beyond retention.
    newer = [cloud.ebs_copy(snapshot, days_ago=d) for d in (1, 2, 3, 4)]

    report = run(handler)

    assert snapshot in cloud.ebs_ids()
    assert snapshot not in cloud.delete_calls
    assert items_by_resource(report)[snapshot]["reason"] == f"protected: in use by {image}"
    assert report["totals"]["deleted"] == 1  # the oldest of the four copies
    assert newer[3] not in cloud.ebs_ids()
    assert set(newer[:3]) <= cloud.ebs_ids()
    # moto lists disabled AMIs either way; AWS only when asked, so check that we ask.
    [describe_images] = cloud.requested("DescribeImages")
    assert describe_images["Owners"] == ["self"]
    assert describe_images["IncludeDisabled"] is True
    assert describe_images["IncludeDeprecated"] is True


def test_locked_ebs_snapshot_is_protected(cloud: Cloud, handler: ModuleType) -> None:
    volume = cloud.ebs_history(days=5)
    oldest = cloud.ebs_snapshot(volume, days_ago=30)
    expired = cloud.ebs_snapshot(volume, days_ago=31)
    cloud.locked = {oldest: "compliance-cooloff", expired: "expired"}

    report = run(handler)

    items = items_by_resource(report)
    assert items[oldest]["reason"] == "protected: locked"
    assert oldest in cloud.ebs_ids()
    assert items[expired]["outcome"] == "done"  # an expired lock no longer protects
    assert expired not in cloud.ebs_ids()


def test_snapshots_in_a_state_that_refuses_deletion_fail_alone_with_their_own_codes(
    cloud: Cloud,
    staging: dict[str, Any],
    handler: ModuleType,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stuck_instance = cloud.rds_name("orders-db", 6)
    stuck_cluster = cloud.rds_name("orders-aurora", 5)
    cloud.refuse = {
        stuck_instance: "InvalidDBSnapshotState",
        stuck_cluster: "InvalidDBClusterSnapshotStateFault",
    }

    report = run(handler)

    items = items_by_resource(report)
    assert items[stuck_instance]["outcome"] == "failed"
    assert items[stuck_instance]["details"]["code"] == "InvalidDBSnapshotState"
    assert "DeleteDBSnapshot failed with InvalidDBSnapshotState" in items[stuck_instance]["reason"]
    assert items[stuck_cluster]["outcome"] == "failed"
    assert items[stuck_cluster]["details"]["code"] == "InvalidDBClusterSnapshotStateFault"
    assert {stuck_instance} == cloud.rds_ids() & {cloud.rds_name("orders-db", d) for d in (6,)}
    assert stuck_cluster in cloud.aurora_ids()
    # the failures did not stop the rest: every other planned deletion went through
    assert report["totals"]["deleted"] == 10
    assert report["totals"]["failed"] == 2
    assert report["severity"] == "critical"
    assert report["summary"].startswith("Deleted 10 of 12 planned snapshots")
    assert report["summary"].endswith("2 failed; keep 9, protect 2.")
    assert emitted_metrics(capsys.readouterr().out)["DeleteFailures"] == 2
    cursor = cloud.saved_cursor()
    assert cursor["failed_count"] == {"N": "2"}


def test_snapshot_already_gone_when_deleted_counts_as_done(
    cloud: Cloud, staging: dict[str, Any], handler: ModuleType
) -> None:
    gone = cloud.rds_name("orders-aurora", 7)
    cloud.refuse = {gone: "DBClusterSnapshotNotFoundFault"}

    report = run(handler)

    item = items_by_resource(report)[gone]
    assert item["outcome"] == "done"
    assert item["reason"] == "already deleted (DBClusterSnapshotNotFoundFault)"
    assert report["totals"]["deleted"] == 12
    assert report["totals"]["failed"] == 0


def test_dry_run_event_deletes_nothing_and_reports_the_plan(
    cloud: Cloud,
    staging: dict[str, Any],
    handler: ModuleType,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = (cloud.ebs_ids(), cloud.rds_ids(), cloud.aurora_ids())

    report = run(handler, "daily-dry-run")

    assert (cloud.ebs_ids(), cloud.rds_ids(), cloud.aurora_ids()) == before
    assert cloud.delete_calls == []
    assert report["dry_run"] is True
    assert report["counts"]["planned"] == 12
    assert report["summary"].startswith("Plan: delete 12 of 23 snapshots (284.0 GiB")
    assert report["totals"]["planned_gib"] == 284
    assert cloud.saved_cursor() is None
    assert emitted_metrics(capsys.readouterr().out)["SnapshotsDeleted"] == 0
    assert cloud.reports() == [report]


@pytest.mark.parametrize(
    ("deployment_dry_run", "policy_dry_run"),
    [("true", "false"), ("false", "true")],
    ids=["new-deployment-default", "policy-forces-it"],
)
def test_deployment_or_policy_dry_run_makes_a_scheduled_run_delete_nothing(
    cloud: Cloud,
    staging: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    deployment_dry_run: str,
    policy_dry_run: str,
) -> None:
    monkeypatch.setenv("NIGHTSHIFT_PRUNER_DRY_RUN", deployment_dry_run)
    cloud.write_policy(POLICY + f"  dry_run: {policy_dry_run}\n")

    report = run(load_handler("pruner"), "daily")

    assert cloud.delete_calls == []
    assert report["dry_run"] is True
    assert report["counts"]["planned"] == 12


class DeadlineContext(FakeLambdaContext):
    """A Lambda context whose remaining time drops by 10 s with every delete call (and not
    otherwise: the pacers never wait here, their buckets are far from empty)."""

    def __init__(self, cloud: Cloud, remaining_ms: int) -> None:
        super().__init__(remaining_ms=remaining_ms)
        self._cloud = cloud
        self._calls_before = len(cloud.delete_calls)

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms - 10_000 * (len(self._cloud.delete_calls) - self._calls_before)


def test_run_stops_before_the_deadline_and_the_next_run_resumes_without_deleting_twice(
    cloud: Cloud, staging: dict[str, Any], handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The context's clock moves 10 s per call, as calls made one after another would; deletions
    # running side by side are the unit tier's (test_retention_apply.py, "concurrent").
    monkeypatch.setattr(service, "DELETE_WORKERS", 1)
    oldest_ebs = sorted(
        cloud.ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"], key=lambda s: s["StartTime"]
    )[0]["SnapshotId"]
    cloud.refuse = {oldest_ebs: "InvalidSnapshot.InUse"}

    # 60 s left, 30 s held in reserve: three deletions of 10 s each fit, the fourth does not.
    first = run(handler, "daily", DeadlineContext(cloud, remaining_ms=60_000))

    assert len(cloud.delete_calls) == 3
    assert first["totals"]["deleted"] + first["totals"]["failed"] == 3
    assert first["totals"]["deferred"] == 9
    assert "9 deferred to the next run" in first["summary"]
    deferred = [i for i in first["items"] if i["outcome"] == "skipped" and i["action"] == "delete"]
    assert len(deferred) == 9
    saved = cloud.saved_cursor()
    assert saved["finished"] == {"BOOL": False}
    assert saved["cycle"] == {"S": "2026-11-21T03:00:00Z"}

    # The next day's run continues the unfinished cycle: the failed deletion is not retried.
    next_day = {"time": "2026-11-22T03:00:00Z"}
    second = run(handler, next_day, DeadlineContext(cloud, remaining_ms=900_000))

    assert Counter(cloud.delete_calls).most_common(1)[0][1] == 1, "no snapshot deleted twice"
    assert oldest_ebs in cloud.ebs_ids()
    assert items_by_resource(second)[oldest_ebs]["reason"].startswith(
        "not retried in this cycle: failed earlier with InvalidSnapshot.InUse"
    )
    assert cloud.saved_cursor()["finished"] == {"BOOL": True}
    assert cloud.saved_cursor()["cycle"] == {"S": "2026-11-21T03:00:00Z"}

    # The cycle is finished, so the run after that starts a new one and retries the failure.
    cloud.refuse = {}
    run(handler, {"time": "2026-11-23T03:00:00Z"})
    assert oldest_ebs not in cloud.ebs_ids()
    assert Counter(cloud.delete_calls)[oldest_ebs] == 2
    assert cloud.saved_cursor()["cycle"] == {"S": "2026-11-23T03:00:00Z"}


def test_circuit_breaker_refuses_a_plan_deleting_too_large_a_share(
    cloud: Cloud, staging: dict[str, Any], handler: ModuleType
) -> None:
    cloud.write_policy(POLICY.replace("max_delete_share: 0.9", "max_delete_share: 0.5"))

    report = run(load_handler("pruner"))

    assert cloud.delete_calls == []
    assert report["counts"]["refused"] == 12
    assert report["severity"] == "critical"
    [error] = report["errors"]
    assert error.startswith("circuit breaker: the plan deletes 12 of 21 governed snapshots (57%)")


def test_policy_without_retention_rules_deletes_nothing_and_says_so_quietly(
    cloud: Cloud, staging: dict[str, Any]
) -> None:
    cloud.write_policy("version: 1\nprotect: {tag: Environment, values: [prod]}\n")

    report = run(load_handler("pruner"))

    assert cloud.delete_calls == []
    assert report["summary"] == (
        "Nothing deleted, the policy has no retention rules, so the pruner deletes nothing;"
        " keep 21, protect 2."
    )
    assert report["errors"] == []
    assert report["severity"] == "info"


def test_throttled_rds_listing_page_is_retried_by_the_pacer_not_lost(
    cloud: Cloud,
    handler: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cloud.rds_history("orders-db", days=4)
    monkeypatch.setattr(handler.random, "random", lambda: 0.0)  # no back-off wait in the test
    throttled = []

    def throttle_once(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if throttled:
            return None
        throttled.append(True)
        error = {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}
        return AWSResponse("https://rds.test", 400, {}, None), error

    boto3.DEFAULT_SESSION.events.register("before-call.rds.DescribeDBSnapshots", throttle_once)

    report = run(handler)

    assert throttled == [True]
    assert report["totals"]["snapshots"] == 5  # four manual, one automated: none lost
    assert report["totals"]["deleted"] == 1
    assert emitted_metrics(capsys.readouterr().out)["ApiThrottles"] == 1
    rds_pages = cloud.requested("DescribeDBSnapshots")
    assert len(rds_pages) == 3  # the throttled page, its retry, and the AWS Backup listing
    assert all(page["MaxRecords"] == 100 for page in rds_pages)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_policy_that_cannot_be_loaded_deletes_nothing_reports_and_raises(
    cloud: Cloud, staging: dict[str, Any], handler: ModuleType
) -> None:
    cloud.write_policy(POLICY.replace("keep: {last: 2, daily: 3}", "keep: {last: 0}"))

    with pytest.raises(PolicyError, match=r"retention\[0\]\.keep: keeps nothing"):
        run(handler)

    assert cloud.delete_calls == []
    [report] = cloud.reports()
    assert report["severity"] == "critical"
    assert report["summary"] == "Nothing deleted: the pruner could not make a plan."
    assert "keeps nothing" in report["errors"][0]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_event_without_a_time_is_rejected(handler: ModuleType) -> None:
    with pytest.raises(EventError, match="needs"):
        run(handler, {"dry_run": True})


@pytest.mark.parametrize("name", event_names("pruner"))
def test_every_event_fixture_plans_from_the_schedules_time(
    cloud: Cloud, staging: dict[str, Any], handler: ModuleType, name: str
) -> None:
    event = load_event("pruner", name)

    report = run(handler, name)

    assert report["time"] == event["time"]
    assert report["dry_run"] is event.get("dry_run", False)
    assert report["totals"]["snapshots"] == 23
    assert cloud.reports() == [report]
