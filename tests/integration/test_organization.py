"""Hub and spoke in the local cloud (docs/organization.md): three accounts, two Regions.

One moto server of the module's own (`MotoServer(organization=True)`: AssumeRole of a spoke role
that does not exist is refused, as AWS refuses it) holds:

- the operations hub, moto's default account: the built stack deployed with `OrganizationId`
  set, and the central ECR (`todoapp-backend`);
- staging (222222222222) and production (333333333333), each with `spoke.yaml` deployed by
  moto's CloudFormation in eu-central-1 (the hub's Region: the roles) and eu-west-1;
- a sandbox account (444444444444) without the spoke, named in the policy's targets.

The policy (written to tmp, given to the functions as NIGHTSHIFT_POLICY_FILE) targets staging in
both Regions, production (`production: true`) and the sandbox. The built SchedulerFunction and
RedeployFunction run under the Lambda RIE, as EventBridge Scheduler and the hub's ECR push rule
invoke them; every AWS call they make is judged (tools/iamjudge): the hub's own against its role
in the deployed stack, a call made through a spoke role against spoke.yaml's role in that account.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from localcloud import Project, Router
from localcloud.fleet import Capacity, Fleet
from localcloud.organization import (
    HUB,
    HUB_REGION,
    OTHER_REGION,
    PRODUCTION,
    REGIONS,
    STAGING,
    CentralRegistry,
    Organization,
    follower_service,
    service_image,
)
from localcloud.router import Delivery
from tests.integration.organization import (
    FRIDAY_EVENING,
    MONDAY_MORNING,
    SANDBOX,
    SCHEDULES,
    DeployedHub,
    deployed_hub,
)

pytestmark = pytest.mark.integration

CLUSTER = "todoapp"
POLICY = {**SCHEDULES, "redeploy": {"follow": {"main": "main-*"}}}


@dataclass
class Cloud:
    deployed: DeployedHub
    fleets: dict[tuple[str, str], Fleet]
    registry: CentralRegistry

    @property
    def organization(self) -> Organization:
        return self.deployed.organization

    @property
    def router(self) -> Router:
        return self.deployed.router

    def capacity(self, account: str, region: str) -> Capacity | None:
        (observed,) = self.fleets[(account, region)].observe().values()
        return observed.capacity

    def schedule_run(self, time: str) -> dict[str, Any]:
        (delivery,) = self.router.fire_schedule(self.deployed.schedule, time).deliveries
        assert delivery.result is not None, delivery.note
        assert not delivery.result.error, delivery.result.error_message + delivery.result.logs
        payload: dict[str, Any] = delivery.result.payload
        return payload

    def judged(self) -> list[dict[str, Any]]:
        return self.deployed.judged()


def published_reports(delivery: Delivery, function: str) -> list[dict[str, Any]]:
    """The reports of `function` the notifier read from the ops topic's queue while the router
    handled `delivery` (its destinations' drains), in the order they came."""
    reports = []
    pending = [delivery]
    while pending:
        current = pending.pop(0)
        pending.extend(current.follow_ups)
        for drain in current.drains:
            for batch in drain.batches:
                for record in batch.event["Records"]:
                    report = json.loads(json.loads(record["body"])["Message"])
                    if report.get("function") == function:
                        reports.append(report)
    return reports


@pytest.fixture(scope="module")
def cloud(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with deployed_hub(project, tmp_path_factory.mktemp("organization"), POLICY) as deployed:
        organization = deployed.organization
        homes = [(STAGING, HUB_REGION), (STAGING, OTHER_REGION), (PRODUCTION, HUB_REGION)]
        fleets = {home: deployed.office_api(*home) for home in homes}
        registry = CentralRegistry.create(organization.account(HUB, HUB_REGION), "todoapp-backend")
        for account, region in homes:
            follower_service(
                organization.account(account, region), registry, CLUSTER, "backend", "main"
            )
        yield Cloud(deployed, fleets, registry)


def test_the_spoke_is_deployed_in_each_member_account_and_region(cloud: Cloud) -> None:
    organization = cloud.organization
    assert set(organization.spokes) == {(a, r) for a in (STAGING, PRODUCTION) for r in REGIONS}
    for account in (STAGING, PRODUCTION):
        iam = organization.account(account, HUB_REGION).client("iam")
        for function in ("scheduler", "pruner", "redeploy"):
            name = organization.spoke_role_arn(account, function).rsplit("/", 1)[-1]
            assert iam.get_role(RoleName=name)["Role"]["Arn"].split(":")[4] == account
    # The hub's account holds no spoke role: it is not a target here.
    hub_roles = organization.account(HUB, HUB_REGION).client("iam").list_roles()["Roles"]
    assert not [role for role in hub_roles if role["RoleName"].startswith("nightshift-spoke-")]


def test_staging_parks_in_both_regions_production_untouched_sandbox_reported_start_restores(
    cloud: Cloud,
) -> None:
    evening = cloud.schedule_run(FRIDAY_EVENING)

    parked = Capacity(desired=0, minimum=0, maximum=0)
    assert cloud.capacity(STAGING, HUB_REGION) == parked
    assert cloud.capacity(STAGING, OTHER_REGION) == parked
    assert cloud.capacity(PRODUCTION, HUB_REGION) == Capacity(3, 2, 10)
    stopped = {
        i["resource"] for i in evening["items"] if (i["action"], i["outcome"]) == ("stop", "done")
    }
    assert stopped == {f"arn:aws:ecs:{region}:{STAGING}:service/office/api" for region in REGIONS}
    assert not [i for i in evening["items"] if f":{PRODUCTION}:" in i["resource"]]
    (error,) = evening["errors"]
    assert error.startswith(f"sandbox {SANDBOX} {HUB_REGION}: not worked: AwsError: AssumeRole")
    assert "AccessDenied" in error
    assert evening["summary"].startswith("3 targets: 2 worked, 1 failed")
    assert f"left out: production {PRODUCTION}: production" in evening["summary"]

    morning = cloud.schedule_run(MONDAY_MORNING)

    assert cloud.capacity(STAGING, HUB_REGION) == Capacity(3, 2, 10)
    assert cloud.capacity(STAGING, OTHER_REGION) == Capacity(3, 2, 10)
    assert cloud.capacity(PRODUCTION, HUB_REGION) == Capacity(3, 2, 10)
    started = {
        i["resource"] for i in morning["items"] if (i["action"], i["outcome"]) == ("start", "done")
    }
    assert started == stopped
    assert len(morning["errors"]) == 1  # the sandbox again, and only it

    judged = cloud.judged()
    assert judged, "no call was judged: install the IAM judge (make iam-judge)"
    assert {row["decision"] for row in judged} == {"Allowed"}
    scheduler = {row["action"] for row in judged if row["function"] == "scheduler"}
    assert {"sts:AssumeRole", "ecs:UpdateService", "tag:GetResources"} <= scheduler


def test_a_push_in_the_hub_registry_redeploys_staging_in_its_account_not_production(
    cloud: Cloud,
) -> None:
    digest, event = cloud.registry.push("main-4f1c2e7")

    # One attempt: Lambda would retry the failed invocation twice (the sandbox stays unreachable,
    # staging is found deployed already); the retries add nothing here but two cold starts.
    report = dataclasses.replace(cloud.router, async_retries=False).put_event(event)

    (delivery,) = report.deliveries
    assert cloud.organization.hub.function_for(delivery.target) == "RedeployFunction"
    pinned = f"{cloud.registry.uri}@{digest}"
    for region in REGIONS:
        staging = cloud.organization.account(STAGING, region)
        assert service_image(staging, CLUSTER, "backend") == pinned
    production = cloud.organization.account(PRODUCTION, HUB_REGION)
    assert service_image(production, CLUSTER, "backend") == f"{cloud.registry.uri}:main-0000000"
    # The sandbox (no spoke) fails the invocation, after staging was deployed and reported.
    assert delivery.result is not None
    assert delivery.result.error_type == "RedeployIncompleteError"
    assert (
        delivery.result.error_message
        == f"1 service(s) not redeployed: sandbox {SANDBOX} {HUB_REGION}"
    )
    (first,) = published_reports(delivery, "redeploy")
    outcomes = {item["resource"]: item for item in first["items"]}
    production_arn = f"arn:aws:ecs:{HUB_REGION}:{PRODUCTION}:service/{CLUSTER}/backend"
    assert outcomes[production_arn]["outcome"] == "skipped"
    assert "production target" in outcomes[production_arn]["reason"]
    for region in REGIONS:
        staging_arn = f"arn:aws:ecs:{region}:{STAGING}:service/{CLUSTER}/backend"
        assert outcomes[staging_arn]["outcome"] == "done"
    (error,) = first["errors"]
    assert error.startswith(f"sandbox {SANDBOX} {HUB_REGION}: not reached: AwsError: AssumeRole")
    assert "AccessDenied" in error
    redeploy = {row["action"] for row in cloud.judged() if row["function"] == "redeploy"}
    assert {"sts:AssumeRole", "ecs:RegisterTaskDefinition", "ecs:UpdateService"} <= redeploy
    assert {row["decision"] for row in cloud.judged()} == {"Allowed"}
