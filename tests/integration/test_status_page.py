"""The status page of the built actions function in the local cloud, over real HTTP and in a real
headless Chromium: the example app's evening (localcloud.status_page.seed_status: its database
parked, its service held running by an override, the canary check parked, a day of metrics),
the page fetched with a good link, refused with an expired or forged one; every AWS call of the
function judged against its role.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import urllib3

from localcloud import Stack
from localcloud.example_app import deploy_example_app
from localcloud.status_page import (
    WINDOW,
    actions_url,
    chromium,
    chromium_dom,
    chromium_screenshot,
    seed_status,
    status_link,
)
from nightshift_tools import status_link as status_link_command

pytestmark = pytest.mark.integration

HTTP = urllib3.PoolManager(retries=False)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_chromium = pytest.mark.skipif(
    chromium() is None, reason="chromium is not installed here (Debian: apt-get install chromium)"
)


@dataclass
class StatusPage:
    stack: Stack
    url: str


@pytest.fixture(scope="module")
def status_page(stack: Stack) -> Iterator[StatusPage]:
    app = deploy_example_app(
        stack.endpoint, parameters={"NightshiftOpsTopicArn": stack.outputs["OpsTopicArn"]}
    )
    undo = seed_status(stack, app, dt.datetime.now(dt.UTC))
    try:
        with actions_url(stack) as url:
            yield StatusPage(stack, url)
    finally:
        undo()


def test_a_good_link_shows_the_example_apps_evening(status_page: StatusPage) -> None:
    response = HTTP.request("GET", status_link(status_page.stack, status_page.url))
    page = response.data.decode()
    assert response.status == 200, page
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "no-store"
    assert 'data-schedule="office-hours"' in page
    assert "parked: 1 of" in page
    assert re.search(r"todoapp[\w-]*: override holds it running until", page), page
    assert 'data-check="backend"' in page
    cells = re.findall(r'<span class="h-(\w+)"', page)
    assert (len(cells), cells.count("down"), cells.count("parked")) == (24, 1, 2)
    # the seeded evening (2 stopped, 1 started, $3.40) plus what the session's other tests'
    # scheduler runs published: the page sums the stack's last 24 h as CloudWatch holds them
    stopped, started, saved = _scheduler_last_day(status_page.stack)
    assert stopped >= 2
    assert started >= 1
    assert saved >= 3.4
    assert f"{stopped} resources stopped, {started} started, ≈ ${saved:.2f} saved" in page


def _scheduler_last_day(stack: Stack) -> tuple[int, int, float]:
    """The scheduler's Stopped, Started and DollarsSaved summed over the last 24 h."""
    now = dt.datetime.now(dt.UTC)
    queries = [
        {
            "Id": name.lower(),
            "MetricStat": {
                "Metric": {
                    "Namespace": "Nightshift",
                    "MetricName": name,
                    "Dimensions": [{"Name": "service", "Value": "scheduler"}],
                },
                "Period": 86400,
                "Stat": "Sum",
            },
        }
        for name in ("Stopped", "Started", "DollarsSaved")
    ]
    answer = stack.endpoint.client("cloudwatch").get_metric_data(
        MetricDataQueries=queries, StartTime=now - dt.timedelta(hours=24), EndTime=now
    )
    sums = {r["Id"]: sum(r["Values"]) for r in answer["MetricDataResults"]}
    return int(sums["stopped"]), int(sums["started"]), round(sums["dollarssaved"], 2)


@pytest.mark.parametrize(("case", "status"), [("expired", 410), ("forged", 403)])
def test_expired_and_forged_links_are_refused(
    status_page: StatusPage, case: str, status: int
) -> None:
    link = {
        "expired": status_link(status_page.stack, status_page.url, hours=-1),
        "forged": status_link(status_page.stack, status_page.url, key=b"not-the-stack-key"),
    }[case]
    response = HTTP.request("GET", link)
    assert response.status == status
    assert "office-hours" not in response.data.decode()


@needs_chromium
def test_chromium_renders_the_page(status_page: StatusPage, tmp_path: Path) -> None:
    link = status_link(status_page.stack, status_page.url)
    dom = chromium_dom(link)
    assert re.findall(r'<tr class="environment" data-schedule="([^"]+)"', dom) == ["office-hours"]
    assert re.findall(r'<tr class="check" data-check="([^"]+)"', dom) == ["backend"]
    shot = chromium_screenshot(link, tmp_path / "status.png")
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == WINDOW
    assert len(data) > 20_000  # a rendered page, not a blank one


def test_the_status_link_command_prints_a_link_that_opens_the_page(
    status_page: StatusPage, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", status_page.stack.endpoint.url)
    function = status_page.stack.function_name("ActionsFunction")
    assert status_link_command.main(["--function", function, "--url", status_page.url]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith(f"{status_page.url}/status?token=")
    response = HTTP.request("GET", link)
    assert response.status == 200
    assert 'data-schedule="office-hours"' in response.data.decode()
