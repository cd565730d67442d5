"""ECS Deployment State Change events, wrapped by SNS or sent straight to the queue."""

from __future__ import annotations

import json

import pytest

from nightshift.notify.events import Inbound
from nightshift.notify.model import Notification, Severity, Source, State
from nightshift.notify.sources import parse

from .fixtures import envelope, notification

DEPLOYMENTS_URL = (
    "https://eu-central-1.console.aws.amazon.com/ecs/v2/clusters/todoapp-cluster/services/"
    "todoapp-backend-service/deployments?region=eu-central-1"
)


def event(case: str) -> dict[str, object]:
    return json.loads(envelope(case)["Message"])


def facts(n: Notification) -> dict[str, str]:
    return {fact.label: fact.value for fact in n.facts}


@pytest.mark.parametrize(
    ("case", "state", "severity", "title"),
    [
        (
            "ecs-deployment-completed",
            State.INFO,
            Severity.INFO,
            "Deployment completed: todoapp-backend-service",
        ),
        (
            "ecs-deployment-failed",
            State.ALARM,
            Severity.CRITICAL,
            "Deployment FAILED: todoapp-backend-service",
        ),
        (
            "ecs-deployment-rollback-in-progress",
            State.ALARM,
            Severity.CRITICAL,
            "Deployment ROLLING BACK: todoapp-backend-service",
        ),
    ],
)
def test_deployment_outcomes_and_cluster_and_service_from_resources(
    case: str, state: State, severity: Severity, title: str
) -> None:
    n = notification(case)

    assert (n.source, n.state, n.severity, n.title) == (
        Source.ECS_DEPLOYMENT,
        state,
        severity,
        title,
    )
    assert facts(n)["Service"] == "todoapp-backend-service"
    assert facts(n)["Cluster"] == "todoapp-cluster"
    assert facts(n)["Deployment"] == "ecs-svc/4732891650394821371"
    assert n.name == "todoapp-backend-service"
    assert (n.region, n.account) == ("eu-central-1", "111122223333")
    assert [link.url for link in n.links] == [DEPLOYMENTS_URL]


def test_rollback_names_the_deployment_it_returns_to() -> None:
    n = notification("ecs-deployment-rollback-in-progress")

    assert facts(n)["Rolling back to"] == "ecs-svc/1198437265019283746"
    assert n.summary.startswith("ECS deployment circuit breaker: rolling back")


def test_failed_and_rollback_of_one_deployment_are_not_repeats_of_each_other() -> None:
    keys = {
        notification(case).dedup_key
        for case in ("ecs-deployment-failed", "ecs-deployment-rollback-in-progress")
    }

    assert len(keys) == 2


def test_event_sent_straight_to_the_queue_reads_the_same_as_through_sns() -> None:
    body = json.dumps(event("ecs-deployment-failed"))

    direct = parse(Inbound.from_sqs_body(body, "sqs-1"))
    wrapped = notification("ecs-deployment-failed")

    assert (direct.title, direct.facts, direct.dedup_key) == (
        wrapped.title,
        wrapped.facts,
        wrapped.dedup_key,
    )


def test_an_in_progress_deployment_without_rollback_is_information() -> None:
    changed = event("ecs-deployment-rollback-in-progress")
    changed["detail"]["reason"] = "ECS deployment ecs-svc/4732891650394821371 in progress."

    n = parse(Inbound("m-1", None, json.dumps(changed), None, None))

    assert (n.state, n.severity) == (State.INFO, Severity.INFO)
    assert n.title == "Deployment in progress: todoapp-backend-service"


def test_an_unknown_error_event_is_critical_by_its_event_type() -> None:
    changed = event("ecs-deployment-failed")
    changed["detail"]["eventName"] = "SERVICE_DEPLOYMENT_SOMETHING_NEW"

    n = parse(Inbound("m-1", None, json.dumps(changed), None, None))

    assert (n.state, n.severity) == (State.ALARM, Severity.CRITICAL)


def test_an_old_style_service_arn_without_cluster_has_no_console_link() -> None:
    changed = event("ecs-deployment-failed")
    changed["resources"] = ["arn:aws:ecs:eu-central-1:111122223333:service/todoapp-backend-service"]

    n = parse(Inbound("m-1", None, json.dumps(changed), None, None))

    assert facts(n)["Service"] == "todoapp-backend-service"
    assert "Cluster" not in facts(n)
    assert n.links == ()


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"resources": []}, "field 'resources'"),
        ({"resources": ["arn:aws:ecs:eu-central-1:1:task/x/y"]}, "not an ECS service ARN"),
        ({"detail": None}, "field 'detail'"),
    ],
)
def test_an_event_without_its_service_falls_back_to_raw(
    change: dict[str, object], why: str
) -> None:
    changed = {**event("ecs-deployment-failed"), **change}

    n = parse(Inbound("m-1", None, json.dumps(changed), None, None))

    assert n.source is Source.UNRECOGNISED
    assert why in n.facts[0].value
