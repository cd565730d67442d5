"""Central ECR (docs/organization.md, docs/redeploy.md) under moto: a push in the hub's ECR (the
shared-services registry) redeploys the services that follow it in the target accounts.

- the hub (moto's default account, eu-central-1): the registry the push comes from, the state
  table (idempotency, deployed pushes) and the ops topic;
- staging (222222222222), a target in eu-central-1 and eu-west-1, its API following `main`;
- production (333333333333), a target marked `production: true`, its API following any tag
  (`*`) and not tagged Environment=production: the target alone gates it to release versions;
- sandbox (444444444444), a target without a spoke role (one test only).

Each member account's task definitions run the hub registry's image. Every call is judged
(tests/functional/conftest.py): the hub's own against its role in template.yaml (OrganizationId
set), the calls made through a spoke role against spoke.yaml's role in that account.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from iamjudge.pytest_plugin import JudgedCalls
from localcloud.declared import OpsTopic
from nightshift.redeploy.outcome import RedeployIncompleteError
from tests.conftest import load_event
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
    spoke_role,
)

ROLE = "nightshift-spoke-redeploy-staging"
IMAGE = f"{HUB}.dkr.ecr.{HUB_REGION}.amazonaws.com/todoapp-backend"
CLUSTER, SERVICE = "todoapp", "api"
POLICY = f"""
version: 1
protect: {{tag: Environment, values: [production, prod]}}
redeploy:
  follow: {{main: "main-*", any: "*"}}
targets:
  accounts:
    - {{account: "{STAGING}", name: staging, regions: [{HUB_REGION}, {OTHER_REGION}]}}
    - {{account: "{PRODUCTION}", name: production, production: true}}
"""
SANDBOX_ENTRY = f'    - {{account: "{SANDBOX}", name: sandbox}}\n'


def app(account: str, region: str, follows: str) -> None:
    """The backend in `account` and `region`, running the hub registry's image, following
    `follows`."""
    ecs = in_account(account, region).client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    definition = ecs.register_task_definition(
        family="todoapp-backend",
        taskRoleArn=f"arn:aws:iam::{account}:role/todoapp-core-BackendTaskRole-Q2RNQYDL0HK1",
        executionRoleArn=f"arn:aws:iam::{account}:role/todoapp-core-BackendExecRole-7KXM3FZ1",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="1024",
        containerDefinitions=[
            {"name": "app", "image": f"{IMAGE}:main-1a2b3c4", "essential": True},
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        tags=[{"key": "nightshift:redeploy", "value": follows}],
    )


def image_of(account: str, region: str) -> str:
    ecs = in_account(account, region).client("ecs")
    service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    return str(definition["taskDefinition"]["containerDefinitions"][0]["image"])


def push(tag: str, digest: str, event_id: str) -> dict[str, Any]:
    """The ECR push fixture, from the hub's registry."""
    event = copy.deepcopy(load_event("redeploy", "ecr-push"))
    event.update(id=event_id, account=HUB, region=HUB_REGION)
    event["detail"].update({"image-tag": tag, "image-digest": digest})
    return event


def run(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = run_in_hub("redeploy", event, request_id=event["id"])
    return result


@pytest.fixture
def ops(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, iam_judge: JudgedCalls
) -> Iterator[OpsTopic]:
    policy = tmp_path / "nightshift.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    with hub(monkeypatch, iam_judge, service="redeploy", policy=policy) as topic:
        for account in (STAGING, PRODUCTION):
            spoke_role(account, ROLE)
        app(STAGING, HUB_REGION, "main")
        app(STAGING, OTHER_REGION, "main")
        app(PRODUCTION, HUB_REGION, "any")
        yield topic


MAIN = "sha256:" + "1" * 64
RELEASE = "sha256:" + "2" * 64


def test_a_hub_push_redeploys_staging_in_its_account_production_only_for_a_release(
    ops: OpsTopic,
) -> None:
    report = run(push("main-4f1c2e7", MAIN, "e-main"))

    for region in (HUB_REGION, OTHER_REGION):
        assert image_of(STAGING, region) == f"{IMAGE}@{MAIN}"
    assert image_of(PRODUCTION, HUB_REGION) == f"{IMAGE}:main-1a2b3c4"
    outcomes = {item["resource"]: (item["outcome"], item["reason"]) for item in report["items"]}
    production = f"arn:aws:ecs:{HUB_REGION}:{PRODUCTION}:service/{CLUSTER}/{SERVICE}"
    assert outcomes[production][0] == "skipped"  # gated, as a production service is
    assert "production service (a production target)" in outcomes[production][1]
    assert outcomes[f"arn:aws:ecs:{OTHER_REGION}:{STAGING}:service/{CLUSTER}/{SERVICE}"][0] == (
        "done"
    )
    assert report["errors"] == []
    (published,) = ops.reports()
    assert published["run_id"] == report["run_id"]

    released = run(push("v1.4.0", RELEASE, "e-release"))

    assert image_of(PRODUCTION, HUB_REGION) == f"{IMAGE}@{RELEASE}"
    assert {i["resource"]: i["outcome"] for i in released["items"]}[production] == "done"


def test_each_service_gets_a_digest_once_however_often_the_push_is_delivered(
    ops: OpsTopic,
) -> None:
    first = run(push("main-4f1c2e7", MAIN, "e-1"))
    staging = in_account(STAGING, HUB_REGION).client("ecs")
    revisions = staging.list_task_definitions(familyPrefix="todoapp-backend")["taskDefinitionArns"]

    again = run(push("main-4f1c2e7", MAIN, "e-1"))  # EventBridge delivers the same event again

    assert again == first  # Powertools idempotency: the stored result
    after = staging.list_task_definitions(familyPrefix="todoapp-backend")["taskDefinitionArns"]
    assert after == revisions
    # The same push under another event id (CI re-sent it): the same push key, the same answer.
    assert run(push("main-4f1c2e7", MAIN, "e-2")) == first
    assert (
        staging.list_task_definitions(familyPrefix="todoapp-backend")["taskDefinitionArns"]
        == revisions
    )
    pushes = boto3.client("dynamodb", region_name=HUB_REGION).query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "redeploy#last-push"}},
    )["Items"]
    assert {item["sk"]["S"] for item in pushes} >= {
        f"arn:aws:ecs:{region}:{STAGING}:service/{CLUSTER}/{SERVICE}"
        for region in (HUB_REGION, OTHER_REGION)
    }


def test_a_target_without_its_spoke_role_is_reported_the_others_deployed(
    ops: OpsTopic, tmp_path: Path
) -> None:
    (tmp_path / "nightshift.yaml").write_text(POLICY + SANDBOX_ENTRY, encoding="utf-8")

    with pytest.raises(RedeployIncompleteError, match=f"sandbox {SANDBOX} {HUB_REGION}"):
        run(push("main-4f1c2e7", MAIN, "e-sandbox"))

    assert image_of(STAGING, HUB_REGION) == f"{IMAGE}@{MAIN}"
    (published,) = ops.reports()
    (error,) = published["errors"]
    assert error.startswith(f"sandbox {SANDBOX} {HUB_REGION}: not reached: AwsError: AssumeRole")
