"""ECR pushes and ECS deployment state changes become typed objects; everything else is ignored
with a reason or refused as malformed."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from nightshift.errors import EventError
from nightshift.redeploy import (
    DeploymentStateChange,
    DeploymentStatus,
    EcrRegistry,
    IgnoredEvent,
    ImagePush,
    ImageReference,
    read_image_action,
)
from tests.conftest import REFERENCE

from .samples import BACKEND, EVENTS, PUSHED_DIGEST, load_event

FIXTURES = {
    "ecr-push.json": "eventbridge-ecr-image-action-push.json",
    "ecr-push-without-tag.json": "eventbridge-ecr-image-action-push-without-tag.json",
    "ecr-delete.json": "eventbridge-ecr-image-action-delete.json",
    "deployment-completed.json": "eventbridge-ecs-deployment-completed.json",
    "deployment-failed.json": "eventbridge-ecs-deployment-failed.json",
    "deployment-rollback.json": "eventbridge-ecs-deployment-rollback-in-progress.json",
}


@pytest.mark.parametrize(("fixture", "reference"), sorted(FIXTURES.items()))
def test_fixture_is_an_exact_copy_of_the_reference_payload(fixture: str, reference: str) -> None:
    assert (EVENTS / fixture).read_bytes() == (REFERENCE / reference).read_bytes()


def test_every_redeploy_fixture_is_covered_here() -> None:
    assert {path.name for path in EVENTS.glob("*.json")} == set(FIXTURES)


def test_push_fixture_becomes_an_image_push_with_every_field() -> None:
    push = ImagePush.from_event(load_event("ecr-push"))

    assert push == ImagePush(
        registry=EcrRegistry("111122223333", "eu-central-1"),
        repository="todoapp-backend",
        digest=PUSHED_DIGEST,
        tag="main-4f1c2e7",
        time=dt.datetime(2026, 11, 20, 9, 12, 45, tzinfo=dt.UTC),
        event_id="4f8e2d1c-9a3b-4c5d-8e7f-1a2b3c4d5e6f",
    )
    assert str(push.image) == f"{BACKEND}@{PUSHED_DIGEST}"


def test_push_without_image_tag_key_is_a_push_without_tag_keyed_on_its_digest() -> None:
    push = ImagePush.from_event(load_event("ecr-push-without-tag"))

    assert push is not None
    assert push.tag is None
    assert push.digest == PUSHED_DIGEST
    assert push.key == f"{BACKEND}@{PUSHED_DIGEST}#"


def test_a_second_tag_on_the_same_digest_is_a_different_push() -> None:
    tagged = ImagePush.from_event(load_event("ecr-push"))
    untagged = ImagePush.from_event(load_event("ecr-push-without-tag"))

    assert tagged is not None
    assert untagged is not None
    assert tagged.key != untagged.key


def test_delete_fixture_is_ignored_with_reason() -> None:
    event = load_event("ecr-delete")

    assert ImagePush.from_event(event) is None
    assert read_image_action(event) == IgnoredEvent(
        "DELETE of an image is not a push", "6b0f4a3e-1c5d-4e7f-8091-3c4d5e6f7081"
    )


def test_failed_push_is_ignored_with_reason() -> None:
    event = load_event("ecr-push")
    event["detail"]["result"] = "FAILURE"

    read = read_image_action(event)

    assert isinstance(read, IgnoredEvent)
    assert read.reason == "push result is FAILURE, not SUCCESS"


def test_deployment_event_given_to_the_push_parser_is_ignored() -> None:
    read = read_image_action(load_event("deployment-completed"))

    assert isinstance(read, IgnoredEvent)
    assert "not an ECR image action" in read.reason


@pytest.mark.parametrize("field", ["image-digest", "repository-name"])
def test_push_without_digest_or_repository_is_refused_as_malformed(field: str) -> None:
    event = load_event("ecr-push")
    del event["detail"][field]

    with pytest.raises(EventError, match=field):
        read_image_action(event)


def test_push_parser_does_not_change_the_event() -> None:
    event = load_event("ecr-push")
    original = copy.deepcopy(event)

    read_image_action(event)

    assert event == original


def test_push_matches_its_repository_with_tag_digest_or_nothing() -> None:
    push = ImagePush.from_event(load_event("ecr-push"))
    assert push is not None

    for image in (f"{BACKEND}:latest", f"{BACKEND}@{PUSHED_DIGEST}", BACKEND):
        assert push.runs_in(ImageReference.parse(image)), image


@pytest.mark.parametrize(
    "image",
    [
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com/todoapp-backend:main",
        "444455556666.dkr.ecr.eu-central-1.amazonaws.com/todoapp-backend:main",
        "111122223333.dkr.ecr.eu-central-1.amazonaws.com/todoapp-backend-worker:main",
        "111122223333.dkr.ecr.eu-central-1.amazonaws.com/team/todoapp-backend:main",
        "todoapp-backend:main",
        "public.ecr.aws/todoapp/todoapp-backend:main",
    ],
)
def test_same_repository_name_elsewhere_is_not_the_pushed_repository(image: str) -> None:
    push = ImagePush.from_event(load_event("ecr-push"))
    assert push is not None

    assert not push.runs_in(ImageReference.parse(image))


@pytest.mark.parametrize(
    ("fixture", "status", "failure", "final"),
    [
        ("deployment-completed", DeploymentStatus.COMPLETED, False, True),
        ("deployment-failed", DeploymentStatus.FAILED, True, True),
        ("deployment-rollback", DeploymentStatus.ROLLBACK, True, True),
    ],
)
def test_deployment_fixture_is_classified(
    fixture: str, status: DeploymentStatus, failure: bool, final: bool
) -> None:
    change = DeploymentStateChange.from_event(load_event(fixture))

    assert change.status is status
    assert change.is_failure is failure
    assert change.is_final is final


def test_deployment_cluster_and_service_come_from_the_resource_arn() -> None:
    change = DeploymentStateChange.from_event(load_event("deployment-completed"))

    assert change.cluster == "todoapp-cluster"
    assert change.service == "todoapp-backend-service"
    assert change.service_arn == (
        "arn:aws:ecs:eu-central-1:111122223333:service/todoapp-cluster/todoapp-backend-service"
    )
    assert change.deployment_id == "ecs-svc/4732891650394821371"
    assert change.time == dt.datetime(2026, 11, 20, 9, 16, 2, 451000, tzinfo=dt.UTC)
    assert change.rollback_to is None


def test_circuit_breaker_rollback_names_the_deployment_it_returns_to() -> None:
    change = DeploymentStateChange.from_event(load_event("deployment-rollback"))

    assert change.event_name == "SERVICE_DEPLOYMENT_IN_PROGRESS"
    assert change.rollback_to == "ecs-svc/1198437265019283746"
    assert change.deployment_id == "ecs-svc/4732891650394821371"


def test_ordinary_in_progress_deployment_is_neither_failure_nor_final() -> None:
    event = load_event("deployment-rollback")
    event["detail"]["reason"] = "ECS deployment ecs-svc/4732891650394821371 in progress."

    change = DeploymentStateChange.from_event(event)

    assert change.status is DeploymentStatus.IN_PROGRESS
    assert not change.is_failure
    assert not change.is_final


def test_service_with_old_short_arn_has_no_cluster() -> None:
    event = load_event("deployment-completed")
    event["resources"] = ["arn:aws:ecs:eu-central-1:111122223333:service/todoapp-backend-service"]

    change = DeploymentStateChange.from_event(event)

    assert change.cluster is None
    assert change.service == "todoapp-backend-service"


def test_unknown_deployment_event_name_is_refused_with_the_known_ones() -> None:
    event = load_event("deployment-completed")
    event["detail"]["eventName"] = "SERVICE_DEPLOYMENT_PAUSED"

    with pytest.raises(EventError, match="SERVICE_DEPLOYMENT_COMPLETED"):
        DeploymentStateChange.from_event(event)


@pytest.mark.parametrize(
    "resources", [[], ["arn:aws:ecs:eu-central-1:111122223333:cluster/todoapp-cluster"]]
)
def test_deployment_event_without_service_arn_is_refused(resources: list[str]) -> None:
    event = load_event("deployment-completed")
    event["resources"] = resources

    with pytest.raises(EventError, match=r"resources\[0\]"):
        DeploymentStateChange.from_event(event)


def test_push_given_to_the_deployment_parser_is_refused() -> None:
    with pytest.raises(EventError, match="not an ECS deployment state change"):
        DeploymentStateChange.from_event(load_event("ecr-push"))


HUGE = "x" * 400_000


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        ("detail", "repository-name", HUGE),
        ("detail", "repository-name", "Todoapp Backend"),
        ("detail", "image-tag", "v" * 301),
        ("detail", "image-tag", ["main-4f1c2e7"]),
        ("detail", "image-digest", "sha256:not-hex"),
        ("envelope", "account", "1234"),
        ("envelope", "region", HUGE),
        ("envelope", "id", HUGE),
        ("envelope", "time", "9999-12-31T23:59:59Z"),
        ("envelope", "time", "0001-01-01T00:00:00+01:00"),
    ],
)
def test_push_field_outside_what_aws_allows_is_refused_briefly(
    where: str, field: str, value: object
) -> None:
    event = load_event("ecr-push")
    (event["detail"] if where == "detail" else event)[field] = value

    with pytest.raises(EventError) as refused:
        read_image_action(event)

    assert len(str(refused.value)) < 300  # quoted briefly, never the whole 400 KB value


@pytest.mark.parametrize("event", [[], "ecr-push", None, 7])
def test_event_that_is_not_an_object_is_refused(event: object) -> None:
    with pytest.raises(EventError, match="must be a JSON object"):
        read_image_action(event)  # type: ignore[arg-type]
    with pytest.raises(EventError, match="must be a JSON object"):
        DeploymentStateChange.from_event(event)


def test_push_key_is_the_push_identity_not_the_delivery() -> None:
    first = load_event("ecr-push")
    redelivered = copy.deepcopy(first)
    redelivered["id"] = "0b8c5a3e-1111-4c5d-8e7f-1a2b3c4d5e6f"
    redelivered["time"] = "2026-11-20T09:13:45Z"
    redelivered["detail"]["manifest-media-type"] = "application/vnd.docker.distribution.manifest"
    retagged = copy.deepcopy(first)
    retagged["detail"]["image-tag"] = "v1.4.0"

    key = ImagePush.from_event(first).key  # type: ignore[union-attr]

    assert ImagePush.from_event(redelivered).key == key  # type: ignore[union-attr]
    assert ImagePush.from_event(retagged).key != key  # type: ignore[union-attr]
    assert key == f"{BACKEND}@{PUSHED_DIGEST}#main-4f1c2e7"


def test_deployment_event_whose_resources_are_not_a_list_is_refused() -> None:
    event = load_event("deployment-completed")
    event["resources"] = {"0": event["resources"][0]}

    with pytest.raises(EventError, match=r"resources\[0\]"):
        DeploymentStateChange.from_event(event)
