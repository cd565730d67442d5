"""Approval holds: the policy holds a redeploy, the push records it and asks for an approval
instead of deploying; an approval deploys it once, through the same path, within 24 h."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from nightshift.canary.status import CheckState, StatusBoard
from nightshift.errors import PolicyError
from nightshift.policy import parse_policy
from nightshift.redeploy import Verdict, plan_redeploy
from nightshift.redeploy.approval import (
    HeldRedeploy,
    HeldState,
    approval_decision,
    approve_link,
    canary_summary,
    hold,
)
from nightshift.redeploy.events import PushRun
from nightshift.redeploy.policy import ApprovalRule, RedeployPolicy
from nightshift.report import Outcome
from tests.support.fakes.redeploy import FakeRedeploy, MemoryEcs, redeploy_policy

from .samples import PUSHED_DIGEST, push_event, service, task_definition

HOLD_MAIN = 'version: 1\nredeploy: {follow: {main: "main-*"}, approval: {follow: [main]}}'
HOLD_PRODUCTION = (
    'version: 1\nredeploy: {follow: {main: "main-*", release: "v*"}, approval: {production: true}}'
)


def release_push():
    return dataclasses.replace(push_event(), tag="v1.2.3")


def test_approval_section_becomes_the_model() -> None:
    rules = RedeployPolicy.from_policy(
        parse_policy("version: 1\nredeploy: {approval: {production: true, follow: [main]}}")
    )

    assert rules.approval == ApprovalRule(production=True, follow=frozenset({"main"}))


def test_approval_that_holds_nothing_is_a_policy_mistake() -> None:
    with pytest.raises(PolicyError, match=r"redeploy\.approval: holds nothing"):
        RedeployPolicy.from_policy(parse_policy("version: 1\nredeploy: {approval: {}}"))


def test_approval_follow_name_an_ecs_tag_cannot_hold_is_refused_by_the_schema() -> None:
    with pytest.raises(PolicyError, match=r"redeploy\.approval\.follow"):
        parse_policy('version: 1\nredeploy: {approval: {follow: ["main-*"]}}')


def test_production_service_is_held_instead_of_deployed_with_the_reason() -> None:
    prod = service(environment="production", follows="release")
    td = task_definition()
    plan = plan_redeploy(release_push(), [prod], {td.arn: td}, redeploy_policy(HOLD_PRODUCTION))

    [decision] = plan.decisions
    assert decision.verdict is Verdict.HELD
    assert decision.outcome is Outcome.PLANNED
    assert decision.reason.startswith(
        "production service (Environment=production) needs approval: held until approved"
    )
    assert plan.revisions == ()


def test_approved_service_passes_the_hold_but_every_other_gate_still_applies() -> None:
    prod = service(environment="production", follows="release")
    td = task_definition()
    rules = redeploy_policy(HOLD_PRODUCTION)

    approved = plan_redeploy(release_push(), [prod], {td.arn: td}, rules, approved={prod.arn})
    candidate = dataclasses.replace(push_event(), tag="v2.0.0-rc.1")
    not_a_release = plan_redeploy(candidate, [prod], {td.arn: td}, rules, approved={prod.arn})

    assert approved.decisions[0].verdict is Verdict.DEPLOY
    assert not_a_release.decisions[0].verdict is Verdict.PRODUCTION_GATED


def test_staging_service_is_not_held_by_the_production_rule() -> None:
    staging = service()
    td = task_definition()
    plan = plan_redeploy(push_event(), [staging], {td.arn: td}, redeploy_policy(HOLD_PRODUCTION))

    assert plan.decisions[0].verdict is Verdict.DEPLOY


def held_at(now: dt.datetime) -> HeldRedeploy:
    staging = service()
    td = task_definition()
    plan = plan_redeploy(push_event(), [staging], {td.arn: td}, redeploy_policy(HOLD_MAIN))
    return hold(plan.decisions[0], push_event(), now)


NOW = dt.datetime(2026, 11, 20, 9, 13, tzinfo=dt.UTC)


def test_held_redeploy_expires_after_24_hours_and_names_old_and_new_image() -> None:
    held = held_at(NOW)

    assert held.expires == NOW + dt.timedelta(hours=24)
    assert held.key.endswith(f"todoapp-backend-service@{PUSHED_DIGEST}")
    assert held.old_image.endswith("todoapp-backend:main-1a2b3c4")
    assert held.new_image.endswith(f"todoapp-backend@{PUSHED_DIGEST}")
    assert HeldRedeploy.from_json(held.to_json()) == held


@pytest.mark.parametrize(
    ("state", "at", "go", "outcome"),
    [
        (HeldState.HELD, NOW + dt.timedelta(hours=23), True, Outcome.DONE),
        (HeldState.HELD, NOW + dt.timedelta(hours=24), False, Outcome.REFUSED),
        (HeldState.APPROVED, NOW + dt.timedelta(hours=1), False, Outcome.SKIPPED),
    ],
)
def test_approval_decision(state, at, go, outcome) -> None:
    decision = approval_decision(held_at(NOW), state, at)

    assert (decision.go, decision.outcome) == (go, outcome)


def test_canary_summary_names_the_checks_down() -> None:
    board = StatusBoard(checks=(("api", CheckState.UP), ("web", CheckState.UP)))

    assert canary_summary(board) == "all 2 checks up"
    assert canary_summary(None) == "unknown"


def test_approve_link_carries_a_signed_approve_token_for_the_held_key() -> None:
    from urllib.parse import parse_qs, urlsplit

    from nightshift.actions.token import ActionKind, verify

    held = held_at(NOW)
    link = approve_link(held, "https://abc.lambda-url.eu-central-1.on.aws/", b"k" * 32)
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    checked = verify(query["token"], b"k" * 32, NOW, expected_target=query["target"])

    assert checked.ok
    assert checked.token is not None
    assert checked.token.kind is ActionKind.APPROVE
    assert checked.token.expires == held.expires


def fake(policy: str) -> FakeRedeploy:
    staging = service()
    return FakeRedeploy(
        policy=redeploy_policy(policy), ecs=MemoryEcs([staging], [task_definition()])
    )


def test_push_holds_the_service_records_it_and_asks_for_approval_without_deploying() -> None:
    redeploy = fake(HOLD_MAIN)
    run = PushRun(push_event(), run_id="r1", dry_run=False)

    redeploy.push_service.handle(run)

    assert redeploy.ecs.registered == []
    assert redeploy.ecs.updated == {}
    [(held, state)] = redeploy.held.records.values()
    assert state is HeldState.HELD
    approval = next(r for r in redeploy.publisher.reports if r.summary.startswith("approval"))
    details = approval.items[0].details
    assert details["tag"] == "main-4f1c2e7"
    assert details["canary"] == "all 2 checks up"
    assert details["old_image"] == held.old_image
    assert details["new_image"] == held.new_image
    assert details["approve_url"].endswith(held.key)
    assert redeploy.metrics.values["RedeploysHeld"] == 1


def test_approval_deploys_the_held_push_once() -> None:
    redeploy = fake(HOLD_MAIN)
    redeploy.push_service.handle(PushRun(push_event(), run_id="r1", dry_run=False))
    [key] = redeploy.held.records

    first = redeploy.approver.approve(key, NOW + dt.timedelta(hours=1), "via a link")
    second = redeploy.approver.approve(key, NOW + dt.timedelta(hours=2), "via Slack by ana")

    assert first.outcome is Outcome.DONE
    assert list(redeploy.ecs.updated.values()) == [redeploy.ecs.registered[0]]
    assert len(redeploy.ecs.registered) == 1
    assert (second.outcome, second.reason) == (
        Outcome.SKIPPED,
        "approved already; nothing done again",
    )
    assert redeploy.held.approved_by[key] == "via a link"


def test_approval_after_24_hours_deploys_nothing_and_says_so() -> None:
    redeploy = fake(HOLD_MAIN)
    redeploy.push_service.handle(PushRun(push_event(), run_id="r1", dry_run=False))
    [key] = redeploy.held.records

    item = redeploy.approver.approve(key, NOW + dt.timedelta(hours=25), "via a link")

    assert item.outcome is Outcome.REFUSED
    assert "expired" in item.reason
    assert redeploy.ecs.updated == {}
    assert redeploy.ecs.registered == []
