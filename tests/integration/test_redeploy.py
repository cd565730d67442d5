"""Redeploy in the local cloud: an ECR push to the example app reaches the built RedeployFunction
through the template's EventBridge rule, and its report reaches Slack through the notifier.

The Nightshift stack (`stack`) and the example app (examples/core-stack.yaml) run in the same
moto server, as they run in one account: the function finds the app's service by its
`nightshift:redeploy=main` tag and follows the policy's `redeploy.follow.main` (`main-*`). Each
test pushes its own image (a new build, a new digest), so the tests do not depend on each other;
the app is deployed once for the module.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from localcloud import ReceivedRequest, Router, Stack, WebhookReceiver, format_chat_message
from localcloud.example_app import ExampleApp, deploy_example_app
from localcloud.router import EventReport

pytestmark = pytest.mark.integration

IMAGE_PUSHED_RULE = "RedeployFunctionImagePushed"  # SAM's id for RedeployFunction's ImagePushed
# What RegisterTaskDefinition sets itself; everything else is copied from the source revision.
SET_BY_ECS = ("taskDefinitionArn", "revision", "registeredAt", "registeredBy")


@pytest.fixture(scope="module")
def app(stack: Stack) -> ExampleApp:
    """The example app in the Nightshift stack's moto server, its alarm wired to the ops topic."""
    return deploy_example_app(
        stack.endpoint, parameters={"NightshiftOpsTopicArn": stack.outputs["OpsTopicArn"]}
    )


def build_tag(prefix: str = "main") -> str:
    """A CI tag like `main-4f1c2e7`, new for every push."""
    return f"{prefix}-{uuid.uuid4().hex[:7]}"


def revisions(app: ExampleApp) -> list[str]:
    """Every registered revision of the app's task-definition family."""
    ecs = app.endpoint.client("ecs")
    family = ecs.describe_task_definition(taskDefinition=app.task_definition_arn)["taskDefinition"][
        "family"
    ]
    return list(ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"])


def task_definition(app: ExampleApp, arn: str) -> dict[str, Any]:
    """A revision as DescribeTaskDefinition returns it, with its tags."""
    described = app.endpoint.client("ecs").describe_task_definition(
        taskDefinition=arn, include=["TAGS"]
    )
    return {**described["taskDefinition"], "tags": described.get("tags", [])}


def runs_repository(image: str, repository_uri: str) -> bool:
    """Whether `image` is `<repository>`, `<repository>:<tag>` or `<repository>@<digest>`."""
    name = image.split("@", 1)[0]
    return repository_uri in {name, name.rsplit(":", 1)[0]}


def pinned_copy(source: dict[str, Any], repository_uri: str, digest: str) -> dict[str, Any]:
    """What a lossless copy of `source` pinned to the push looks like: containers running the
    pushed repository on the digest, every other field (and container) as it was."""
    expected = {k: v for k, v in copy.deepcopy(source).items() if k not in SET_BY_ECS}
    for container in expected["containerDefinitions"]:
        if runs_repository(container["image"], repository_uri):
            container["image"] = f"{repository_uri}@{digest}"
    return expected


def redeploy_result(report: EventReport) -> dict[str, Any]:
    """The RedeployFunction's answer to the one delivery of `report`."""
    (delivery,) = report.deliveries
    assert delivery.result is not None
    assert not delivery.result.error, delivery.result.error_message
    assert delivery.attempts == 1
    payload: dict[str, Any] = delivery.result.payload
    return payload


def service_item(result: dict[str, Any], app: ExampleApp) -> dict[str, Any]:
    """The report's line for the app's service (the account may hold other opted-in services)."""
    (item,) = [item for item in result["items"] if item["resource"] == app.service_arn]
    return item


def slack_messages(router: Router, receiver: WebhookReceiver) -> list[ReceivedRequest]:
    """Play the notifier's SQS poller on the ops topic's queue; the Slack messages of redeploy's
    reports (the account is shared: other functions' reports may be waiting in the queue)."""
    drained = router.drain("NotifierQueue")
    assert drained.failed == ()
    return [r for r in receiver.requests if r.json.get("text", "").startswith("redeploy (")]


def test_push_of_a_main_build_registers_one_pinned_revision_and_updates_the_service(
    stack: Stack, app: ExampleApp, router: Router, receiver: WebhookReceiver
) -> None:
    before = revisions(app)
    source = task_definition(app, app.describe_service()["taskDefinition"])
    tag = build_tag()

    digest, event = app.push_image(tag)
    report = router.put_event(event)

    assert report.matched_rules == (IMAGE_PUSHED_RULE,)
    assert stack.function_for(report.deliveries[0].target) == "RedeployFunction"
    result = redeploy_result(report)
    assert result["summary"].startswith(f"{app.repository_name}:{tag}: 1 redeployed")
    item = service_item(result, app)
    assert item["outcome"] == "done"

    (new,) = sorted(set(revisions(app)) - set(before))
    service = app.describe_service()
    assert service["taskDefinition"] == new == item["details"]["new_task_definition"]
    revision = task_definition(app, new)
    assert {k: v for k, v in revision.items() if k not in SET_BY_ECS} == pinned_copy(
        source, app.repository_uri, digest
    )
    assert any(
        c["image"] == f"{app.repository_uri}@{digest}" for c in revision["containerDefinitions"]
    )
    primary = next(d for d in service["deployments"] if d["status"] == "PRIMARY")
    assert item["details"]["deployment_id"] == primary["id"]

    (request,) = slack_messages(router, receiver)
    message = format_chat_message(request.json)
    assert request.destination == "oncall"
    for fact in (
        f"redeploy (staging): {app.repository_name}:{tag}: 1 redeployed",
        app.service_name,
        f"redeployed — tag {tag} matches main-*",
        digest[: len("sha256:") + 12],
    ):
        assert fact in message


def test_same_push_delivered_again_changes_nothing_and_sends_nothing(
    app: ExampleApp, router: Router, receiver: WebhookReceiver
) -> None:
    _, event = app.push_image(build_tag())
    first = redeploy_result(router.put_event(event))
    assert len(slack_messages(router, receiver)) == 1
    deployed = (revisions(app), app.describe_service()["taskDefinition"])

    again = redeploy_result(router.put_event(event))
    # An EventBridge redelivery may come under another id: it is the same push all the same.
    replayed = redeploy_result(router.put_event({**event, "id": str(uuid.uuid4())}))

    assert again == replayed == first  # the stored report of the first run, same run_id
    assert service_item(first, app)["outcome"] == "done"
    assert (revisions(app), app.describe_service()["taskDefinition"]) == deployed
    assert len(slack_messages(router, receiver)) == 1


def test_delete_of_an_image_matches_no_rule_and_changes_nothing(
    app: ExampleApp, router: Router, receiver: WebhookReceiver
) -> None:
    tag = build_tag()
    app.push_image(tag)  # pushed, but its event is not delivered here
    before = (revisions(app), app.describe_service()["taskDefinition"])

    event = app.delete_image(tag)
    report = router.put_event(event)

    assert event["detail"]["action-type"] == "DELETE"
    assert (report.matched_rules, report.deliveries) == ((), ())
    assert (revisions(app), app.describe_service()["taskDefinition"]) == before
    assert slack_messages(router, receiver) == []


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("feature-login-4f1c2e7", "tag feature-login-4f1c2e7 does not match {follows}"),
        (None, "push has no tag; {follows} follows tagged pushes only"),
    ],
    ids=["feature-branch-tag", "no-tag"],
)
def test_push_the_service_does_not_follow_is_skipped_with_reason_and_not_sent(
    app: ExampleApp, router: Router, receiver: WebhookReceiver, tag: str | None, reason: str
) -> None:
    before = (revisions(app), app.describe_service()["taskDefinition"])

    _, event = app.push_image(tag)
    report = router.put_event(event)

    assert report.matched_rules == (IMAGE_PUSHED_RULE,)
    result = redeploy_result(report)
    item = service_item(result, app)
    assert item["outcome"] == "skipped"
    assert item["details"]["verdict"] == "glob-mismatch"
    assert item["reason"] == reason.format(follows="nightshift:redeploy=main = main-*")
    assert (revisions(app), app.describe_service()["taskDefinition"]) == before
    assert slack_messages(router, receiver) == []
