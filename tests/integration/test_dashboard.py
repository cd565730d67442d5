"""The template's CloudWatch dashboard: its body parses, every metric it shows is one a function
really emits (names and dimensions checked against the code), and after a short run in the local
cloud it renders as non-empty PNG charts (localcloud.dashboard)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from localcloud import Router, Stack, WebhookReceiver
from localcloud.dashboard import (
    MetricLine,
    SearchLine,
    WallClockMap,
    dashboard_body,
    parse_widgets,
    render_dashboard,
    widget_series,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# What the issue asks the dashboard to show: (namespace, metric, service dimension or None).
REQUIRED = {
    ("Nightshift", "Stopped", "scheduler"),
    ("Nightshift", "Started", "scheduler"),
    ("Nightshift", "HoursSaved", "scheduler"),
    ("Nightshift", "DollarsSaved", "scheduler"),
    ("Nightshift", "ServicesRedeployed", "redeploy"),
    ("Nightshift", "SnapshotsDeleted", "pruner"),
    ("Nightshift", "GiBDeleted", "pruner"),
    ("Nightshift", "NotificationsSent", "notifier"),
    ("Nightshift", "NotificationsFailed", "notifier"),
}


CORE = {
    "scheduler": "schedule",
    "redeploy": "redeploy",
    "pruner": "retention",
    "notifier": "notify",
    "canary": "canary",
}


def _emitted_by(service: str) -> set[str]:
    """Metric names the function `service` emits, read from its handler and its core package:
    add_metric(name="X"), an outcome table, a `name = "X" if ... else "Y"` passed to
    add_metric, or a RunMetric("X", ...)."""
    files = [ROOT / "functions" / service / "app.py"]
    files += sorted((ROOT / "layers/nightshift/nightshift" / CORE[service]).glob("*.py"))
    names: set[str] = set()
    for code in (path.read_text() for path in files):
        names |= set(re.findall(r'add_metric\(\s*name="(\w+)"', code))
        names |= set(re.findall(r'RunMetric\(\s*"(\w+)"', code))
        table = re.search(r"OUTCOME_METRICS[^=]*= \{(.*?)\}", code, re.DOTALL)
        if table:
            names |= set(re.findall(r':\s*"(\w+)"', table.group(1)))
        # name = "DeploymentsFailed" if ... else "DeploymentsCompleted", then add_metric(name=name)
        for chosen in re.findall(r'^\s*name = ("\w+" if .+ else "\w+")$', code, re.MULTILINE):
            names |= set(re.findall(r'"(\w+)"', chosen))
    return names


def _check_metrics() -> set[str]:
    """Metric names the canary publishes per check (MetricPoint("X", ...))."""
    code = (ROOT / "layers/nightshift/nightshift/canary/metrics.py").read_text()
    return set(re.findall(r'MetricPoint\(\s*"(\w+)"', code))


def test_dashboard_body_parses_into_metric_widgets(stack: Stack) -> None:
    widgets = parse_widgets(dashboard_body(stack))

    assert len(widgets) >= 8
    assert all(widget.lines for widget in widgets)
    shown = {
        (line.namespace, line.name, dict(line.dimensions).get("service"))
        for widget in widgets
        for line in widget.lines
        if isinstance(line, MetricLine)
    }
    assert shown >= REQUIRED


def test_every_nightshift_metric_shown_is_emitted_by_its_function(stack: Stack) -> None:
    lines = [line for widget in parse_widgets(dashboard_body(stack)) for line in widget.lines]

    for line in lines:
        if isinstance(line, SearchLine):
            # The canary's check metrics carry Check only (no service: adapters/emf.py).
            assert line.namespace == "Nightshift"
            assert line.schema == {"Check"}
            assert line.name in _check_metrics()
        elif line.namespace == "Nightshift":
            dimensions = dict(line.dimensions)
            assert set(dimensions) == {"service"}, line
            assert line.name in _emitted_by(dimensions["service"]), line


def test_function_errors_widget_names_every_deployed_function(stack: Stack) -> None:
    lines = [line for widget in parse_widgets(dashboard_body(stack)) for line in widget.lines]

    errors = {
        dict(line.dimensions)["FunctionName"]
        for line in lines
        if isinstance(line, MetricLine) and line.namespace == "AWS/Lambda"
    }

    assert errors == {stack.function_name(f) for f in stack.function_logical_ids()}


def test_moto_holds_the_same_body_cloudformation_created(stack: Stack) -> None:
    name = stack.physical_id("NightshiftDashboard")
    created = stack.endpoint.client("cloudwatch").get_dashboard(DashboardName=name)

    assert parse_widgets(dashboard_body(stack)) == parse_widgets(
        json.loads(created["DashboardBody"])
    )


def test_short_run_renders_non_empty_pngs_with_its_metrics(
    stack: Stack, router: Router, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    simulated = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=6)
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    router.publish("OpsTopic", "The backup of todoapp finished.", "Backup report")
    clock = WallClockMap(((started, simulated),), ended=dt.datetime.now(dt.UTC))
    start, end = simulated - dt.timedelta(hours=2), simulated + dt.timedelta(hours=2)

    paths = render_dashboard(stack, start, end, tmp_path, clock=clock)

    assert receiver.requests  # the notifier ran and delivered
    assert paths[0].name == "dashboard.png"
    assert len(paths) == 1 + len(parse_widgets(dashboard_body(stack)))
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 5_000
    notifier = next(w for w in parse_widgets(dashboard_body(stack)) if "Notifier" in w.title)
    series = {s.line.name: s for s in widget_series(stack, notifier, start, end, clock)}
    # The run's wall-clock datapoints are drawn at the simulated time of the run.
    assert [at for at, _ in series["NotificationsSent"].points] == [simulated]
    assert series["NotificationsSent"].points[0][1] >= 1
