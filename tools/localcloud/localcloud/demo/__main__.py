"""`make demo` (`python -m localcloud.demo`): one scripted day of the example app, locally.

    python -m localcloud.demo [--date YYYY-MM-DD]

Exit status: 0 every step done, 1 a step failed, 2 the local cloud could not be set up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError

from localcloud.dashboard import WallClockRecorder, render_dashboard
from localcloud.demo.actions_scenes import actions_front
from localcloud.demo.cloud import DemoCloud, StepFailed
from localcloud.demo.day import DayError, DemoDay, choose_day, playable
from localcloud.demo.health_app import HealthApp
from localcloud.demo.organization import play_organization
from localcloud.demo.steps import THE_DAY, Evening
from localcloud.demo.timeline import DayReview, StepResult, Timeline
from localcloud.errors import LocalCloudError
from localcloud.example_app import deploy_example_app
from localcloud.project import Project
from localcloud.receiver import WebhookReceiver
from localcloud.server import Endpoint, MotoServer
from localcloud.stack import ensure_stack
from localcloud.webhooks import seed_webhook_secrets
from nightshift.policy import PolicyParameter, as_json, load_policy, parse_policy
from nightshift.policy.loader import read_document

# The demo stack: the demo policy (its canary probes the health app), and a pruner that deletes.
# The policy reaches the stack as a user's own would: published to SSM, named by PolicySource.
PARAMETERS = {"PolicyFile": "demo.yaml", "PrunerDryRun": "false"}
POLICY_PARAMETER = "/nightshift/demo/policy"
SCHEDULE = "office-hours"  # the policy schedule the example app's resources are tagged with


def main(argv: list[str] | None = None) -> int:
    options = _arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="localcloud: %(message)s", stream=sys.stderr)
    started = time.monotonic()
    try:
        return play(options.date, started)
    except (DayError, LocalCloudError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2


def play(date: dt.date | None, started: float) -> int:
    project = Project.at()
    policy = load_policy(project.root / "policy" / PARAMETERS["PolicyFile"])
    schedule = policy.section("schedules")[SCHEDULE]
    zone = ZoneInfo(schedule["timezone"])
    holidays = {dt.date.fromisoformat(str(d)) for d in schedule.get("except", [])}
    now = dt.datetime.now(dt.UTC)
    day = choose_day(now, zone, holidays) if date is None else DemoDay(date, zone)
    if (why := playable(day, now, holidays)) is not None:
        raise DayError(f"{day.date} cannot be played: {why}")
    timeline = Timeline(sys.stdout, day)
    print("Setting up the local cloud (moto, the built stack, the example app) ...", flush=True)
    # Every address is a free one: the health app's port goes into the policy the demo publishes.
    with (
        HealthApp.for_url(policy.section("canaries")[0]["url"]) as health,
        MotoServer() as endpoint,
        WebhookReceiver() as receiver,
    ):
        source = publish_demo_policy(
            endpoint, project.root / "policy" / PARAMETERS["PolicyFile"], health
        )
        parameters = {**PARAMETERS, "PolicySource": source.reference}
        canaries = source_policy_canaries(endpoint, source)
        stack = ensure_stack(endpoint, project, parameters=parameters)
        seed_webhook_secrets(stack, receiver.url)
        app = deploy_example_app(
            endpoint, parameters={"NightshiftOpsTopicArn": stack.outputs["OpsTopicArn"]}
        )
        cloud = DemoCloud(
            stack=stack,
            app=app,
            receiver=receiver,
            health=health,
            day=day,
            timeline=timeline,
            canaries=canaries,
        )
        with actions_front(cloud) as desk:
            _banner(cloud, endpoint.url, parameters, desk.url)
            clock = WallClockRecorder()
            results = _play_steps(cloud, clock)
        _draw_dashboard(cloud, clock, project.root / ".localcloud" / "demo")
        # The same evening from one hub: three accounts, two Regions (its own local cloud).
        organization = play_organization(project, timeline, day)
        review = DayReview(
            tuple(results),
            messages=len(receiver.requests),
            invocations=cloud.invoker.count,
            seconds=time.monotonic() - started,
        )
        timeline.review(review)
        return 0 if review.done and organization.done else 1


def publish_demo_policy(endpoint: Endpoint, path: Path, health: HealthApp) -> PolicyParameter:
    """policy/demo.yaml with the health app's real address, published to the local cloud's SSM
    as a new version (checked first, like scripts/publish-policy)."""
    template_url = load_policy(path).section("canaries")[0]["url"]
    text = path.read_text(encoding="utf-8").replace(template_url, health.url)
    parse_policy(text, f"{path} (with {health.url})")
    published = as_json(read_document(text, str(path)))  # as scripts/publish-policy publishes it
    answer = endpoint.client("ssm").put_parameter(
        Name=POLICY_PARAMETER, Value=published, Type="String", Overwrite=True
    )
    return PolicyParameter(POLICY_PARAMETER, int(answer["Version"]))


def source_policy_canaries(endpoint: Endpoint, source: PolicyParameter) -> Any:
    """The canaries of the published policy, read back as the functions will read it."""
    text = endpoint.client("ssm").get_parameter(Name=source.reference)["Parameter"]["Value"]
    return parse_policy(text, source.source).section("canaries")


def _banner(cloud: DemoCloud, moto_url: str, given: dict[str, str], actions_url: str) -> None:
    stack, app = cloud.stack, cloud.app
    parameters = " ".join(f"{k}={v}" for k, v in given.items())
    cloud.timeline.banner(
        "Nightshift demo: one day of todoapp staging in the local cloud",
        [
            ("day", f"{cloud.day.label()}, on a simulated clock"),
            ("moto", moto_url),
            ("stack", f"{stack.name} {parameters} (deployed in {stack.deploy_seconds:.0f} s)"),
            ("example app", f"{app.stack_name}: {app.service_name}, {app.db_instance_id}"),
            ("chat", f"Slack webhooks -> {cloud.receiver.url}"),
            ("health app", f"{cloud.health.url} (the published policy's canary)"),
            ("actions", f"{actions_url} (the actions function's URL: links in chat messages)"),
        ],
    )


def _draw_dashboard(cloud: DemoCloud, clock: WallClockRecorder, out_dir: Path) -> None:
    """The template's dashboard over the simulated day, as PNG charts (docs/architecture.md)."""
    start, end = cloud.day.at("08:00"), cloud.day.at("08:00", next_day=True)
    try:
        paths = render_dashboard(
            cloud.stack, start, end, out_dir, clock=clock.finish(), zone=cloud.day.zone
        )
    except (LocalCloudError, ClientError, BotoCoreError) as exc:
        print(f"dashboard not drawn: {exc}", flush=True)
        return
    print(f"Dashboard ({len(paths)} PNG):", flush=True)
    for path in paths:
        print(f"  {path}", flush=True)


def _play_steps(cloud: DemoCloud, clock: WallClockRecorder) -> list[StepResult]:
    evening = Evening()
    results = []
    for step in THE_DAY:
        label = step.label(cloud.day)
        clock.mark(cloud.day.at(step.clock, next_day=step.next_day))
        cloud.timeline.step(label, step.title)
        began = time.monotonic()
        try:
            done, summary = True, step.play(cloud, evening)
        except StepFailed as exc:
            done, summary = False, str(exc)
        except (LocalCloudError, ClientError, BotoCoreError) as exc:
            done, summary = False, f"{type(exc).__name__}: {exc}"
        if not done:
            cloud.show_chat()  # whatever did arrive
        result = StepResult(label, step.title, done, summary, time.monotonic() - began)
        cloud.timeline.verdict(result)
        results.append(result)
    return results


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m localcloud.demo",
        description="Play one scripted day of the example app in the local cloud.",
    )
    parser.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        help="the office day to play (Mon-Thu, its 13:00 in the last 13 days); default: the "
        "latest such day",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
