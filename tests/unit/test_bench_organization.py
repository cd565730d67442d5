"""The organization benchmark's pure parts (bench/organization.py, bench/fleets.py): the policy
it writes, the isolation check, the fan-out arithmetic, and its section of the page
(bench/report.py), from made-up results: no cloud, no timing."""

from __future__ import annotations

import doctest
from pathlib import Path
from typing import Any

import pytest

from bench import fleets, organization, report
from bench.fleets import OrganizationFleet
from nightshift.policy import load_policy


@pytest.mark.parametrize("module", [organization, fleets], ids=lambda m: m.__name__)
def test_doctests(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted
    assert not result.failed


def test_the_fleet_is_50_accounts_x_2_regions_x_100_resources() -> None:
    fleet = organization.organization_fleet(50, 100, without_role=1)

    assert len(fleet.targets()) == 100
    assert fleet.total == 10_000
    assert fleet.per_target.ecs_services == 40
    assert fleet.per_target.rds_instances == 20
    assert fleet.per_target.ec2_instances == 40
    assert fleet.without_role == ("210000000000",)
    assert OrganizationFleet.from_json(fleet.to_json()) == fleet


def test_the_policy_targets_every_account_and_region(tmp_path: Path) -> None:
    fleet = organization.organization_fleet(3, 100)

    path = organization.organization_policy(fleet, 8, tmp_path)

    targets = load_policy(path).targets
    assert targets is not None
    assert targets.max_concurrency == 8
    assert [entry.account for entry in targets.entries] == fleet.account_ids()
    assert all(entry.regions == fleet.regions for entry in targets.entries)


def inventory(fleet: OrganizationFleet, stopped: dict[str, int]) -> dict[str, int]:
    return {
        f"stopped {account} {region}": stopped.get(account, fleet.per_target.total)
        for account, region in fleet.targets()
    }


def test_isolation_holds_when_only_the_roleless_account_failed() -> None:
    fleet = organization.organization_fleet(3, 10, without_role=1)
    bad = fleet.without_role[0]
    errors = [f"{bad} {region}: not worked: AwsError: AccessDenied" for region in fleet.regions]

    held = organization.isolation(fleet, inventory(fleet, {bad: 0}), errors)

    assert held.problems == ()
    assert held.failed == tuple(f"{bad} {region}" for region in fleet.regions)
    assert held.finished == 4


def test_isolation_fails_when_another_target_failed_and_counts_the_unfinished() -> None:
    fleet = organization.organization_fleet(3, 10, without_role=1)
    bad, other = fleet.account_ids()[0], fleet.account_ids()[1]
    errors = [f"{bad} {region}: not worked: AwsError: AccessDenied" for region in fleet.regions]
    errors.append(f"{other} eu-west-1: stop failed: ThrottlingException")

    held = organization.isolation(fleet, inventory(fleet, {bad: 0, other: 3}), errors)

    assert held.unfinished == (f"{other} eu-central-1", f"{other} eu-west-1")
    assert held.finished == 2
    assert f"unexpected error: {other} eu-west-1: stop failed: ThrottlingException" in (
        held.problems
    )


def test_the_arithmetic_is_waves_of_the_bound() -> None:
    estimate = organization.fan_out_estimate(1500, 64, 11.2, timeout_s=120)

    assert estimate.run_s == pytest.approx(24 * 11.2)  # 1,500 / 64 = 23.4: 24 waves
    assert not estimate.within_timeout
    assert estimate.within_interval
    assert estimate.within_lambda
    assert estimate.most_targets_in_timeout == 9 * 64  # (120 s - 10 s) / 11.2 s: 9 waves


def results() -> dict[str, Any]:
    fleet = organization.organization_fleet(50, 100, without_role=1)

    def run(label: str, seconds: float, requests: int, stopped: int) -> dict[str, Any]:
        return {
            "label": label,
            "wall_s": seconds + 2,
            "run_s": seconds,
            "requests": requests,
            "hub_requests": 300,
            "target_requests": {"median": 112, "min": 110, "max": 115, "sum": 11_200},
            "report_errors": [
                f"210000000000 {region}: not worked: AwsError: AssumeRole failed with"
                " AccessDenied: User: x is not authorized"
                for region in fleet.regions
            ]
            if "without" in label
            else [],
            "stopped_after": stopped,
        }

    return {
        "fleet": organization.organization_fleet(50, 100).to_json(),
        "targets": 100,
        "resources": 10_000,
        "concurrency": 8,
        "budget_s": 120,
        "seeding_s": 150.0,
        "reseeding_s": 150.0,
        "steady": run("steady state", 60.0, 500, 0),
        "full_stop": [run("full stop #1", 100.0, 11_500, 10_000)],
        "one_failing": [run("full stop, one account without its role #1", 98.0, 11_300, 9_800)],
        "isolation": {
            "missing_role_in": ["210000000000"],
            "failed": ["210000000000 eu-central-1", "210000000000 eu-west-1"],
            "finished": 98,
        },
        "schedule_rate_s": 300.0,
        "lambda_limit_s": 900,
    }


def test_the_page_reports_the_runs_isolation_and_arithmetic() -> None:
    found = {"organization": results()}

    section = report.organization_section(found["organization"])
    summary = report.summary_section(found)

    assert "## 8. Organization: one hub, 50 accounts x 2 Regions" in section
    assert "**100 targets**" in section
    assert "`max_concurrency: 8`" in section
    assert "| full stop (19:05) | 102.0 s | 100.0 s | 11,500 | 300 | 112 (110-115) |" in section
    assert "**2 targets failed, 98 of the others stopped every\nresource**, the failed" in section
    # 1,500 targets: 15x the measured run here; 188 waves of 11.2 s at the shipped bound.
    assert "| as measured here | 1.00 s | 1 | 1500.0 s | no | no | no | 110 |" in section
    assert "| in AWS at 100 ms a request, 8 at a time | 11.2 s | 8 | 2105.6 s |" in section
    assert "works at most 72 targets within the Timeout, not 1,500" in section
    assert "8. organization full stop, 100 targets x 100 resources (1 round)" in summary
    assert "2 targets failed, 98 finished" in summary


def test_make_bench_runs_it() -> None:
    from bench import run

    assert "organization" in run.BENCHMARKS
    assert "organization" in run.ON_THE_CLOUD


def test_the_bench_cloud_counts_per_account_and_region_and_refuses_a_missing_spoke_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.exceptions import ClientError
    from moto.sts.models import STSBackend

    from bench.cloud import account_and_region
    from localcloud.inprocess import InProcessCloud

    monkeypatch.setattr(STSBackend, "assume_role", STSBackend.assume_role)  # undone after
    fleets.refuse_missing_spoke_roles()
    with InProcessCloud.start(aws_answers=False) as cloud:
        cloud.proxy.scope_of = account_and_region
        sts = cloud.endpoint.client("sts")
        seeder = sts.assume_role(
            RoleArn="arn:aws:iam::210000000001:role/bench-seeder", RoleSessionName="seed"
        )["Credentials"]
        member = (seeder["AccessKeyId"], seeder["SecretAccessKey"], seeder["SessionToken"])
        fleets.AccountClients(cloud.endpoint.url, "eu-central-1", member).client("iam").create_role(
            RoleName="nightshift-spoke-scheduler-bench", AssumeRolePolicyDocument="{}"
        )
        cloud.proxy.take_meter()

        sts.assume_role(
            RoleArn="arn:aws:iam::210000000001:role/nightshift-spoke-scheduler-bench",
            RoleSessionName="hub",
        )
        with pytest.raises(ClientError) as refused:
            sts.assume_role(
                RoleArn="arn:aws:iam::210000000002:role/nightshift-spoke-scheduler-bench",
                RoleSessionName="hub",
            )
        fleets.AccountClients(cloud.endpoint.url, "eu-west-1", member).client(
            "ec2"
        ).describe_instances()
        meter = cloud.proxy.take_meter()

    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "sts:AssumeRole on resource: arn:aws:iam::210000000002:role/" in str(refused.value)
    assert meter.scopes == {"123456789012 eu-central-1": 2, "210000000001 eu-west-1": 1}
