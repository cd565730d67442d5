"""The actions service on in-memory ports: each action, once, reported; production refused."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from nightshift.actions.plan import TaggedResource
from nightshift.actions.service import ActionService
from nightshift.actions.token import ActionKind, Reason, new_token
from nightshift.policy import DEFAULT_PROTECT
from nightshift.report import Outcome, ReportItem
from tests.support.fakes.actions import OverridesOf, World, service_facts

NOW = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC)
EXPIRES = NOW + dt.timedelta(hours=2)
UNTIL = dt.datetime(2026, 12, 4, 21, 0, tzinfo=dt.UTC)  # 22:00 in Berlin
ZONE = ZoneInfo("Europe/Berlin")
API = "arn:aws:ecs:eu-central-1:123456789012:service/todoapp/api"
FAMILY = "arn:aws:ecs:eu-central-1:123456789012:task-definition/todoapp-api"
SCHEDULED = {"nightshift:schedule": "office-hours"}


def make(world: World) -> ActionService:
    return ActionService(
        "staging", ZONE, DEFAULT_PROTECT, world, OverridesOf(world), world, world, world
    )


def fleet() -> World:
    return World(
        resources=[
            TaggedResource("arn:aws:ecs:eu-central-1:123456789012:service/todoapp/web", SCHEDULED),
            TaggedResource("arn:aws:rds:eu-central-1:123456789012:db:todoapp-db", SCHEDULED),
            TaggedResource(
                "arn:aws:ecs:eu-central-1:123456789012:service/todoapp/prod-web",
                {**SCHEDULED, "Environment": "production"},
            ),
        ]
    )


def test_keep_running_tags_the_schedule_s_resources_but_never_production() -> None:
    world = fleet()
    token = new_token(ActionKind.KEEP_RUNNING, "office-hours", EXPIRES, until=UNTIL)
    result = make(world).act(token, "via a link", NOW)
    assert result.reason is Reason.OK
    assert world.overrides == {
        "arn:aws:ecs:eu-central-1:123456789012:service/todoapp/web": "running-until=2026-12-04T21:00:00Z",
        "arn:aws:rds:eu-central-1:123456789012:db:todoapp-db": "running-until=2026-12-04T21:00:00Z",
    }
    [report] = world.reports
    assert report.summary == (
        "schedule office-hours kept running until 2026-12-04 22:00 CET, via a link"
    )
    assert report.counts["done"] == 2
    assert report.counts["refused"] == 1
    assert report.function == "actions"


def test_stop_now_holds_it_stopped() -> None:
    world = fleet()
    token = new_token(ActionKind.STOP_NOW, "office-hours", EXPIRES, until=UNTIL)
    make(world).act(token, "via Slack by amy", NOW)
    assert set(world.overrides.values()) == {"stopped-until=2026-12-04T21:00:00Z"}
    assert world.reports[0].summary.endswith("via Slack by amy")


def test_a_token_works_once() -> None:
    world = fleet()
    token = new_token(ActionKind.START_NOW, "office-hours", EXPIRES, until=UNTIL)
    assert make(world).act(token, "via a link", NOW).reason is Reason.OK
    world.overrides.clear()
    again = make(world).act(token, "via a link", NOW)
    assert again.reason is Reason.ALREADY_USED
    assert world.overrides == {}
    assert len(world.reports) == 1


def test_snooze_records_the_check_until_when_and_by_whom() -> None:
    world = World()
    token = new_token(ActionKind.SNOOZE, "api-health", EXPIRES, until=UNTIL)
    result = make(world).act(token, "via Slack by amy", NOW)
    assert world.snoozed == {"api-health": (UNTIL, "via Slack by amy")}
    assert result.message == "check api-health snoozed until 2026-12-04 22:00 CET, via Slack by amy"


def test_rollback_goes_to_the_previous_revision() -> None:
    world = World(
        services={
            API: service_facts(API, f"{FAMILY}:7", **{"nightshift:redeploy": "todoapp/api:main"})
        },
        task_definitions=[f"{FAMILY}:{n}" for n in (8, 7, 6, 5)],
    )
    token = new_token(ActionKind.ROLLBACK, API, EXPIRES)
    result = make(world).act(token, "via a link", NOW)
    assert world.services[API].task_definition == f"{FAMILY}:6"
    assert result.message == "service api rolled back to its previous image, via a link"
    assert world.reports[0].items[0].details["previous"] == f"{FAMILY}:7"


def test_rollback_of_production_is_refused_and_changes_nothing() -> None:
    tags = {"nightshift:redeploy": "todoapp/api:main", "Environment": "prod"}
    world = World(
        services={API: service_facts(API, f"{FAMILY}:7", **tags)},
        task_definitions=[f"{FAMILY}:6", f"{FAMILY}:7"],
    )
    make(world).act(new_token(ActionKind.ROLLBACK, API, EXPIRES), "via a link", NOW)
    assert world.services[API].task_definition == f"{FAMILY}:7"
    assert world.reports[0].items[0].outcome is Outcome.REFUSED


HELD_KEY = f"{API}@sha256:{'9b' * 32}"


class Approvals:
    """The approvals port: what it was asked, and the item it answers with."""

    def __init__(self, outcome: Outcome = Outcome.DONE, reason: str = "deployed") -> None:
        self.asked: list[tuple[str, str]] = []
        self.outcome, self.reason = outcome, reason

    def approve(self, key: str, now: dt.datetime, by: str) -> ReportItem:
        self.asked.append((key, by))
        return ReportItem(API, "ecs-service", "approve-redeploy", self.outcome, self.reason)


def approving(world: World, approvals: Approvals) -> ActionService:
    return ActionService(
        "staging", ZONE, DEFAULT_PROTECT, world, OverridesOf(world), world, world, world, approvals
    )


def test_approve_deploys_the_held_redeploy_and_names_who_approved() -> None:
    world, approvals = World(), Approvals()
    token = new_token(ActionKind.APPROVE, HELD_KEY, EXPIRES)
    result = approving(world, approvals).act(token, "via Slack by ana", NOW)
    assert result.reason is Reason.OK
    assert approvals.asked == [(HELD_KEY, "via Slack by ana")]
    [report] = world.reports
    assert report.summary == (
        "redeploy of service api to sha256:9b9b9b9b9b9b approved, via Slack by ana"
    )


def test_approve_link_works_once() -> None:
    world, approvals = World(), Approvals()
    token = new_token(ActionKind.APPROVE, HELD_KEY, EXPIRES)
    approving(world, approvals).act(token, "via a link", NOW)
    again = approving(world, approvals).act(token, "via a link", NOW)
    assert again.reason is Reason.ALREADY_USED
    assert len(approvals.asked) == 1


def test_expired_approval_does_nothing_and_reports_it() -> None:
    world, approvals = World(), Approvals()
    token = new_token(ActionKind.APPROVE, HELD_KEY, EXPIRES)
    result = approving(world, approvals).act(token, "via a link", EXPIRES)
    assert result.reason is Reason.EXPIRED
    assert approvals.asked == []
    assert world.used == set()
    [report] = world.reports
    assert report.summary.startswith("approval of the held redeploy of service api")
    assert "expired at 2026-12-04 21:00 CET; nothing was deployed, via a link" in report.summary


def test_approve_target_that_is_not_a_held_redeploy_is_refused() -> None:
    world, approvals = World(), Approvals()
    result = approving(world, approvals).act(
        new_token(ActionKind.APPROVE, "todoapp-api", EXPIRES), "via a link", NOW
    )
    assert result.refused
    assert world.used == set()
    assert approvals.asked == []


@pytest.mark.parametrize(
    ("kind", "target"),
    [(ActionKind.ROLLBACK, "office-hours"), (ActionKind.KEEP_RUNNING, "arn:aws:ecs:x")],
)
def test_a_target_of_the_wrong_shape_is_refused(kind: ActionKind, target: str) -> None:
    world = fleet()
    until = UNTIL if kind is ActionKind.KEEP_RUNNING else None
    result = make(world).act(new_token(kind, target, EXPIRES, until=until), "via a link", NOW)
    assert result.refused
    assert world.overrides == {}


def test_a_failed_tag_is_reported_as_failed() -> None:
    world = fleet()
    world.failing.add("TagResource")
    token = new_token(ActionKind.KEEP_RUNNING, "office-hours", EXPIRES, until=UNTIL)
    result = make(world).act(token, "via a link", NOW)
    assert result.failed
    assert world.reports[0].severity.value == "critical"
