"""One rolled-back deploy is one incident: ECS says it three times (failed, rolling back,
completed); redeploy reports each, and the notifier sends one page and one resolve."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from typing import Any

import pytest

from nightshift.notify.events import Inbound
from nightshift.notify.model import Notification, Severity, State
from nightshift.notify.plan import MessagePlan, plan_message
from nightshift.notify.routing import NotifyPolicy
from nightshift.notify.sources.message import Message
from nightshift.notify.sources.nightshift_report import read
from nightshift.notify.suppression import AlarmMemory
from nightshift.redeploy import DeploymentStateChange
from nightshift.redeploy.report import Role, deployment_item, deployment_report, deployment_role
from tests.unit.redeploy.samples import load_event

POLICY = NotifyPolicy.from_section(
    {
        "destinations": {"oncall": {"type": "slack", "secret": "nightshift/slack"}},
        "digest": {"at": "08:00", "timezone": "Europe/Berlin"},
        "routes": [
            {"match": {"source": ["nightshift-report"]}, "to": ["oncall"], "deliver": "digest"},
            {"to": ["oncall"]},
        ],
        "repeat_window_minutes": 60,
    }
)
AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def change(name: str, event_id: str, minute: int) -> DeploymentStateChange:
    event: dict[str, Any] = copy.deepcopy(load_event(name))
    event["id"] = event_id
    event["detail"]["updatedAt"] = (AT + dt.timedelta(minutes=minute)).isoformat()
    return DeploymentStateChange.from_event(event)


def notification(changed: DeploymentStateChange) -> Notification:
    report = deployment_report(changed, deployment_item(changed), "staging")
    return read(Message.of(Inbound(changed.event_id, None, report.dumps(), None, None)))


class Notifier:
    """plan_message with its alarm memory, as the notifier's service keeps it."""

    def __init__(self) -> None:
        self.memory: dict[str, AlarmMemory] = {}
        self.received = itertools.count()
        self.at_once: list[Notification] = []
        self.digested: list[Notification] = []

    def receive(self, n: Notification) -> MessagePlan:
        message_id = f"m-{next(self.received)}"  # SNS gives every message its own id
        plan = plan_message(n, self.memory.get(n.dedup_key), AT, POLICY, message_id)
        if plan.remember is not None:
            self.memory[plan.remember.dedup_key] = plan.remember
        if plan.routing is not None:
            self.at_once.extend([plan.notification] if plan.routing.destinations else [])
            self.digested.extend([plan.notification] if plan.routing.digest else [])
        return plan


FAILED = ("deployment-failed", "e-failed", 6)
ROLLBACK = ("deployment-rollback", "e-rollback", 8)
COMPLETED = ("deployment-completed", "e-completed", 12)


@pytest.mark.parametrize(
    "order",
    [(FAILED, ROLLBACK, COMPLETED), (ROLLBACK, FAILED, COMPLETED)],
    ids=["as-ecs-says-it", "rollback-first"],
)
def test_a_rolled_back_deploy_pages_once_and_resolves_once(
    order: tuple[tuple[str, str, int], ...],
) -> None:
    notifier = Notifier()

    for name, event_id, minute in order:
        notifier.receive(notification(change(name, event_id, minute)))

    states = [n.state for n in notifier.at_once]
    assert states == [State.ALARM, State.OK]
    page, resolve = notifier.at_once
    assert page.severity is Severity.CRITICAL
    assert "deployment failed" in page.title
    assert "deployment completed" in resolve.title
    assert resolve.facts[0].label == "Resolved after"
    # The rollback is part of the failure's page: routine, in the digest, saying what paged.
    (rollback,) = notifier.digested
    assert rollback.severity is Severity.INFO
    assert "rolling back" in rollback.title
    assert any(f.label == "Paged by" and "failed" in f.value for f in rollback.facts)


def test_a_deploy_that_simply_completed_is_routine_for_the_digest() -> None:
    notifier = Notifier()

    plan = notifier.receive(notification(change("deployment-completed", "e-1", 4)))
    notifier.receive(notification(change("deployment-completed", "e-2", 30)))

    assert notifier.at_once == []
    assert len(notifier.digested) == 2  # a second deploy in the hour is not a "repeat"
    assert plan.notification.state is State.INFO
    assert all("no open ALARM" not in f.value for n in notifier.digested for f in n.facts)


def test_each_outcome_says_its_role_and_why() -> None:
    roles = {
        name: deployment_role(change(name, "e", 0))
        for name in ("deployment-failed", "deployment-rollback", "deployment-completed")
    }

    assert {name: role for name, (role, _) in roles.items()} == {
        "deployment-failed": Role.PAGE,
        "deployment-rollback": Role.FOLDED,
        "deployment-completed": Role.RESOLVE,
    }
    assert "follows its failure, which pages" in roles["deployment-rollback"][1]
