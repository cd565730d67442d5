"""The example app's core stack (examples/core-stack.yaml), created by moto's CloudFormation.

moto creates most of the stack and reports it through the service APIs, which is what these tests
read. What it leaves out is listed in docs/core-stack.md ("In moto"):

- four resource types it does not create at all (it lists them without a logical id):
  `NOT_CREATED_BY_MOTO`. `apply_what_moto_leaves_out` creates them from their own template
  properties, resolved against the stack moto made, through the service APIs, as the local cloud
  must for `make demo`. So their values meet real resources: moto's RegisterScalableTarget
  refuses a service that does not exist.
- properties of created resources it ignores; of those, the ECS service's tags and deployment
  configuration are applied the same way, since Nightshift finds services by tag.
- the default database wiring: moto cannot resolve `Database.MasterUserSecret.SecretArn`, so every
  stack here passes `DatabaseSecretArn` (a secret made in moto first).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from samtranslator.yaml_helper import yaml_parse

from localcloud.intrinsics import Resolver, parameter_values, pseudo_parameters
from tests.support.nightshift import fake_credentials

# moto warns about each resource type it skips; which ones it skips is asserted below.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "examples" / "core-stack.yaml"
DOCS_PATH = ROOT / "docs" / "core-stack.md"
REGION = "eu-central-1"
ACCOUNT = "111122223333"
STACK_NAME = "todoapp-core"
CLUSTER = "todoapp-cluster"
SERVICE = "todoapp-backend-service"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}"
DATABASE_ARN = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:todoapp-postgres"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/todoapp-backend:latest"

# moto 5.2's CloudFormation has no model for these types: it skips them without an error.
NOT_CREATED_BY_MOTO = {
    "BackendScalableTarget": "AWS::ApplicationAutoScaling::ScalableTarget",
    "BackendCpuScalingPolicy": "AWS::ApplicationAutoScaling::ScalingPolicy",
    "BackendHighCpuAlarm": "AWS::CloudWatch::Alarm",
    "MonthlyBudget": "AWS::Budgets::Budget",
}
# Created only when a parameter asks for them.
CONDITIONAL = {"NatGatewayAddress", "NatGateway", "PrivateDefaultRoute", "HttpsListener"}


def load_template() -> dict[str, Any]:
    """The template with short-form intrinsics (`!Ref`, `!Sub`, ...) in their long form."""
    return yaml_parse(TEMPLATE_PATH.read_text(encoding="utf-8"))


@dataclass
class CoreStack:
    """One created stack: its parameters, what moto made of it, and clients to look at it."""

    parameters: dict[str, str]
    status: str
    stack_id: str
    outputs: dict[str, str]
    physical_ids: dict[str, str]
    template: dict[str, Any] = field(default_factory=load_template)
    applied: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def resolver(self) -> Resolver:
        values = {
            **parameter_values(self.template["Parameters"], self.parameters),
            **pseudo_parameters(STACK_NAME, self.stack_id, REGION, ACCOUNT),
        }
        return Resolver(
            parameters=values,
            ref=self._physical_id,
            get_att=self._attribute,
            conditions=self.template.get("Conditions", {}),
        )

    def resources_in_effect(self) -> set[str]:
        """Logical ids of the resources whose condition (if any) holds for these parameters."""
        resolver = self.resolver()
        return {
            logical_id
            for logical_id, resource in self.template["Resources"].items()
            if "Condition" not in resource or resolver.condition(resource["Condition"])
        }

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resolver().resolve(self.template["Resources"][logical_id]["Properties"])

    def _physical_id(self, logical_id: str) -> str:
        return {**self.physical_ids, **self.applied}[logical_id]

    def _attribute(self, logical_id: str, name: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        return ATTRIBUTES[kind, name](self._physical_id(logical_id))


# The attributes the resources moto skips read from the resources it creates.
ATTRIBUTES: dict[tuple[str, str], Callable[[str], str]] = {
    ("AWS::ECS::Service", "Name"): lambda arn: arn.rsplit("/", 1)[-1],
}


def create_core_stack(parameters: Mapping[str, str]) -> CoreStack:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName=STACK_NAME,
        TemplateBody=TEMPLATE_PATH.read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    described = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    resources = cloudformation.describe_stack_resources(StackName=STACK_NAME)["StackResources"]
    return CoreStack(
        parameters=dict(parameters),
        status=described["StackStatus"],
        stack_id=described["StackId"],
        outputs={o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        # What moto skipped is listed too, but without a logical id.
        physical_ids={
            r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
            for r in resources
            if "LogicalResourceId" in r
        },
    )


# --- what moto leaves out, applied from the template through the service APIs ---------------


def _camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys as the ECS API's camelCase ones."""
    if isinstance(value, dict):
        return {key[0].lower() + key[1:]: _camel(item) for key, item in value.items()}
    return value


def _scalable_target(stack: CoreStack, props: dict[str, Any]) -> str:
    stack.client("application-autoscaling").register_scalable_target(
        ServiceNamespace=props["ServiceNamespace"],
        ResourceId=props["ResourceId"],
        ScalableDimension=props["ScalableDimension"],
        MinCapacity=int(props["MinCapacity"]),
        MaxCapacity=int(props["MaxCapacity"]),
    )
    # CloudFormation's physical id of a scalable target, which ScalingTargetId refers to.
    return "|".join((props["ResourceId"], props["ScalableDimension"], props["ServiceNamespace"]))


def _scaling_policy(stack: CoreStack, props: dict[str, Any]) -> str:
    resource_id, dimension, namespace = props["ScalingTargetId"].split("|")
    return stack.client("application-autoscaling").put_scaling_policy(
        PolicyName=props["PolicyName"],
        ServiceNamespace=namespace,
        ResourceId=resource_id,
        ScalableDimension=dimension,
        PolicyType=props["PolicyType"],
        TargetTrackingScalingPolicyConfiguration=props["TargetTrackingScalingPolicyConfiguration"],
    )["PolicyARN"]


def _metric_alarm(stack: CoreStack, props: dict[str, Any]) -> str:
    stack.client("cloudwatch").put_metric_alarm(**props)
    return props["AlarmName"]


def _budget(stack: CoreStack, props: dict[str, Any]) -> str:
    budget = props["Budget"]
    limit = {**budget["BudgetLimit"], "Amount": str(budget["BudgetLimit"]["Amount"])}
    stack.client("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget={**budget, "BudgetLimit": limit},
        NotificationsWithSubscribers=props.get("NotificationsWithSubscribers", []),
    )
    return budget["BudgetName"]


APPLIERS: dict[str, Callable[[CoreStack, dict[str, Any]], str]] = {
    "AWS::ApplicationAutoScaling::ScalableTarget": _scalable_target,
    "AWS::ApplicationAutoScaling::ScalingPolicy": _scaling_policy,
    "AWS::CloudWatch::Alarm": _metric_alarm,
    "AWS::Budgets::Budget": _budget,
}


def apply_what_moto_leaves_out(stack: CoreStack) -> None:
    """Create the skipped resources (in template order: a target before its policy) and set the
    service's tags and deployment configuration, all from the template's own properties."""
    for logical_id in stack.template["Resources"]:
        if logical_id in NOT_CREATED_BY_MOTO:
            kind = NOT_CREATED_BY_MOTO[logical_id]
            stack.applied[logical_id] = APPLIERS[kind](stack, stack.properties(logical_id))
    service = stack.properties("BackendService")
    ecs = stack.client("ecs")
    ecs.update_service(
        cluster=service["Cluster"],
        service=service["ServiceName"],
        deploymentConfiguration=_camel(service["DeploymentConfiguration"]),
    )
    ecs.tag_resource(
        resourceArn=stack.physical_ids["BackendService"],
        tags=[{"key": tag["Key"], "value": tag["Value"]} for tag in service["Tags"]],
    )


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws_environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        fake_credentials(patch, REGION)
        patch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
        # The stack uses no AMI; loading moto's catalogue of them costs a third of a second.
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        yield


def database_secret() -> str:
    """The secret moto's stacks use in place of the RDS-managed one."""
    secret = {"username": "todoapp", "password": "correct-horse-battery-staple"}
    return boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="todoapp/database-master", SecretString=json.dumps(secret)
    )["ARN"]


@pytest.fixture(scope="class")
def staging(aws_environment: None) -> Iterator[CoreStack]:
    """The defaults: staging, no NAT gateway, HTTP only, no ops topic."""
    with mock_aws():
        stack = create_core_stack({"DatabaseSecretArn": database_secret()})
        apply_what_moto_leaves_out(stack)
        yield stack


@pytest.fixture(scope="class")
def production(aws_environment: None) -> Iterator[CoreStack]:
    """Every option on: production, the NAT gateway, HTTPS, alarms and budget to the topic."""
    with mock_aws():
        certificate = boto3.client("acm", region_name=REGION).request_certificate(
            DomainName="todoapp.example.com"
        )["CertificateArn"]
        topic = boto3.client("sns", region_name=REGION).create_topic(Name="nightshift-ops")
        stack = create_core_stack(
            {
                "DatabaseSecretArn": database_secret(),
                "Environment": "production",
                "EnableNatGateway": "true",
                "CertificateArn": certificate,
                "NightshiftOpsTopicArn": topic["TopicArn"],
            }
        )
        apply_what_moto_leaves_out(stack)
        yield stack


def tags_of(items: list[dict[str, str]]) -> dict[str, str]:
    """`[{"Key": k, "Value": v}]` (or ECS's lower-case keys) as a dict."""
    return {
        item.get("Key", item.get("key")): item.get("Value", item.get("value")) for item in items
    }


# --- the default stack --------------------------------------------------------------------------


class TestStagingStack:
    def test_stack_is_created_with_everything_moto_supports(self, staging: CoreStack) -> None:
        expected = staging.resources_in_effect() - set(NOT_CREATED_BY_MOTO)

        assert staging.status == "CREATE_COMPLETE"
        assert set(staging.physical_ids) == expected
        assert CONDITIONAL.isdisjoint(staging.physical_ids)

    def test_moto_leaves_out_exactly_the_resources_the_docs_name(self, staging: CoreStack) -> None:
        docs = DOCS_PATH.read_text(encoding="utf-8")
        left_out = staging.resources_in_effect() - set(staging.physical_ids)

        assert left_out == set(NOT_CREATED_BY_MOTO)
        for logical_id, kind in NOT_CREATED_BY_MOTO.items():
            assert staging.template["Resources"][logical_id]["Type"] == kind
            assert f"`{logical_id}`" in docs
            assert f"`{kind}`" in docs

    def test_vpc_has_a_public_and_a_private_subnet_in_each_of_two_zones(
        self, staging: CoreStack
    ) -> None:
        ec2 = staging.client("ec2")
        vpc_id = staging.outputs["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        by_name = {tags_of(s["Tags"])["Name"]: s for s in subnets}

        assert {name: s["CidrBlock"] for name, s in by_name.items()} == {
            "todoapp-public-1": "10.0.1.0/24",
            "todoapp-public-2": "10.0.2.0/24",
            "todoapp-private-1": "10.0.11.0/24",
            "todoapp-private-2": "10.0.12.0/24",
        }
        assert (
            by_name["todoapp-public-1"]["AvailabilityZone"]
            != by_name["todoapp-public-2"]["AvailabilityZone"]
        )
        assert (
            by_name["todoapp-private-1"]["AvailabilityZone"]
            != by_name["todoapp-private-2"]["AvailabilityZone"]
        )
        assert all(tags_of(s["Tags"])["Environment"] == "staging" for s in subnets)

    def test_without_nat_only_the_public_route_table_leads_out(self, staging: CoreStack) -> None:
        ec2 = staging.client("ec2")
        routes = {
            logical_id: ec2.describe_route_tables(RouteTableIds=[staging.physical_ids[logical_id]])[
                "RouteTables"
            ][0]["Routes"]
            for logical_id in ("PublicRouteTable", "PrivateRouteTable")
        }

        public_default = [
            r for r in routes["PublicRouteTable"] if r["DestinationCidrBlock"] == "0.0.0.0/0"
        ]
        assert [r["GatewayId"] for r in public_default] == [staging.physical_ids["InternetGateway"]]
        assert all(r["DestinationCidrBlock"] != "0.0.0.0/0" for r in routes["PrivateRouteTable"])
        assert ec2.describe_nat_gateways()["NatGateways"] == []

    def test_security_groups_chain_internet_to_alb_to_tasks_to_database(
        self, staging: CoreStack
    ) -> None:
        ec2 = staging.client("ec2")
        ids = {
            name: staging.physical_ids[name]
            for name in (
                "LoadBalancerSecurityGroup",
                "BackendSecurityGroup",
                "DatabaseSecurityGroup",
            )
        }
        groups = {
            g["GroupId"]: g
            for g in ec2.describe_security_groups(GroupIds=list(ids.values()))["SecurityGroups"]
        }

        def ingress(logical_id: str) -> list[tuple[int, list[str], list[str]]]:
            return [
                (
                    rule["FromPort"],
                    [r["CidrIp"] for r in rule["IpRanges"]],
                    [pair["GroupId"] for pair in rule["UserIdGroupPairs"]],
                )
                for rule in groups[ids[logical_id]]["IpPermissions"]
            ]

        assert ingress("LoadBalancerSecurityGroup") == [(80, ["0.0.0.0/0"], [])]
        assert ingress("BackendSecurityGroup") == [(8000, [], [ids["LoadBalancerSecurityGroup"]])]
        assert ingress("DatabaseSecurityGroup") == [(5432, [], [ids["BackendSecurityGroup"]])]

    def test_load_balancer_forwards_http_to_targets_checked_on_health(
        self, staging: CoreStack
    ) -> None:
        elbv2 = staging.client("elbv2")
        (balancer,) = elbv2.describe_load_balancers(Names=["todoapp-alb"])["LoadBalancers"]
        (group,) = elbv2.describe_target_groups(LoadBalancerArn=balancer["LoadBalancerArn"])[
            "TargetGroups"
        ]
        (listener,) = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
            "Listeners"
        ]

        assert balancer["Scheme"] == "internet-facing"
        assert {zone["SubnetId"] for zone in balancer["AvailabilityZones"]} == {
            staging.physical_ids["PublicSubnet1"],
            staging.physical_ids["PublicSubnet2"],
        }
        assert (group["TargetType"], group["Port"], group["HealthCheckPath"]) == (
            "ip",
            8000,
            "/health",
        )
        assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
        assert listener["DefaultActions"] == [
            {"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}
        ]
        assert staging.outputs["ServiceUrl"] == f"http://{balancer['DNSName']}"

    def test_service_runs_two_tasks_of_the_backend_task_definition(
        self, staging: CoreStack
    ) -> None:
        ecs = staging.client("ecs")
        (service,) = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"]

        assert service["serviceArn"] == SERVICE_ARN
        assert service["desiredCount"] == 2
        assert service["taskDefinition"].endswith(":task-definition/todoapp-backend:1")
        assert staging.outputs["ClusterName"] == CLUSTER
        assert staging.outputs["ServiceName"] == SERVICE

    def test_service_rolls_a_failed_deployment_back(self, staging: CoreStack) -> None:
        (service,) = staging.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])[
            "services"
        ]

        assert service["deploymentConfiguration"] == {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        }

    def test_service_is_tagged_to_follow_office_hours_and_main_builds(
        self, staging: CoreStack
    ) -> None:
        (service,) = staging.client("ecs").describe_services(
            cluster=CLUSTER, services=[SERVICE], include=["TAGS"]
        )["services"]

        assert tags_of(service["tags"]) == {
            "Environment": "staging",
            "nightshift:schedule": "office-hours",
            "nightshift:redeploy": "main",
        }

    def test_nightshift_finds_the_service_and_the_database_by_schedule_tag(
        self, staging: CoreStack
    ) -> None:
        # The scheduler's discovery: one Tagging API sweep.
        found = staging.client("resourcegroupstaggingapi").get_resources(
            ResourceTypeFilters=["ecs:service", "rds:db"],
            TagFilters=[{"Key": "nightshift:schedule", "Values": ["office-hours"]}],
        )["ResourceTagMappingList"]

        assert {item["ResourceARN"] for item in found} == {SERVICE_ARN, DATABASE_ARN}

    def test_task_definition_runs_the_ecr_image_with_logs_and_database_secrets(
        self, staging: CoreStack
    ) -> None:
        definition = staging.client("ecs").describe_task_definition(
            taskDefinition="todoapp-backend"
        )["taskDefinition"]
        (container,) = definition["containerDefinitions"]
        secret = staging.parameters["DatabaseSecretArn"]

        assert container["image"] == IMAGE
        assert container["portMappings"] == [{"containerPort": 8000, "protocol": "tcp"}]
        assert container["logConfiguration"] == {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": "/ecs/todoapp-backend",
                "awslogs-region": REGION,
                "awslogs-stream-prefix": "backend",
            },
        }
        assert {e["name"]: e["value"] for e in container["environment"]} == {
            "DATABASE_HOST": staging.outputs["DatabaseEndpoint"],
            "DATABASE_PORT": "5432",
            "DATABASE_NAME": "todoapp",
        }
        assert container["secrets"] == [
            {"name": "DATABASE_USER", "valueFrom": f"{secret}:username::"},
            {"name": "DATABASE_PASSWORD", "valueFrom": f"{secret}:password::"},
        ]

    def test_execution_role_may_read_only_the_database_secret(self, staging: CoreStack) -> None:
        iam = staging.client("iam")
        role = staging.physical_ids["BackendExecutionRole"]
        (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
        # moto returns the inline policy as the text of a Python dict, not as JSON.
        document = ast.literal_eval(
            iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        )

        assert document["Statement"] == [
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": staging.parameters["DatabaseSecretArn"],
            }
        ]

    def test_autoscaling_keeps_two_to_ten_tasks_tracking_cpu(self, staging: CoreStack) -> None:
        autoscaling = staging.client("application-autoscaling")
        (target,) = autoscaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
        (policy,) = autoscaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]

        assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (
            f"service/{CLUSTER}/{SERVICE}",
            2,
            10,
        )
        assert policy["ResourceId"] == target["ResourceId"]
        assert policy["PolicyType"] == "TargetTrackingScaling"
        configuration = policy["TargetTrackingScalingPolicyConfiguration"]
        assert configuration["PredefinedMetricSpecification"] == {
            "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
        }
        assert configuration["TargetValue"] == 70

    def test_database_is_encrypted_postgres_in_the_private_subnets_tagged_for_office_hours(
        self, staging: CoreStack
    ) -> None:
        rds = staging.client("rds")
        (database,) = rds.describe_db_instances(DBInstanceIdentifier="todoapp-postgres")[
            "DBInstances"
        ]

        assert (database["Engine"], database["DBInstanceClass"]) == ("postgres", "db.t4g.micro")
        assert database["StorageEncrypted"] is True
        assert database["PubliclyAccessible"] is False
        assert database["MultiAZ"] is False
        assert database["BackupRetentionPeriod"] == 7
        assert database["PreferredBackupWindow"] == "11:00-11:30"
        assert database["Endpoint"]["Port"] == 5432
        assert {s["SubnetIdentifier"] for s in database["DBSubnetGroup"]["Subnets"]} == {
            staging.physical_ids["PrivateSubnet1"],
            staging.physical_ids["PrivateSubnet2"],
        }
        assert tags_of(database["TagList"]) == {
            "Environment": "staging",
            "nightshift:schedule": "office-hours",
        }

    def test_ecr_repository_takes_moving_tags(self, staging: CoreStack) -> None:
        ecr = staging.client("ecr")
        (repository,) = ecr.describe_repositories(repositoryNames=["todoapp-backend"])[
            "repositories"
        ]

        assert repository["imageTagMutability"] == "MUTABLE"
        assert staging.outputs["RepositoryUri"] == IMAGE.removesuffix(":latest")
        assert tags_of(
            ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"]
        ) == {"Environment": "staging"}

    def test_template_lifecycle_rules_expire_untagged_then_old_main_builds(
        self, staging: CoreStack
    ) -> None:
        # moto drops LifecyclePolicy, so the rules are read from the template, as ECR reads them.
        policy = staging.properties("BackendRepository")["LifecyclePolicy"]["LifecyclePolicyText"]
        rules = json.loads(policy)["rules"]

        assert [(r["rulePriority"], r["selection"]["tagStatus"]) for r in rules] == [
            (1, "untagged"),
            (2, "tagged"),
        ]
        assert rules[1]["selection"]["tagPatternList"] == ["main-*"]
        assert all(r["action"] == {"type": "expire"} for r in rules)

    def test_log_group_keeps_thirty_days(self, staging: CoreStack) -> None:
        (group,) = staging.client("logs").describe_log_groups(
            logGroupNamePrefix="/ecs/todoapp-backend"
        )["logGroups"]

        assert group["retentionInDays"] == 30

    def test_alarm_and_budget_exist_without_actions_when_no_topic_is_given(
        self, staging: CoreStack
    ) -> None:
        (alarm,) = staging.client("cloudwatch").describe_alarms(
            AlarmNames=["todoapp-backend-high-cpu"]
        )["MetricAlarms"]
        budgets = staging.client("budgets")
        budget = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="todoapp-monthly")["Budget"]

        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
            "ClusterName": CLUSTER,
            "ServiceName": SERVICE,
        }
        assert (alarm["Threshold"], alarm["TreatMissingData"]) == (80, "notBreaching")
        assert (alarm["AlarmActions"], alarm["OKActions"]) == ([], [])
        assert budget["BudgetLimit"] == {"Amount": "50", "Unit": "USD"}
        notifications = budgets.describe_notifications_for_budget(
            AccountId=ACCOUNT, BudgetName="todoapp-monthly"
        )
        assert notifications["Notifications"] == []


# --- every option on ----------------------------------------------------------------------------


class TestProductionStackWithEveryOption:
    def test_stack_creates_the_conditional_resources(self, production: CoreStack) -> None:
        assert production.status == "CREATE_COMPLETE"
        assert set(production.physical_ids) >= CONDITIONAL
        assert set(production.physical_ids) == production.resources_in_effect() - set(
            NOT_CREATED_BY_MOTO
        )

    def test_private_subnets_route_out_through_the_nat_gateway(self, production: CoreStack) -> None:
        ec2 = production.client("ec2")
        (table,) = ec2.describe_route_tables(
            RouteTableIds=[production.physical_ids["PrivateRouteTable"]]
        )["RouteTables"]
        (gateway,) = ec2.describe_nat_gateways()["NatGateways"]

        assert gateway["SubnetId"] == production.physical_ids["PublicSubnet1"]
        assert {
            "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": gateway["NatGatewayId"],
        }.items() <= next(
            r for r in table["Routes"] if r["DestinationCidrBlock"] == "0.0.0.0/0"
        ).items()

    def test_http_redirects_to_https_which_forwards_to_the_backend(
        self, production: CoreStack
    ) -> None:
        elbv2 = production.client("elbv2")
        (balancer,) = elbv2.describe_load_balancers(Names=["todoapp-alb"])["LoadBalancers"]
        listeners = {
            listener["Port"]: listener
            for listener in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
                "Listeners"
            ]
        }
        group = production.physical_ids["BackendTargetGroup"]

        assert listeners[80]["DefaultActions"] == [
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ]
        assert listeners[443]["Protocol"] == "HTTPS"
        assert listeners[443]["Certificates"] == [
            {"CertificateArn": production.parameters["CertificateArn"]}
        ]
        assert listeners[443]["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": group}]
        assert production.outputs["ServiceUrl"] == f"https://{balancer['DNSName']}"

    def test_load_balancer_admits_https(self, production: CoreStack) -> None:
        group_id = production.physical_ids["LoadBalancerSecurityGroup"]
        (group,) = production.client("ec2").describe_security_groups(GroupIds=[group_id])[
            "SecurityGroups"
        ]

        assert sorted(rule["FromPort"] for rule in group["IpPermissions"]) == [80, 443]

    def test_production_database_is_multi_az_and_backed_up_at_night(
        self, production: CoreStack
    ) -> None:
        (database,) = production.client("rds").describe_db_instances(
            DBInstanceIdentifier="todoapp-postgres"
        )["DBInstances"]

        assert database["MultiAZ"] is True
        assert database["PreferredBackupWindow"] == "02:00-03:00"
        assert tags_of(database["TagList"])["Environment"] == "production"

    def test_alarm_and_budget_publish_to_the_ops_topic(self, production: CoreStack) -> None:
        topic = production.parameters["NightshiftOpsTopicArn"]
        (alarm,) = production.client("cloudwatch").describe_alarms(
            AlarmNames=["todoapp-backend-high-cpu"]
        )["MetricAlarms"]
        notifications = production.client("budgets").describe_notifications_for_budget(
            AccountId=ACCOUNT, BudgetName="todoapp-monthly"
        )["Notifications"]
        declared = production.properties("MonthlyBudget")["NotificationsWithSubscribers"]

        assert (alarm["AlarmActions"], alarm["OKActions"]) == ([topic], [topic])
        assert [
            (n["NotificationType"], n["Threshold"], n["ThresholdType"]) for n in notifications
        ] == [
            ("ACTUAL", 80, "PERCENTAGE"),
            ("FORECASTED", 100, "PERCENTAGE"),
        ]
        # moto cannot list a notification's subscribers; the template's are the topic.
        assert [s for n in declared for s in n["Subscribers"]] == [
            {"SubscriptionType": "SNS", "Address": topic}
        ] * 2


# --- the default database wiring ----------------------------------------------------------------


def test_moto_cannot_create_the_stack_with_the_rds_managed_secret(aws_environment: None) -> None:
    with mock_aws(), pytest.raises(ClientError, match=r"MasterUserSecret\.SecretArn"):
        create_core_stack({})
