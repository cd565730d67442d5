"""The demo's scenes with actions (docs/actions.md): a person clicks a link in a chat message.

- 14:00 a release push reaches a production service whose redeploys wait for approval: redeploy
  holds it and asks, with old -> new image; the narration approves it through the message's link;
- 18:30 the heads-up before the evening stop arrives with actions; the narration keeps staging
  running 1 h through the message's link;
- 19:00 the scheduler's stop then keeps staging running, and says why (staging is parked at
  20:00, when the override has ended: steps.py).

The actions function is served by the local cloud's function URL front (`actions_front`), whose
clock is the simulated day's, so a link from a message of the simulated day works when clicked on
it. The deployed notifier and redeploy are given its address, as a deploy gives it to them in AWS
(the function URL's GetAtt; ApprovalLinkUrl). Every click is a GET of the link, then a POST of the
confirmation page's form (localcloud.chat_actions), as a browser makes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from localcloud.chat_actions import click, links_in
from localcloud.demo.cloud import DemoCloud, StepFailed
from localcloud.function_url import FunctionUrlFront
from localcloud.receiver import ReceivedRequest, format_chat_message
from localcloud.runtime import invoke

PRODUCTION_SERVICE = "todoapp-backend-prod"  # the demo's production twin of the backend
RELEASE_TAG = "v1.0.0"
KEEP = "Keep running 1 h"
# Functions that put the actions function's address in what they send.
LINKING = ("NotifierFunction", "RedeployFunction")


@dataclass
class Desk:
    """The actions function's front: its address and the simulated instant a click arrives."""

    url: str = ""
    now: dt.datetime | None = None
    kept_until: dt.datetime | None = None  # what the heads-up click set, for the 19:00 scene
    clicks: list[str] = field(default_factory=list)

    def clock(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.UTC)


DESK = Desk()


@contextmanager
def actions_front(cloud: DemoCloud) -> Iterator[Desk]:
    """Serve the actions function for the day, and give its address to the functions that link
    to it (their deployed environment, as a deploy sets it)."""

    def call(event: dict[str, Any]) -> tuple[Any, bool]:
        result = invoke(cloud.stack, "ActionsFunction", event)
        return result.payload, result.error

    with FunctionUrlFront(call, clock=DESK.clock) as url:
        DESK.url = url
        lambda_ = cloud.stack.endpoint.client("lambda")
        for function in LINKING:
            name = cloud.stack.function_name(function)
            variables = dict(cloud.environment(function))
            variables["NIGHTSHIFT_ACTIONS_URL"] = f"{url}/"
            lambda_.update_function_configuration(
                FunctionName=name, Environment={"Variables": variables}
            )
        yield DESK


def _follow(cloud: DemoCloud, message: ReceivedRequest, label: str, at: dt.datetime) -> str:
    """Click the link `label` of `message` at `at`: the page, then Confirm; the page's answer."""
    found = [link for link in links_in(message.json) if link.label == label]
    if not found:
        raise StepFailed(f"the message has no {label!r} link: {format_chat_message(message.json)}")
    DESK.now = at
    try:
        clicked = click(found[0].url)
    finally:
        DESK.now = None
    DESK.clicks.append(label)
    cloud.timeline.at(at, f"someone clicks {label!r}: GET the link -> {clicked.page.status}")
    if clicked.done is None:
        raise StepFailed(f"{label}: the page showed no confirmation ({clicked.page.status})")
    answer = _page_text(clicked.done.text)
    cloud.timeline.detail(f"Confirm (POST) -> {clicked.done.status}: {answer}")
    if clicked.done.status != 200:
        raise StepFailed(f"{label}: the action answered {clicked.done.status}: {answer}")
    return answer


def _page_text(html: str) -> str:
    body = html.split("<p>", 1)[-1].split("</p>", 1)[0]
    return body.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")


def _message_with(messages: list[ReceivedRequest], words: str) -> ReceivedRequest:
    found = [m for m in messages if words in format_chat_message(m.json)]
    if not found:
        raise StepFailed(f"no chat message says {words!r}")
    return found[-1]


# -------------------------------------------------------------------------------- 14:00
def release_waits_for_approval(cloud: DemoCloud, _: Any) -> str:
    """A release push reaches the production twin (approval required): held, asked in chat with
    old -> new image, approved through the message's link, deployed."""
    app, ecs = cloud.app, cloud.stack.endpoint.client("ecs")
    at = cloud.day.at("14:00")
    service = _production_twin(cloud)
    before = _images(cloud, PRODUCTION_SERVICE)
    cloud.timeline.at(
        None,
        f"beforehand: {PRODUCTION_SERVICE} (Environment=production, nightshift:redeploy=release, "
        f"nightshift:approval=required) runs {', '.join(before)}",
    )
    digest, event = app.push_image(RELEASE_TAG, at=at)
    cloud.timeline.at(at, f"CI pushes {app.repository_name}:{RELEASE_TAG} to ECR: {digest}")
    report = cloud.router.put_event(event)
    results = [cloud.payload(d.result) for d in report.deliveries if d.result is not None]
    for result in results:
        cloud.timeline.at(at, f"redeploy: {result['summary']}")
    message = _message_with(cloud.deliver_chat(), "approval needed")
    if _images(cloud, PRODUCTION_SERVICE) != before:
        raise StepFailed(f"{PRODUCTION_SERVICE} was deployed without an approval")
    answer = _follow(cloud, message, f"Approve {PRODUCTION_SERVICE}", at + 5 * _MINUTE)
    cloud.deliver_chat()
    after = _images(cloud, PRODUCTION_SERVICE)
    pinned = f"{app.repository_uri}@{digest}"
    cloud.timeline.at(at + 5 * _MINUTE, f"{PRODUCTION_SERVICE} now runs {', '.join(after)}")
    if after != [pinned]:
        raise StepFailed(f"{PRODUCTION_SERVICE} runs {after}, not {pinned}: {answer}")
    deployments = ecs.describe_services(cluster=app.cluster_name, services=[service])
    revision = deployments["services"][0]["taskDefinition"].rsplit("/", 1)[-1]
    return f"{RELEASE_TAG} held for approval, approved through its link, runs as {revision}"


_MINUTE = dt.timedelta(minutes=1)


def _production_twin(cloud: DemoCloud) -> str:
    """The backend's production twin in the example app's cluster (its own task definition
    family), made once."""
    ecs, app = cloud.stack.endpoint.client("ecs"), cloud.app
    found = ecs.describe_services(cluster=app.cluster_name, services=[PRODUCTION_SERVICE])
    active = [s for s in found["services"] if s.get("status") == "ACTIVE"]
    if active:
        return str(active[0]["serviceArn"])
    return app.production_twin(PRODUCTION_SERVICE, desired=2)


def _images(cloud: DemoCloud, service: str) -> list[str]:
    ecs, app = cloud.stack.endpoint.client("ecs"), cloud.app
    (found,) = ecs.describe_services(cluster=app.cluster_name, services=[service])["services"]
    definition = ecs.describe_task_definition(taskDefinition=found["taskDefinition"])
    return [c["image"] for c in definition["taskDefinition"]["containerDefinitions"]]


# -------------------------------------------------------------------------------- 18:30
def heads_up_keeps_staging_running(cloud: DemoCloud, _: Any) -> str:
    """The scheduler's run 30 minutes before the stop sends the heads-up with its actions; the
    narration clicks "Keep running 1 h" in the message."""
    at = cloud.day.at("18:30")
    result = cloud.fire("SchedulerFunction", at)
    cloud.timeline.at(at, f"scheduler: {result['summary']}")
    message = _message_with(cloud.deliver_chat(), "heads-up")
    answer = _follow(cloud, message, KEEP, at + 2 * _MINUTE)
    cloud.deliver_chat()
    tags = _service_tags(cloud)
    override = tags.get("nightshift:override", "")
    cloud.timeline.at(at + 2 * _MINUTE, f"{cloud.app.service_name}: nightshift:override={override}")
    if not override.startswith("running-until="):
        raise StepFailed(f"no running-until override on {cloud.app.service_name}: {answer}")
    DESK.kept_until = dt.datetime.fromisoformat(override.split("=", 1)[1])
    return f"heads-up in chat; {answer}"


# -------------------------------------------------------------------------------- 19:00
def evening_stop_skips_kept_staging(cloud: DemoCloud, _: Any) -> str:
    """The stop's run leaves staging running: the override the click set holds it until later."""
    at = cloud.day.at("19:00")
    before = cloud.staging()
    result = cloud.fire("SchedulerFunction", at)
    cloud.timeline.at(at, f"scheduler: {result['summary']}")
    kept = [i for i in result.get("items", []) if i.get("resource") == cloud.app.service_arn]
    for item in kept:
        cloud.timeline.detail(
            f"{item.get('kind')} {cloud.app.service_name}: {item.get('action')} "
            f"{str(item.get('outcome')).upper()} - {item.get('reason')}"
        )
    cloud.deliver_chat()
    after = cloud.staging()
    if after.desired != before.desired or after.desired == 0:
        raise StepFailed(f"staging was not kept running: {after.describe()}")
    until = DESK.kept_until
    local = f"{cloud.day.local(until):%H:%M}" if until is not None else "later"
    return f"staging kept running until {local} ({after.describe()})"


def _service_tags(cloud: DemoCloud) -> Mapping[str, str]:
    ecs = cloud.stack.endpoint.client("ecs")
    found = ecs.list_tags_for_resource(resourceArn=cloud.app.service_arn)["tags"]
    return {t["key"]: t["value"] for t in found}
