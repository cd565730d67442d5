"""The pruner as a hub (docs/organization.md) under moto: four accounts, two Regions.

- the hub (moto's default account): the state table (the targets' cursors) and the ops topic;
  not itself a target;
- staging (222222222222), a target in eu-central-1 and eu-west-1, with its pruner spoke role and
  a week of daily EBS snapshots in each Region (`keep: {last: 2, daily: 3}` deletes four);
- production (333333333333), a target marked `production: true`, with its spoke role and the
  same history, tagged like staging's (the target, not a tag, says it is production);
- sandbox (444444444444), a target whose account has no spoke role.

moto does not implement DescribeLockedSnapshots: as in test_pruner.py, a botocore before-call hook
answers it in AWS's shape (no locks), here on each target's session as the hub makes it.

Every call the handler makes is judged (tests/functional/conftest.py): the hub's own calls
against its role in template.yaml (OrganizationId set), the calls made through a spoke role
against that role as spoke.yaml makes it in the member account.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from iamjudge.pytest_plugin import JudgedCalls
from localcloud.declared import OpsTopic
from nightshift.adapters.target_sessions import TargetSessions
from nightshift.fanout import WorkItem
from tests.support.organization import (
    HUB_REGION,
    OTHER_REGION,
    PRODUCTION,
    SANDBOX,
    STAGING,
    TABLE,
    hub,
    in_account,
    run_in_hub,
    spoke_role,
)

ROLE = "nightshift-spoke-pruner-staging"
RUN_TIME = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
TAGS = [{"Key": "Environment", "Value": "staging"}]
POLICY = f"""
version: 1
protect: {{tag: Environment, values: [production, prod]}}
retention:
  - name: staging
    resources: [ebs-snapshot]
    match: {{tags: {{Environment: staging}}}}
    keep: {{last: 2, daily: 3}}
pruner:
  max_delete_share: 0.9
targets:
  max_concurrency: 4
  accounts:
    - {{account: "{STAGING}", name: staging, regions: [{HUB_REGION}, {OTHER_REGION}]}}
    - {{account: "{PRODUCTION}", name: production, production: true}}
    - {{account: "{SANDBOX}", name: sandbox}}
"""


class Organization:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, ops: OpsTopic) -> None:
        self.monkeypatch = monkeypatch
        self.ops = ops

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        """Snapshots moto creates inside this block carry `moment` as their creation time."""
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        with self.monkeypatch.context() as patch:
            patch.setattr("moto.ec2.models.elastic_block_store.utcnow", lambda: naive)
            yield

    def history(self, account: str, region: str, days: int = 7) -> list[str]:
        """A volume with one snapshot a day for `days` days; the snapshot ids, newest first."""
        ec2 = in_account(account, region).client("ec2")
        volume = ec2.create_volume(Size=20, AvailabilityZone=f"{region}a")["VolumeId"]
        made = []
        for day in range(1, days + 1):
            with self.at(RUN_TIME - timedelta(days=day, hours=1)):
                made.append(
                    ec2.create_snapshot(
                        VolumeId=volume,
                        TagSpecifications=[{"ResourceType": "snapshot", "Tags": TAGS}],
                    )["SnapshotId"]
                )
        return made

    def snapshots(self, account: str, region: str) -> set[str]:
        ec2 = in_account(account, region).client("ec2")
        return {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}


@pytest.fixture
def organization(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, iam_judge: JudgedCalls
) -> Iterator[Organization]:
    policy = tmp_path / "nightshift.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    answering_locks(monkeypatch)
    extra = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false", "NIGHTSHIFT_PRUNER_DRY_RUN": "false"}
    with hub(monkeypatch, iam_judge, service="pruner", policy=policy, extra=extra) as ops:
        for account in (STAGING, PRODUCTION):
            spoke_role(account, ROLE)
        yield Organization(monkeypatch, ops)


def no_locks(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """AWS's answer to DescribeLockedSnapshots in an account without snapshot locks."""
    return AWSResponse("https://ec2.test", 200, {}, None), {"Snapshots": []}


def answering_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each target's session (TargetSessions.session) answers DescribeLockedSnapshots."""
    made = TargetSessions.session

    def session(self: TargetSessions, item: WorkItem) -> boto3.Session:
        found = made(self, item)
        found.events.register("before-call.ec2.DescribeLockedSnapshots", no_locks)
        return found

    monkeypatch.setattr(TargetSessions, "session", session)


def run(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = run_in_hub("pruner", event)
    return result


def test_staging_is_pruned_in_both_regions_production_never_a_missing_role_reported(
    organization: Organization,
) -> None:
    staging = {
        region: organization.history(STAGING, region) for region in (HUB_REGION, OTHER_REGION)
    }
    production = organization.history(PRODUCTION, HUB_REGION)
    organization.history(SANDBOX, HUB_REGION)

    report = run({"time": "2026-11-21T03:00:00Z"})

    for region, made in staging.items():
        # The newest three stay (last 2, and the daily 3 overlap them); four are deleted.
        assert organization.snapshots(STAGING, region) == set(made[:3])
    assert organization.snapshots(PRODUCTION, HUB_REGION) == set(production)
    deleted = [item for item in report["items"] if item["outcome"] == "done"]
    assert {(i["details"]["account"], i["details"]["region"]) for i in deleted} == {
        (STAGING, HUB_REGION),
        (STAGING, OTHER_REGION),
    }
    assert {i["resource"] for i in deleted} == set(staging[HUB_REGION][3:]) | set(
        staging[OTHER_REGION][3:]
    )
    assert report["totals"]["deleted"] == 8
    (error,) = report["errors"]
    assert error.startswith(f"sandbox {SANDBOX} {HUB_REGION}: not worked: AwsError: AssumeRole")
    assert "AccessDenied" in error
    assert report["summary"].startswith("3 targets: 2 worked, 1 failed")
    assert f"left out: production {PRODUCTION}: production" in report["summary"]
    # One report for the run, published once.
    (published,) = organization.ops.reports()
    assert published["summary"] == report["summary"]


def test_each_target_keeps_its_own_cursor_in_the_hubs_table(organization: Organization) -> None:
    for region in (HUB_REGION, OTHER_REGION):
        organization.history(STAGING, region)

    run({"time": "2026-11-21T03:00:00Z"})

    items = boto3.client("dynamodb", region_name=HUB_REGION).query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "pruner#cursor"}},
    )["Items"]
    assert {item["sk"]["S"] for item in items} == {
        f"cycle#{STAGING}#{HUB_REGION}",
        f"cycle#{STAGING}#{OTHER_REGION}",
    }
    assert all(item["finished"]["BOOL"] for item in items)


def test_a_dry_run_plans_every_target_and_deletes_nothing(organization: Organization) -> None:
    made = organization.history(STAGING, OTHER_REGION)

    report = run({"time": "2026-11-21T03:00:00Z", "dry_run": True})

    assert report["dry_run"] is True
    assert organization.snapshots(STAGING, OTHER_REGION) == set(made)
    planned = {i["resource"] for i in report["items"] if i["outcome"] == "planned"}
    assert planned == set(made[3:])


def plan_prune_command() -> ModuleType:
    """scripts/plan-prune, loaded by path (a script without a .py suffix)."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "plan-prune"
    loader = importlib.machinery.SourceFileLoader("plan_prune_targets", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_plan_prune_shows_the_plan_per_account_and_region(
    organization: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = {region: organization.history(STAGING, region) for region in (HUB_REGION, OTHER_REGION)}
    production = organization.history(PRODUCTION, HUB_REGION)

    status = plan_prune_command().main(
        ["--policy", str(tmp_path / "nightshift.yaml"), "--at", "2026-11-21T03:00:00Z", "--json"]
    )

    printed = capsys.readouterr()
    document = json.loads(printed.out)
    assert status == 1  # the sandbox account could not be read
    assert document["left_out"] == [
        f"production {PRODUCTION}: production: the pruner never acts there"
    ]
    for region, snapshots in made.items():
        plan = document["targets"][f"staging {STAGING} {region}"]
        deletes = {d["resource"] for d in plan["decisions"] if d["action"] == "delete"}
        assert deletes == set(snapshots[3:])
    assert document["targets"][f"sandbox {SANDBOX} {HUB_REGION}"]["error"].startswith(
        "AwsError: AssumeRole"
    )
    assert "3 targets: 2 worked, 1 failed" in printed.err
    assert organization.snapshots(STAGING, HUB_REGION) == set(made[HUB_REGION])  # read-only
    assert organization.snapshots(PRODUCTION, HUB_REGION) == set(production)
