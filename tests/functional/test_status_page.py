"""The status page under moto: GET /status with a signed status link, every AWS call judged
against the actions role (read only: a Query, a GetItem, GetResources, one GetMetricData).

The stack: schedule office-hours with ECS `web` parked by the scheduler (its parked record) and
`api` held running by an override tag; canary check `backend` on that schedule, its last report
in the canary's memory and its metrics for the last hours; the scheduler's metrics of a night.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from localcloud.fleet import Fleet, SessionClients
from nightshift.actions.token import ActionKind, new_token, sign
from nightshift.adapters.canary_memory import CanaryMemory
from nightshift.adapters.parking import ParkingStore
from nightshift.canary.status import CheckState, StatusBoard
from nightshift.schedule.resources import ParkedRecord, ResourceKind
from tests.conftest import FakeLambdaContext, load_event, load_handler
from tests.support.nightshift import ACTIONS_KEY as KEY
from tests.support.nightshift import ACTIONS_TABLE as TABLE
from tests.support.nightshift import actions_account

REGION = "eu-central-1"
TAGS = {"nightshift:schedule": "office-hours"}
POLICY = """\
version: 1
protect: {tag: Environment, values: [production, prod]}
schedules:
  office-hours:
    timezone: Europe/Berlin
    periods: [{days: mon-sun, start: "07:30", stop: "19:00"}]
canaries:
  - name: backend
    url: https://staging.example.com/health
    depends_on: {schedule: office-hours}
    conditions: ["[STATUS] == 200"]
"""
NOW = dt.datetime.now(dt.UTC)


@dataclass
class Cloud:
    app: ModuleType
    web: str
    api: str

    def status(self, token: str) -> dict[str, Any]:
        event = copy.deepcopy(load_event("actions", "status-get"))
        event["queryStringParameters"] = {"token": token}
        event["rawQueryString"] = urlencode(event["queryStringParameters"])
        # the function URL stamps when it received the request; the page is judged at that time
        event["requestContext"]["timeEpoch"] = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        return dict(self.app.lambda_handler(event, FakeLambdaContext()))


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cloud]:
    policy = tmp_path / "nightshift.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    extra = {"POWERTOOLS_METRICS_NAMESPACE": "Nightshift"}
    with actions_account(monkeypatch, policy, slack=False, extra=extra):
        fleet = Fleet(SessionClients(REGION))
        web = fleet.ecs_service("todoapp", "web", 0, None, TAGS)
        until = (NOW + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        api = fleet.ecs_service(
            "todoapp", "api", 1, None, {**TAGS, "nightshift:override": f"running-until={until}"}
        )
        with monkeypatch.context() as seeding:  # written as the scheduler and canary write them
            seeding.delenv("POWERTOOLS_SERVICE_NAME")  # by the test: not the actions role's calls
            parked_at = NOW - dt.timedelta(hours=2)
            ParkingStore(TABLE).park(
                ParkedRecord(web, ResourceKind.ECS_SERVICE, parked_at, "office-hours")
            )
            board = StatusBoard(checks=(("backend", CheckState.PARKED),))
            CanaryMemory(TABLE).remember(board, at=NOW, run_id="run-1")
        cloudwatch = boto3.client("cloudwatch")
        check = [{"Name": "Check", "Value": "backend"}]
        scheduler = [{"Name": "service", "Value": "scheduler"}]
        cloudwatch.put_metric_data(
            Namespace="Nightshift",
            MetricData=[
                *(
                    {
                        "MetricName": "Success",
                        "Dimensions": check,
                        "Timestamp": NOW - dt.timedelta(hours=hours),
                        "Value": value,
                    }
                    for hours, value in ((5, 1.0), (4, 0.0))
                ),
                {
                    "MetricName": "Parked",
                    "Dimensions": check,
                    "Timestamp": NOW - dt.timedelta(hours=1),
                    "Value": 1.0,
                },
                {"MetricName": "Stopped", "Dimensions": scheduler, "Value": 2.0},
                {"MetricName": "Started", "Dimensions": scheduler, "Value": 1.0},
                {"MetricName": "DollarsSaved", "Dimensions": scheduler, "Value": 3.5},
            ],
        )
        yield Cloud(load_handler("actions"), web, api)


def status_token(*, key: str = KEY, hours: float = 2, target: str = "staging") -> str:
    return sign(new_token(ActionKind.STATUS, target, NOW + dt.timedelta(hours=hours)), key.encode())


def test_a_status_link_shows_each_environment_and_check(cloud: Cloud) -> None:
    answer = cloud.status(status_token())
    assert answer["statusCode"] == 200, answer["body"]
    assert answer["headers"]["Content-Type"].startswith("text/html")
    page = answer["body"]
    assert 'data-schedule="office-hours"' in page
    assert "parked: 1 of 2" in page
    assert "api: override holds it running until" in page
    assert 'data-check="backend"' in page
    cells = re.findall(r'<span class="h-(\w+)"', page)
    assert len(cells) == 24
    assert (cells.count("up"), cells.count("down"), cells.count("parked")) == (1, 1, 1)
    assert "2 resources stopped, 1 started, ≈ $3.50 saved" in page


def test_the_link_works_again_and_changes_nothing(cloud: Cloud) -> None:
    token = status_token()
    assert cloud.status(token)["statusCode"] == 200
    assert cloud.status(token)["statusCode"] == 200  # not single-use: it expires instead
    used = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "actions#used"}},
    )
    assert used["Count"] == 0


@pytest.mark.parametrize(
    ("case", "status"),
    [("expired", 410), ("forged", 403), ("other environment", 403), ("action link", 403)],
)
def test_bad_status_links_are_refused(cloud: Cloud, case: str, status: int) -> None:
    token = {
        "expired": status_token(hours=-1),
        "forged": status_token(key="not-the-key"),
        "other environment": status_token(target="prod"),
        "action link": sign(
            new_token(
                ActionKind.KEEP_RUNNING,
                "staging",
                NOW + dt.timedelta(hours=1),
                until=NOW + dt.timedelta(hours=2),
            ),
            KEY.encode(),
        ),
    }[case]
    answer = cloud.status(token)
    assert answer["statusCode"] == status
    assert "office-hours" not in answer["body"]
