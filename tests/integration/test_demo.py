"""`make demo` end to end: `python -m localcloud.demo` plays the example app's day in a local
cloud of its own (its own moto server and stack, so the session's stack is left alone) and
every step of the day ends done, with exit status 0.

The demo takes 30-70 s on a 2-core machine (more while other builds run); it runs once for the
module (`played`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from urllib.request import urlopen
from zoneinfo import ZoneInfo

import pytest

from localcloud import Project
from localcloud.demo.day import DemoDay, choose_day, playable, zulu
from localcloud.demo.health_app import HealthApp
from localcloud.demo.payloads import budget_alert, deployment_completed_event, reference
from localcloud.demo.steps import THE_DAY
from nightshift.policy import load_policy

pytestmark = pytest.mark.integration

DEMO_TIMEOUT_S = 300  # the brief's bound for the whole day; it takes a quarter of that
REVIEW_LINE = re.compile(
    r"^  (?P<mark>✓ done|✗ failed)\s+(?P<clock>\w{3} \d\d:\d\d)\s+(?P<rest>.*)$"
)


@dataclass(frozen=True)
class Played:
    returncode: int
    stdout: str
    stderr: str

    @property
    def review(self) -> list[re.Match[str]]:
        """The review's first line of each step."""
        _, _, review = self.stdout.partition("The day in review")
        return [m for line in review.splitlines() if (m := REVIEW_LINE.match(line))]


@pytest.fixture(scope="module")
def played(project: Project) -> Played:
    if not project.built_template.is_file():
        pytest.skip(f"no `sam build` output ({project.built_template}): run `make build` first")
    environment = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    completed = subprocess.run(
        [sys.executable, "-m", "localcloud.demo"],
        cwd=project.root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    return Played(completed.returncode, completed.stdout, completed.stderr)


def test_demo_exits_zero_with_every_step_of_the_day_done(played: Played) -> None:
    assert played.returncode == 0, played.stdout[-4000:] + played.stderr[-2000:]
    review = played.review
    assert [m["rest"].split(":", 1)[0] for m in review] == [step.title for step in THE_DAY]
    assert {m["mark"] for m in review} == {"✓ done"}
    assert "✗ failed" not in played.stdout


def test_demo_marks_each_step_done_on_the_timeline_in_the_order_of_the_day(played: Played) -> None:
    headings = re.findall(r"^━━ (\w{3}) (\d\d:\d\d)  (.+?) ━", played.stdout, flags=re.MULTILINE)
    verdicts = re.findall(r"^  (✓ done|✗ failed) in \d+ s: ", played.stdout, flags=re.MULTILINE)

    assert [(clock, title) for _, clock, title in headings] == [
        (step.clock, step.title) for step in THE_DAY
    ]
    weekdays = [weekday for weekday, _, _ in headings]
    days = [weekdays[n] for n, step in enumerate(THE_DAY) if not step.next_day]
    nights = [weekdays[n] for n, step in enumerate(THE_DAY) if step.next_day]
    assert len(set(days)) == len(set(nights)) == 1
    assert days[0] in {"Mon", "Tue", "Wed", "Thu"}
    assert days[0] != nights[0]
    assert verdicts == ["✓ done"] * len(THE_DAY)


def test_demo_shows_every_chat_message_the_receiver_got_rendered(played: Played) -> None:
    shown = re.findall(r"^ +💬 POST /oncall -> 200$", played.stdout, flags=re.MULTILINE)
    summary = re.search(r"(\d+) chat messages, (\d+) function invocations", played.stdout)
    rendered = [line for line in played.stdout.splitlines() if line.lstrip().startswith("│ ")]

    assert summary is not None
    assert len(shown) == int(summary[1]) >= len(THE_DAY)
    for expected in (
        "▌:large_blue_circle: redeploy (staging): todoapp-backend:main-",
        "deployment completed",
        "▌:red_circle: ALARM: nightshift-staging-canary-check-down-backend",
        "▌:large_green_circle: RESOLVED: nightshift-staging-canary-check-down-backend",
        "Budget todoapp-monthly: actual cost $41.37 is over the $40.00 threshold",
        "scheduler (staging): stopped 2",
        "pruner (staging, dry run): Plan: delete",
        "pruner (staging): Deleted",
        "scheduler (staging): started",
        # actions (localcloud/demo/actions_scenes.py): the approval and the heads-up
        "approval needed: todoapp-cluster/todoapp-backend-prod todoapp-backend:v1.0.0",
        "[Approve todoapp-backend-prod] (button)",
        "redeploy of service todoapp-backend-prod to sha256:",
        "scheduler (staging): heads-up: office-hours stops at",
        "[Keep running 1 h] (button)",
        "actions (staging): schedule office-hours kept running until",
    ):
        assert any(expected in line for line in rendered), expected


def test_demo_narrates_the_evening_across_the_organization_accounts_and_regions(
    played: Played,
) -> None:
    """The scene after the day (localcloud.demo.organization): the hub, the spoke in each member
    account's two Regions, staging parked in both, production untouched."""
    _, _, scene = played.stdout.partition("━━ Many accounts and Regions")
    pair, parked = "desiredCount 2, autoscaling 2-6", "desiredCount 0, autoscaling 0-0"
    text = " ".join(scene.split())  # the timeline wraps long lines

    assert scene, played.stdout[-3000:]
    for expected in (
        "hub: operations account 123456789012 eu-central-1",
        "spoke: staging account 222222222222, eu-central-1 and eu-west-1",
        "spoke: production account 333333333333, eu-central-1 and eu-west-1",
        f"staging 222222222222 eu-central-1: todoapp/api {pair} -> {parked}",
        f"staging 222222222222 eu-west-1: todoapp/api {pair} -> {parked}",
        f"production 333333333333 eu-central-1: todoapp/api {pair} -> {pair}",
        "scheduler: 2 targets: 2 worked",
        "left out: production 333333333333",
        "✓ organization scene",
    ):
        assert expected in text, expected


def test_demo_clicks_the_links_in_the_messages_and_they_act(played: Played) -> None:
    """The approval and the heads-up are acted on through the links in their messages."""
    lines = played.stdout.splitlines()
    clicks = [line for line in lines if "someone clicks" in line]
    approved = [line for line in lines if "│" in line and "approved, via a link" in line]
    kept = [line for line in lines if "│" in line and "kept running until" in line]

    assert [c.split("clicks ", 1)[1] for c in clicks] == [
        "'Approve todoapp-backend-prod': GET the link -> 200",
        "'Keep running 1 h': GET the link -> 200",
    ]
    assert len([line for line in lines if "Confirm (POST) -> 200" in line]) == 2
    assert approved
    assert kept
    assert "override holds it" in played.stdout  # the 19:00 stop left staging running


# -- the day and the payloads (pure: no local cloud) -------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-21T23:00:00+00:00", "2026-11-19"),  # Saturday night: Thursday
        (
            "2026-11-24T08:00:00+00:00",
            "2026-11-23",
        ),  # Tuesday 09:00: Monday, today's 13:00 is ahead
        ("2026-11-24T12:45:00+00:00", "2026-11-24"),  # Tuesday 13:45: today's canary step is over
        ("2026-11-23T09:00:00+00:00", "2026-11-19"),  # Monday morning: last Thursday, not Friday
        (
            "2026-12-26T12:00:00+00:00",
            "2026-12-22",
        ),  # after Christmas: 23 and 24 lead into holidays
    ],
    ids=["saturday", "tuesday-morning", "tuesday-afternoon", "monday-morning", "after-christmas"],
)
def test_demo_day_is_the_latest_office_day_whose_canary_step_is_over(
    now: str, expected: str
) -> None:
    holidays = {dt.date(2026, 12, 24), dt.date(2026, 12, 25)}

    day = choose_day(dt.datetime.fromisoformat(now), BERLIN, holidays)

    assert day.date == dt.date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("date", "reason"),
    [
        ("2026-11-20", "Friday is not Monday to Thursday"),
        ("2026-12-23", "2026-12-24 is a holiday"),
        ("2026-11-23", "its canary step (2026-11-23 13:00) is not over yet"),
        ("2026-11-05", "its canary step is more than 13 days ago"),
    ],
    ids=["friday", "eve-of-a-holiday", "canary-step-ahead", "too-old-for-cloudwatch"],
)
def test_demo_day_that_cannot_be_played_says_why(date: str, reason: str) -> None:
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    day = DemoDay(dt.date.fromisoformat(date), BERLIN)

    why = playable(day, now, {dt.date(2026, 12, 24)})

    assert why is not None
    assert why.startswith(reason)


def test_demo_day_instants_follow_berlin_time_across_midnight() -> None:
    day = DemoDay(dt.date(2026, 11, 19), BERLIN)

    assert zulu(day.at("19:00")) == "2026-11-19T18:00:00Z"
    assert zulu(day.at("07:30", next_day=True)) == "2026-11-20T06:30:00Z"


def shape(value: object) -> object:
    """The keys of a payload, nested, without the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def test_deployment_completed_event_has_the_reference_shape_and_this_deployments_values() -> None:
    service = (
        "arn:aws:ecs:eu-central-1:123456789012:service/todoapp-cluster/todoapp-backend-service"
    )
    at = dt.datetime(2026, 11, 19, 8, 4, 0, 250000, tzinfo=dt.UTC)

    event = deployment_completed_event(
        service_arn=service, deployment_id="ecs-svc/77", at=at, event_id="e-1"
    )

    assert shape(event) == shape(reference("eventbridge-ecs-deployment-completed"))
    assert (event["account"], event["region"], event["resources"]) == (
        "123456789012",
        "eu-central-1",
        [service],
    )
    assert event["detail"] == {
        "eventType": "INFO",
        "eventName": "SERVICE_DEPLOYMENT_COMPLETED",
        "deploymentId": "ecs-svc/77",
        "updatedAt": "2026-11-19T08:04:00.250Z",
        "reason": "ECS deployment ecs-svc/77 completed.",
    }


def test_budget_alert_is_the_reference_text_for_this_account_and_day() -> None:
    (record,) = reference("sns-budgets-actual")["Records"]

    alert = budget_alert(account="123456789012", day=dt.date(2026, 11, 19))

    assert alert.subject == record["Sns"]["Subject"]
    expected = (
        record["Sns"]["Message"]
        .replace("November 20, 2026", "November 19, 2026")
        .replace("111122223333", "123456789012")
    )
    assert alert.message == expected


def test_two_health_apps_for_the_demo_policy_listen_on_two_free_ports(project: Project) -> None:
    url = load_policy(project.root / "policy" / "demo.yaml").section("canaries")[0]["url"]

    with HealthApp.for_url(url) as first, HealthApp.for_url(url) as second:
        ports = {first.port, second.port}
        answers = [urlopen(app.url, timeout=5).status for app in (first, second)]

    assert url == "http://127.0.0.1:0/health"
    assert len(ports) == 2
    assert 0 not in ports
    assert answers == [200, 200]
