"""Task definitions and services as DescribeTaskDefinition / DescribeServices return them, for the
example app (todoapp, account 111122223333, eu-central-1). Every field name is checked against
botocore's model of the ECS API in test_redeploy_samples.py, so nothing here is invented."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from nightshift.redeploy import ImagePush, ServiceFacts, TaskDefinitionFacts

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events" / "redeploy"
ACCOUNT = "111122223333"
REGION = "eu-central-1"
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
BACKEND = f"{HOST}/todoapp-backend"
FRONTEND = f"{HOST}/todoapp-frontend"
PUSHED_DIGEST = "sha256:9b2f6c1d8e0a4b7c3d5e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c"
OLD_DIGEST = "sha256:1d5e3a7c9b2f4d6e8a0c1b3d5f7e9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f"
FLUENT_BIT = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/todoapp-cluster"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def push_event(name: str = "ecr-push") -> ImagePush:
    push = ImagePush.from_event(load_event(name))
    assert push is not None
    return push


def task_definition_arn(family: str, revision: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}"


def app_container(image: str, name: str = "app") -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "cpu": 0,
        "portMappings": [
            {
                "containerPort": 8080,
                "hostPort": 8080,
                "protocol": "tcp",
                "name": "http",
                "appProtocol": "http",
            }
        ],
        "essential": True,
        "environment": [{"name": "PORT", "value": "8080"}],
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
        "volumesFrom": [],
        "secrets": [
            {
                "name": "DATABASE_URL",
                "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:todoapp/db-AbCdEf",
            }
        ],
        "dependsOn": [{"containerName": "log-router", "condition": "START"}],
        "readonlyRootFilesystem": True,
        "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
        "logConfiguration": {
            "logDriver": "awsfirelens",
            "options": {"Name": "cloudwatch_logs", "region": REGION, "log_group_name": "/todoapp"},
        },
        "healthCheck": {
            "command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
            "interval": 30,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 10,
        },
        "stopTimeout": 30,
        "systemControls": [],
        "versionConsistency": "enabled",
    }


def log_router() -> dict[str, Any]:
    return {
        "name": "log-router",
        "image": FLUENT_BIT,
        "cpu": 0,
        "memoryReservation": 50,
        "essential": True,
        "user": "0",
        "environment": [],
        "mountPoints": [],
        "volumesFrom": [],
        "firelensConfiguration": {
            "type": "fluentbit",
            "options": {"enable-ecs-log-metadata": "true"},
        },
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": "/todoapp/firelens",
                "awslogs-region": REGION,
                "awslogs-stream-prefix": "firelens",
            },
        },
        "systemControls": [],
    }


def fargate_definition(
    family: str = "todoapp-backend",
    revision: int = 7,
    containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """DescribeTaskDefinition's `taskDefinition` for a Fargate (ARM64) service with an app
    container and a FireLens sidecar."""
    return {
        "taskDefinitionArn": task_definition_arn(family, revision),
        "containerDefinitions": (
            containers
            if containers is not None
            else [app_container(f"{BACKEND}:main-1a2b3c4"), log_router()]
        ),
        "family": family,
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/todoapp-task",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/todoapp-execution",
        "networkMode": "awsvpc",
        "revision": revision,
        "volumes": [
            {"name": "tmp"},
            {
                "name": "uploads",
                "efsVolumeConfiguration": {
                    "fileSystemId": "fs-0123456789abcdef0",
                    "rootDirectory": "/",
                    "transitEncryption": "ENABLED",
                    "authorizationConfig": {
                        "accessPointId": "fsap-0123456789abcdef0",
                        "iam": "ENABLED",
                    },
                },
            },
        ],
        "status": "ACTIVE",
        "requiresAttributes": [
            {"name": "com.amazonaws.ecs.capability.logging-driver.awsfirelens"},
            {"name": "ecs.capability.execution-role-awslogs"},
            {"name": "ecs.capability.secrets.asm.environment-variables"},
            {"name": "ecs.capability.efsAuth"},
            {"name": "com.amazonaws.ecs.capability.task-iam-role"},
            {"name": "ecs.capability.task-eni"},
        ],
        "placementConstraints": [],
        "compatibilities": ["EC2", "FARGATE"],
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "ephemeralStorage": {"sizeInGiB": 30},
        "registeredAt": dt.datetime(2026, 11, 19, 17, 3, 11, tzinfo=dt.UTC),
        "registeredBy": f"arn:aws:sts::{ACCOUNT}:assumed-role/github-deploy/ci",
        "enableFaultInjection": False,
    }


TASK_DEFINITION_TAGS = [
    {"key": "Environment", "value": "staging"},
    {"key": "team", "value": "todo"},
    {"key": "aws:cloudformation:stack-name", "value": "todoapp-core"},
]


def task_definition(
    family: str = "todoapp-backend",
    revision: int = 7,
    containers: list[dict[str, Any]] | None = None,
) -> TaskDefinitionFacts:
    return TaskDefinitionFacts.from_description(
        {
            "taskDefinition": fargate_definition(family, revision, containers),
            "tags": TASK_DEFINITION_TAGS,
        }
    )


def service_description(
    name: str = "todoapp-backend-service",
    *,
    follows: str | None = "main",
    environment: str = "staging",
    task_definition: str | None = None,
    breaker: tuple[bool, bool] = (True, True),
    status: str = "ACTIVE",
    controller: str = "ECS",
) -> dict[str, Any]:
    """One `services[]` entry of DescribeServices (include=["TAGS"])."""
    tags = [{"key": "Environment", "value": environment}]
    if follows is not None:
        tags.append({"key": "nightshift:redeploy", "value": follows})
    return {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/todoapp-cluster/{name}",
        "serviceName": name,
        "clusterArn": CLUSTER_ARN,
        "status": status,
        "desiredCount": 2,
        "runningCount": 2,
        "pendingCount": 0,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "taskDefinition": task_definition or task_definition_arn("todoapp-backend", 7),
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": breaker[0], "rollback": breaker[1]},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "deploymentController": {"type": controller},
        "tags": tags,
    }


def service(
    name: str = "todoapp-backend-service",
    *,
    last_push_at: dt.datetime | None = None,
    **options: Any,
) -> ServiceFacts:
    return ServiceFacts.from_description(service_description(name, **options), last_push_at)
