"""The built scheduler in the local cloud: a tagged fleet parked on Friday evening, left alone at
night, and restored exactly on Monday morning, through the template's own schedule.

The fleet (localcloud.fleet) lives in the session's moto server beside the deployed stack, all of it
tagged nightshift:schedule=office-hours (policy/nightshift.yaml, deployed in the PolicyLayer:
Europe/Berlin, mon-fri 07:30-19:00): an ECS service of 3 tasks with a scalable target of 2-10, an
RDS PostgreSQL instance, an Aurora cluster with one member, an EC2 instance, an Auto Scaling group
of 1/2/4 whose instances inherit the tag, and a production ECS service. The template's
ScheduleV2 (input `{"time": "<aws.scheduler.scheduled-time>"}`) is fired at chosen times, so the
SchedulerFunction runs under the RIE as EventBridge Scheduler would invoke it; its reports go to
the ops topic, and the notifier is drained from its queue to the webhook receiver.

The week is played once per module (`week`); each test reads one part of it. 2026-11-20 is a
Friday: 18:05Z is 19:05 CET. 2026-11-23 is a Monday: 06:35Z is 07:35 CET.

The account is shared with the session's other tests (the example app of the redeploy tests is
tagged office-hours too, as a real account would hold more than one team's resources), so the
tests assert what happened to this fleet, and that each report and message shows all of it.

moto's RDS starts databases at once (`available`, no `starting`), so the morning's first run
starts the databases and leaves compute waiting for them, and the run five minutes later starts
the compute: in AWS the wait lasts until the databases are available.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from localcloud import (
    DrainReport,
    ReceivedRequest,
    Router,
    Stack,
    WebhookReceiver,
    format_chat_message,
)
from localcloud.fleet import Capacity, Fleet, Observed

pytestmark = pytest.mark.integration

OFFICE_HOURS = {"nightshift:schedule": "office-hours"}
PRODUCTION = {"Environment": "production"}
FRIDAY_EVENING = "2026-11-20T18:05:00Z"  # 19:05 CET, five minutes after office-hours stops
FRIDAY_NIGHT = "2026-11-20T23:00:00Z"
MONDAY_MORNING = "2026-11-23T06:35:00Z"  # 07:35 CET, five minutes after office-hours starts
WAITING = "waits for the databases of office-hours to start first"
MORNING_RUNS = 3  # the first starts the databases; one more is enough once they are available
STOPPED = ("api", "orders-db", "ledger", "bastion", "workers")
DATABASES = ("orders-db", "ledger")
COMPUTE = ("api", "bastion", "workers")


@dataclass(frozen=True)
class Run:
    """One firing of the scheduler's schedule: what the function returned, what it published to
    the ops topic, what the notifier posted, the fleet afterwards and the scheduler's state."""

    time: str
    result: dict[str, Any]
    published: tuple[dict[str, Any], ...]
    messages: tuple[ReceivedRequest, ...]
    fleet: dict[str, Observed]
    parked: dict[str, dict[str, Any]]
    last_run: str | None

    def item(self, arn: str) -> dict[str, Any]:
        (found,) = [item for item in self.result["items"] if item["resource"] == arn]
        return found

    def done(self, action: str) -> set[str]:
        """The resources this run did `action` to (stop, start)."""
        return {
            item["resource"]
            for item in self.result["items"]
            if (item["action"], item["outcome"]) == (action, "done")
        }

    @property
    def waiting(self) -> bool:
        return any(WAITING in item["reason"] for item in self.result["items"])


@dataclass(frozen=True)
class Week:
    before: dict[str, Observed]
    arns: dict[str, str]
    group_instances: tuple[str, ...]
    evening: Run
    night: Run
    morning: tuple[Run, ...]


class SchedulerUnderTest:
    """Fires the template's scheduler schedule and collects what came of it."""

    def __init__(
        self, stack: Stack, router: Router, receiver: WebhookReceiver, fleet: Fleet
    ) -> None:
        self.stack = stack
        self.router = router
        self.receiver = receiver
        self.fleet = fleet
        self.schedule = scheduler_schedule(stack, router)

    def fire(self, time: str) -> Run:
        self.receiver.reset()
        (delivery,) = self.router.fire_schedule(self.schedule, time).deliveries
        invocation = delivery.result
        assert invocation is not None, delivery.note
        if invocation.error:
            pytest.fail(
                f"the scheduler failed at {time}: {invocation.error_message}\n{invocation.logs}"
            )
        drained = self.router.drain("NotifierQueue")
        assert drained.failed == (), [i.logs for i in drained.invocations]
        return Run(
            time=time,
            result=invocation.payload,
            published=published_reports(self.stack, drained),
            messages=tuple(self.receiver.requests),
            fleet=self.fleet.observe(),
            parked=parked_records(self.stack),
            last_run=last_run(self.stack),
        )


def scheduler_schedule(stack: Stack, router: Router) -> str:
    """The logical id of the schedule whose target is the SchedulerFunction."""
    function_arn = stack.attribute("SchedulerFunction", "Arn")
    (found,) = [
        logical_id
        for logical_id in router.schedules()
        if logical_id in stack.emulated
        and stack.emulated[logical_id].properties["Target"]["Arn"] == function_arn
    ]
    return found


def state_items(stack: Stack, pk: str) -> list[dict[str, Any]]:
    return stack.endpoint.client("dynamodb").query(
        TableName=stack.physical_id("StateTable"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )["Items"]


def parked_records(stack: Stack) -> dict[str, dict[str, Any]]:
    return {item["sk"]["S"]: item for item in state_items(stack, "scheduler#parked")}


def last_run(stack: Stack) -> str | None:
    items = state_items(stack, "scheduler#run")
    return items[0]["scheduled_time"]["S"] if items else None


def published_reports(stack: Stack, drained: DrainReport) -> tuple[dict[str, Any], ...]:
    """The messages published to the ops topic that the notifier read from its queue."""
    topic = stack.physical_id("OpsTopic")
    envelopes = [
        json.loads(record["body"]) for batch in drained.batches for record in batch.event["Records"]
    ]
    return tuple(json.loads(e["Message"]) for e in envelopes if e["TopicArn"] == topic)


def forget_scheduler_state(stack: Stack, arns: Iterable[str] = ()) -> None:
    """Delete the scheduler's last run (so a week in the past is not refused as stale) and the
    parked records of `arns`; other tests' records stay."""
    dynamodb = stack.endpoint.client("dynamodb")
    table = stack.physical_id("StateTable")
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": "scheduler#run"}, "sk": {"S": "last"}})
    for arn in arns:
        dynamodb.delete_item(
            TableName=table, Key={"pk": {"S": "scheduler#parked"}, "sk": {"S": arn}}
        )


def later(time: str, minutes: int) -> str:
    moment = datetime.fromisoformat(time) + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_fleet(fleet: Fleet) -> None:
    fleet.ecs_service("office", "api", desired=3, target=(2, 10), tags=OFFICE_HOURS)
    fleet.ecs_service(
        "office", "prod-api", desired=3, target=(3, 9), tags={**OFFICE_HOURS, **PRODUCTION}
    )
    fleet.rds_instance("orders-db", tags=OFFICE_HOURS)
    fleet.aurora_cluster("ledger", members=1, tags=OFFICE_HOURS)
    fleet.ec2_instance("bastion", tags=OFFICE_HOURS)
    fleet.auto_scaling_group("workers", 1, 2, 4, tags=OFFICE_HOURS)


@pytest.fixture(scope="module")
def week(stack: Stack, router: Router, webhook_receiver: WebhookReceiver) -> Iterator[Week]:
    forget_scheduler_state(stack)
    fleet = Fleet(stack.endpoint)
    try:
        build_fleet(fleet)
        before = fleet.observe()
        arns = {name: fleet.arn(name) for name in before}
        group_instances = fleet.group_instances("workers")
        scheduler = SchedulerUnderTest(stack, router, webhook_receiver, fleet)
        evening = scheduler.fire(FRIDAY_EVENING)
        night = scheduler.fire(FRIDAY_NIGHT)
        morning = [scheduler.fire(MONDAY_MORNING)]
        while morning[-1].waiting and len(morning) < MORNING_RUNS:
            morning.append(scheduler.fire(later(morning[-1].time, 5)))
        yield Week(before, arns, group_instances, evening, night, tuple(morning))
    finally:
        webhook_receiver.reset()
        made = [member.arn for member in (*fleet.members.values(), *fleet.aurora_members.values())]
        fleet.remove()
        forget_scheduler_state(stack, made)


def slack_text(run: Run) -> str:
    """The one message the run's report became in Slack, as a chat client shows it."""
    (message,) = [request for request in run.messages if request.destination == "oncall"]
    return format_chat_message(message.json)


def fact_about(shown: str, arn: str) -> str:
    """The fact a rendered report shows for `arn`: `kind name`, then its outcome in words."""
    start = shown.index(f" {arn.rsplit('/', 1)[-1].rsplit(':', 1)[-1]}*")
    end = shown.find("\n  *", start)
    return shown[start : None if end == -1 else end]


# -- before ------------------------------------------------------------------------------------


def test_fleet_starts_running_at_its_own_capacity(week: Week) -> None:
    assert week.before["api"].capacity == Capacity(desired=3, minimum=2, maximum=10)
    assert week.before["workers"].capacity == Capacity(desired=2, minimum=1, maximum=4)
    assert [week.before[name].status for name in ("orders-db", "ledger", "bastion")] == [
        "available",
        "available",
        "running",
    ]


# -- Friday evening ----------------------------------------------------------------------------


def test_evening_run_parks_every_non_production_resource(week: Week) -> None:
    after = week.evening.fleet

    assert after["api"].capacity == Capacity(desired=0, minimum=0, maximum=0)
    assert after["orders-db"].status == "stopped"
    assert after["ledger"].status == "stopped"
    assert after["bastion"].status == "stopped"
    assert after["workers"].capacity == Capacity(desired=0, minimum=0, maximum=0)
    assert {
        name: week.evening.item(week.arns[name])["outcome"] for name in STOPPED
    } == dict.fromkeys(STOPPED, "done")


def test_evening_run_stores_the_capacities_it_parked(week: Week) -> None:
    parked = week.evening.parked

    assert set(parked) & set(week.arns.values()) == {week.arns[name] for name in STOPPED}
    assert parked[week.arns["api"]]["capacity"]["M"] == {
        "desired": {"N": "3"},
        "minimum": {"N": "2"},
        "maximum": {"N": "10"},
    }
    assert parked[week.arns["workers"]]["capacity"]["M"] == {
        "desired": {"N": "2"},
        "minimum": {"N": "1"},
        "maximum": {"N": "4"},
    }


def test_evening_run_leaves_the_production_service_untouched_and_says_why(week: Week) -> None:
    assert week.evening.fleet["prod-api"] == week.before["prod-api"]
    item = week.evening.item(week.arns["prod-api"])
    assert item["outcome"] == "refused"
    assert item["reason"].startswith("protected (Environment=production)")


def test_evening_run_skips_the_aurora_member_and_the_group_instances_with_reasons(
    week: Week,
) -> None:
    member = week.evening.item(week.arns["ledger-1"])
    assert (member["kind"], member["outcome"]) == ("rds-instance", "skipped")
    assert "ledger" in member["reason"]
    for instance_id in week.group_instances:
        (item,) = [i for i in week.evening.result["items"] if i["resource"].endswith(instance_id)]
        assert item["outcome"] == "skipped"
        assert "workers" in item["reason"]


def test_evening_run_counts_the_hours_saved_until_monday_morning(week: Week) -> None:
    until_monday = 60 + 25 / 60  # Friday 19:05 to Monday 07:30 CET

    for name in STOPPED:
        hours = week.evening.item(week.arns[name])["details"]["hours_saved"]
        assert hours == pytest.approx(until_monday, abs=0.01)
    stops = [week.evening.item(arn) for arn in week.evening.done("stop")]
    assert week.evening.result["totals"]["hours_saved"] == pytest.approx(
        sum(item["details"]["hours_saved"] for item in stops), abs=0.1
    )


def test_evening_report_reaches_slack_naming_what_was_stopped(week: Week) -> None:
    shown = slack_text(week.evening)

    stopped = week.evening.done("stop")
    assert week.evening.published == (week.evening.result,)
    assert f"scheduler (staging): stopped {len(stopped)}," in shown
    for name in STOPPED:
        assert "stopped — " in fact_about(shown, week.arns[name])
    assert shown.count("stopped — ") == len(stopped)
    assert "refused — protected (Environment=production)" in fact_about(
        shown, week.arns["prod-api"]
    )


# -- Friday night ------------------------------------------------------------------------------


def test_steady_state_run_at_night_changes_nothing_and_stays_quiet(week: Week) -> None:
    assert week.night.fleet == week.evening.fleet
    assert week.night.parked == week.evening.parked
    assert week.night.result["counts"]["done"] == 0
    assert week.night.last_run == "2026-11-20T23:00:00+00:00"
    assert week.night.published == ()
    assert week.night.messages == ()


# -- Monday morning ----------------------------------------------------------------------------


def test_morning_starts_the_databases_first_and_compute_waits_for_them(week: Week) -> None:
    first, then = week.morning

    assert [first.fleet[name].status for name in DATABASES] == ["available", "available"]
    for name in COMPUTE:
        item = first.item(week.arns[name])
        assert item["action"] == "none"
        assert WAITING in item["reason"]
    assert first.fleet["api"].capacity == Capacity(desired=0, minimum=0, maximum=0)
    assert then.time == "2026-11-23T06:40:00Z"


def test_morning_restores_every_resource_exactly_as_it_was(week: Week) -> None:
    after = week.morning[-1].fleet

    assert after == week.before
    assert all(item["outcome"] != "failed" for run in week.morning for item in run.result["items"])
    assert after["api"].capacity == Capacity(desired=3, minimum=2, maximum=10)
    assert after["workers"].capacity == Capacity(desired=2, minimum=1, maximum=4)
    assert [after[name].status for name in ("orders-db", "ledger", "bastion")] == [
        "available",
        "available",
        "running",
    ]
    assert set(week.morning[-1].parked) & set(week.arns.values()) == set()


def test_morning_reports_reach_slack_naming_what_was_started(week: Week) -> None:
    assert [run.published for run in week.morning] == [(run.result,) for run in week.morning]
    first, then = (slack_text(run) for run in week.morning)

    for run, shown, names in zip(week.morning, (first, then), (DATABASES, COMPUTE), strict=True):
        started = run.done("start")
        assert f"scheduler (staging): started {len(started)}" in shown
        for name in names:
            assert "started — " in fact_about(shown, week.arns[name])
        assert shown.count("started — ") == len(started)
    # The services waiting for the databases changed nothing yet: not listed (no "none: SKIPPED"
    # lines); the next run's report lists them started.
    assert WAITING not in first
    assert "SKIPPED" not in first
