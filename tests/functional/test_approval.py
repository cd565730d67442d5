"""Approval holds end to end under moto, every AWS call judged against its function's role: a
release push to a production service the policy holds is recorded, not deployed, and an approval
report with a signed link goes out; the actions function's approve link deploys it once
(digest-pinned), a replay or a second approval does nothing, an expired approval does nothing
and says so. The core stack is test_redeploy's (production API tagged nightshift:approval)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from nightshift.actions.token import ActionKind, new_token, sign
from nightshift.adapters.canary_memory import CanaryMemory
from nightshift.canary.status import CheckState, StatusBoard
from tests.conftest import FakeLambdaContext, load_event, load_handler
from tests.functional.test_actions import slack_post
from tests.functional.test_redeploy import (  # noqa: F401 (fixtures)
    API,
    PRODUCTION,
    PUSHED_DIGEST,
    STAGING,
    TABLE,
    CoreStack,
    aws,
    context,
    items_by_service,
    models,
    push_event,
    service_arn,
)

KEY, KEY_NAME = "k3y" * 20, "nightshift/actions-staging-signing-key"
SLACK_NAME = "nightshift/actions-staging-slack-signing-secret"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ACTIONS_URL = "https://abcdefghijklmnop.lambda-url.eu-central-1.on.aws/"
POLICY = """\
version: 1
protect: {tag: Environment, values: [production, prod]}
redeploy:
  follow: {main: "main-*", release: "v*"}
  approval: {production: true}
"""
PROD_API = service_arn(PRODUCTION, API)
HELD_KEY = f"{PROD_API}@{PUSHED_DIGEST}"


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> CoreStack:
    """test_redeploy's core stack in moto (its `aws` fixture)."""
    return request.getfixturevalue("aws")  # type: ignore[no-any-return]


@pytest.fixture
def held(stack: CoreStack, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The release push, held: returns the approval report."""
    stack.write_policy(POLICY)
    stack.ecs.tag_resource(
        resourceArn=PROD_API, tags=[{"key": "nightshift:approval", "value": "required"}]
    )
    secrets = stack.session.client("secretsmanager")
    secrets.create_secret(Name=KEY_NAME, SecretString=KEY)
    secrets.create_secret(Name=SLACK_NAME, SecretString=SLACK_SECRET)
    board = StatusBoard(checks=(("api", CheckState.UP), ("web", CheckState.UP)))
    with monkeypatch.context() as canary:  # the staging canary's last report, as it stores it
        canary.setenv("POWERTOOLS_SERVICE_NAME", "canary")
        CanaryMemory(TABLE, stack.session.client("dynamodb")).remember(
            board, at=dt.datetime.now(dt.UTC), run_id="canary-1"
        )
    monkeypatch.setenv("NIGHTSHIFT_ACTIONS_URL", ACTIONS_URL)
    monkeypatch.setenv("NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET", KEY_NAME)
    redeploy = load_handler("redeploy")
    result = redeploy.lambda_handler(push_event(image_tag="v1.4.0"), context())
    item = items_by_service(result)[PROD_API]
    assert item["outcome"] == "planned"
    assert item["details"]["verdict"] == "held"
    [approval] = [r for r in stack.reports() if r["summary"].startswith("approval needed")]
    return dict(approval)


@pytest.fixture
def actions(stack: CoreStack, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "actions")
    monkeypatch.setenv("NIGHTSHIFT_ACTIONS_SLACK_SECRET", SLACK_NAME)
    monkeypatch.setenv("NIGHTSHIFT_ACTIONS_TIMEZONE", "Europe/Berlin")
    return load_handler("actions")


def post(actions: ModuleType, token: str, target: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("actions", "link-post"))
    event["requestContext"]["timeEpoch"] = now_ms()
    event["body"] = base64.b64encode(
        urlencode({"token": token, "target": target}).encode()
    ).decode()
    return dict(actions.lambda_handler(event, FakeLambdaContext()))


def link_of(approval: dict[str, Any]) -> tuple[str, str]:
    query = parse_qs(urlsplit(approval["items"][0]["details"]["approve_url"]).query)
    return query["token"][0], query["target"][0]


def test_push_to_a_held_production_service_is_recorded_and_not_deployed(
    stack: CoreStack, held: dict[str, Any]
) -> None:
    details = held["items"][0]["details"]
    assert details["tag"] == "v1.4.0"
    assert details["old_image"].endswith("todoapp-backend:main-1a2b3c4")
    assert details["new_image"].endswith(f"todoapp-backend@{PUSHED_DIGEST}")
    assert details["canary"] == "all 2 checks up"
    assert details["approve_url"].startswith(ACTIONS_URL)
    assert stack.service(PRODUCTION, API)["taskDefinition"].endswith("todoapp-backend:1")
    [record] = stack.state("redeploy#held")
    assert record["sk"]["S"] == HELD_KEY
    assert record["hold_state"]["S"] == "held"


def test_approve_link_deploys_the_held_digest_once_and_a_replay_does_nothing(
    stack: CoreStack, held: dict[str, Any], actions: ModuleType
) -> None:
    token, target = link_of(held)

    first = post(actions, token, target)
    deployed = stack.service(PRODUCTION, API)["taskDefinition"]
    replay = post(actions, token, target)
    other_link = sign(
        new_token(ActionKind.APPROVE, HELD_KEY, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)),
        KEY.encode(),
    )
    second = post(actions, other_link, HELD_KEY)

    assert first["statusCode"] == 200, first["body"]
    assert deployed.endswith("todoapp-backend:2")
    image = stack.definition(deployed)["taskDefinition"]["containerDefinitions"][0]["image"]
    assert image.endswith(f"todoapp-backend@{PUSHED_DIGEST}")
    assert replay["statusCode"] == 409
    assert second["statusCode"] == 200
    assert stack.service(PRODUCTION, API)["taskDefinition"] == deployed
    assert len(stack.revisions("todoapp-backend")) == 2
    reports = [r for r in stack.reports() if r["function"] == "actions"]
    assert reports[0]["summary"].endswith("approved, via a link")
    assert reports[1]["items"][0]["outcome"] == "skipped"
    assert reports[1]["items"][0]["reason"] == "approved already; nothing done again"
    [record] = stack.state("redeploy#held")
    assert record["hold_state"]["S"] == "approved"
    assert stack.service(STAGING, API)["taskDefinition"].endswith("todoapp-backend:1")


def test_approval_after_its_expiry_does_nothing_and_says_so(
    stack: CoreStack, held: dict[str, Any], actions: ModuleType
) -> None:
    expired = new_token(
        ActionKind.APPROVE, HELD_KEY, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    )

    answer = post(actions, sign(expired, KEY.encode()), HELD_KEY)

    assert answer["statusCode"] == 410
    assert stack.service(PRODUCTION, API)["taskDefinition"].endswith("todoapp-backend:1")
    [report] = [r for r in stack.reports() if r["function"] == "actions"]
    assert "expired at" in report["summary"]
    assert report["summary"].endswith("nothing was deployed, via a link")
    [record] = stack.state("redeploy#held")
    assert record["hold_state"]["S"] == "held"
    assert json.loads(record["record"]["S"])["tag"] == "v1.4.0"


def test_approve_button_in_slack_deploys_and_names_who_approved(
    stack: CoreStack, held: dict[str, Any], actions: ModuleType
) -> None:
    token, _ = link_of(held)

    answer = dict(
        actions.lambda_handler(slack_post(token, secret=SLACK_SECRET), FakeLambdaContext())
    )

    assert answer["statusCode"] == 200, answer["body"]
    assert stack.service(PRODUCTION, API)["taskDefinition"].endswith("todoapp-backend:2")
    [report] = [r for r in stack.reports() if r["function"] == "actions"]
    assert report["summary"].endswith("approved, via Slack by amy")


def now_ms() -> int:
    """The request's time as the function URL stamps it (requestContext.timeEpoch): now."""
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)
