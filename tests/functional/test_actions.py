"""The actions handler under moto: function URL requests (events/actions) for links and Slack
buttons, every AWS call judged against the actions role.

The stack: ECS cluster `todoapp` with `web` (on schedule office-hours, following its images, three
task definition revisions) and `prod-web` (same tags, Environment=production), RDS `todoapp-db`
on the schedule, and the two secrets the template names (the signing key it generates, the Slack
app's signing secret the team stores).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from localcloud.fleet import Fleet, SessionClients
from nightshift.actions.slack import signature
from nightshift.actions.token import ActionKind, new_token, sign
from tests.conftest import FakeLambdaContext, load_event, load_handler
from tests.support.nightshift import ACTIONS_KEY as KEY
from tests.support.nightshift import ACTIONS_SLACK_SECRET as SLACK_SECRET
from tests.support.nightshift import ACTIONS_TABLE as TABLE
from tests.support.nightshift import OpsTopic, actions_account

REGION = "eu-central-1"
SCHEDULE = {"nightshift:schedule": "office-hours", "nightshift:redeploy": "todoapp:main"}
POLICY = "version: 1\nprotect: {tag: Environment, values: [production, prod]}\n"


@dataclass
class Cloud:
    app: ModuleType
    ops: OpsTopic
    web: str
    prod: str
    db: str

    @property
    def ecs(self) -> Any:
        return boto3.client("ecs")

    def tags(self) -> dict[str, dict[str, str]]:
        found = {}
        for arn in (self.web, self.prod):
            tags = self.ecs.list_tags_for_resource(resourceArn=arn)["tags"]
            found[arn] = {t["key"]: t["value"] for t in tags}
        tags = boto3.client("rds").list_tags_for_resource(ResourceName=self.db)["TagList"]
        found[self.db] = {t["Key"]: t["Value"] for t in tags}
        return found

    def task_definition(self, arn: str) -> str:
        service = self.ecs.describe_services(cluster="todoapp", services=[arn])["services"][0]
        return str(service["taskDefinition"])

    def request(self, event: dict[str, Any]) -> dict[str, Any]:
        return dict(self.app.lambda_handler(event, FakeLambdaContext()))


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cloud]:
    policy = tmp_path / "nightshift.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    extra = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
    with actions_account(monkeypatch, policy, extra=extra) as ops:
        fleet = Fleet(SessionClients(REGION))
        web = fleet.ecs_service("todoapp", "web", 2, None, SCHEDULE)
        prod = fleet.ecs_service(
            "todoapp", "prod-web", 2, None, {**SCHEDULE, "Environment": "production"}
        )
        db = fleet.rds_instance("todoapp-db", {"nightshift:schedule": "office-hours"})
        ecs = boto3.client("ecs")
        for image in ("todoapp@sha256:aaa", "todoapp@sha256:bbb"):
            latest = ecs.register_task_definition(
                family="todoapp",
                requiresCompatibilities=["FARGATE"],
                networkMode="awsvpc",
                cpu="256",
                memory="512",
                containerDefinitions=[{"name": "app", "image": image, "essential": True}],
            )["taskDefinition"]["taskDefinitionArn"]
        for service in ("web", "prod-web"):
            ecs.update_service(cluster="todoapp", service=service, taskDefinition=latest)
        yield Cloud(load_handler("actions"), ops, web, prod, db)


NOW = dt.datetime.now(dt.UTC)


def token(
    kind: ActionKind, target: str, *, key: str = KEY, hours: float = 2, until_hours: float = 4
) -> str:
    until = NOW + dt.timedelta(hours=until_hours) if kind is not ActionKind.ROLLBACK else None
    made = new_token(kind, target, NOW + dt.timedelta(hours=hours), until=until)
    return sign(made, key.encode())


def link_get(text: str, target: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("actions", "link-get"))
    event["requestContext"]["timeEpoch"] = now_ms()
    event["queryStringParameters"] = {"token": text, "target": target}
    event["rawQueryString"] = urlencode(event["queryStringParameters"])
    return event


def link_post(text: str, target: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("actions", "link-post"))
    event["requestContext"]["timeEpoch"] = now_ms()
    body = urlencode({"token": text, "target": target})
    event["body"] = base64.b64encode(body.encode()).decode()
    return event


def slack_post(text: str, *, secret: str = SLACK_SECRET, age: int = 0) -> dict[str, Any]:
    event = copy.deepcopy(load_event("actions", "slack-click"))
    event["requestContext"]["timeEpoch"] = now_ms()
    form = dict(pair.split("=", 1) for pair in base64.b64decode(event["body"]).decode().split("&"))
    from urllib.parse import unquote_plus

    payload = json.loads(unquote_plus(form["payload"]))
    payload["actions"][0]["value"] = text
    body = urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(NOW.timestamp()) - age)
    event["headers"]["x-slack-request-timestamp"] = timestamp
    event["headers"]["x-slack-signature"] = signature(secret.encode(), timestamp, body)
    event["body"] = base64.b64encode(body).decode()
    return event


def test_get_shows_the_confirmation_page_and_changes_nothing(cloud: Cloud) -> None:
    before = cloud.tags()
    text = token(ActionKind.KEEP_RUNNING, "office-hours")
    answer = cloud.request(link_get(text, "office-hours"))
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"].startswith("text/html")
    assert "keep schedule office-hours running until" in answer["body"]
    assert "<form method=post" in answer["body"]
    assert cloud.tags() == before
    assert cloud.ops.reports() == []


def test_posting_the_form_keeps_the_schedule_running_once(cloud: Cloud) -> None:
    text = token(ActionKind.KEEP_RUNNING, "office-hours")
    answer = cloud.request(link_post(text, "office-hours"))
    assert answer["statusCode"] == 200, answer["body"]
    tags = cloud.tags()
    assert tags[cloud.web]["nightshift:override"].startswith("running-until=")
    assert tags[cloud.db]["nightshift:override"] == tags[cloud.web]["nightshift:override"]
    assert "nightshift:override" not in tags[cloud.prod]
    (report,) = cloud.ops.reports()
    assert report["function"] == "actions"
    assert report["summary"].startswith("schedule office-hours kept running until ")
    assert report["summary"].endswith(", via a link")
    assert report["counts"]["done"] == 2
    assert report["counts"]["refused"] == 1
    again = cloud.request(link_post(text, "office-hours"))
    assert again["statusCode"] == 409
    assert cloud.ops.reports() == []


@pytest.mark.parametrize(
    ("case", "status"),
    [("expired", 410), ("forged", 403), ("wrong target", 403), ("malformed", 400)],
)
def test_bad_links_are_refused_and_change_nothing(cloud: Cloud, case: str, status: int) -> None:
    before = cloud.tags()
    text = {
        "expired": token(ActionKind.STOP_NOW, "office-hours", hours=-1),
        "forged": token(ActionKind.STOP_NOW, "office-hours", key="not-our-key"),
        "wrong target": token(ActionKind.STOP_NOW, "always-on"),
        "malformed": "not-a-token",
    }[case]
    for event in (link_get(text, "office-hours"), link_post(text, "office-hours")):
        assert cloud.request(event)["statusCode"] == status
    assert cloud.tags() == before
    assert cloud.ops.reports() == []


def test_a_slack_click_names_the_user(cloud: Cloud) -> None:
    answer = cloud.request(slack_post(token(ActionKind.STOP_NOW, "office-hours")))
    assert answer["statusCode"] == 200, answer["body"]
    assert cloud.tags()[cloud.web]["nightshift:override"].startswith("stopped-until=")
    (report,) = cloud.ops.reports()
    assert report["summary"].endswith(", via Slack by amy")


@pytest.mark.parametrize(("secret", "age"), [("other-secret", 0), (SLACK_SECRET, 301)])
def test_slack_requests_badly_signed_or_stale_are_refused(
    cloud: Cloud, secret: str, age: int
) -> None:
    before = cloud.tags()
    answer = cloud.request(
        slack_post(token(ActionKind.STOP_NOW, "office-hours"), secret=secret, age=age)
    )
    assert answer["statusCode"] == 401
    assert cloud.tags() == before
    assert cloud.ops.reports() == []


def test_rollback_returns_the_service_to_its_previous_revision(cloud: Cloud) -> None:
    current = cloud.task_definition(cloud.web)
    assert current.endswith(":3")
    answer = cloud.request(link_post(token(ActionKind.ROLLBACK, cloud.web), cloud.web))
    assert answer["statusCode"] == 200, answer["body"]
    assert cloud.task_definition(cloud.web).endswith("todoapp:2")
    (report,) = cloud.ops.reports()
    assert report["summary"] == "service web rolled back to its previous image, via a link"


def test_production_is_never_rolled_back(cloud: Cloud) -> None:
    answer = cloud.request(link_post(token(ActionKind.ROLLBACK, cloud.prod), cloud.prod))
    assert answer["statusCode"] == 200
    assert cloud.task_definition(cloud.prod).endswith(":3")
    (report,) = cloud.ops.reports()
    assert report["counts"]["refused"] == 1


def test_snooze_writes_the_record_the_canary_reads(cloud: Cloud) -> None:
    answer = cloud.request(link_post(token(ActionKind.SNOOZE, "api-health"), "api-health"))
    assert answer["statusCode"] == 200, answer["body"]
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": "canary#snooze"}, "sk": {"S": "api-health"}}
    )["Item"]
    assert dt.datetime.fromisoformat(item["until"]["S"]) > NOW
    assert item["by"]["S"] == "via a link"


@pytest.mark.parametrize(
    ("name", "status"),
    [("link-get", 403), ("link-post", 403), ("slack-click", 401), ("status-get", 403)],
)
def test_each_events_fixture_is_answered_as_a_request_of_its_shape(
    cloud: Cloud, name: str, status: int
) -> None:
    # The fixtures carry a token signed by no key and a Slack signature of no secret.
    answer = cloud.request(load_event("actions", name))
    assert answer["statusCode"] == status
    assert answer["headers"]["Cache-Control"] == "no-store"
    assert cloud.ops.reports() == []


def now_ms() -> int:
    """The request's time as the function URL stamps it (requestContext.timeEpoch): now."""
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)
