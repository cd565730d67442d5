"""How a redeploy ended, as people read it: report lines after AWS answered, push summaries, and
deployment state changes enriched with service events and stopped-task reasons."""

from __future__ import annotations

import copy
import datetime as dt
import doctest

import pytest

from nightshift.redeploy import (
    DeploymentStateChange,
    IgnoredEvent,
    RedeployPolicy,
    ServiceDecision,
    Verdict,
    plan_redeploy,
)
from nightshift.redeploy import outcome as outcome_module
from nightshift.redeploy.outcome import (
    RedeployIncompleteError,
    ServiceEvent,
    ServiceHistory,
    StoppedTask,
    latest_stopped,
    reportable,
)
from nightshift.redeploy.report import (
    deployed_item,
    deployment_item,
    deployment_summary,
    failed_item,
    push_label,
    push_summary,
    superseded_item,
    worth_reporting,
)
from nightshift.report import Outcome, ReportItem

from .samples import load_event, push_event, service, task_definition

RULES = RedeployPolicy(follow={"main": "main-*"})
AT = dt.datetime(2026, 11, 20, 9, 15, tzinfo=dt.UTC)
NEW_REVISION = "arn:aws:ecs:eu-central-1:111122223333:task-definition/todoapp-backend:8"


def deploying(breaker: tuple[bool, bool] = (True, True)) -> ServiceDecision:
    plan = plan_redeploy(
        push_event(), [service(breaker=breaker)], {task_definition().arn: task_definition()}, RULES
    )
    (decision,) = plan.decisions
    assert decision.deploys
    return decision


def change(name: str, **detail: str) -> DeploymentStateChange:
    event = copy.deepcopy(load_event(name))
    event["detail"].update(detail)
    return DeploymentStateChange.from_event(event)


def item(outcome: Outcome) -> ReportItem:
    return ReportItem("arn", "ecs-service", "redeploy", outcome, "why")


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(outcome_module)

    assert result.attempted > 0
    assert result.failed == 0


def test_deployed_service_is_done_with_the_deployment_id_and_the_new_revision() -> None:
    done = deployed_item(deploying(), "ecs-svc/4732891650394821371", NEW_REVISION)

    assert done.outcome is Outcome.DONE
    assert done.details["deployment_id"] == "ecs-svc/4732891650394821371"
    assert done.details["new_task_definition"] == NEW_REVISION
    assert done.details["verdict"] == "deploy"
    assert done.reason == "tag main-4f1c2e7 matches main-*; app → sha256:9b2f6c1d8e0a"


def test_deployed_service_without_rollback_keeps_its_warning_in_the_reason() -> None:
    done = deployed_item(deploying(breaker=(False, False)), "ecs-svc/1", NEW_REVISION)

    assert done.reason.endswith("a broken image is not rolled back")
    assert done.details["warnings"] == [
        "deployment circuit breaker with rollback is off: a broken image is not rolled back"
    ]


def test_deployment_refused_by_aws_is_failed_with_the_error_before_the_plan() -> None:
    error = "UpdateService failed with AccessDeniedException: not authorized"

    failed = failed_item(deploying(), error, NEW_REVISION)

    assert failed.outcome is Outcome.FAILED
    assert (
        failed.reason
        == f"{error}; planned: tag main-4f1c2e7 matches main-*; app → sha256:9b2f6c1d8e0a"
    )
    assert failed.details["error"] == error
    assert failed.details["new_task_definition"] == NEW_REVISION


def test_registration_refused_by_aws_has_no_new_revision_in_its_details() -> None:
    failed = failed_item(deploying(), "RegisterTaskDefinition failed with ClientException: x")

    assert "new_task_definition" not in failed.details


def test_push_overtaken_by_a_newer_deployed_push_is_refused_as_stale_without_warnings() -> None:
    pushed = push_event().time

    refused = superseded_item(deploying(breaker=(False, False)), pushed, AT)

    assert refused.outcome is Outcome.REFUSED
    assert refused.details["verdict"] == Verdict.STALE.value
    assert refused.details["warnings"] == []
    assert refused.reason == (
        "push of 2026-11-20T09:12:45+00:00 is older than the push of 2026-11-20T09:15:00+00:00 "
        "deployed meanwhile"
    )


def test_push_is_named_by_tag_or_by_short_digest_when_untagged() -> None:
    assert push_label(push_event()) == "todoapp-backend:main-4f1c2e7"
    assert push_label(push_event("ecr-push-without-tag")) == "todoapp-backend@sha256:9b2f6c1d8e0a"


@pytest.mark.parametrize(
    ("outcomes", "summary"),
    [
        ([Outcome.DONE, Outcome.SKIPPED, Outcome.SKIPPED], "1 redeployed, 2 skipped"),
        ([Outcome.PLANNED, Outcome.SKIPPED], "1 would be redeployed, 1 skipped"),
        ([Outcome.DONE, Outcome.FAILED, Outcome.REFUSED], "1 redeployed, 1 failed, 1 refused"),
        ([], "no service follows pushes"),
    ],
)
def test_push_summary_counts_what_happened(outcomes: list[Outcome], summary: str) -> None:
    assert push_summary(push_event(), [item(o) for o in outcomes]) == (
        f"todoapp-backend:main-4f1c2e7: {summary}"
    )


@pytest.mark.parametrize(
    ("outcomes", "worth"),
    [
        ([Outcome.SKIPPED, Outcome.SKIPPED], False),
        ([], False),
        ([Outcome.SKIPPED, Outcome.PLANNED], True),
        ([Outcome.REFUSED], True),
        ([Outcome.FAILED], True),
        ([Outcome.DONE], True),
    ],
)
def test_push_is_reported_only_when_a_service_was_acted_on_or_refused(
    outcomes: list[Outcome], worth: bool
) -> None:
    assert worth_reporting([item(o) for o in outcomes]) is worth


def test_in_progress_deployment_is_not_reported() -> None:
    progress = change(
        "deployment-rollback",
        eventName="SERVICE_DEPLOYMENT_IN_PROGRESS",
        reason="ECS deployment ecs-svc/4732891650394821371 in progress.",
    )

    verdict = reportable(progress, ServiceHistory(service()))

    assert verdict == IgnoredEvent(
        "deployment ecs-svc/4732891650394821371 is in-progress, not an outcome",
        "7c1e5b4f-2d6e-4f80-9102-4d5e6f708192",
    )


def test_outcome_of_a_service_that_does_not_follow_pushes_is_not_reported() -> None:
    verdict = reportable(change("deployment-failed"), ServiceHistory(service(follows=None)))

    assert isinstance(verdict, IgnoredEvent)
    assert verdict.reason == (
        "service todoapp-cluster/todoapp-backend-service does not follow pushes "
        "(no nightshift:redeploy tag)"
    )


def test_outcome_of_a_deleted_service_is_not_reported() -> None:
    verdict = reportable(change("deployment-completed"), None)

    assert isinstance(verdict, IgnoredEvent)
    assert verdict.reason.endswith("service/todoapp-cluster/todoapp-backend-service was not found")


@pytest.mark.parametrize(
    "name", ["deployment-completed", "deployment-failed", "deployment-rollback"]
)
def test_outcome_of_a_service_that_follows_pushes_is_reported(name: str) -> None:
    history = ServiceHistory(service())

    assert reportable(change(name), history) is history


def test_completed_deployment_is_done_and_says_only_that() -> None:
    done = deployment_item(
        change("deployment-completed"),
        events=[ServiceEvent("(service api) has reached a steady state.", AT)],
        stopped=[StoppedTask("t1", "Scaling activity initiated by deployment")],
    )

    assert done.outcome is Outcome.DONE
    assert done.action == "deployment"
    assert done.reason == "deployment ecs-svc/4732891650394821371 completed"
    assert done.details["events"] == [
        {"message": "(service api) has reached a steady state.", "created_at": AT.isoformat()}
    ]


def test_failed_deployment_carries_stopped_task_reasons_counted_and_the_latest_events() -> None:
    stopped = [
        StoppedTask("t1", "Essential container in task exited", AT, ("app: exit 1",)),
        StoppedTask("t2", "Essential container in task exited", AT),
        StoppedTask("t3", "CannotPullContainerError: pull image manifest has been retried 5 times"),
    ]
    events = [ServiceEvent(f"event {n}") for n in range(7)]

    failed = deployment_item(change("deployment-failed"), events, stopped)

    assert failed.outcome is Outcome.FAILED
    assert failed.reason == (
        "deployment ecs-svc/4732891650394821371 failed: ECS deployment circuit breaker: task "
        "failed to start.; stopped tasks: Essential container in task exited (2 times) | "
        "CannotPullContainerError: pull image manifest has been retried 5 times; latest events: "
        "event 0 | event 1 | event 2 | event 3 | event 4"
    )
    assert len(failed.details["events"]) == 5
    assert failed.details["stopped_tasks"][0] == {
        "task": "t1",
        "stopped_reason": "Essential container in task exited",
        "stopped_at": AT.isoformat(),
        "containers": ["app: exit 1"],
    }


def test_rollback_is_a_failure_naming_the_deployment_rolled_back_to() -> None:
    rolled_back = deployment_item(change("deployment-rollback"))

    assert rolled_back.outcome is Outcome.FAILED
    assert rolled_back.reason == (
        "deployment ecs-svc/4732891650394821371 failed: the circuit breaker rolls back to "
        "ecs-svc/1198437265019283746"
    )
    assert rolled_back.details["rollback_to"] == "ecs-svc/1198437265019283746"
    assert rolled_back.details["status"] == "rollback"


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        ("deployment-completed", "deployment completed"),
        ("deployment-failed", "deployment failed"),
        ("deployment-rollback", "deployment failed, rolling back"),
    ],
)
def test_deployment_summary_names_cluster_service_and_outcome(name: str, summary: str) -> None:
    assert deployment_summary(change(name)) == f"todoapp-cluster/todoapp-backend-service: {summary}"


def test_deployment_summary_of_an_old_short_service_arn_names_the_service_only() -> None:
    event = copy.deepcopy(load_event("deployment-completed"))
    event["resources"] = ["arn:aws:ecs:eu-central-1:111122223333:service/todoapp-backend-service"]

    summary = deployment_summary(DeploymentStateChange.from_event(event))

    assert summary == "todoapp-backend-service: deployment completed"


def test_stopped_task_lists_only_containers_that_failed() -> None:
    task = StoppedTask.from_description(
        {
            "taskArn": "arn:aws:ecs:eu-central-1:111122223333:task/todoapp-cluster/5c2f",
            "stoppedReason": "Essential container in task exited",
            "stoppedAt": AT,
            "containers": [
                {"name": "app", "exitCode": 137, "reason": "OutOfMemoryError: Container killed"},
                {"name": "log-router", "exitCode": 0},
                {"name": "migrate", "reason": "CannotStartContainerError"},
            ],
        }
    )

    assert task.stopped_at == AT
    assert task.containers == (
        "app: exit 137 (OutOfMemoryError: Container killed)",
        "migrate: (CannotStartContainerError)",
    )


def test_stopped_task_without_a_reason_says_so() -> None:
    task = StoppedTask.from_description({"taskArn": "t1"})

    assert (task.stopped_reason, task.stopped_at, task.containers) == ("no reason given", None, ())


def test_service_event_keeps_message_and_time() -> None:
    event = ServiceEvent.from_description(
        {"id": "e1", "createdAt": AT, "message": "(service api) has started 2 tasks."}
    )

    assert event == ServiceEvent("(service api) has started 2 tasks.", AT)


def test_latest_stopped_tasks_come_newest_first_and_untimed_last() -> None:
    tasks = [
        StoppedTask("untimed", "a"),
        StoppedTask("older", "b", AT),
        StoppedTask("newer", "c", AT + dt.timedelta(minutes=1)),
    ]

    assert [t.task_arn for t in latest_stopped(tasks)] == ["newer", "older", "untimed"]
    assert [t.task_arn for t in latest_stopped(tasks, limit=1)] == ["newer"]


def test_incomplete_redeploy_error_names_the_services_not_redeployed() -> None:
    error = RedeployIncompleteError(["arn:a", "arn:b"])

    assert str(error) == "2 service(s) not redeployed: arn:a, arn:b"
    assert error.failed == ("arn:a", "arn:b")
