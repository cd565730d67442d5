"""The hub and spoke local cloud (docs/organization.md): one moto server playing three accounts in
two Regions.

- the operations hub: moto's default account (123456789012), where the hub stack is deployed
  with `OrganizationId` set, and whose ECR is the central registry;
- staging (222222222222) and production (333333333333): member accounts, each with the spoke
  (`spoke.yaml`) deployed by moto's CloudFormation in both Regions (eu-central-1, the hub's
  Region, creates the roles; eu-west-1 only the event forwarding), with the hub stack's outputs
  as its parameters, exactly as `aws cloudformation deploy` would in each account and Region.

moto keeps accounts apart by the credentials of an assumed role, as AWS does: the local cloud
reaches a member account through `OrganizationAccountAccessRole` (the role AWS Organizations
creates in an account it makes), the hub's functions through their spoke roles. The server is
`MotoServer(organization=True)`: it refuses AssumeRole of a spoke role that does not exist, as
AWS does (localcloud.moto_main), so an account without the spoke is a target that fails.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud.errors import LocalCloudError
from localcloud.example_app import build_image, image_action_event
from localcloud.project import Project
from localcloud.server import FAKE_CREDENTIALS, Endpoint
from localcloud.stack import Stack

HUB = "123456789012"  # moto's default account
STAGING = "222222222222"
PRODUCTION = "333333333333"
HUB_REGION = "eu-central-1"
OTHER_REGION = "eu-west-1"
REGIONS = (HUB_REGION, OTHER_REGION)
ORGANIZATION_ID = "o-nightshiftlocal"
ACCESS_ROLE = "OrganizationAccountAccessRole"
SPOKE_STACK = "nightshift-spoke"
ACCOUNT_NAMES = {HUB: "operations", STAGING: "staging", PRODUCTION: "production"}
HUB_PARAMETERS = {"OrganizationId": ORGANIZATION_ID}


@dataclass(frozen=True)
class MemberAccount:
    """Clients of one account and Region of the local cloud, reached as AWS Organizations'
    administrators reach a member account (a `fleet.Clients`)."""

    endpoint: Endpoint
    account: str
    region: str

    @cached_property
    def _session(self) -> boto3.Session:
        if self.account == HUB:
            return boto3.Session(
                region_name=self.region,
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            )
        answer = self.endpoint.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{self.account}:role/{ACCESS_ROLE}",
            RoleSessionName="localcloud",
        )["Credentials"]
        return boto3.Session(
            region_name=self.region,
            aws_access_key_id=answer["AccessKeyId"],
            aws_secret_access_key=answer["SecretAccessKey"],
            aws_session_token=answer["SessionToken"],
        )

    def client(self, service: str) -> Any:
        return self._session.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoint.url,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}),
        )


@dataclass
class Organization:
    """The hub stack and its member accounts' spokes in one moto server."""

    hub: Stack
    members: tuple[str, ...]
    regions: tuple[str, ...]
    spokes: dict[tuple[str, str], str] = field(default_factory=dict)  # (account, region) -> id

    def account(self, account: str, region: str) -> MemberAccount:
        return MemberAccount(self.hub.endpoint, account, region)

    @property
    def environment(self) -> str:
        return str(self.hub.parameters["Environment"])

    def spoke_role_arn(self, account: str, function: str) -> str:
        return f"arn:aws:iam::{account}:role/nightshift-spoke-{function}-{self.environment}"

    def policy_targets(self, extra: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """The policy's `targets`: staging in both Regions, production (never scheduled or
        pruned; redeploy gated to release versions), and any `extra` entries."""
        return {
            "accounts": [
                {"account": STAGING, "name": "staging", "regions": list(self.regions)},
                {"account": PRODUCTION, "name": "production", "production": True},
                *extra,
            ]
        }


def spoke_parameters(hub: Stack, regions: Sequence[str]) -> dict[str, str]:
    """The spoke's parameters, from the hub stack's outputs (docs/organization.md, step 2)."""
    outputs = hub.outputs
    # As the hub's: redeploy may pass only this account's role/<CoreStackName>-* to ECS tasks.
    core = {"CoreStackName": str(hub.parameters["CoreStackName"])}
    return {
        **(core if hub.parameters.get("CoreStackName") else {}),
        "Environment": str(hub.parameters["Environment"]),
        "OrganizationId": str(hub.parameters["OrganizationId"]),
        "HubRegion": hub.endpoint.region,
        "TargetRegions": ",".join(regions),
        "HubSchedulerRoleArn": outputs["SchedulerRoleArn"],
        "HubPrunerRoleArn": outputs["PrunerRoleArn"],
        "HubRedeployRoleArn": outputs["RedeployRoleArn"],
        "HubOpsTopicArn": outputs["OpsTopicArn"],
        "HubOpsTopicKeyArn": outputs["OpsTopicKeyArn"],
    }


def deploy_spoke(
    member: MemberAccount, template: Path, parameters: Mapping[str, str], name: str = SPOKE_STACK
) -> str:
    """`spoke.yaml` deployed by moto's CloudFormation in `member`'s account and Region; its id."""
    cloudformation = member.client("cloudformation")
    try:
        created = cloudformation.create_stack(
            StackName=name,
            TemplateBody=template.read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    except ClientError as exc:
        raise LocalCloudError(
            f"moto could not create the spoke in {member.account} {member.region}: {exc}"
        ) from exc
    status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    if status["StackStatus"] != "CREATE_COMPLETE":
        raise LocalCloudError(
            f"the spoke in {member.account} {member.region} ended in {status['StackStatus']}: "
            f"{status.get('StackStatusReason', 'no reason given')}"
        )
    return str(created["StackId"])


def deploy_organization(
    hub: Stack,
    members: Sequence[str] = (STAGING, PRODUCTION),
    regions: Sequence[str] = REGIONS,
    project: Project | None = None,
) -> Organization:
    """The spoke deployed into every member account in every Region, the hub's Region first
    (its instance creates the roles). `hub` must be deployed with `HUB_PARAMETERS`."""
    if not hub.parameters.get("OrganizationId"):
        raise LocalCloudError("the hub stack has no OrganizationId: deploy it with HUB_PARAMETERS")
    if hub.endpoint.region != regions[0]:
        raise LocalCloudError(f"the hub's Region {hub.endpoint.region} must come first")
    template = (project or hub.project).root / "spoke.yaml"
    parameters = spoke_parameters(hub, regions)
    organization = Organization(hub=hub, members=tuple(members), regions=tuple(regions))
    for account in members:
        for region in regions:
            member = organization.account(account, region)
            organization.spokes[(account, region)] = deploy_spoke(member, template, parameters)
    return organization


@dataclass(frozen=True)
class CentralRegistry:
    """A repository in the hub's ECR, the organization's shared registry."""

    hub: MemberAccount
    name: str

    @classmethod
    def create(cls, hub: MemberAccount, name: str) -> CentralRegistry:
        ecr = hub.client("ecr")
        try:
            ecr.create_repository(repositoryName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "RepositoryAlreadyExistsException":
                raise
        return cls(hub, name)

    @property
    def uri(self) -> str:
        return f"{self.hub.account}.dkr.ecr.{self.hub.region}.amazonaws.com/{self.name}"

    def push(self, tag: str) -> tuple[str, dict[str, Any]]:
        """A new build pushed under `tag` (PutImage of its manifest) and the `ECR Image Action`
        event EventBridge delivers in the hub's account for it."""
        built = build_image(uuid.uuid4().bytes, created=dt.datetime.now(dt.UTC))
        image = self.hub.client("ecr").put_image(
            repositoryName=self.name,
            imageManifest=built.manifest,
            imageManifestMediaType=json.loads(built.manifest)["mediaType"],
            imageTag=tag,
        )["image"]
        digest = str(image["imageId"]["imageDigest"])
        event = image_action_event(
            event_id=str(uuid.uuid4()),
            time=dt.datetime.now(dt.UTC),
            account=str(image["registryId"]),
            region=self.hub.region,
            repository=self.name,
            digest=digest,
            tag=tag,
            action="PUSH",
        )
        return digest, event


def follower_service(
    member: MemberAccount, registry: CentralRegistry, cluster: str, name: str, follows: str
) -> str:
    """An ECS service in `member` running the central registry's image, tagged to follow the
    policy's `redeploy.follow.<follows>`; its ARN."""
    ecs = member.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    definition = ecs.register_task_definition(
        family=f"{cluster}-{name}",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "app", "image": f"{registry.uri}:{follows}-0000000", "essential": True}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    service = ecs.create_service(
        cluster=cluster,
        serviceName=name,
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        tags=[{"key": "nightshift:redeploy", "value": follows}],
    )["service"]
    return str(service["serviceArn"])


def service_image(member: MemberAccount, cluster: str, name: str) -> str:
    """The image the service's current task definition runs."""
    ecs = member.client("ecs")
    service = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    return str(definition["taskDefinition"]["containerDefinitions"][0]["image"])
