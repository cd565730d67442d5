"""The schedule-aware canary: the handler under moto, with the scheduler's parked records written
by the scheduler's own adapter (`ParkingStore`) and the service tagged in ECS, over an evening and
a morning of the shipped `office-hours` schedule (Monday 2026-11-30, Europe/Berlin, CET).

Times are fixed (the schedule decides on the run's time): the EMF documents are stamped with the
clock then (too old for CloudWatch), which is what these tests do not look at. Every AWS call is
judged against the canary's role (tests/functional/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from nightshift.adapters.parking import ParkingStore
from nightshift.schedule import Capacity, ParkedRecord, ResourceKind
from tests.functional.test_canary import ENVIRONMENT, REGION, Stack, check, deployed_stack, item
from tests.support.health_server import HealthServer

SERVICE_NAME = "todoapp-backend"
OFFICE_HOURS = {
    "timezone": "Europe/Berlin",
    "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}],
}
PREFIX = f"nightshift-{ENVIRONMENT}-canary-check-"


MONDAY = dt.datetime(2026, 11, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # CET


def berlin(day: int, hour: int, minute: int) -> str:
    """A run's scheduled time at a Berlin wall-clock time, `day` days after Monday 2026-11-30."""
    local = MONDAY + dt.timedelta(days=day, hours=hour, minutes=minute)
    return local.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class ParkedStaging:
    """The staging service in ECS (tagged with the schedule) and the scheduler's memory of it."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.ecs = boto3.client("ecs", region_name=REGION)
        self.ecs.create_cluster(clusterName="todoapp")
        definition = self.ecs.register_task_definition(
            family="todoapp-backend",
            containerDefinitions=[{"name": "app", "image": "todoapp:1", "memory": 512}],
        )["taskDefinition"]["taskDefinitionArn"]
        self.arn = self.ecs.create_service(
            cluster="todoapp",
            serviceName=SERVICE_NAME,
            taskDefinition=definition,
            desiredCount=2,
            tags=[{"key": "nightshift:schedule", "value": "office-hours"}],
        )["service"]["serviceArn"]
        self.parking = ParkingStore(stack.table, boto3.client("dynamodb", region_name=REGION))

    def park(self, at: str) -> None:
        """What the scheduler's 19:00 run leaves: a parked record with the capacity."""
        parked_at = dt.datetime.fromisoformat(at)
        record = ParkedRecord(
            self.arn, ResourceKind.ECS_SERVICE, parked_at, "office-hours", Capacity(2, 1, 4)
        )
        with as_scheduler():
            assert self.parking.park(record)

    def start(self) -> None:
        """What the scheduler's 07:30 run leaves once the service is restored: no record."""
        with as_scheduler():
            self.parking.release(self.arn)

    def override(self, value: str) -> None:
        self.ecs.tag_resource(
            resourceArn=self.arn, tags=[{"key": "nightshift:override", "value": value}]
        )


@contextmanager
def as_scheduler() -> Iterator[None]:
    """The scheduler's adapter writes its records, judged against the scheduler's role."""
    service = os.environ["POWERTOOLS_SERVICE_NAME"]
    os.environ["POWERTOOLS_SERVICE_NAME"] = "scheduler"
    try:
        yield
    finally:
        os.environ["POWERTOOLS_SERVICE_NAME"] = service


@pytest.fixture
def stack(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[Stack]:
    with mock_aws():
        yield deployed_stack(monkeypatch, tmp_path, capsys)


@pytest.fixture
def app(health_server: HealthServer) -> HealthServer:
    return health_server


@pytest.fixture
def staging(stack: Stack, app: HealthServer) -> ParkedStaging:
    document = {
        "version": 1,
        "schedules": {"office-hours": OFFICE_HOURS},
        "canaries": [check("backend", app.url(), depends_on={"schedule": "office-hours"})],
    }
    stack.policy_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return ParkedStaging(stack)


def values(stack: Stack) -> dict[str, float]:
    """The last run's metric values of the check itself (dimension Check only)."""
    found = {}
    for name in ("Success", "Latency", "Parked", "LateStart", "TimeToHealthy"):
        value = stack.metric(name, Check="backend")
        if value is not None:
            found[name] = value
    return found


def backend(report: dict[str, Any]) -> dict[str, Any]:
    return item(report, "backend")


def test_evening_parking_publishes_no_failing_datapoint_and_reports_parked_once(
    stack, staging, app
):
    healthy = stack.run_at(berlin(0, 18, 59))
    staging.park(berlin(0, 19, 0))
    app.answer(app.server_error())

    evening = [stack.run_at(berlin(0, 19, minute)) for minute in (1, 2, 3)]

    assert backend(healthy)["outcome"] == "done"
    assert values(stack) == {"Parked": 1.0}
    parked = backend(evening[0])
    assert (parked["outcome"], parked["details"]["phase"]) == ("skipped", "parked")
    assert parked["reason"].startswith(f"parked: {SERVICE_NAME} (office-hours: outside its periods")
    assert evening[0]["summary"] == "0 of 1 checks up; parked: backend"
    assert evening[0]["totals"]["checks_down_count"] == 0
    reports = stack.reports()
    assert [r["summary"] for r in reports] == [
        "1 of 1 checks up; alarms: 2 created",
        "0 of 1 checks up; parked: backend",
    ]
    alarms = stack.alarms()
    assert set(alarms) == {f"{PREFIX}down-backend", f"{PREFIX}start-backend"}
    assert {a["TreatMissingData"] for a in alarms.values()} == {"ignore"}
    assert alarms[f"{PREFIX}start-backend"]["MetricName"] == "LateStart"


def test_morning_start_is_not_down_while_warming_and_reports_time_to_healthy(stack, staging, app):
    staging.park(berlin(0, 19, 0))
    app.answer(app.server_error())
    stack.run_at(berlin(0, 19, 5))
    stack.run_at(berlin(1, 7, 29))
    staging.start()  # the scheduler's 07:30 run restored the service; it is not warm yet

    warming = [stack.run_at(berlin(1, 7, minute)) for minute in (30, 31, 33)]
    warming_values = values(stack)
    app.answer(app.healthy())
    healthy = stack.run_at(berlin(1, 7, 34))

    assert [backend(r)["details"]["phase"] for r in warming] == ["starting"] * 3
    assert backend(warming[0])["reason"].startswith(
        "starting since 2026-12-01 07:30 CET: not healthy yet, allowed 15 min; probe: down"
    )
    assert warming_values == {"Parked": 0.0}  # no failing datapoint
    line = backend(healthy)
    assert (line["outcome"], line["details"]["time_to_healthy_s"]) == ("done", 240)
    assert line["reason"].endswith("; healthy 4 min after the start at 2026-12-01 07:30 CET")
    assert values(stack) == {
        "Success": 1.0,
        "Latency": pytest.approx(values(stack)["Latency"]),
        "Parked": 0.0,
        "LateStart": 0.0,
        "TimeToHealthy": 240.0,
    }
    # Evening "parked" (its first run also made the alarms), then nothing until "healthy".
    assert [r["summary"] for r in stack.reports()] == [
        "0 of 1 checks up; parked: backend; alarms: 2 created",
        "1 of 1 checks up",
    ]


def test_start_not_healthy_within_its_bound_pages_once_through_the_start_alarm(stack, staging, app):
    staging.park(berlin(0, 19, 0))
    app.answer(app.server_error())
    stack.run_at(berlin(1, 7, 29))
    staging.start()
    stack.run_at(berlin(1, 7, 30))
    stack.run_at(berlin(1, 7, 44))
    stack.reports()

    late = stack.run_at(berlin(1, 7, 45))
    late_values = values(stack)
    still = stack.run_at(berlin(1, 7, 46))
    app.answer(app.healthy())
    recovered = stack.run_at(berlin(1, 7, 50))

    line = backend(late)
    assert (line["outcome"], line["details"]["phase"]) == ("failed", "late")
    assert line["reason"].startswith(
        "not healthy 15 min after the start at 2026-12-01 07:30 CET (allowed 15 min)"
    )
    assert late_values == {"Parked": 0.0, "LateStart": 1.0}  # the start alarm's datapoint
    assert backend(still)["details"]["phase"] == "late"
    assert backend(recovered)["details"]["time_to_healthy_s"] == 20 * 60
    assert values(stack)["LateStart"] == 0.0
    summaries = [r["summary"] for r in stack.reports()]
    assert summaries == ["0 of 1 checks up; down: backend", "1 of 1 checks up"]


def test_override_keeping_staging_up_makes_the_check_live_again(stack, staging, app):
    staging.park(berlin(0, 19, 0))
    app.answer(app.server_error())
    stack.run_at(berlin(0, 19, 30))
    staging.override("running-until=2026-11-30T23:00+01:00")

    starting = stack.run_at(berlin(0, 20, 0))
    app.answer(app.healthy())
    live = stack.run_at(berlin(0, 20, 6))

    assert backend(starting)["details"]["phase"] == "starting"
    assert backend(live)["details"]["phase"] == "live"
    assert backend(live)["details"]["time_to_healthy_s"] == 360
    assert values(stack)["Success"] == 1.0


STAGING_ACCOUNT, STAGING_REGION = "222222222222", "eu-west-1"
STAGING_SERVICE = f"arn:aws:ecs:{STAGING_REGION}:{STAGING_ACCOUNT}:service/todoapp/{SERVICE_NAME}"


@pytest.mark.parametrize(
    ("where", "phase"),
    [
        ({"account": STAGING_ACCOUNT, "region": STAGING_REGION}, "parked"),
        ({"account": STAGING_ACCOUNT}, "parked"),
        ({"account": "123456789012"}, "live"),  # the hub's own: staging's record is not its
        ({"region": REGION}, "live"),
    ],
)
def test_a_check_of_a_target_account_is_parked_by_that_targets_records_only(
    stack, app, where, phase
):
    # Hub and spoke: the hub's scheduler parked staging's service in a member account and Region
    # and keeps the record in the hub's table, keyed by the service's ARN.
    depends_on = {"schedule": "office-hours", **where}
    document = {
        "version": 1,
        "schedules": {"office-hours": OFFICE_HOURS},
        "canaries": [check("backend", app.url(), depends_on=depends_on)],
    }
    stack.policy_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    parking = ParkingStore(stack.table, boto3.client("dynamodb", region_name=REGION))
    record = ParkedRecord(
        STAGING_SERVICE,
        ResourceKind.ECS_SERVICE,
        dt.datetime.fromisoformat(berlin(0, 19, 0)),
        "office-hours",
        Capacity(2, 1, 4),
    )
    with as_scheduler():
        assert parking.park(record)
    app.answer(app.server_error())

    evening = stack.run_at(berlin(0, 19, 1))

    assert backend(evening)["details"].get("phase") == phase
    assert evening["totals"]["checks_down_count"] == (0 if phase == "parked" else 1)
