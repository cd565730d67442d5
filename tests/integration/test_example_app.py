"""The example app (examples/core-stack.yaml) in the local cloud: deployed into a moto server of
this module's own by `localcloud.example_app`, it carries the tags and settings Nightshift relies
on, and a push to its repository yields the event ECR would send.

No `sam build` is needed here: only the example app is deployed. Its alarm is wired to a topic
made in the same server, as it would be to Nightshift's ops topic.
"""

from __future__ import annotations

import datetime as dt
import doctest
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from localcloud import Endpoint, LocalCloudError, MotoServer, example_app
from localcloud.example_app import EXAMPLE_TEMPLATE, ExampleApp, deploy_example_app
from nightshift.redeploy import ImagePush
from tests.conftest import load_event

pytestmark = pytest.mark.integration

# moto's CloudFormation creates none of these, or (the task definition) one without its Fargate
# settings and tags: the local cloud creates them in its place.
APPLIED_TYPES = {
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::Budgets::Budget",
    "AWS::CloudWatch::Alarm",
    "AWS::ECS::TaskDefinition",
}
SCALABLE_TARGET = {"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount"}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    log_file = tmp_path_factory.mktemp("moto-example-app") / "moto_server.log"
    with MotoServer(log_file=log_file) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def ops_topic(endpoint: Endpoint) -> str:
    return str(endpoint.client("sns").create_topic(Name="nightshift-ops")["TopicArn"])


@pytest.fixture(scope="module")
def app(endpoint: Endpoint, ops_topic: str) -> ExampleApp:
    return deploy_example_app(endpoint, parameters={"NightshiftOpsTopicArn": ops_topic})


@pytest.fixture
def parked(app: ExampleApp) -> Iterator[None]:
    """The service's autoscaling parked at 0..0, as Nightshift's scheduler parks it; restored."""
    autoscaling = app.endpoint.client("application-autoscaling")
    target = {**SCALABLE_TARGET, "ResourceId": f"service/{app.cluster_name}/{app.service_name}"}
    autoscaling.register_scalable_target(**target, MinCapacity=0, MaxCapacity=0)
    yield
    autoscaling.register_scalable_target(**target, MinCapacity=2, MaxCapacity=10)


def tags_of(tags: list[dict[str, str]]) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in tags}


def shape(value: Any) -> Any:
    """An event's keys, nested, with the type of each value instead of the value."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return type(value).__name__


def scalable_target(app: ExampleApp) -> dict[str, Any]:
    (target,) = app.endpoint.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs"
    )["ScalableTargets"]
    return dict(target)


def task_definition(app: ExampleApp, arn: str) -> tuple[dict[str, Any], dict[str, str]]:
    described = app.endpoint.client("ecs").describe_task_definition(
        taskDefinition=arn, include=["TAGS"]
    )
    return described["taskDefinition"], tags_of(described["tags"])


# --------------------------------------------------------------------------------- deploying
def test_every_resource_is_created_or_applied_unless_its_condition_is_off(
    app: ExampleApp,
) -> None:
    types = {
        logical_id: resource["Type"]
        for logical_id, resource in yaml_parse(EXAMPLE_TEMPLATE.read_text())["Resources"].items()
    }

    assert {types[logical_id] for logical_id in app.applied} == APPLIED_TYPES
    assert set(types) == set(app.resources) | set(app.applied) | set(app.skipped)
    assert set(app.skipped.values()) == {
        "condition HasNatGateway is false",
        "condition HasCertificate is false",
    }


def test_handles_name_what_the_service_apis_describe(app: ExampleApp) -> None:
    service = app.describe_service()
    (repository,) = app.endpoint.client("ecr").describe_repositories(
        repositoryNames=[app.repository_name]
    )["repositories"]

    assert (service["serviceName"], service["clusterArn"]) == (app.service_name, app.cluster_arn)
    assert app.cluster_arn.endswith(f":cluster/{app.cluster_name}")
    assert service["taskDefinition"] == app.task_definition_arn
    assert repository["repositoryUri"] == app.repository_uri == app.outputs["RepositoryUri"]
    assert app.db_instance_arn.endswith(f":db:{app.db_instance_id}")
    assert app.parameters["DatabaseSecretArn"] == app.database_secret_arn
    assert app.account_id in app.service_arn


def test_service_is_found_by_its_schedule_and_redeploy_tags(app: ExampleApp) -> None:
    tagging = app.endpoint.client("resourcegroupstaggingapi")

    def found(key: str) -> set[str]:
        mappings = tagging.get_resources(
            ResourceTypeFilters=["ecs:service", "rds:db"], TagFilters=[{"Key": key}]
        )["ResourceTagMappingList"]
        return {mapping["ResourceARN"] for mapping in mappings}

    assert tags_of(app.describe_service()["tags"]) == {
        "Environment": "staging",
        "nightshift:schedule": "office-hours",
        "nightshift:redeploy": "main",
    }
    assert found("nightshift:schedule") == {app.service_arn, app.db_instance_arn}
    assert found("nightshift:redeploy") == {app.service_arn}


def test_service_rolls_a_failed_deployment_back(app: ExampleApp) -> None:
    assert app.describe_service()["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }


def test_service_runs_the_full_fargate_task_definition_of_the_repository_image(
    app: ExampleApp,
) -> None:
    definition, tags = task_definition(app, app.task_definition_arn)
    (container,) = definition["containerDefinitions"]
    family = app.endpoint.client("ecs").list_task_definitions(familyPrefix=definition["family"])

    assert definition["requiresCompatibilities"] == ["FARGATE"]
    assert (definition["networkMode"], definition["cpu"], definition["memory"]) == (
        "awsvpc",
        "256",
        "512",
    )
    assert app.resources["BackendExecutionRole"] in definition["executionRoleArn"]
    assert tags == {"Environment": "staging"}
    assert container["image"] == f"{app.repository_uri}:latest"
    assert {s["valueFrom"] for s in container["secrets"]} == {
        f"{app.database_secret_arn}:username::",
        f"{app.database_secret_arn}:password::",
    }
    # moto's own partial registration is retired: the service's is the family's only revision.
    assert family["taskDefinitionArns"] == [app.task_definition_arn]


def test_autoscaling_keeps_two_to_ten_tasks_tracking_cpu(app: ExampleApp) -> None:
    target = scalable_target(app)
    (policy,) = app.endpoint.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs"
    )["ScalingPolicies"]

    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (
        f"service/{app.cluster_name}/{app.service_name}",
        2,
        10,
    )
    assert (policy["ResourceId"], policy["PolicyType"]) == (
        target["ResourceId"],
        "TargetTrackingScaling",
    )


def test_cpu_alarm_watches_the_service_and_notifies_the_ops_topic(
    app: ExampleApp, ops_topic: str
) -> None:
    (alarm,) = app.endpoint.client("cloudwatch").describe_alarms(
        AlarmNames=[app.applied["BackendHighCpuAlarm"]]
    )["MetricAlarms"]

    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "ClusterName": app.cluster_name,
        "ServiceName": app.service_name,
    }
    assert (alarm["MetricName"], alarm["Threshold"]) == ("CPUUtilization", 80)
    assert (alarm["AlarmActions"], alarm["OKActions"]) == ([ops_topic], [ops_topic])


def test_database_is_tagged_for_office_hours(app: ExampleApp) -> None:
    (database,) = app.endpoint.client("rds").describe_db_instances(
        DBInstanceIdentifier=app.db_instance_id
    )["DBInstances"]

    assert {t["Key"]: t["Value"] for t in database["TagList"]} == {
        "Environment": "staging",
        "nightshift:schedule": "office-hours",
    }


def test_deploying_again_returns_the_deployed_app_and_leaves_a_parked_service_parked(
    app: ExampleApp, endpoint: Endpoint, ops_topic: str, parked: None
) -> None:
    again = deploy_example_app(endpoint, parameters={"NightshiftOpsTopicArn": ops_topic})

    assert again == app
    assert (scalable_target(app)["MinCapacity"], scalable_target(app)["MaxCapacity"]) == (0, 0)


def test_deploying_with_other_parameters_into_the_same_server_is_refused(
    app: ExampleApp, endpoint: Endpoint
) -> None:
    with pytest.raises(LocalCloudError, match=r"stack todoapp-core already exists"):
        deploy_example_app(endpoint, parameters={"Environment": "production"})


# ------------------------------------------------------------------------------------ pushing
def test_push_stores_the_manifest_under_its_digest_and_returns_the_push_event(
    app: ExampleApp,
) -> None:
    digest, event = app.push_image("main-4f1c2e7")

    ecr = app.endpoint.client("ecr")
    (image,) = ecr.batch_get_image(
        repositoryName=app.repository_name, imageIds=[{"imageDigest": digest}]
    )["images"]
    (detail,) = ecr.describe_images(
        repositoryName=app.repository_name, imageIds=[{"imageDigest": digest}]
    )["imageDetails"]
    assert digest == "sha256:" + hashlib.sha256(image["imageManifest"].encode()).hexdigest()
    assert shape(event) == shape(load_event("redeploy", "ecr-push"))
    assert list(event["detail"]) == list(load_event("redeploy", "ecr-push")["detail"])
    assert (event["account"], event["region"]) == (app.account_id, app.region)
    assert event["detail"] | {"image-digest": digest} == {
        "result": "SUCCESS",
        "repository-name": app.repository_name,
        "image-digest": digest,
        "action-type": "PUSH",
        "image-tag": "main-4f1c2e7",
        "manifest-media-type": image["imageManifestMediaType"],
        "artifact-media-type": "application/vnd.oci.image.config.v1+json",
    }
    pushed_at = detail["imagePushedAt"].astimezone(dt.UTC).replace(microsecond=0)
    push = ImagePush.from_event(event)
    assert push is not None
    assert (push.repository, push.digest, push.tag, push.time) == (
        app.repository_name,
        digest,
        "main-4f1c2e7",
        pushed_at,
    )
    assert str(push.image) == f"{app.repository_uri}@{digest}"


def test_push_without_tag_has_the_shape_of_a_push_by_digest(app: ExampleApp) -> None:
    digest, event = app.push_image(None)

    assert shape(event) == shape(load_event("redeploy", "ecr-push-without-tag"))
    assert event["detail"]["image-digest"] == digest


def test_every_push_is_a_new_image_unless_its_content_is_the_same(app: ExampleApp) -> None:
    at = dt.datetime(2026, 11, 20, 9, 12, 45, tzinfo=dt.UTC)

    first, event = app.push_image("main-1111111", at=at, content=b"build 1")
    same, _ = app.push_image("main-2222222", at=at, content=b"build 1")
    other, _ = app.push_image("main-3333333", at=at)

    assert first == same != other
    assert event["time"] == "2026-11-20T09:12:45Z"


def test_delete_returns_the_delete_event_of_the_image_it_removed(app: ExampleApp) -> None:
    digest, _ = app.push_image("main-5555555")

    event = app.delete_image("main-5555555")

    assert shape(event) == shape(load_event("redeploy", "ecr-delete"))
    assert (event["detail"]["action-type"], event["detail"]["image-digest"]) == ("DELETE", digest)
    images = app.endpoint.client("ecr").list_images(repositoryName=app.repository_name)
    assert digest not in {image.get("imageDigest") for image in images["imageIds"]}


def test_examples_in_the_docstrings_hold() -> None:
    result = doctest.testmod(example_app)

    assert (result.failed, result.attempted > 0) == (0, True)
