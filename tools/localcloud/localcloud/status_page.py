"""The status page in the local cloud: the example app's state, a signed status link, Chromium.

`seed_status(stack, app, now)` leaves what the scheduler and the canary would have left after an
evening: the app's database parked (a parked record), its service held running by an override
tag, the canary's last report (check parked) and the last day of their metrics (the check up all
day, one failing hour, parked since the evening; two resources stopped, one started). It returns
an undo that puts back what it changed, so other tests of the session see the stack as before.
The metric points are hours old: no alarm window of a test that runs the canary now sees them.

`status_link` signs a status link with the key the stack generated; `chromium_screenshot` and
`chromium_dom` load a page in headless Chromium (the Debian package `chromium`).

    python -m localcloud.status_page docs/images/status-page.png   # make status-screenshot
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from localcloud.example_app import ExampleApp, deploy_example_app
from localcloud.function_url import FunctionUrlFront
from localcloud.project import Project
from localcloud.runtime import invoke
from localcloud.server import MotoServer
from localcloud.stack import Stack, ensure_stack
from nightshift.actions.token import ActionKind, new_token, sign

CHROMIUM = "chromium"
WINDOW = (1100, 620)
TIMEOUT = 60  # seconds for one page load in Chromium
OVERRIDE = "nightshift:override"


def chromium() -> str | None:
    return shutil.which(CHROMIUM)


def _chromium(*arguments: str) -> subprocess.CompletedProcess[str]:
    binary = chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    return subprocess.run(
        [binary, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", *arguments],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )


def chromium_screenshot(url: str, path: Path, window: tuple[int, int] = WINDOW) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _chromium(f"--screenshot={path}", f"--window-size={window[0]},{window[1]}", url)
    return path


def chromium_dom(url: str) -> str:
    """The DOM after Chromium loaded and rendered the page, serialised."""
    return _chromium("--dump-dom", url).stdout


def status_link(stack: Stack, url: str, *, hours: float = 24, key: bytes | None = None) -> str:
    """A status link of the stack's environment, valid for `hours` (negative: expired)."""
    environment = stack.parameters["Environment"]
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)
    token = sign(new_token(ActionKind.STATUS, environment, expires), key or signing_key(stack))
    return f"{url}/status?{urlencode({'token': token})}"


def signing_key(stack: Stack) -> bytes:
    configuration = stack.endpoint.client("lambda").get_function_configuration(
        FunctionName=stack.function_name("ActionsFunction")
    )
    name = configuration["Environment"]["Variables"]["NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET"]
    secret = stack.endpoint.client("secretsmanager").get_secret_value(SecretId=name)
    return str(secret["SecretString"]).encode()


@contextmanager
def actions_url(stack: Stack) -> Iterator[str]:
    """The actions function behind a local function URL (each request runs under the RIE)."""

    def call(event: dict[str, Any]) -> tuple[Any, bool]:
        result = invoke(stack, "ActionsFunction", event)
        return result.payload, result.error

    with FunctionUrlFront(call) as url:
        yield url


def seed_status(stack: Stack, app: ExampleApp, now: dt.datetime) -> Callable[[], None]:
    """Write the example app's evening (see the module's docstring); returns the undo."""
    dynamodb, table = stack.endpoint.client("dynamodb"), stack.physical_id("StateTable")
    ecs, rds = stack.endpoint.client("ecs"), stack.endpoint.client("rds")
    db_arn = rds.describe_db_instances(DBInstanceIdentifier=app.db_instance_id)["DBInstances"][0][
        "DBInstanceArn"
    ]
    status_key = {"pk": {"S": "canary#status"}, "sk": {"S": "last-report"}}
    parked_key = {"pk": {"S": "scheduler#parked"}, "sk": {"S": db_arn}}
    board_before = dynamodb.get_item(TableName=table, Key=status_key).get("Item")
    evening = (now - dt.timedelta(hours=3)).replace(microsecond=0)
    dynamodb.put_item(
        TableName=table,
        Item={
            **parked_key,
            "kind": {"S": "rds-instance"},
            "parked_at": {"S": evening.isoformat()},
            "schedule": {"S": "office-hours"},
            "state": {"S": "parked"},
        },
    )
    board = {"checks": [["backend", "parked"]], "alarms": "in step"}
    dynamodb.put_item(
        TableName=table,
        Item={
            **status_key,
            "board": {"S": json.dumps(board)},
            "reported_at": {"S": now.isoformat()},
            "run_id": {"S": "status-page"},
        },
    )
    until = (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ecs.tag_resource(
        resourceArn=app.service_arn, tags=[{"key": OVERRIDE, "value": f"running-until={until}"}]
    )
    _put_metrics(stack, now)

    def undo() -> None:
        dynamodb.delete_item(TableName=table, Key=parked_key)
        if board_before is None:
            dynamodb.delete_item(TableName=table, Key=status_key)
        else:
            dynamodb.put_item(TableName=table, Item=board_before)
        ecs.untag_resource(resourceArn=app.service_arn, tagKeys=[OVERRIDE])

    return undo


def _put_metrics(stack: Stack, now: dt.datetime) -> None:
    """The check up from 20 to 4 hours ago but for one failing hour, then parked; the scheduler's
    evening (two stopped, one started, dollars its starts saved)."""
    check = [{"Name": "Check", "Value": "backend"}]
    scheduler = [{"Name": "service", "Value": "scheduler"}]
    points: list[dict[str, Any]] = []
    for hours in range(20, 1, -1):
        at = now - dt.timedelta(hours=hours)
        if hours > 3:
            success = 0.0 if hours == 9 else 1.0
            points.append({"MetricName": "Success", "Dimensions": check, "Value": success})
        else:
            points.append({"MetricName": "Parked", "Dimensions": check, "Value": 1.0})
        points[-1]["Timestamp"] = at
    evening = now - dt.timedelta(hours=3)
    for name, value in (("Stopped", 2.0), ("Started", 1.0), ("DollarsSaved", 3.4)):
        points.append(
            {"MetricName": name, "Dimensions": scheduler, "Value": value, "Timestamp": evening}
        )
    cloudwatch = stack.endpoint.client("cloudwatch")
    for start in range(0, len(points), 20):
        cloudwatch.put_metric_data(Namespace="Nightshift", MetricData=points[start : start + 20])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot the status page in the local cloud")
    parser.add_argument("output", type=Path, help="where the PNG goes")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="localcloud: %(message)s", stream=sys.stderr)
    if chromium() is None:
        print("status-page: chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    with MotoServer() as endpoint:
        stack = ensure_stack(endpoint, Project.at())
        app = deploy_example_app(
            endpoint, parameters={"NightshiftOpsTopicArn": stack.outputs["OpsTopicArn"]}
        )
        seed_status(stack, app, dt.datetime.now(dt.UTC))
        with actions_url(stack) as url:
            chromium_screenshot(status_link(stack, url), options.output)
    print(f"wrote {options.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
