"""The scheduler as a hub (docs/organization.md) under moto: four accounts, two Regions.

- the hub (moto's default account): the state table and ops topic; not itself a target;
- staging (222222222222), a target in eu-central-1 and eu-west-1, with its spoke role;
- production (333333333333), a target marked `production: true`, with its spoke role and
  resources tagged to follow the same schedule (not tagged production: the target says it);
- sandbox (444444444444), a target whose account has no spoke role.

moto keeps accounts apart by the credentials of an assumed role, as AWS does; AssumeRole on a
missing role is refused as AWS does (tests/support/organization.py).

Every call the handler makes is judged (tests/functional/conftest.py): the hub's own calls against
its role in template.yaml (with OrganizationId set), the calls made through a spoke role against
that role as spoke.yaml makes it in the member account.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from iamjudge.pytest_plugin import JudgedCalls
from localcloud.fleet import Fleet
from tests.support.organization import (
    HUB,
    HUB_REGION,
    OTHER_REGION,
    PRODUCTION,
    SANDBOX,
    STAGING,
    TABLE,
    hub,
    in_account,
    run_in_hub,
)

ROLE = "nightshift-spoke-scheduler-staging"
SCHEDULE = {"nightshift:schedule": "office-hours", "Environment": "staging"}
FRIDAY_EVENING = "2026-11-20T18:00:00Z"  # 19:00 CET: office-hours stops
POLICY = f"""
version: 1
schedules:
  office-hours:
    timezone: Europe/Berlin
    periods: [{{days: mon-fri, start: "07:30", stop: "19:00"}}]
targets:
  max_concurrency: 4
  accounts:
    - {{account: "{STAGING}", name: staging, regions: [{HUB_REGION}, {OTHER_REGION}]}}
    - {{account: "{PRODUCTION}", name: production, production: true}}
    - {{account: "{SANDBOX}", name: sandbox}}
"""


@dataclass(frozen=True)
class AccountClients:
    """Clients of one member account and Region (the local cloud's fleet builds with these)."""

    session: boto3.Session

    def client(self, service: str) -> Any:
        return self.session.client(service)  # type: ignore[call-overload]


class Organization:
    """The four accounts, their spoke roles and their tagged services."""

    def __init__(self) -> None:
        self.fleets: dict[tuple[str, str], Fleet] = {}

    def fleet(self, account: str, region: str) -> Fleet:
        key = (account, region)
        if key not in self.fleets:
            self.fleets[key] = Fleet(AccountClients(in_account(account, region)))  # type: ignore[arg-type]
        return self.fleets[key]

    def spoke_role(self, account: str) -> None:
        in_account(account, HUB_REGION).client("iam").create_role(
            RoleName=ROLE,
            AssumeRolePolicyDocument=(
                '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
                f'{{"AWS": "arn:aws:iam::{HUB}:role/hub-scheduler"}}, "Action": "sts:AssumeRole"}}]}}'
            ),
        )

    def app(self, account: str, region: str) -> None:
        fleet = self.fleet(account, region)
        fleet.ecs_cluster("todoapp")
        fleet.ecs_service("todoapp", "api", 2, None, SCHEDULE)

    def desired(self, account: str, region: str) -> int:
        ecs = in_account(account, region).client("ecs")
        return int(
            ecs.describe_services(cluster="todoapp", services=["api"])["services"][0][
                "desiredCount"
            ]
        )


@pytest.fixture
def organization(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, iam_judge: JudgedCalls
) -> Iterator[Organization]:
    policy = tmp_path / "nightshift.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    extra = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
    with hub(monkeypatch, iam_judge, service="scheduler", policy=policy, extra=extra):
        made = Organization()
        for account in (STAGING, PRODUCTION):
            made.spoke_role(account)
        for account, region in [
            (STAGING, HUB_REGION),
            (STAGING, OTHER_REGION),
            (PRODUCTION, HUB_REGION),
            (SANDBOX, HUB_REGION),
        ]:
            made.app(account, region)
        yield made


def run(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = run_in_hub("scheduler", event)
    return result


def test_staging_is_parked_in_both_regions_production_untouched_a_missing_role_reported(
    organization: Organization,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = time.monotonic()
    report = run({"time": FRIDAY_EVENING})
    elapsed = time.monotonic() - started

    assert organization.desired(STAGING, HUB_REGION) == 0
    assert organization.desired(STAGING, OTHER_REGION) == 0
    assert organization.desired(PRODUCTION, HUB_REGION) == 2
    assert organization.desired(SANDBOX, HUB_REGION) == 2
    stopped = {item["resource"] for item in report["items"] if item["outcome"] == "done"}
    assert stopped == {
        f"arn:aws:ecs:{HUB_REGION}:{STAGING}:service/todoapp/api",
        f"arn:aws:ecs:{OTHER_REGION}:{STAGING}:service/todoapp/api",
    }
    assert not any(PRODUCTION in item["resource"] for item in report["items"])
    (error,) = report["errors"]
    assert error.startswith(f"sandbox {SANDBOX} {HUB_REGION}: not worked: AwsError: AssumeRole")
    assert "AccessDenied" in error
    assert report["summary"].startswith("3 targets: 2 worked, 1 failed")
    assert f"left out: production {PRODUCTION}: production" in report["summary"]
    # Measured for docs/organization.md (moto in-process, every call also judged: not AWS's
    # latency); printed, never asserted.
    worked = [
        (record.msg, getattr(record, "target", ""), getattr(record, "seconds", ""))
        for record in caplog.records
        if record.msg == "target worked"
    ]
    with capsys.disabled():
        sys.stdout.write(f"\nhub fan-out: 3 targets in {elapsed:.2f} s; per target: {worked}\n")


def test_the_parked_records_of_each_target_are_its_own(
    organization: Organization, iam_judge: JudgedCalls
) -> None:
    run({"time": FRIDAY_EVENING})
    # Read once for the run, not once a target: one Query of the parked records.
    assert [v.action for v in iam_judge.verdicts].count("dynamodb:Query") == 1
    items = boto3.client("dynamodb", region_name=HUB_REGION).query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "scheduler#parked"}},
    )["Items"]
    assert {item["sk"]["S"] for item in items} == {
        f"arn:aws:ecs:{HUB_REGION}:{STAGING}:service/todoapp/api",
        f"arn:aws:ecs:{OTHER_REGION}:{STAGING}:service/todoapp/api",
    }

    # A second run five minutes later finds each target's record its own, not an orphan.
    again = run({"time": "2026-11-20T18:05:00Z"})
    assert not [item for item in again["items"] if item["action"] == "orphaned"]
    assert organization.desired(STAGING, OTHER_REGION) == 0


def test_a_dry_run_plans_every_target_and_changes_nothing(organization: Organization) -> None:
    report = run({"time": FRIDAY_EVENING, "dry_run": True})

    assert report["dry_run"] is True
    assert {item["outcome"] for item in report["items"]} == {"planned"}
    assert organization.desired(STAGING, HUB_REGION) == 2
    assert organization.desired(STAGING, OTHER_REGION) == 2


def plan_schedule_command() -> ModuleType:
    """tools/plan_schedule.py, loaded by path (scripts/plan-schedule runs it as a script)."""
    path = Path(__file__).resolve().parents[2] / "tools" / "plan_schedule.py"
    spec = importlib.util.spec_from_file_location("plan_schedule_targets", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_plan_schedule_shows_the_plan_per_account_and_region(
    organization: Organization, tmp_path: Path
) -> None:
    out, err = io.StringIO(), io.StringIO()
    status = plan_schedule_command().main(
        [
            "--policy",
            str(tmp_path / "nightshift.yaml"),
            "--from",
            "2026-11-20T12:00Z",
            "--days",
            "1",
        ],
        out=out,
        err=err,
    )

    text = out.getvalue()
    assert status == 2  # the sandbox account could not be read
    assert f"left out: production {PRODUCTION}: production" in text
    for region in (HUB_REGION, OTHER_REGION):
        section = text.split(f"== staging {STAGING} {region} ==")[1].split("==")[0]
        assert "ecs-service todoapp/api (office-hours, Europe/Berlin)" in section
        assert "2026-11-20 19:00" in section
        assert " stop " in section
    assert f"== sandbox {SANDBOX} {HUB_REGION} ==\n  not planned: AwsError: AssumeRole" in text
    assert organization.desired(STAGING, HUB_REGION) == 2  # read-only
    assert "3 targets: 2 worked, 1 failed" in err.getvalue()
