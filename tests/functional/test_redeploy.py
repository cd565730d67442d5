"""The redeploy handler under moto: a core stack of two clusters, ECR pushes and ECS deployment
events from events/redeploy/, real effects checked in moto (revisions, services, the state
table, the report on the ops topic read through a subscribed SQS queue, EMF metrics)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.loaders import Loader
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend
from moto.ecs.models import ecs_backends
from moto.events.models import EventPattern, EventPatternParser

from nightshift.errors import EventError, NightshiftError, PolicyError
from nightshift.redeploy.outcome import RedeployIncompleteError
from tests.conftest import FakeLambdaContext, event_names, load_event, load_handler
from tests.support.faults import FaultInjector, FaultKind
from tests.support.nightshift import (
    OpsTopic,
    create_ops_topic,
    create_state_table,
    function_environment,
    template_resource,
)

ACCOUNT = "111122223333"
REGION = "eu-central-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
BACKEND = f"{REGISTRY}/todoapp-backend"
WORKER = f"{REGISTRY}/todoapp-worker"
# The FireLens sidecar comes from another repository of the same registry: it must stay as it is.
LOG_ROUTER = f"{REGISTRY}/aws-for-fluent-bit:2.32.0"
PUSHED_DIGEST = load_event("redeploy", "ecr-push")["detail"]["image-digest"]
STAGING, PRODUCTION = "todoapp-cluster", "todoapp-prod"
API, CANARY = "todoapp-backend-service", "todoapp-backend-canary"
TABLE = "nightshift-state"
TOPIC = "nightshift-ops-staging"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}"
POLICY = """\
version: 1
protect: {tag: Environment, values: [production, prod]}
redeploy:
  follow: {main: "main-*", release: "v*", any: "*"}
"""


def service_arn(cluster: str, name: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{name}"


def container(name: str, image: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "essential": True,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp", "name": "http"}],
        "environment": [{"name": "PORT", "value": "8080"}],
        "secrets": [
            {
                "name": "DATABASE_URL",
                "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:todoapp/db-AbCdEf",
            }
        ],
        "dependsOn": [{"containerName": "log-router", "condition": "START"}],
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
        "readonlyRootFilesystem": True,
        "logConfiguration": {
            "logDriver": "awsfirelens",
            "options": {"Name": "cloudwatch_logs", "region": REGION, "log_group_name": "/todoapp"},
        },
        "healthCheck": {
            "command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
            "interval": 30,
            "timeout": 5,
            "retries": 3,
        },
    }


def fargate_definition(family: str, image: str) -> dict[str, Any]:
    """RegisterTaskDefinition input of a Fargate (ARM64) app with a FireLens sidecar, tagged as
    CloudFormation tags what it creates."""
    return {
        "family": family,
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/todoapp-core-BackendTaskRole-Q2RNQYDL0HK1",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/todoapp-core-BackendExecutionRole-7KXM3FZ1VJ2D",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "ephemeralStorage": {"sizeInGiB": 30},
        "volumes": [{"name": "tmp"}],
        "containerDefinitions": [
            container("app", image),
            {
                "name": "log-router",
                "image": LOG_ROUTER,
                "essential": True,
                "memoryReservation": 50,
                "firelensConfiguration": {"type": "fluentbit"},
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/todoapp/firelens", "awslogs-region": REGION},
                },
            },
        ],
        "tags": [
            {"key": "team", "value": "todo"},
            {"key": "aws:cloudformation:stack-name", "value": "todoapp-core"},
        ],
    }


def push_event(
    name: str = "ecr-push", *, event_id: str | None = None, **detail: str
) -> dict[str, Any]:
    """A fixture, optionally redelivered under another EventBridge id or changed in `detail`
    (`time=` changes the envelope)."""
    event = copy.deepcopy(load_event("redeploy", name))
    if event_id:
        event["id"] = event_id
    if "time" in detail:
        event["time"] = detail.pop("time")
    event["detail"].update({key.replace("_", "-"): value for key, value in detail.items()})
    return event


class CallCounter:
    """Counts every AWS call made through the default boto3 session (botocore event hook)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        with self._lock:
            self.calls[f"{service}.{operation}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@dataclass
class CoreStack:
    """The todoapp core stack in moto, and what Nightshift's template creates beside it."""

    session: boto3.Session
    ops: OpsTopic
    policy_file: Path
    counter: CallCounter = field(default_factory=CallCounter)

    @property
    def ecs(self) -> Any:
        return self.session.client("ecs")

    def service(self, cluster: str, name: str) -> dict[str, Any]:
        return self.ecs.describe_services(cluster=cluster, services=[name], include=["TAGS"])[
            "services"
        ][0]

    def revisions(self, family: str) -> list[str]:
        return self.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]

    def definition(self, arn: str) -> dict[str, Any]:
        return self.ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])

    def reports(self) -> list[dict[str, Any]]:
        """Every report published to the ops topic so far (drains the subscribed queue)."""
        return self.ops.reports()

    def state(self, pk: str) -> list[dict[str, Any]]:
        dynamodb = self.session.client("dynamodb")
        return dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
        )["Items"]

    def tag(self, cluster: str, name: str, follows: str) -> None:
        self.ecs.tag_resource(
            resourceArn=service_arn(cluster, name),
            tags=[{"key": "nightshift:redeploy", "value": follows}],
        )

    def write_policy(self, text: str) -> None:
        self.policy_file.write_text(text, encoding="utf-8")


def create_service(
    ecs: Any, cluster: str, name: str, task_definition: str, tags: dict[str, str]
) -> None:
    ecs.create_service(
        cluster=cluster,
        serviceName=name,
        taskDefinition=task_definition,
        desiredCount=2,
        launchType="FARGATE",
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        tags=[{"key": key, "value": value} for key, value in tags.items()],
    )


def build_core_stack(session: boto3.Session) -> None:
    """Two clusters. Staging runs the backend as an API and a canary service (both follow `main`)
    and a worker from another repository (also follows `main`); production runs the backend and
    follows `release`; the frontend has not opted in."""
    ecs = session.client("ecs")
    for cluster in (STAGING, PRODUCTION):
        ecs.create_cluster(clusterName=cluster)
    backend = ecs.register_task_definition(
        **fargate_definition("todoapp-backend", f"{BACKEND}:main-1a2b3c4")
    )["taskDefinition"]["taskDefinitionArn"]
    worker = ecs.register_task_definition(
        **fargate_definition("todoapp-worker", f"{WORKER}:main-1a2b3c4")
    )["taskDefinition"]["taskDefinitionArn"]
    frontend = ecs.register_task_definition(
        **fargate_definition("todoapp-frontend", f"{REGISTRY}/todoapp-frontend:main-1")
    )["taskDefinition"]["taskDefinitionArn"]
    staging = {"Environment": "staging", "nightshift:redeploy": "main"}
    create_service(ecs, STAGING, API, backend, staging)
    create_service(ecs, STAGING, CANARY, backend, staging)
    create_service(ecs, STAGING, "todoapp-worker", worker, staging)
    create_service(ecs, STAGING, "todoapp-frontend", frontend, {"Environment": "staging"})
    create_service(
        ecs,
        PRODUCTION,
        API,
        backend,
        {"Environment": "production", "nightshift:redeploy": "release"},
    )


@pytest.fixture(scope="module")
def models() -> Loader:
    """botocore's loader of API models, shared by the sessions of every test: each new session
    would otherwise parse the large JSON models again (most of this file's run time)."""
    return botocore.session.get_session().get_component("data_loader")


def core(models: Loader) -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", models)
    return session


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, models: Loader) -> Iterator[CoreStack]:
    policy = tmp_path / "nightshift.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    function_environment(
        monkeypatch,
        service="redeploy",
        policy_file=policy,
        table=TABLE,
        topic_arn=TOPIC_ARN,
        region=REGION,
        # No approve links here (test_approval.py makes them).
        extra={
            "MOTO_ACCOUNT_ID": ACCOUNT,
            "NIGHTSHIFT_ACTIONS_URL": "",
            "NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET": "",
        },
    )
    with mock_aws():
        # The handler's clients come from the default session; the test's own from another, so
        # the counter sees only the handler's calls.
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.Session(botocore_session=core(models)))
        counter = CallCounter()
        boto3.DEFAULT_SESSION.events.register("before-call.*.*", counter)
        session = boto3.Session(botocore_session=core(models))
        # The state table and the ops topic as template.yaml makes them.
        create_state_table(session.client("dynamodb"), TABLE)
        ops = create_ops_topic(session.client("sns"), session.client("sqs"), TOPIC)
        build_core_stack(session)
        yield CoreStack(session=session, ops=ops, policy_file=policy, counter=counter)


@pytest.fixture
def app(aws: CoreStack) -> ModuleType:
    return load_handler("redeploy")


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies a conditional write atomically; moto checks the condition and writes in
    two steps, so two threads could both pass it. One lock around moto's writes restores the
    guarantee Powertools idempotency relies on."""
    lock = threading.Lock()
    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self: DynamoDBBackend, *args: Any, _original: Any = original, **kwargs: Any):
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


def emitted_metrics(output: str) -> Counter[str]:
    """Metric values summed over every EMF document Powertools printed."""
    values: Counter[str] = Counter()
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values[metric["Name"]] += sum(value) if isinstance(value, list) else value
    return values


def items_by_service(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["resource"]: item for item in report["items"]}


def context(request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef") -> FakeLambdaContext:
    return FakeLambdaContext(function_name="nightshift-redeploy", aws_request_id=request_id)


# --------------------------------------------------------------------------------------- pushes
def test_push_moves_each_following_staging_service_to_one_new_lossless_revision(
    aws: CoreStack, app: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    source = aws.revisions("todoapp-backend")[0]

    result = app.lambda_handler(push_event(), context())

    assert aws.revisions("todoapp-backend") == [source, source.removesuffix(":1") + ":2"]
    new = aws.definition(source.removesuffix(":1") + ":2")
    old = aws.definition(source)
    app_container, log_router = new["taskDefinition"]["containerDefinitions"]
    assert app_container["image"] == f"{BACKEND}@{PUSHED_DIGEST}"
    assert log_router["image"] == LOG_ROUTER
    for name in (
        "cpu",
        "memory",
        "networkMode",
        "runtimePlatform",
        "ephemeralStorage",
        "volumes",
        "taskRoleArn",
        "executionRoleArn",
        "requiresCompatibilities",
    ):
        assert new["taskDefinition"][name] == old["taskDefinition"][name], name
    assert {k: v for k, v in app_container.items() if k != "image"} == {
        k: v for k, v in old["taskDefinition"]["containerDefinitions"][0].items() if k != "image"
    }
    assert new["tags"] == [{"key": "team", "value": "todo"}]
    for name in (API, CANARY):
        assert (
            aws.service(STAGING, name)["taskDefinition"]
            == new["taskDefinition"]["taskDefinitionArn"]
        )
    assert aws.service(PRODUCTION, API)["taskDefinition"] == source
    assert aws.service(STAGING, "todoapp-worker")["taskDefinition"].endswith("todoapp-worker:1")

    (published,) = aws.reports()
    assert published == result
    assert result["summary"] == "todoapp-backend:main-4f1c2e7: 2 redeployed, 2 skipped"
    items = items_by_service(result)
    for name in (API, CANARY):
        item = items[service_arn(STAGING, name)]
        assert item["outcome"] == "done"
        primary = next(
            d for d in aws.service(STAGING, name)["deployments"] if d["status"] == "PRIMARY"
        )
        assert item["details"]["deployment_id"] == primary["id"]
        assert item["details"]["changes"] == [
            {
                "container": "app",
                "old_image": f"{BACKEND}:main-1a2b3c4",
                "new_image": f"{BACKEND}@{PUSHED_DIGEST}",
            }
        ]
    assert items[service_arn(PRODUCTION, API)]["reason"] == (
        "tag main-4f1c2e7 does not match nightshift:redeploy=release = v*"
    )
    assert (
        items[service_arn(STAGING, "todoapp-worker")]["details"]["verdict"] == "not-this-repository"
    )
    assert service_arn(STAGING, "todoapp-frontend") not in items
    pushed = {
        item["sk"]["S"]: item["pushed_at_iso"]["S"] for item in aws.state("redeploy#last-push")
    }
    assert pushed == {
        service_arn(STAGING, API): "2026-11-20T09:12:45+00:00",
        service_arn(STAGING, CANARY): "2026-11-20T09:12:45+00:00",
    }
    assert emitted_metrics(capsys.readouterr().out)["ServicesRedeployed"] == 2


def test_service_without_circuit_breaker_rollback_is_deployed_with_a_warning(
    aws: CoreStack, app: ModuleType
) -> None:
    # moto does not keep deploymentConfiguration, so every service reads as one without a
    # circuit breaker here (the core's unit tests cover both cases).
    result = app.lambda_handler(push_event(), context())

    item = items_by_service(result)[service_arn(STAGING, API)]
    warning = "deployment circuit breaker with rollback is off: a broken image is not rolled back"
    assert item["details"]["warnings"] == [warning]
    assert item["reason"].endswith(warning)


def test_release_tag_reaches_production_and_not_staging_services_following_main(
    aws: CoreStack, app: ModuleType
) -> None:
    result = app.lambda_handler(push_event(image_tag="v1.4.0"), context())

    items = items_by_service(result)
    assert items[service_arn(PRODUCTION, API)]["outcome"] == "done"
    assert items[service_arn(STAGING, API)]["details"]["verdict"] == "glob-mismatch"
    assert aws.service(PRODUCTION, API)["taskDefinition"].endswith("todoapp-backend:2")
    assert aws.service(STAGING, API)["taskDefinition"].endswith("todoapp-backend:1")


def test_same_push_delivered_three_times_concurrently_deploys_once(
    aws: CoreStack, app: ModuleType, atomic_dynamodb: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # EventBridge may deliver one push more than once, each time with another event id.
    deliveries = [push_event(event_id=f"delivery-{n}") for n in range(3)]
    start = threading.Barrier(len(deliveries))
    results: dict[int, dict[str, Any]] = {}

    def deliver(n: int) -> None:
        start.wait()
        results[n] = app.lambda_handler(deliveries[n], context(f"request-{n}"))

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(len(deliveries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert aws.counter.calls["ecs.RegisterTaskDefinition"] == 1
    assert aws.counter.calls["ecs.UpdateService"] == 2
    assert len(aws.revisions("todoapp-backend")) == 2
    assert len(aws.reports()) == 1
    (record,) = aws.state("redeploy#push")
    assert record["status"]["S"] == "COMPLETED"
    assert record["sk"]["S"].startswith("push#")
    executed = [n for n, result in results.items() if result.get("run_id") == f"request-{n}"]
    assert len(executed) == 1
    others = [result for n, result in results.items() if n not in executed]
    # A duplicate either finds the push in progress or gets the stored report back.
    assert all(r.get("in_progress") or r.get("run_id") == f"request-{executed[0]}" for r in others)
    assert emitted_metrics(capsys.readouterr().out)["DuplicatePushes"] == 2


def test_push_redelivered_later_under_another_event_id_returns_the_first_report_and_changes_nothing(
    aws: CoreStack, app: ModuleType
) -> None:
    first = app.lambda_handler(push_event(), context("request-1"))
    aws.reports()

    again = app.lambda_handler(push_event(event_id="redelivery"), context("request-2"))

    assert again == first
    assert len(aws.revisions("todoapp-backend")) == 2
    assert aws.reports() == []


def test_push_older_than_the_last_deployed_push_is_refused_as_stale(
    aws: CoreStack, app: ModuleType
) -> None:
    newer = "sha256:" + "4c" * 32
    app.lambda_handler(
        push_event(image_tag="main-9e8d7c6", image_digest=newer, time="2026-11-20T09:20:00Z"),
        context("request-1"),
    )
    aws.reports()

    result = app.lambda_handler(push_event(), context("request-2"))

    for name in (API, CANARY):
        item = items_by_service(result)[service_arn(STAGING, name)]
        assert item["outcome"] == "refused"
        assert item["reason"] == (
            "push of 2026-11-20T09:12:45+00:00 is older than the last deployed push of "
            "2026-11-20T09:20:00+00:00"
        )
        running = aws.definition(aws.service(STAGING, name)["taskDefinition"])
        assert running["taskDefinition"]["containerDefinitions"][0]["image"] == f"{BACKEND}@{newer}"
    assert len(aws.revisions("todoapp-backend")) == 2
    (published,) = aws.reports()
    assert published["severity"] == "warning"


@pytest.mark.parametrize("asked_by", ["policy", "event"])
def test_dry_run_reports_the_plan_and_changes_nothing(
    aws: CoreStack, app: ModuleType, asked_by: str
) -> None:
    event = push_event()
    if asked_by == "policy":
        aws.write_policy(POLICY + "  dry_run: true\n")
    else:
        event["dry_run"] = True

    result = app.lambda_handler(event, context())

    assert result["dry_run"] is True
    assert result["summary"] == "todoapp-backend:main-4f1c2e7: 2 would be redeployed, 2 skipped"
    item = items_by_service(result)[service_arn(STAGING, API)]
    assert item["outcome"] == "planned"
    assert item["details"]["changes"] == [
        {
            "container": "app",
            "old_image": f"{BACKEND}:main-1a2b3c4",
            "new_image": f"{BACKEND}@{PUSHED_DIGEST}",
        }
    ]
    assert len(aws.revisions("todoapp-backend")) == 1
    assert aws.service(STAGING, API)["taskDefinition"].endswith("todoapp-backend:1")
    assert aws.counter.calls["ecs.UpdateService"] == 0
    assert aws.state("redeploy#last-push") == []
    assert aws.state("redeploy#push") == []
    assert aws.reports() == [result]


def test_push_without_tag_reaches_only_services_that_follow_every_tag(
    aws: CoreStack, app: ModuleType
) -> None:
    aws.tag(STAGING, CANARY, "any")
    aws.tag(PRODUCTION, API, "any")

    result = app.lambda_handler(push_event("ecr-push-without-tag"), context())

    items = items_by_service(result)
    assert items[service_arn(STAGING, CANARY)]["outcome"] == "done"
    assert items[service_arn(STAGING, API)]["reason"] == (
        "push has no tag; nightshift:redeploy=main = main-* follows tagged pushes only"
    )
    assert items[service_arn(PRODUCTION, API)]["reason"] == (
        "production service (Environment=production): a push without a tag never reaches it"
    )
    assert aws.service(STAGING, API)["taskDefinition"].endswith("todoapp-backend:1")
    assert result["summary"].startswith("todoapp-backend@sha256:9b2f6c1d8e0a: 1 redeployed")


def test_push_no_service_follows_is_not_published(aws: CoreStack, app: ModuleType) -> None:
    result = app.lambda_handler(push_event("ecr-push-without-tag"), context())

    assert {item["outcome"] for item in result["items"]} == {"skipped"}
    assert aws.reports() == []
    assert aws.counter.calls["ecs.RegisterTaskDefinition"] == 0


def test_delete_event_does_nothing_and_calls_no_aws_api(aws: CoreStack, app: ModuleType) -> None:
    result = app.lambda_handler(load_event("redeploy", "ecr-delete"), context())

    assert result == {
        "ignored": "DELETE of an image is not a push",
        "event_id": "6b0f4a3e-1c5d-4e7f-8091-3c4d5e6f7081",
    }
    assert aws.counter.total == 0
    assert aws.reports() == []


def test_update_refused_by_aws_is_reported_and_raised_and_a_retry_deploys_only_what_is_missing(
    aws: CoreStack, app: ModuleType
) -> None:
    refused: list[str] = []

    def refuse_api_service_once(
        params: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict] | None:
        # before-call sees the serialized request; a response returned here is the call's answer.
        service = json.loads(params["body"])["service"]
        if service != service_arn(STAGING, API) or refused:
            return None
        refused.append(service)
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
        return AWSResponse("https://ecs", 400, {}, None), error

    boto3.DEFAULT_SESSION.events.register("before-call.ecs.UpdateService", refuse_api_service_once)
    with pytest.raises(RedeployIncompleteError):
        app.lambda_handler(push_event(), context("request-1"))
    assert aws.state("redeploy#push") == []  # released, so the retry is not a duplicate

    (first,) = aws.reports()
    failed = items_by_service(first)[service_arn(STAGING, API)]
    assert failed["outcome"] == "failed"
    assert failed["reason"].startswith(
        "UpdateService failed with AccessDeniedException: not authorized; planned: tag main-4f1c2e7"
    )
    assert first["severity"] == "critical"
    assert items_by_service(first)[service_arn(STAGING, CANARY)]["outcome"] == "done"

    retry = app.lambda_handler(push_event(), context("request-1"))

    items = items_by_service(retry)
    assert items[service_arn(STAGING, API)]["outcome"] == "done"
    assert items[service_arn(STAGING, CANARY)]["details"]["verdict"] == "already-on-digest"
    # The retry reuses the revision the first attempt registered: one revision per push.
    assert aws.service(STAGING, API)["taskDefinition"].endswith("todoapp-backend:2")
    assert len(aws.revisions("todoapp-backend")) == 2


def test_revision_registered_but_unanswered_is_reused_by_the_retry_not_registered_again(
    aws: CoreStack, app: ModuleType
) -> None:
    # The registration took effect, but the answer never came back (a read timeout).
    injector = FaultInjector().install(boto3.DEFAULT_SESSION.events)
    injector.arm(rules=[("RegisterTaskDefinition", 1, FaultKind.TIMEOUT)])
    with pytest.raises(NightshiftError):
        app.lambda_handler(push_event(), context("request-1"))
    injector.disarm()
    assert len(aws.revisions("todoapp-backend")) == 2  # source and the unanswered one

    retry = app.lambda_handler(push_event(), context("request-1"))

    assert len(aws.revisions("todoapp-backend")) == 2
    items = items_by_service(retry)
    assert items[service_arn(STAGING, API)]["outcome"] == "done"
    assert aws.service(STAGING, API)["taskDefinition"].endswith("todoapp-backend:2")
    assert aws.service(STAGING, CANARY)["taskDefinition"].endswith("todoapp-backend:2")


def test_policy_that_cannot_be_loaded_changes_nothing_reports_the_error_and_raises(
    aws: CoreStack, app: ModuleType
) -> None:
    aws.write_policy(POLICY + "  dry_run: sometimes\n")

    with pytest.raises(PolicyError):
        app.lambda_handler(push_event(), context())

    (report,) = aws.reports()
    assert report["summary"] == "todoapp-backend:main-4f1c2e7: nothing was redeployed"
    assert "redeploy.dry_run" in report["errors"][0]
    assert report["severity"] == "critical"
    assert aws.counter.calls["ecs.RegisterTaskDefinition"] == 0
    assert aws.counter.calls["ecs.UpdateService"] == 0


# --------------------------------------------------------------------------- deployment outcomes
def seed_failure_history(aws: CoreStack) -> None:
    """What ECS records about a failing deployment: service events (moto keeps the list but never
    writes it, so it is set here) and stopped tasks with their reasons. moto cannot start awsvpc
    tasks, so the stopped tasks run a bridge-mode definition; the adapter does not look at it."""
    backend = ecs_backends[ACCOUNT][REGION]
    at = dt.datetime(2026, 11, 20, 9, 15, tzinfo=dt.UTC)
    backend.services[f"{STAGING}:{API}"].events = [
        {
            "id": "e2",
            "createdAt": at,
            "message": f"(service {API}) deployment ecs-svc/4732891650394821371 deployment failed: tasks failed to start.",
        },
        {
            "id": "e1",
            "createdAt": at,
            "message": f"(service {API}) has started 2 tasks: (task 5c2f) (task 7a1b).",
        },
    ]
    ecs = aws.ecs
    ecs.register_task_definition(
        family="stopped-task",
        networkMode="bridge",
        containerDefinitions=[
            {"name": "app", "image": f"{BACKEND}@{PUSHED_DIGEST}", "memory": 512}
        ],
    )
    tasks = ecs.run_task(
        cluster=STAGING,
        taskDefinition="stopped-task",
        launchType="FARGATE",
        count=2,
        startedBy="ecs-svc/4732891650394821371",
        group=f"service:{API}",
    )["tasks"]
    for task in tasks:
        ecs.stop_task(
            cluster=STAGING, task=task["taskArn"], reason="Essential container in task exited"
        )


EXPECTED_OUTCOMES = {
    "deployment-completed": (
        "done",
        "info",
        "todoapp-cluster/todoapp-backend-service: deployment completed",
    ),
    "deployment-failed": (
        "failed",
        "critical",
        "todoapp-cluster/todoapp-backend-service: deployment failed",
    ),
    "deployment-rollback": (
        "failed",
        "critical",
        "todoapp-cluster/todoapp-backend-service: deployment failed, rolling back",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_OUTCOMES))
def test_deployment_outcome_is_reported_on_the_ops_topic(
    aws: CoreStack, app: ModuleType, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_failure_history(aws)
    outcome, severity, summary = EXPECTED_OUTCOMES[name]

    result = app.lambda_handler(load_event("redeploy", name), context())

    (published,) = aws.reports()
    assert published == result
    assert (published["severity"], published["summary"]) == (severity, summary)
    (item,) = published["items"]
    assert item["outcome"] == outcome
    assert item["details"]["deployment_id"] == "ecs-svc/4732891650394821371"
    if outcome == "failed":
        assert "stopped tasks: Essential container in task exited (2 times)" in item["reason"]
        assert "has started 2 tasks" in item["reason"]
        assert len(item["details"]["stopped_tasks"]) == 2
        assert emitted_metrics(capsys.readouterr().out)["DeploymentsFailed"] == 1
    else:
        assert item["reason"] == "deployment ecs-svc/4732891650394821371 completed"
        assert aws.counter.calls["ecs.ListTasks"] == 0


def test_rollback_report_names_the_deployment_rolled_back_to(
    aws: CoreStack, app: ModuleType
) -> None:
    result = app.lambda_handler(load_event("redeploy", "deployment-rollback"), context())

    (item,) = result["items"]
    assert item["reason"].startswith(
        "deployment ecs-svc/4732891650394821371 failed: the circuit breaker rolls back to "
        "ecs-svc/1198437265019283746"
    )
    assert item["details"]["rollback_to"] == "ecs-svc/1198437265019283746"


def test_deployment_of_a_service_that_does_not_follow_pushes_is_not_reported(
    aws: CoreStack, app: ModuleType
) -> None:
    aws.ecs.untag_resource(resourceArn=service_arn(STAGING, API), tagKeys=["nightshift:redeploy"])

    result = app.lambda_handler(load_event("redeploy", "deployment-failed"), context())

    assert result["ignored"] == (
        "service todoapp-cluster/todoapp-backend-service does not follow pushes "
        "(no nightshift:redeploy tag)"
    )
    assert aws.reports() == []


def test_event_of_another_kind_raises_and_names_what_redeploy_handles(app: ModuleType) -> None:
    with pytest.raises(EventError, match=r"redeploy handles aws\.ecr 'ECR Image Action'"):
        app.lambda_handler({"source": "aws.s3", "detail-type": "Object Created"}, context())


@pytest.mark.parametrize(
    "event",
    [
        [load_event("redeploy", "ecr-push")],
        {**load_event("redeploy", "ecr-push"), "detail-type": ["ECR Image Action"]},
        {**load_event("redeploy", "ecr-push"), "source": {"aws.ecr": True}},
    ],
)
def test_event_that_is_not_an_object_or_has_a_list_detail_type_is_an_event_error(
    app: ModuleType, event: object
) -> None:
    with pytest.raises(EventError, match="redeploy handles"):
        app.lambda_handler(event, context())


def test_push_with_a_400_kb_repository_name_is_refused_before_any_aws_call(
    aws: CoreStack, app: ModuleType
) -> None:
    event = push_event(repository_name="x" * 400_000)

    with pytest.raises(EventError, match="repository-name"):
        app.lambda_handler(event, context())

    assert aws.counter.total == 0


# ------------------------------------------------------------------------- every fixture, routed
def template_rules() -> dict[str, dict[str, Any]]:
    """The EventBridge patterns of the function's rules, read from template.yaml."""

    events = template_resource("RedeployFunction")["Properties"]["Events"]
    return {name: rule["Properties"]["Pattern"] for name, rule in events.items()}


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge's decision, made by moto's matcher (the one its PutEvents uses; moto does not
    serve TestEventPattern)."""
    raw = json.dumps(pattern)
    return EventPattern(raw, EventPatternParser(raw).parse()).matches_event(event)


FIXTURE_ROUTES: dict[str, tuple[str | None, Callable[[dict[str, Any]], bool]]] = {
    "ecr-push": ("ImagePushed", lambda result: result["counts"]["done"] == 2),
    "ecr-push-without-tag": ("ImagePushed", lambda result: result["counts"]["done"] == 0),
    "ecr-delete": (None, lambda result: "ignored" in result),
    "deployment-completed": (
        "DeploymentStateChanged",
        lambda result: result["counts"]["done"] == 1,
    ),
    "deployment-failed": ("DeploymentStateChanged", lambda result: result["counts"]["failed"] == 1),
    "deployment-rollback": (
        "DeploymentStateChanged",
        lambda result: result["counts"]["failed"] == 1,
    ),
}


def test_every_redeploy_fixture_has_an_expected_route() -> None:
    assert sorted(FIXTURE_ROUTES) == event_names("redeploy")


@pytest.mark.parametrize("name", event_names("redeploy"))
def test_fixture_is_routed_by_the_template_rules_and_handled(
    aws: CoreStack, app: ModuleType, name: str
) -> None:
    event = load_event("redeploy", name)
    matched = [rule for rule, pattern in template_rules().items() if matches(pattern, event)]
    rule, handled = FIXTURE_ROUTES[name]

    assert matched == ([rule] if rule else [])
    assert handled(app.lambda_handler(event, context()))


# ------------------------------------------------------------------------ what a push costs
def build_fleet(aws: CoreStack, clusters: int, services_per_cluster: int, first: int = 0) -> None:
    """`clusters` times `services_per_cluster` services that have not opted in."""
    ecs = aws.ecs
    for c in range(first, first + clusters):
        cluster = f"fleet-{c}"
        ecs.create_cluster(clusterName=cluster)
        family = ecs.register_task_definition(
            **fargate_definition(f"fleet-{c}", f"{REGISTRY}/fleet-{c}:main-1")
        )["taskDefinition"]["taskDefinitionArn"]
        for s in range(services_per_cluster):
            create_service(ecs, cluster, f"svc-{s}", family, {"Environment": "staging"})


def test_a_push_costs_a_few_calls_however_many_services_have_not_opted_in(
    aws: CoreStack, app: ModuleType
) -> None:
    """200 services in 10 clusters, 3 of them tagged nightshift:redeploy: the one the push
    reaches, a worker of another repository beside it, and one in a fleet cluster. Then 100 more
    services that have not opted in, and the next push: it must cost exactly the same."""
    ecs = aws.ecs
    for cluster, name in ((STAGING, CANARY), (PRODUCTION, API)):
        ecs.untag_resource(resourceArn=service_arn(cluster, name), tagKeys=["nightshift:redeploy"])
    build_fleet(aws, clusters=8, services_per_cluster=24)
    for n in range(3):
        create_service(
            ecs, PRODUCTION, f"spare-{n}", "todoapp-frontend:1", {"Environment": "production"}
        )
    aws.tag("fleet-0", "svc-0", "main")
    clusters = ecs.list_clusters()["clusterArns"]
    services = sum(
        len(ecs.list_services(cluster=c, maxResults=100)["serviceArns"]) for c in clusters
    )
    assert (len(clusters), services) == (10, 200)

    app.lambda_handler(push_event(), context("request-1"))
    first = dict(aws.counter.calls)

    build_fleet(aws, clusters=4, services_per_cluster=25, first=8)
    aws.counter.calls.clear()
    newer = push_event(
        image_tag="main-9e8d7c6", image_digest="sha256:" + "4c" * 32, time="2026-11-20T10:00:00Z"
    )
    result = app.lambda_handler(newer, context("request-2"))

    assert result["counts"]["done"] == 1
    assert dict(aws.counter.calls) == first
    assert first == {
        "resource-groups-tagging-api.GetResources": 1,
        "ecs.DescribeServices": 2,  # one per cluster with opted-in services (10 services a call)
        "ecs.DescribeTaskDefinition": 3,  # one per distinct task definition they run
        "dynamodb.Query": 1,  # the last deployed push of each service
        "dynamodb.PutItem": 2,  # the push's idempotency record, the service's claim
        "ecs.ListTaskDefinitions": 1,  # a revision an interrupted attempt registered is reused
        "ecs.RegisterTaskDefinition": 1,
        "ecs.UpdateService": 1,
        "dynamodb.UpdateItem": 1,  # the idempotency record completed
        "sns.Publish": 1,
    }
    assert sum(first.values()) == 14


def test_opted_in_services_are_described_ten_per_call_per_cluster(
    aws: CoreStack, app: ModuleType
) -> None:
    build_fleet(aws, clusters=1, services_per_cluster=12)
    for n in range(12):
        aws.tag("fleet-0", f"svc-{n}", "main")

    result = app.lambda_handler(push_event(), context())

    assert aws.counter.calls["ecs.DescribeServices"] == 4  # staging, production, fleet-0 twice
    assert aws.counter.calls["ecs.DescribeTaskDefinition"] == 3
    fleet = [item for item in result["items"] if "/fleet-0/" in item["resource"]]
    assert len(fleet) == 12
    assert {item["details"]["verdict"] for item in fleet} == {"not-this-repository"}
