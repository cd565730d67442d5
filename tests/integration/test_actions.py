"""The built actions function in the local cloud, over real HTTP: its function URL served by the
local cloud's front (localcloud.function_url: each request becomes the payload 2.0 event, the
function runs under the runtime emulator, every AWS call judged against its role).

A fleet of its own, tagged nightshift:schedule=actions-it (a name no other test's resources
carry, and removed afterwards): an ECS service `actions-web` and a production twin
`actions-prod-web`. Tokens are signed with the key the stack generated in Secrets Manager (the
notifier's part, not built yet); the Slack app's signing secret is stored as a team would.
Each bad request must get its status and change nothing: tags, state table and ops topic.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import urllib3

from localcloud import Router, Stack, WebhookReceiver, format_chat_message
from localcloud.fleet import Fleet
from localcloud.function_url import FunctionUrlFront
from localcloud.runtime import invoke
from nightshift.actions.slack import signature
from nightshift.actions.token import ActionKind, new_token, sign
from tests.integration.test_scheduler import published_reports

pytestmark = pytest.mark.integration

SCHEDULE = "actions-it"
TAGS = {"nightshift:schedule": SCHEDULE}
SLACK_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
HTTP = urllib3.PoolManager(retries=False)


@dataclass
class Actions:
    stack: Stack
    router: Router
    receiver: WebhookReceiver
    url: str
    key: bytes
    web: str
    prod: str

    def tags(self) -> dict[str, dict[str, str]]:
        ecs = self.stack.endpoint.client("ecs")
        return {
            arn: {t["key"]: t["value"] for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]}
            for arn in (self.web, self.prod)
        }

    def used_tokens(self) -> int:
        found = self.stack.endpoint.client("dynamodb").query(
            TableName=self.stack.physical_id("StateTable"),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "actions#used"}},
        )
        return int(found["Count"])

    def token(
        self,
        kind: ActionKind,
        target: str = SCHEDULE,
        *,
        hours: float = 2,
        key: bytes | None = None,
    ) -> str:
        now = dt.datetime.now(dt.UTC)
        made = new_token(
            kind, target, now + dt.timedelta(hours=hours), until=now + dt.timedelta(hours=4)
        )
        return sign(made, key or self.key)

    def get(self, token: str, target: str = SCHEDULE) -> urllib3.BaseHTTPResponse:
        query = urlencode({"token": token, "target": target})
        return HTTP.request("GET", f"{self.url}/?{query}")

    def post(self, token: str, target: str = SCHEDULE) -> urllib3.BaseHTTPResponse:
        body = urlencode({"token": token, "target": target})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return HTTP.request("POST", f"{self.url}/", body=body, headers=headers)

    def slack(
        self, token: str, *, secret: str = SLACK_SECRET, age: int = 0
    ) -> urllib3.BaseHTTPResponse:
        payload = {
            "type": "block_actions",
            "user": {"id": "U0CA5SLK2", "username": "amy", "name": "amy"},
            "actions": [{"action_id": "stop-now", "value": token, "type": "button"}],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        timestamp = str(int(dt.datetime.now(dt.UTC).timestamp()) - age)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(secret.encode(), timestamp, body),
        }
        return HTTP.request("POST", f"{self.url}/slack", body=body, headers=headers)

    def reports(self) -> tuple[dict[str, Any], ...]:
        """The reports the notifier read from its queue since the last call (and posted)."""
        drained = self.router.drain("NotifierQueue")
        return tuple(
            r for r in published_reports(self.stack, drained) if r["function"] == "actions"
        )


def function_variable(stack: Stack, name: str) -> str:
    configuration = stack.endpoint.client("lambda").get_function_configuration(
        FunctionName=stack.function_name("ActionsFunction")
    )
    return str(configuration["Environment"]["Variables"][name])


@pytest.fixture(scope="module")
def actions(stack: Stack, router: Router, webhook_receiver: WebhookReceiver) -> Iterator[Actions]:
    secrets = stack.endpoint.client("secretsmanager")
    key_name = function_variable(stack, "NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET")
    key = secrets.get_secret_value(SecretId=key_name)["SecretString"].encode()
    slack_name = function_variable(stack, "NIGHTSHIFT_ACTIONS_SLACK_SECRET")
    try:
        secrets.create_secret(Name=slack_name, SecretString=SLACK_SECRET)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=slack_name, SecretString=SLACK_SECRET)
    fleet = Fleet(stack.endpoint)

    def call(event: dict[str, Any]) -> tuple[Any, bool]:
        result = invoke(stack, "ActionsFunction", event)
        return result.payload, result.error

    try:
        web = fleet.ecs_service("actions-it", "actions-web", 1, None, TAGS)
        prod = fleet.ecs_service(
            "actions-it", "actions-prod-web", 1, None, {**TAGS, "Environment": "prod"}
        )
        with FunctionUrlFront(call) as url:
            made = Actions(stack, router, webhook_receiver, url, key, web, prod)
            made.reports()  # whatever other tests left in the queue
            yield made
    finally:
        fleet.remove()


def test_a_link_shows_its_page_then_acts_once_and_reaches_chat(actions: Actions) -> None:
    before, used = actions.tags(), actions.used_tokens()
    token = actions.token(ActionKind.KEEP_RUNNING)
    page = actions.get(token)
    assert page.status == 200
    assert "keep schedule actions-it running until" in page.data.decode()
    assert (actions.tags(), actions.used_tokens()) == (before, used)  # GET changed nothing
    actions.receiver.reset()
    done = actions.post(token)
    assert done.status == 200, done.data.decode()
    tags = actions.tags()
    assert tags[actions.web]["nightshift:override"].startswith("running-until=")
    assert "nightshift:override" not in tags[actions.prod]
    (report,) = actions.reports()
    assert report["summary"].startswith("schedule actions-it kept running until ")
    assert report["summary"].endswith(", via a link")
    assert report["counts"]["refused"] == 1  # the production twin
    posted = [format_chat_message(json.loads(r.body)) for r in actions.receiver.requests]
    assert any("kept running until" in text for text in posted), posted
    replayed = actions.post(token)
    assert replayed.status == 409
    assert actions.tags() == tags
    assert actions.reports() == ()


@pytest.mark.parametrize(
    ("case", "status"), [("expired", 410), ("forged", 403), ("wrong target", 403)]
)
def test_bad_links_are_refused_and_change_nothing(actions: Actions, case: str, status: int) -> None:
    before, used = actions.tags(), actions.used_tokens()
    token = {
        "expired": actions.token(ActionKind.STOP_NOW, hours=-1),
        "forged": actions.token(ActionKind.STOP_NOW, key=b"not-the-stack-key"),
        "wrong target": actions.token(ActionKind.STOP_NOW, "office-hours"),
    }[case]
    assert actions.get(token).status == status
    assert actions.post(token).status == status
    assert (actions.tags(), actions.used_tokens()) == (before, used)
    assert actions.reports() == ()


def test_a_slack_click_acts_and_names_the_user(actions: Actions) -> None:
    response = actions.slack(actions.token(ActionKind.STOP_NOW))
    assert response.status == 200, response.data.decode()
    assert actions.tags()[actions.web]["nightshift:override"].startswith("stopped-until=")
    (report,) = actions.reports()
    assert report["summary"].endswith(", via Slack by amy")


@pytest.mark.parametrize(("secret", "age"), [("not-the-app-secret", 0), (SLACK_SECRET, 600)])
def test_slack_requests_badly_signed_or_stale_change_nothing(
    actions: Actions, secret: str, age: int
) -> None:
    before, used = actions.tags(), actions.used_tokens()
    response = actions.slack(actions.token(ActionKind.START_NOW), secret=secret, age=age)
    assert response.status == 401
    assert (actions.tags(), actions.used_tokens()) == (before, used)
    assert actions.reports() == ()
