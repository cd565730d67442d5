"""The `plan` command's pure function: the next days of starts and stops per resource."""

from __future__ import annotations

import datetime as dt

from nightshift.policy import DEFAULT_PROTECT
from nightshift.schedule import Capacity, ResourceKind, ScheduledResource, SchedulerPolicy
from nightshift.schedule.plan import Action
from nightshift_tools.week import plan_week

UTC = dt.UTC
MONDAY = dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
POLICY = SchedulerPolicy.from_sections(
    {
        "office-hours": {
            "timezone": "Europe/Berlin",
            "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}],
            "except": ["2026-03-04"],
        },
        "nights": {
            "timezone": "America/New_York",
            "periods": [{"days": "sat", "start": "22:00", "stop": "04:00"}],
        },
    }
)


def db(name: str = "app-db", schedule: str = "office-hours", **tags: str) -> ScheduledResource:
    return ScheduledResource(
        f"arn:aws:rds:eu-central-1:111122223333:db:{name}",
        ResourceKind.RDS_INSTANCE,
        {"nightshift:schedule": schedule, **tags},
        status="available",
    )


def service(name: str = "api") -> ScheduledResource:
    return ScheduledResource(
        f"arn:aws:ecs:eu-central-1:111122223333:service/app/{name}",
        ResourceKind.ECS_SERVICE,
        {"nightshift:schedule": "office-hours"},
        status="ACTIVE",
        capacity=Capacity(2),
    )


def test_week_lists_each_start_and_stop_in_local_time_skipping_except_dates() -> None:
    week = plan_week([db()], POLICY, MONDAY, protect=DEFAULT_PROTECT)

    assert [(a.action.value, a.local) for a in week] == [
        ("start", "2026-03-02 07:30 CET"),
        ("stop", "2026-03-02 19:00 CET"),
        ("start", "2026-03-03 07:30 CET"),
        ("stop", "2026-03-03 19:00 CET"),
        # Wednesday 4 March is an except date
        ("start", "2026-03-05 07:30 CET"),
        ("stop", "2026-03-05 19:00 CET"),
        ("start", "2026-03-06 07:30 CET"),
        ("stop", "2026-03-06 19:00 CET"),
    ]


def test_each_planned_stop_says_how_many_hours_it_saves() -> None:
    week = plan_week([db()], POLICY, MONDAY, protect=DEFAULT_PROTECT)

    stops = [a.hours_saved for a in week if a.action is Action.STOP]

    assert stops == [12.5, 36.5, 12.5, 60.5]


def test_same_instant_orders_databases_before_services_on_start_and_after_on_stop() -> None:
    week = plan_week([service(), db()], POLICY, MONDAY, days=1, protect=DEFAULT_PROTECT)

    assert [(a.action, a.resource.kind) for a in week] == [
        (Action.START, ResourceKind.RDS_INSTANCE),
        (Action.START, ResourceKind.ECS_SERVICE),
        (Action.STOP, ResourceKind.ECS_SERVICE),
        (Action.STOP, ResourceKind.RDS_INSTANCE),
    ]


def test_overnight_period_across_the_new_york_dst_change_is_planned_in_local_time() -> None:
    saturday = dt.datetime(2026, 3, 7, 12, 0, tzinfo=UTC)

    week = plan_week([db(schedule="nights")], POLICY, saturday, days=2, protect=DEFAULT_PROTECT)

    assert [(a.action.value, a.local) for a in week] == [
        ("start", "2026-03-07 22:00 EST"),
        ("stop", "2026-03-08 04:00 EDT"),  # six hours on the wall clock, five in real time
    ]
    assert week[1].at - week[0].at == dt.timedelta(hours=5)


def test_override_holds_until_it_ends_then_the_schedule_resumes() -> None:
    held = db(**{"nightshift:override": "stopped-until=2026-03-03T12:00"})

    week = plan_week([held], POLICY, MONDAY, days=2, protect=DEFAULT_PROTECT)

    assert [(a.action.value, a.local, a.reason) for a in week] == [
        (
            "start",
            "2026-03-03 12:00 CET",
            "office-hours: override 'stopped-until=2026-03-03T12:00' ends",
        ),
        (
            "stop",
            "2026-03-03 19:00 CET",
            "office-hours stops at 2026-03-03 19:00 CET (period mon-fri 07:30-19:00)",
        ),
    ]


def test_resources_left_out_appear_once_with_their_reason() -> None:
    week = plan_week(
        [db("prod-db", Environment="production"), db("typo", schedule="ofice-hours")],
        POLICY,
        MONDAY,
        protect=DEFAULT_PROTECT,
    )

    assert [(a.at, a.action, a.resource.name) for a in week] == [
        (MONDAY, Action.REFUSE, "prod-db"),
        (MONDAY, Action.REFUSE, "typo"),
    ]
    assert "unknown schedule 'ofice-hours'" in week[1].reason
