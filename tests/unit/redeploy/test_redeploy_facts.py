"""DescribeServices / DescribeTaskDefinition output becomes the planner's facts."""

from __future__ import annotations

import datetime as dt

from nightshift.redeploy import CircuitBreaker, ServiceFacts, TaskDefinitionFacts

from .ecs_model import shape, unknown_fields
from .samples import TASK_DEFINITION_TAGS, fargate_definition, service_description


def test_sample_service_uses_only_fields_of_the_ecs_model() -> None:
    assert unknown_fields(service_description(), shape("Service")) == []


def test_described_service_becomes_facts() -> None:
    pushed = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)

    facts = ServiceFacts.from_description(service_description(breaker=(True, False)), pushed)

    assert facts == ServiceFacts(
        arn="arn:aws:ecs:eu-central-1:111122223333:service/todoapp-cluster/todoapp-backend-service",
        cluster="todoapp-cluster",
        name="todoapp-backend-service",
        tags={"Environment": "staging", "nightshift:redeploy": "main"},
        task_definition_arn="arn:aws:ecs:eu-central-1:111122223333:task-definition/todoapp-backend:7",
        circuit_breaker=CircuitBreaker(enable=True, rollback=False),
        status="ACTIVE",
        deployment_controller="ECS",
        last_push_at=pushed,
    )
    assert facts.follows == "main"
    assert facts.display_name == "todoapp-cluster/todoapp-backend-service"
    assert not facts.circuit_breaker.rolls_back


def test_service_described_without_deployment_settings_has_no_circuit_breaker() -> None:
    described = service_description()
    del described["deploymentConfiguration"], described["deploymentController"]

    facts = ServiceFacts.from_description(described)

    assert facts.circuit_breaker == CircuitBreaker(enable=False, rollback=False)
    assert facts.deployment_controller == "ECS"


def test_described_task_definition_keeps_everything_and_its_tags_as_aws_gave_them() -> None:
    described = fargate_definition()

    facts = TaskDefinitionFacts.from_description(
        {"taskDefinition": described, "tags": TASK_DEFINITION_TAGS}
    )

    assert dict(facts.definition) == described
    assert [dict(tag) for tag in facts.tags] == TASK_DEFINITION_TAGS
    assert (facts.family, facts.revision) == ("todoapp-backend", 7)
    assert [c["name"] for c in facts.containers] == ["app", "log-router"]
