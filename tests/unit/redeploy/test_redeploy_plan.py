"""The planner: which services follow a push, which containers change, and why every other
service is left alone."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from nightshift.policy import ProtectRule
from nightshift.redeploy import (
    VERDICT_OUTCOME,
    ImageChange,
    ImagePush,
    RedeployPlan,
    RedeployPolicy,
    ServiceFacts,
    TagPattern,
    TaskDefinitionFacts,
    Verdict,
    plan_redeploy,
)
from nightshift.redeploy.plan import NO_ROLLBACK_WARNING
from nightshift.report import Outcome

from .samples import (
    BACKEND,
    FLUENT_BIT,
    FRONTEND,
    OLD_DIGEST,
    PUSHED_DIGEST,
    app_container,
    log_router,
    push_event,
    service,
    task_definition,
    task_definition_arn,
)

RULES = RedeployPolicy(follow={"main": "main-*", "release": "v*", "any": "*"})
PUSH_TIME = dt.datetime(2026, 11, 20, 9, 12, 45, tzinfo=dt.UTC)
PINNED = f"{BACKEND}@{PUSHED_DIGEST}"


def plan(
    services: list[ServiceFacts],
    definitions: list[TaskDefinitionFacts] | None = None,
    *,
    push: ImagePush | None = None,
    rules: RedeployPolicy = RULES,
    last_pushes: dict[str, dt.datetime] | None = None,
) -> RedeployPlan:
    known = definitions if definitions is not None else [task_definition()]
    return plan_redeploy(
        push or push_event(),
        services,
        {definition.arn: definition for definition in known},
        rules,
        last_pushes,
    )


def only(result: RedeployPlan) -> tuple[Verdict, str]:
    (decision,) = result.decisions
    return decision.verdict, decision.reason


def tagged(tag: str | None) -> ImagePush:
    return dataclasses.replace(push_event(), tag=tag)


def test_service_following_main_deploys_only_the_app_container_and_leaves_the_sidecar() -> None:
    result = plan([service()])

    (decision,) = result.decisions
    assert decision.verdict is Verdict.DEPLOY
    assert decision.reason == "tag main-4f1c2e7 matches main-*; app → sha256:9b2f6c1d8e0a"
    assert decision.changes == (ImageChange("app", f"{BACKEND}:main-1a2b3c4", PINNED),)
    (revision,) = result.revisions
    assert revision.family == "todoapp-backend"
    assert revision.source.arn == task_definition_arn("todoapp-backend", 7)
    assert revision.changes == decision.changes
    assert revision.services == (decision.service.arn,)
    assert all(change.container != "log-router" for change in revision.changes)


def test_two_services_on_one_family_share_one_revision() -> None:
    api, worker = service("todoapp-api"), service("todoapp-worker")

    result = plan([api, worker])

    assert [d.verdict for d in result.decisions] == [Verdict.DEPLOY, Verdict.DEPLOY]
    (revision,) = result.revisions
    assert revision.services == (api.arn, worker.arn)
    assert result.revision_for(api.arn) is result.revision_for(worker.arn) is revision


def test_services_on_different_revisions_of_one_family_each_keep_their_own_copy() -> None:
    old = service("todoapp-api", task_definition=task_definition_arn("todoapp-backend", 6))
    new = service("todoapp-worker", task_definition=task_definition_arn("todoapp-backend", 7))

    result = plan([old, new], [task_definition(revision=6), task_definition(revision=7)])

    assert [r.source.revision for r in result.revisions] == [6, 7]
    assert [r.services for r in result.revisions] == [(old.arn,), (new.arn,)]


def test_every_container_running_the_repository_is_pinned_whatever_its_reference() -> None:
    containers = [
        app_container(f"{BACKEND}:main-1a2b3c4"),
        app_container(BACKEND, name="migrate"),
        app_container(f"{BACKEND}@{OLD_DIGEST}", name="worker"),
        app_container(f"{FRONTEND}:main-1a2b3c4", name="frontend"),
        log_router(),
    ]

    result = plan([service()], [task_definition(containers=containers)])

    (decision,) = result.decisions
    assert [(c.container, c.new_image) for c in decision.changes] == [
        ("app", PINNED),
        ("migrate", PINNED),
        ("worker", PINNED),
    ]


def test_container_on_a_fips_host_is_pinned_on_that_host() -> None:
    fips = "111122223333.dkr.ecr-fips.eu-central-1.amazonaws.com/todoapp-backend"
    definition = task_definition(containers=[app_container(f"{fips}:main-1"), log_router()])

    (decision,) = plan([service()], [definition]).decisions

    assert decision.changes == (ImageChange("app", f"{fips}:main-1", f"{fips}@{PUSHED_DIGEST}"),)


def test_service_running_another_repository_is_skipped_with_reason() -> None:
    frontend = task_definition("todoapp-frontend", 3, [app_container(f"{FRONTEND}:main-1")])
    web = service("todoapp-web", task_definition=frontend.arn)

    verdict, reason = only(plan([web], [frontend]))

    assert verdict is Verdict.NOT_THIS_REPOSITORY
    assert reason == f"no container of todoapp-frontend:3 runs {BACKEND}"


def test_service_whose_glob_does_not_match_the_tag_is_skipped_with_reason() -> None:
    verdict, reason = only(plan([service(follows="release")]))

    assert verdict is Verdict.GLOB_MISMATCH
    assert reason == "tag main-4f1c2e7 does not match nightshift:redeploy=release = v*"


def test_service_following_a_literal_tag_deploys_only_that_tag() -> None:
    assert only(plan([service(follows="latest")], push=tagged("latest")))[0] is Verdict.DEPLOY
    assert only(plan([service(follows="latest")]))[0] is Verdict.GLOB_MISMATCH


def test_untagged_push_is_skipped_by_a_service_following_tagged_pushes() -> None:
    verdict, reason = only(plan([service()], push=push_event("ecr-push-without-tag")))

    assert verdict is Verdict.GLOB_MISMATCH
    assert reason == "push has no tag; nightshift:redeploy=main = main-* follows tagged pushes only"


def test_untagged_push_reaches_a_staging_service_following_every_tag() -> None:
    verdict, reason = only(plan([service(follows="any")], push=push_event("ecr-push-without-tag")))

    assert verdict is Verdict.DEPLOY
    assert reason.startswith("untagged push, *;")


def test_production_service_is_gated_from_a_branch_tag_with_reason() -> None:
    verdict, reason = only(plan([service(follows="main", environment="production")]))

    assert verdict is Verdict.PRODUCTION_GATED
    assert reason == (
        "production service (Environment=production) follows only release versions (v1.2.3); "
        "main-4f1c2e7 is not one"
    )
    assert VERDICT_OUTCOME[verdict] is Outcome.SKIPPED


def test_a_service_of_a_production_target_is_gated_whatever_its_tags_say() -> None:
    """Hub and spoke: the target, marked `production: true`, makes its services production."""
    in_production = dataclasses.replace(service(follows="any"), production_target=True)

    verdict, reason = only(plan([in_production]))

    assert verdict is Verdict.PRODUCTION_GATED
    assert reason == (
        "production service (a production target) follows only release versions (v1.2.3); "
        "main-4f1c2e7 is not one"
    )
    assert only(plan([in_production], push=tagged("v1.4.0")))[0] is Verdict.DEPLOY
    assert only(plan([in_production], push=tagged(None)))[0] is Verdict.PRODUCTION_GATED


def test_production_service_follows_a_release_version() -> None:
    prod = service(follows="release", environment="production")

    assert only(plan([prod], push=tagged("v1.4.0")))[0] is Verdict.DEPLOY


def test_production_service_waits_for_the_release_tag_not_a_prerelease() -> None:
    prod = service(follows="release", environment="production")

    assert only(plan([prod], push=tagged("v1.4.0-rc.1")))[0] is Verdict.PRODUCTION_GATED


def test_untagged_push_never_reaches_production_even_when_the_policy_allows_every_tag() -> None:
    rules = dataclasses.replace(RULES, production_tags=TagPattern.glob("*"))
    prod = service(follows="any", environment="prod")

    verdict, reason = only(plan([prod], push=push_event("ecr-push-without-tag"), rules=rules))

    assert verdict is Verdict.PRODUCTION_GATED
    assert reason == "production service (Environment=prod): a push without a tag never reaches it"


def test_policy_may_let_production_follow_more_than_release_versions() -> None:
    rules = dataclasses.replace(RULES, production_tags=TagPattern.glob("main-*"))

    assert only(plan([service(environment="production")], rules=rules))[0] is Verdict.DEPLOY


def test_production_is_what_the_policy_protect_rule_says() -> None:
    rules = dataclasses.replace(RULES, protect=ProtectRule("Environment", frozenset({"live"})))

    assert only(plan([service(environment="production")], rules=rules))[0] is Verdict.DEPLOY
    assert only(plan([service(environment="live")], rules=rules))[0] is Verdict.PRODUCTION_GATED


def test_service_already_on_the_digest_is_a_no_op() -> None:
    definition = task_definition(containers=[app_container(PINNED), log_router()])

    result = plan([service()], [definition])

    assert only(result) == (Verdict.ALREADY_ON_DIGEST, "already runs sha256:9b2f6c1d8e0a")
    assert result.revisions == ()


def test_service_with_one_of_two_containers_already_on_the_digest_still_deploys() -> None:
    containers = [app_container(PINNED), app_container(f"{BACKEND}:main-1", name="worker")]

    (decision,) = plan([service()], [task_definition(containers=containers)]).decisions

    assert decision.verdict is Verdict.DEPLOY
    assert [c.container for c in decision.changes if c.changes] == ["worker"]


def test_push_older_than_the_last_deployed_push_is_refused_as_stale() -> None:
    api = service()
    later = PUSH_TIME + dt.timedelta(minutes=3)

    verdict, reason = only(plan([api], last_pushes={api.arn: later}))

    assert verdict is Verdict.STALE
    assert reason == (
        "push of 2026-11-20T09:12:45+00:00 is older than the last deployed push of "
        "2026-11-20T09:15:45+00:00"
    )
    assert VERDICT_OUTCOME[verdict] is Outcome.REFUSED


def test_push_time_the_adapter_learned_from_aws_also_makes_a_push_stale() -> None:
    api = service(last_push_at=PUSH_TIME + dt.timedelta(seconds=1))

    assert only(plan([api]))[0] is Verdict.STALE


def test_the_later_of_recorded_and_known_push_times_counts() -> None:
    api = service(last_push_at=PUSH_TIME - dt.timedelta(hours=1))

    result = plan([api], last_pushes={api.arn: PUSH_TIME + dt.timedelta(hours=1)})

    assert only(result)[0] is Verdict.STALE


@pytest.mark.parametrize("delta", [dt.timedelta(0), dt.timedelta(seconds=-1)])
def test_push_as_new_as_or_newer_than_the_last_deployed_one_deploys(delta: dt.timedelta) -> None:
    api = service()

    assert only(plan([api], last_pushes={api.arn: PUSH_TIME + delta}))[0] is Verdict.DEPLOY


def test_redelivered_push_that_was_deployed_is_a_no_op_rather_than_stale() -> None:
    api = service()
    definition = task_definition(containers=[app_container(PINNED), log_router()])

    result = plan([api], [definition], last_pushes={api.arn: PUSH_TIME + dt.timedelta(minutes=5)})

    assert only(result)[0] is Verdict.ALREADY_ON_DIGEST


@pytest.mark.parametrize(
    "breaker",
    [(False, False), (True, False), (False, True)],
    ids=["off", "no-rollback", "disabled"],
)
def test_deploying_service_without_circuit_breaker_rollback_is_warned(
    breaker: tuple[bool, bool],
) -> None:
    (decision,) = plan([service(breaker=breaker)]).decisions

    assert decision.verdict is Verdict.DEPLOY
    assert decision.warnings == (NO_ROLLBACK_WARNING,)


def test_deploying_service_with_circuit_breaker_rollback_has_no_warning() -> None:
    (decision,) = plan([service(breaker=(True, True))]).decisions

    assert decision.warnings == ()


def test_service_without_the_redeploy_tag_is_not_opted_in() -> None:
    assert only(plan([service(follows=None)])) == (
        Verdict.NOT_OPTED_IN,
        "no nightshift:redeploy tag",
    )


def test_service_with_an_empty_redeploy_tag_is_not_opted_in() -> None:
    assert only(plan([service(follows="")])) == (
        Verdict.NOT_OPTED_IN,
        "nightshift:redeploy tag is empty",
    )


def test_draining_service_is_skipped() -> None:
    assert only(plan([service(status="DRAINING")])) == (
        Verdict.NOT_ACTIVE,
        "service is DRAINING, not ACTIVE",
    )


def test_service_deployed_by_codedeploy_is_skipped_with_reason() -> None:
    verdict, reason = only(plan([service(controller="CODE_DEPLOY")]))

    assert verdict is Verdict.UNSUPPORTED_CONTROLLER
    assert reason.startswith("deployment controller is CODE_DEPLOY")


def test_service_whose_task_definition_was_not_described_fails_alone() -> None:
    api, web = service("todoapp-api"), service("todoapp-web", task_definition="arn:unknown:1")

    result = plan([api, web])

    assert [(d.service.name, d.verdict) for d in result.decisions] == [
        ("todoapp-api", Verdict.DEPLOY),
        ("todoapp-web", Verdict.TASK_DEFINITION_MISSING),
    ]
    assert VERDICT_OUTCOME[Verdict.TASK_DEFINITION_MISSING] is Outcome.FAILED


def test_a_service_listed_twice_is_decided_once() -> None:
    assert len(plan([service(), service()]).decisions) == 1


def test_every_service_gets_a_decision_sorted_by_arn_and_grouped_by_family() -> None:
    frontend = task_definition("todoapp-frontend", 3, [app_container(f"{FRONTEND}:main-1")])
    services = [
        service("todoapp-web", task_definition=frontend.arn),
        service("todoapp-worker"),
        service("todoapp-api", environment="production"),
    ]

    result = plan(services, [task_definition(), frontend])

    assert [d.service.name for d in result.decisions] == [
        "todoapp-api",
        "todoapp-web",
        "todoapp-worker",
    ]
    assert {
        family: [d.service.name for d in group] for family, group in result.by_family.items()
    } == {
        "todoapp-backend": ["todoapp-api", "todoapp-worker"],
        "todoapp-frontend": ["todoapp-web"],
    }
    assert [d.service.name for d in result.deployments] == ["todoapp-worker"]
    assert all(d.reason for d in result.decisions)


def test_every_verdict_has_a_report_outcome() -> None:
    assert set(VERDICT_OUTCOME) == set(Verdict)


def test_sidecar_image_is_never_touched_even_from_the_same_registry() -> None:
    sidecar = app_container(f"{BACKEND}-sidecar:main-1", name="sidecar")
    definition = task_definition(containers=[app_container(f"{BACKEND}:main-1"), sidecar])

    (decision,) = plan([service()], [definition]).decisions

    assert [c.container for c in decision.changes] == ["app"]


def test_container_with_an_image_we_cannot_parse_is_not_the_pushed_repository() -> None:
    odd = app_container("Not A Valid Image", name="odd")
    definition = task_definition(containers=[app_container(f"{BACKEND}:main-1"), odd, log_router()])

    (decision,) = plan([service()], [definition]).decisions

    assert [c.container for c in decision.changes] == ["app"]
    assert FLUENT_BIT not in {c.old_image for c in decision.changes}
