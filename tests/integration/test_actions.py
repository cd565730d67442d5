"""The built actions function in the local cloud, over real HTTP: its function URL served by the
local cloud's front (localcloud.function_url: each request becomes the payload 2.0 event, the
function runs under the runtime emulator, every AWS call judged against its role).

A fleet of its own, tagged nightshift:schedule=actions-it (a name no other test's resources
carry, and removed afterwards): an ECS service `actions-web` and a production twin
`actions-prod-web`. The first tests sign tokens with the key the stack generated in Secrets
Manager; the Slack app's signing secret is stored as a team would. Each bad request must get its
status and change nothing: tags, state table and ops topic.

The end-to-end tests below (`e2e`) take the link or button from a real message instead: message
-> click -> effect -> report, for every action a message offers (docs/actions.md): keep running
and stop now from the heads-up, start now from the stop report, snooze, rollback, approve.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import urllib3

from localcloud import Router, Stack, WebhookReceiver, format_chat_message
from localcloud.chat_actions import buttons_in, click, links_in, open_link
from localcloud.example_app import ExampleApp, deploy_example_app
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
        self, token: str, *, secret: str = SLACK_SECRET, age: int = 0, url: str | None = None
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
        return HTTP.request("POST", f"{url or self.url}/slack", body=body, headers=headers)

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


# -- end to end: a real message, the link a person clicks in it, the effect, the report -------
#
# The built functions run with this module's policy (PolicyFile's role: a heads-up 30 minutes
# before actions-it stops, a canary check that is down, production redeploys held for approval)
# and know the actions function's address (NIGHTSHIFT_ACTIONS_URL: what the function URL's
# GetAtt gives in AWS and ApprovalLinkUrl a second deploy; moto's CloudFormation has neither).
# The message comes from the scheduler, the canary or redeploy through the notifier to the webhook
# receiver; the test takes the link (or the Slack button) from that message.

E2E_POLICY = """\
version: 1
protect: {{tag: Environment, values: [production, prod]}}
schedules:
  {schedule}:
    timezone: {zone}
    heads_up_minutes: 30
    periods: [{{days: mon-sun, start: "{start}", stop: "{stop}"}}]
redeploy:
  follow: {{main: "main-*", release: "v*"}}
  approval: {{production: true}}
canaries:
  - name: actions-it-web
    url: {down_url}
    timeout_ms: 1000
    conditions: ["[STATUS] == 200"]
notify:
  destinations:
    oncall: {{type: slack, secret: nightshift/slack-oncall}}
  routes:
    - to: [oncall]
"""
STOP_IN = dt.timedelta(minutes=20)  # the heads-up window is 30 minutes


@dataclass
class ClickClock:
    """The function URL's clock: now, or `ahead` of now (a click that comes a day later)."""

    ahead: dt.timedelta = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.ahead


@dataclass
class EndToEnd:
    """The `actions` fixture's stack and fleet, run with the e2e policy and the actions URL."""

    actions: Actions
    router: Router  # every function invoked with the policy and the actions URL
    url: str
    stop: dt.datetime  # when actions-it stops today (UTC)
    app: ExampleApp
    clock: ClickClock  # when the function URL receives a click

    shown: int = 0  # chat messages already returned by `messages`

    def fresh(self) -> None:
        """Forget the chat messages so far."""
        self.messages()
        self.actions.receiver.reset()
        self.shown = 0

    def messages(self) -> list[dict[str, Any]]:
        """Deliver what the functions published; the chat messages that arrived since the last
        call, as posted."""
        drained = self.router.drain("NotifierQueue")
        assert drained.failed == (), [b.result.error_message for b in drained.batches]
        arrived = self.actions.receiver.requests[self.shown :]
        self.shown += len(arrived)
        return [r.json for r in arrived]

    def message_with(self, words: str) -> dict[str, Any]:
        arrived = self.messages()
        found = [m for m in arrived if words in format_chat_message(m)]
        assert found, [format_chat_message(m) for m in arrived]
        return found[-1]

    def fire(self, schedule: str, at: dt.datetime) -> dict[str, Any]:
        when = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        (delivery,) = self.router.fire_schedule(schedule, when).deliveries
        assert delivery.result is not None, delivery.note
        assert not delivery.result.error, delivery.result.logs
        payload: dict[str, Any] = delivery.result.payload
        return payload

    def action_reports(self) -> list[str]:
        """The chat lines of the actions function's reports that reached chat."""
        return [
            format_chat_message(m) for m in self.messages() if "actions (" in format_chat_message(m)
        ]


def _zone_at_noon(now: dt.datetime) -> ZoneInfo:
    """A fixed-offset zone in which `now` is between 11:30 and 12:30: the e2e office hours (2 h
    before now to 20 min after) fall inside one local day at any hour the tier runs.

    >>> _zone_at_noon(dt.datetime(2026, 12, 4, 23, 40, tzinfo=dt.UTC)).key
    'Etc/GMT+12'
    """
    hours = round(12 - (now.hour + now.minute / 60))  # from UTC to local noon: -11 to +12
    # POSIX-style names: Etc/GMT-2 is two hours ahead of UTC
    return ZoneInfo(f"Etc/GMT{-hours:+d}" if hours else "Etc/GMT")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def e2e(actions: Actions, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndToEnd]:
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    stop = now + STOP_IN
    start = now - dt.timedelta(hours=2)
    zone = _zone_at_noon(now)  # office hours never cross midnight, whenever the tier runs
    policy = tmp_path_factory.mktemp("actions-e2e") / "nightshift.yaml"
    policy.write_text(
        E2E_POLICY.format(
            schedule=SCHEDULE,
            zone=zone.key,
            start=f"{start.astimezone(zone):%H:%M}",
            stop=f"{stop.astimezone(zone):%H:%M}",
            down_url=f"http://127.0.0.1:{_free_port()}/health",  # nothing listens: down
        ),
        encoding="utf-8",
    )
    overrides: dict[str, str] = {"NIGHTSHIFT_POLICY_FILE": str(policy)}

    def call(event: dict[str, Any]) -> tuple[Any, bool]:
        result = invoke(actions.stack, "ActionsFunction", event, overrides)
        return result.payload, result.error

    clock = ClickClock()
    with FunctionUrlFront(call, clock=clock) as url:
        overrides["NIGHTSHIFT_ACTIONS_URL"] = f"{url}/"
        router = Router(actions.stack, env_overrides=overrides, retry_now=True)
        app = deploy_example_app(
            actions.stack.endpoint,
            parameters={"NightshiftOpsTopicArn": actions.stack.outputs["OpsTopicArn"]},
        )
        made = EndToEnd(actions, router, url, stop, app, clock)
        made.fresh()  # whatever other tests left in the queue
        yield made


def _untag(actions: Actions) -> None:
    """Remove the web service's override (earlier tests', or this one's when it is done)."""
    ecs = actions.stack.endpoint.client("ecs")
    ecs.untag_resource(resourceArn=actions.web, tagKeys=["nightshift:override"])


def _desired(actions: Actions) -> int:
    ecs = actions.stack.endpoint.client("ecs")
    (service,) = ecs.describe_services(cluster="actions-it", services=["actions-web"])["services"]
    return int(service["desiredCount"])


@pytest.fixture(scope="module")
def heads_up(e2e: EndToEnd) -> dict[str, Any]:
    """The heads-up before today's stop, as chat got it: sent once per stop, so the tests that
    click its actions share it."""
    _untag(e2e.actions)
    e2e.fresh()
    result = e2e.fire("SchedulerFunctionReconcile", dt.datetime.now(dt.UTC))
    assert any(i["action"] == "heads-up" for i in result["items"]), result["summary"]
    return e2e.message_with(f"heads-up: {SCHEDULE} stops at")


def test_a_heads_ups_stop_now_link_parks_the_schedule_until_its_next_start(
    e2e: EndToEnd, heads_up: dict[str, Any]
) -> None:
    actions = e2e.actions
    assert _desired(actions) == 1
    e2e.fresh()
    assert "Stop now" in [b.label for b in buttons_in(heads_up)]
    (link,) = [link for link in links_in(heads_up) if link.label == "Stop now"]

    try:
        clicked = click(link.url)

        assert clicked.page.status == 200
        assert f"stop schedule {SCHEDULE} now and keep it stopped until" in clicked.page.text
        assert clicked.done is not None
        assert clicked.done.status == 200, clicked.done.text
        next_start = e2e.stop - STOP_IN - dt.timedelta(hours=2) + dt.timedelta(days=1)
        override = actions.tags()[actions.web]["nightshift:override"]
        assert override.startswith("stopped-until=")
        assert dt.datetime.fromisoformat(override.split("=", 1)[1]) == next_start
        assert "nightshift:override" not in actions.tags()[actions.prod]
        (report,) = e2e.action_reports()
        assert f"schedule {SCHEDULE} stopped, until" in report
        assert ", via a link" in report
        # the scheduler's next run, before the scheduled stop, parks it as the override says
        # (this test runs before the others fire the scheduler past the stop: a run is never
        # older than the last one)
        parked = e2e.fire("SchedulerFunctionReconcile", dt.datetime.now(dt.UTC))
        (web,) = [i for i in parked["items"] if i["resource"] == actions.web]
        assert (web["action"], web["outcome"]) == ("stop", "done"), web
        assert "override" in web["reason"], web
        assert _desired(actions) == 0
        (prod,) = [i for i in parked["items"] if i["resource"] == actions.prod]
        assert prod["outcome"] != "done", prod
    finally:
        _untag(actions)
    # without the override the scheduler starts it again from its parked record: running, as
    # the keep-running test below expects
    e2e.fire("SchedulerFunctionReconcile", dt.datetime.now(dt.UTC))
    assert _desired(actions) == 1


def test_a_heads_up_link_keeps_the_schedule_running_and_the_stop_skips_it(
    e2e: EndToEnd, heads_up: dict[str, Any]
) -> None:
    actions = e2e.actions
    ecs = actions.stack.endpoint.client("ecs")
    e2e.fresh()
    message = heads_up
    (link,) = [link for link in links_in(message) if link.label == "Keep running 1 h"]
    assert "Keep running 1 h" in [b.label for b in buttons_in(message)]

    clicked = click(link.url)

    assert clicked.page.status == 200
    assert f"keep schedule {SCHEDULE} running until" in clicked.page.text
    assert clicked.done is not None
    assert clicked.done.status == 200, clicked.done.text
    until = e2e.stop + dt.timedelta(hours=1)
    override = actions.tags()[actions.web]["nightshift:override"]
    assert override.startswith("running-until=")
    assert dt.datetime.fromisoformat(override.split("=", 1)[1]) == until
    assert "nightshift:override" not in actions.tags()[actions.prod]
    (report,) = e2e.action_reports()
    assert f"schedule {SCHEDULE} kept running until" in report
    assert f"{until:%H:%M}" in report
    assert ", via a link" in report
    # the stop comes: the web service is kept running, as the override says
    stopped = e2e.fire("SchedulerFunctionReconcile", e2e.stop + dt.timedelta(minutes=1))
    (web,) = [i for i in stopped["items"] if i["resource"] == actions.web]
    assert web["outcome"] != "done"
    assert "override" in web["reason"], web
    (service,) = ecs.describe_services(cluster="actions-it", services=["actions-web"])["services"]
    assert service["desiredCount"] == 1
    # the same link again: its page still shows, its confirmation is refused
    again = click(link.url).done
    assert again is not None
    assert again.status == 409
    assert e2e.action_reports() == []


def test_a_stop_reports_start_now_link_starts_the_schedule_again(e2e: EndToEnd) -> None:
    actions = e2e.actions
    _untag(actions)  # the heads-up test's: nothing holds the web service running now
    e2e.fresh()
    stopped_at = e2e.stop + dt.timedelta(minutes=2)
    stopped = e2e.fire("SchedulerFunctionReconcile", stopped_at)
    (web,) = [i for i in stopped["items"] if i["resource"] == actions.web]
    assert (web["action"], web["outcome"]) == ("stop", "done"), web
    assert _desired(actions) == 0
    message = e2e.message_with("Start now for 1 h")
    assert "stopped" in format_chat_message(message)
    assert "Start now for 1 h" in [b.label for b in buttons_in(message)]
    (link,) = [link for link in links_in(message) if link.label == "Start now for 1 h"]

    try:
        clicked = click(link.url)

        assert clicked.page.status == 200
        assert f"start schedule {SCHEDULE} now and keep it running until" in clicked.page.text
        assert clicked.done is not None
        assert clicked.done.status == 200, clicked.done.text
        until = stopped_at + dt.timedelta(hours=1)  # an hour from the stop report
        override = actions.tags()[actions.web]["nightshift:override"]
        assert override.startswith("running-until=")
        assert dt.datetime.fromisoformat(override.split("=", 1)[1]) == until
        assert "nightshift:override" not in actions.tags()[actions.prod]
        (report,) = e2e.action_reports()
        assert f"schedule {SCHEDULE} started, running until" in report
        assert f"{until:%H:%M}" in report
        assert ", via a link" in report
        # the scheduler's next run obeys the override: the web service runs again
        started = e2e.fire("SchedulerFunctionReconcile", stopped_at + dt.timedelta(minutes=1))
        (web,) = [i for i in started["items"] if i["resource"] == actions.web]
        assert (web["action"], web["outcome"]) == ("start", "done"), web
        assert _desired(actions) == 1
    finally:
        _untag(actions)


def test_a_down_checks_snooze_link_silences_it_for_an_hour(e2e: EndToEnd) -> None:
    actions = e2e.actions
    e2e.fresh()
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    e2e.fire("CanaryFunctionSchedule", at)
    message = e2e.message_with("actions-it-web")
    (link,) = [link for link in links_in(message) if link.label == "Snooze 1 h"]

    clicked = click(link.url)

    assert clicked.page.status == 200
    assert clicked.done is not None
    assert clicked.done.status == 200, clicked.done.text
    item = actions.stack.endpoint.client("dynamodb").get_item(
        TableName=actions.stack.physical_id("StateTable"),
        Key={"pk": {"S": "canary#snooze"}, "sk": {"S": "actions-it-web"}},
    )["Item"]
    assert dt.datetime.fromisoformat(item["until"]["S"]) == at + dt.timedelta(hours=1)
    assert item["by"]["S"] == "via a link"
    (report,) = e2e.action_reports()
    assert "actions-it-web" in report
    assert "via a link" in report


def _push(e2e: EndToEnd, tag: str) -> str:
    """CI pushes `tag` to the example app's repository; EventBridge delivers it to redeploy."""
    digest, event = e2e.app.push_image(tag)
    report = e2e.router.put_event(event)
    assert [d.result is not None and not d.result.error for d in report.deliveries] == [True]
    return digest


def _running(e2e: EndToEnd, cluster: str, service: str) -> tuple[str, list[str]]:
    ecs = e2e.actions.stack.endpoint.client("ecs")
    (found,) = ecs.describe_services(cluster=cluster, services=[service])["services"]
    definition = ecs.describe_task_definition(taskDefinition=found["taskDefinition"])
    images = [c["image"] for c in definition["taskDefinition"]["containerDefinitions"]]
    return str(found["taskDefinition"]), images


def test_a_deployment_messages_slack_button_rolls_the_service_back(e2e: EndToEnd) -> None:
    app = e2e.app
    before, _ = _running(e2e, app.cluster_name, app.service_name)
    e2e.fresh()
    digest = _push(e2e, f"main-{uuid.uuid4().hex[:7]}")
    deployed, images = _running(e2e, app.cluster_name, app.service_name)
    assert deployed != before
    assert f"{app.repository_uri}@{digest}" in images
    message = e2e.message_with(f"Roll back {app.service_name}")
    (button,) = [b for b in buttons_in(message) if b.label == f"Roll back {app.service_name}"]

    response = e2e.actions.slack(button.token, url=e2e.url)

    assert response.status == 200, response.data.decode()
    assert _running(e2e, app.cluster_name, app.service_name)[0] == before
    (report,) = e2e.action_reports()
    assert app.service_name in report
    assert "via Slack by amy" in report


@pytest.fixture(scope="module")
def production(e2e: EndToEnd) -> Iterator[str]:
    """A production API on the example app's image, following release tags, approval required:
    a task definition family of its own (the staging backend's revisions stay its own)."""
    ecs, app = e2e.actions.stack.endpoint.client("ecs"), e2e.app
    family = "actions-it-prod-api"
    yield app.production_twin(family, desired=1)
    ecs.update_service(cluster=app.cluster_name, service=family, desiredCount=0)
    ecs.delete_service(cluster=app.cluster_name, service=family)


def _held(e2e: EndToEnd, key: str) -> str:
    item = e2e.actions.stack.endpoint.client("dynamodb").get_item(
        TableName=e2e.actions.stack.physical_id("StateTable"),
        Key={"pk": {"S": "redeploy#held"}, "sk": {"S": key}},
    )["Item"]
    return str(item["hold_state"]["S"])


def test_a_held_production_redeploy_is_approved_through_its_link(
    e2e: EndToEnd, production: str
) -> None:
    app, cluster, name = e2e.app, e2e.app.cluster_name, "actions-it-prod-api"
    before, old_images = _running(e2e, cluster, name)
    e2e.fresh()
    digest = _push(e2e, f"v9.{uuid.uuid4().int % 1000}.0")
    assert _running(e2e, cluster, name)[0] == before  # held, not deployed
    message = e2e.message_with("approval needed")
    text = format_chat_message(message)
    assert old_images[0] in text, text  # old -> new image
    assert f"{app.repository_uri}@{digest}" in text
    label = f"Approve {name}"
    assert label in [b.label for b in buttons_in(message)]
    (link,) = [link for link in links_in(message) if link.label == label]

    clicked = click(link.url)

    assert clicked.page.status == 200, clicked.page.text
    assert clicked.done is not None
    assert clicked.done.status == 200, clicked.done.text
    revision, images = _running(e2e, cluster, name)
    assert revision != before
    assert images == [f"{app.repository_uri}@{digest}"]
    assert _held(e2e, f"{production}@{digest}") == "approved"
    (report,) = e2e.action_reports()
    assert "approved" in report
    assert "via a link" in report


def test_an_approval_after_its_24_hours_does_nothing_and_says_so(
    e2e: EndToEnd, production: str
) -> None:
    cluster, name = e2e.app.cluster_name, "actions-it-prod-api"
    e2e.fresh()
    digest = _push(e2e, f"v9.{uuid.uuid4().int % 1000}.1")
    before = _running(e2e, cluster, name)[0]
    message = e2e.message_with("approval needed")
    (link,) = [link for link in links_in(message) if link.label == f"Approve {name}"]
    e2e.clock.ahead = dt.timedelta(hours=23)  # the page is opened the next day ...
    try:
        page = open_link(link.url)
        e2e.clock.ahead = dt.timedelta(hours=25)  # ... and confirmed after the 24 h
        late = page.confirm()
    finally:
        e2e.clock.ahead = dt.timedelta(0)

    assert page.answer.status == 200
    assert late.status == 410, late.text
    assert "expired" in late.text
    assert _running(e2e, cluster, name)[0] == before
    assert _held(e2e, f"{production}@{digest}") == "held"
    (report,) = e2e.action_reports()
    assert "expired at" in report
    assert "nothing was deployed" in report
    assert "via a link" in report
