"""Redeploy's services (nightshift.redeploy.service) on in-memory ports: what a push deploys,
refuses, plans and reports; what a deployment's outcome reports; what is counted.
tests/functional/test_redeploy.py runs the same through the handler and the real adapters under
moto."""

from __future__ import annotations

import datetime as dt

import pytest

from nightshift.errors import AwsError, EventError, PolicyError
from nightshift.redeploy.events import PushRun, read_event
from nightshift.redeploy.outcome import (
    RedeployIncompleteError,
    ServiceEvent,
    ServiceHistory,
    StoppedTask,
)
from nightshift.report import Outcome
from tests.support.fakes.redeploy import (
    ENVIRONMENT,
    FakeRedeploy,
    MemoryEcs,
    aws_error,
    redeploy_policy,
)
from tests.unit.redeploy.samples import (
    BACKEND,
    PUSHED_DIGEST,
    load_event,
    push_event,
    service,
    task_definition,
    task_definition_arn,
)

POLICY = """\
version: 1
redeploy:
  follow: {main: "main-*"}
"""
API, CANARY = "todoapp-backend-service", "todoapp-backend-canary"
SOURCE = task_definition_arn("todoapp-backend", 7)
NEW_REVISION = task_definition_arn("todoapp-backend", 8)
PUSHED_AT = dt.datetime(2026, 11, 20, 9, 12, 45, tzinfo=dt.UTC)  # events/redeploy/ecr-push.json


def arn(name: str) -> str:
    return service(name).arn


def staging(**policy: bool) -> FakeRedeploy:
    """Two staging services following `main`, both on todoapp-backend:7."""
    text = POLICY + ("  dry_run: true\n" if policy.get("dry_run") else "")
    return FakeRedeploy(
        redeploy_policy(text),
        ecs=MemoryEcs([service(API), service(CANARY)], [task_definition()]),
    )


def push_run(run_id: str = "request-1", *, dry_run: bool = False) -> PushRun:
    return PushRun(push_event(), run_id, dry_run)


def test_push_registers_one_revision_updates_each_following_service_and_reports_them_done() -> None:
    fake = staging()

    result = fake.push_service.handle(push_run())

    assert fake.ecs.registered == [NEW_REVISION]
    assert fake.ecs.updated == {arn(API): NEW_REVISION, arn(CANARY): NEW_REVISION}
    assert fake.pushes.last == {arn(API): PUSHED_AT, arn(CANARY): PUSHED_AT}
    (report,) = fake.publisher.reports
    assert result == report.to_json()
    assert report.summary == "todoapp-backend:main-4f1c2e7: 2 redeployed"
    assert report.environment == ENVIRONMENT
    assert report.run_id == "request-1"
    assert {item.outcome for item in report.items} == {Outcome.DONE}
    assert report.items[0].details["new_task_definition"] == NEW_REVISION
    assert report.items[0].details["changes"][0]["new_image"] == f"{BACKEND}@{PUSHED_DIGEST}"
    assert fake.metrics.values == {"PushesReceived": 1, "ServicesRedeployed": 2}
    assert fake.metrics.units == {"Count"}


def test_service_a_newer_push_claimed_meanwhile_is_refused_and_not_updated() -> None:
    fake = staging()
    newer = PUSHED_AT + dt.timedelta(minutes=3)
    fake.pushes.race[arn(CANARY)] = newer

    result = fake.push_service.handle(push_run())

    assert fake.ecs.updated == {arn(API): NEW_REVISION}
    items = {item["resource"]: item for item in result["items"]}
    assert items[arn(API)]["outcome"] == "done"
    refused = items[arn(CANARY)]
    assert refused["outcome"] == "refused"
    assert refused["details"]["verdict"] == "stale"
    assert refused["reason"] == (
        "push of 2026-11-20T09:12:45+00:00 is older than the push of "
        "2026-11-20T09:15:45+00:00 deployed meanwhile"
    )
    assert fake.pushes.last[arn(CANARY)] == newer
    assert fake.metrics.values["PushesRefused"] == 1


def test_failed_registration_fails_every_service_of_the_revision_reports_and_raises() -> None:
    fake = staging()
    fake.ecs.fail["RegisterTaskDefinition"] = aws_error("RegisterTaskDefinition")

    with pytest.raises(RedeployIncompleteError) as raised:
        fake.push_service.handle(push_run())

    assert raised.value.failed == (arn(CANARY), arn(API))
    assert fake.ecs.updated == {}
    assert fake.pushes.last == {}
    (report,) = fake.publisher.reports
    assert report.summary == "todoapp-backend:main-4f1c2e7: 2 failed"
    for item in report.items:
        assert item.outcome is Outcome.FAILED
        assert item.reason.startswith(
            "RegisterTaskDefinition failed with AccessDeniedException: not allowed in this test;"
            " planned: tag main-4f1c2e7 matches main-*"
        )
    assert fake.metrics.values["RedeployFailures"] == 2
    # Nothing is stored for the push, so Lambda's retry deploys it.
    assert fake.once.results == {}


def test_retry_after_a_failed_registration_deploys_what_is_missing() -> None:
    fake = staging()
    fake.ecs.fail["RegisterTaskDefinition"] = aws_error("RegisterTaskDefinition", "Throttling")
    with pytest.raises(RedeployIncompleteError):
        fake.push_service.handle(push_run("request-1"))
    del fake.ecs.fail["RegisterTaskDefinition"]

    result = fake.push_service.handle(push_run("request-1"))

    assert result["counts"]["done"] == 2
    assert fake.once.runs == 2


@pytest.mark.parametrize("asked_by", ["event", "policy"])
def test_dry_run_reports_the_plan_and_changes_nothing(asked_by: str) -> None:
    fake = staging(dry_run=asked_by == "policy")

    result = fake.push_service.handle(push_run(dry_run=asked_by == "event"))

    assert fake.ecs.registered == []
    assert fake.ecs.updated == {}
    assert fake.pushes.last == {}
    assert fake.once.runs == 0  # a plan is made afresh every time
    (report,) = fake.publisher.reports
    assert report.dry_run is True
    assert result["summary"] == "todoapp-backend:main-4f1c2e7: 2 would be redeployed"
    assert {item.outcome for item in report.items} == {Outcome.PLANNED}
    assert fake.metrics.values == {"PushesReceived": 1, "ServicesPlanned": 2}


def test_push_no_service_follows_is_answered_but_not_published() -> None:
    fake = FakeRedeploy(redeploy_policy(POLICY))

    result = fake.push_service.handle(push_run())

    assert result["summary"] == "todoapp-backend:main-4f1c2e7: no service follows pushes"
    assert fake.publisher.reports == []


def test_policy_that_cannot_be_read_is_reported_as_nothing_redeployed_and_raised() -> None:
    fake = staging()
    fake.policy = PolicyError("/nightshift/policy:3", "redeploy.follow", "expected a mapping")

    with pytest.raises(PolicyError):
        fake.push_service.handle(push_run())

    (report,) = fake.publisher.reports
    assert report.summary == "todoapp-backend:main-4f1c2e7: nothing was redeployed"
    assert report.errors == ("/nightshift/policy:3: redeploy.follow: expected a mapping",)
    assert fake.ecs.registered == []


def test_discovery_failure_is_reported_and_raised_before_anything_changes() -> None:
    fake = staging()
    fake.ecs.fail["GetResources"] = aws_error("GetResources", "ThrottlingException")

    with pytest.raises(AwsError):
        fake.push_service.handle(push_run())

    (report,) = fake.publisher.reports
    assert report.summary == "todoapp-backend:main-4f1c2e7: nothing was redeployed"
    assert report.errors[0].startswith("GetResources failed with ThrottlingException")


def test_duplicate_delivery_gets_the_first_report_and_is_counted() -> None:
    fake = staging()
    first = fake.push_service.handle(push_run("request-1"))

    again = fake.push_service.handle(push_run("request-2"))

    assert again == first
    assert fake.once.runs == 1
    assert len(fake.publisher.reports) == 1
    assert fake.metrics.values["DuplicatePushes"] == 1


def test_delivery_while_the_push_is_in_progress_is_answered_as_such() -> None:
    fake = staging()
    fake.once.in_progress.add(push_event().key)

    result = fake.push_service.handle(push_run())

    assert result == {"duplicate": push_event().key, "in_progress": True}
    assert fake.ecs.registered == []
    assert fake.metrics.values["DuplicatePushes"] == 1


# ------------------------------------------------------------------------ deployment outcomes
def test_failed_deployment_is_reported_with_why_its_tasks_stopped() -> None:
    fake = staging()
    api = service(API)
    fake.ecs.histories[api.arn] = ServiceHistory(
        api, (ServiceEvent("(service todoapp-backend-service) has started 1 tasks"),)
    )
    stopped = StoppedTask("arn:…:task/todoapp-cluster/1", "Essential container in task exited")
    fake.ecs.stopped[api.arn] = (stopped, stopped)

    result = fake.service.handle(read_event(load_event("deployment-failed"), "request-1"))

    (report,) = fake.publisher.reports
    assert result == report.to_json()
    assert report.run_id == "7c1e5b4f-2d6e-4f80-9102-4d5e6f708192"
    assert report.summary == "todoapp-cluster/todoapp-backend-service: deployment failed"
    (item,) = report.items
    assert item.outcome is Outcome.FAILED
    assert "stopped tasks: Essential container in task exited (2 times)" in item.reason
    assert "latest events: (service todoapp-backend-service) has started 1 tasks" in item.reason
    assert fake.metrics.values == {"DeploymentsFailed": 1}


def test_completed_deployment_is_reported_done() -> None:
    fake = staging()
    api = service(API)
    fake.ecs.histories[api.arn] = ServiceHistory(api)

    result = fake.service.handle(read_event(load_event("deployment-completed"), "request-1"))

    assert result["counts"]["done"] == 1
    assert fake.metrics.values == {"DeploymentsCompleted": 1}


def test_deployment_of_a_service_that_does_not_follow_pushes_is_ignored() -> None:
    fake = staging()
    worker = service(API, follows=None)
    fake.ecs.histories[worker.arn] = ServiceHistory(worker)

    result = fake.service.handle(read_event(load_event("deployment-completed"), "request-1"))

    assert result["ignored"].endswith("does not follow pushes (no nightshift:redeploy tag)")
    assert fake.publisher.reports == []
    assert fake.metrics.values == {"EventsIgnored": 1}


# --------------------------------------------------------------------------------- routing
def test_push_event_reaches_the_push_service_with_its_dry_run_flag() -> None:
    fake = staging()

    result = fake.service.handle(read_event({**load_event("ecr-push"), "dry_run": True}, "r-9"))

    assert result["run_id"] == "r-9"
    assert result["dry_run"] is True


def test_delete_image_action_is_ignored_and_counted() -> None:
    fake = staging()

    result = fake.service.handle(read_event(load_event("ecr-delete"), "request-1"))

    assert "ignored" in result
    assert fake.metrics.values == {"EventsIgnored": 1}


def test_event_of_another_kind_is_refused_naming_what_redeploy_handles_and_counted() -> None:
    fake = staging()

    with pytest.raises(EventError) as raised:
        fake.service.handle(read_event({"source": "aws.s3", "detail-type": "Put"}, "r-1"))

    assert str(raised.value) == (
        "redeploy handles aws.ecr 'ECR Image Action', aws.ecs 'ECS Deployment State Change', "
        "not 'aws.s3' 'Put'"
    )
    assert fake.metrics.values == {"UnknownEvents": 1}
