"""A plan as people read it: dry-run rows and text, and items of the one report schema."""

from __future__ import annotations

import datetime as dt

from nightshift.redeploy import (
    PlanRow,
    RedeployPolicy,
    plan_redeploy,
    plan_rows,
    render_plan,
    report_item,
    report_items,
)
from nightshift.redeploy.plan import NO_ROLLBACK_WARNING
from nightshift.report import Outcome, Report, ReportItem

from .samples import (
    BACKEND,
    FRONTEND,
    PUSHED_DIGEST,
    app_container,
    push_event,
    service,
    task_definition,
)

RULES = RedeployPolicy(follow={"main": "main-*"})


def sample_plan():
    frontend = task_definition("todoapp-frontend", 3, [app_container(f"{FRONTEND}:main-1")])
    services = [
        service("todoapp-api", breaker=(False, False)),
        service("todoapp-api-prod", environment="production"),
        service("todoapp-web", task_definition=frontend.arn),
    ]
    definitions = {d.arn: d for d in (task_definition(), frontend)}
    return plan_redeploy(push_event(), services, definitions, RULES)


def test_dry_run_rows_show_service_and_old_and_new_image_of_changed_containers_only() -> None:
    assert plan_rows(sample_plan()) == (
        PlanRow(
            service="todoapp-cluster/todoapp-api",
            container="app",
            old_image=f"{BACKEND}:main-1a2b3c4",
            new_image=f"{BACKEND}@{PUSHED_DIGEST}",
        ),
    )


def test_rendered_plan_lists_the_push_each_change_each_warning_and_each_skip_with_why() -> None:
    text = render_plan(sample_plan())

    pinned = f"{BACKEND}@{PUSHED_DIGEST}"
    production = (
        "production service (Environment=production) follows only release versions (v1.2.3); "
        "main-4f1c2e7 is not one"
    )
    assert text.splitlines() == [
        "push todoapp-backend:main-4f1c2e7 (sha256:9b2f6c1d8e0a)",
        f"  deploy todoapp-cluster/todoapp-api app: {BACKEND}:main-1a2b3c4 → {pinned}",
        f"  warning todoapp-cluster/todoapp-api: {NO_ROLLBACK_WARNING}",
        f"  skipped todoapp-cluster/todoapp-api-prod: {production}",
        f"  skipped todoapp-cluster/todoapp-web: no container of todoapp-frontend:3 runs {BACKEND}",
    ]


def test_rendered_plan_of_an_untagged_push_says_so() -> None:
    plan = plan_redeploy(push_event("ecr-push-without-tag"), [], {}, RULES)

    assert render_plan(plan) == "push todoapp-backend (untagged) (sha256:9b2f6c1d8e0a)"


def test_dry_run_report_items_say_planned_or_skipped_with_reason_and_warning() -> None:
    items = report_items(sample_plan())

    assert [(i.resource.rpartition("/")[2], i.outcome) for i in items] == [
        ("todoapp-api", Outcome.PLANNED),
        ("todoapp-api-prod", Outcome.SKIPPED),
        ("todoapp-web", Outcome.SKIPPED),
    ]
    deploy = items[0]
    assert deploy.kind == "ecs-service"
    assert deploy.action == "redeploy"
    assert deploy.reason.endswith(f"; {NO_ROLLBACK_WARNING}")
    assert deploy.details["changes"] == [
        {
            "container": "app",
            "old_image": f"{BACKEND}:main-1a2b3c4",
            "new_image": f"{BACKEND}@{PUSHED_DIGEST}",
        }
    ]
    assert items[1].details["verdict"] == "production-gated"


def test_handler_can_report_a_done_deployment_with_its_id() -> None:
    decision = sample_plan().deployments[0]

    item = report_item(decision, Outcome.DONE, {"deployment_id": "ecs-svc/4732891650394821371"})

    assert item.outcome is Outcome.DONE
    assert item.details["deployment_id"] == "ecs-svc/4732891650394821371"
    assert item.details["service"] == "todoapp-api"


def test_report_items_survive_the_report_json_round_trip() -> None:
    items = report_items(sample_plan())
    report = Report(
        function="redeploy",
        run_id="4f8e2d1c-9a3b-4c5d-8e7f-1a2b3c4d5e6f",
        time=dt.datetime(2026, 11, 20, 9, 12, 45, tzinfo=dt.UTC).isoformat(),
        environment="staging",
        dry_run=True,
        summary="1 planned, 2 skipped",
        items=items,
    )

    again = Report.from_json(report.to_json())

    assert [ReportItem.to_json(i) for i in again.items] == [i.to_json() for i in items]
