"""What CloudWatch Logs extracts from a function's EMF lines, as the local cloud plays it
(localcloud.metrics.extract_emf): the specification's rules, and the canary's real EMF output."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from localcloud.metrics import MetricValues, extract_emf
from nightshift.adapters.emf import EmfMetrics
from nightshift.canary.metrics import MetricPoint, Unit

NOW = dt.datetime(2026, 11, 21, 9, 0, 30, tzinfo=dt.UTC)
STAMP = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)


def emf(
    *,
    dimensions: list[list[str]] | None = None,
    metrics: list[dict[str, Any]] | None = None,
    timestamp: Any = None,
    **members: Any,
) -> dict[str, Any]:
    """An EMF document: one directive in namespace Nightshift; root members as given."""
    return {
        "_aws": {
            "Timestamp": int(STAMP.timestamp() * 1000) if timestamp is None else timestamp,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Nightshift",
                    "Dimensions": [["Check"]] if dimensions is None else dimensions,
                    "Metrics": metrics or [{"Name": "Success", "Unit": "Count"}],
                }
            ],
        },
        **members,
    }


def lines(*documents: dict[str, Any] | str) -> str:
    return "\n".join(d if isinstance(d, str) else json.dumps(d) for d in documents)


def test_powertools_document_gives_one_metric_with_exactly_its_dimensions() -> None:
    extraction = extract_emf(lines(emf(Check="api", Success=[0.0])), now=NOW)

    assert extraction.metrics == (
        MetricValues("Nightshift", "Success", (("Check", "api"),), (0.0,), STAMP, "Count", 60),
    )
    assert extraction.rejected == ()


def test_each_dimension_set_makes_its_own_metric() -> None:
    document = emf(
        dimensions=[["Check"], ["Check", "Dependency"], []],
        Check="api",
        Dependency="database",
        Success=1,
    )

    metrics = extract_emf(lines(document), now=NOW).metrics

    assert [m.dimensions for m in metrics] == [
        (("Check", "api"),),
        (("Check", "api"), ("Dependency", "database")),
        (),
    ]


def test_an_array_of_values_is_every_value_and_a_bare_number_is_one() -> None:
    document = emf(
        metrics=[{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Runs"}],
        Check="api",
        Latency=[12.5, 40, 7],
        Runs=3,
    )

    latency, runs = extract_emf(lines(document), now=NOW).metrics

    assert latency.values == (12.5, 40.0, 7.0)
    assert runs.values == (3.0,)
    assert runs.unit == "None"  # the specification's default
    assert extract_emf(lines(document), now=NOW).value_count == 4


def test_high_resolution_is_kept() -> None:
    document = emf(metrics=[{"Name": "Success", "StorageResolution": 1}], Check="a", Success=1)

    (metric,) = extract_emf(lines(document), now=NOW).metrics

    assert metric.storage_resolution == 1
    assert metric.datum()["StorageResolution"] == 1


def test_datum_is_what_put_metric_data_takes() -> None:
    document = emf(Check="api", Success=[1.0, 0.0])

    (metric,) = extract_emf(lines(document), now=NOW).metrics

    assert metric.datum() == {
        "MetricName": "Success",
        "Dimensions": [{"Name": "Check", "Value": "api"}],
        "Timestamp": STAMP,
        "Unit": "Count",
        "StorageResolution": 60,
        "Values": [1.0, 0.0],
    }


def test_other_log_lines_are_just_logs() -> None:
    logs = lines(
        "START RequestId: 8b30 Version: $LATEST",
        json.dumps({"level": "INFO", "message": "checks probed", "checks": 1}),
        '{"_aws": not json',
        "END RequestId: 8b30",
        "REPORT RequestId: 8b30\tDuration: 698.13 ms",
    )

    extraction = extract_emf(logs, now=NOW)

    assert extraction.metrics == ()
    assert extraction.rejected == ()


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (emf(Success=1), "dimension 'Check' needs a non-empty string"),
        (emf(Check=7, Success=1), "dimension 'Check' needs a non-empty string"),
        (emf(Check="", Success=1), "dimension 'Check' needs a non-empty string"),
        (emf(Check="api"), "metric 'Success' has no value"),
        (emf(Check="api", Success=True), "must be a number or an array of numbers"),
        (emf(Check="api", Success="1"), "must be a number or an array of numbers"),
        (emf(Check="api", Success=[1] * 101), "needs 1 to 100 values"),
        (emf(Check="api", Success=[]), "needs 1 to 100 values"),
        (emf(dimensions=[], Check="api", Success=1), "non-empty array of dimension sets"),
        (
            emf(dimensions=[[f"d{n}" for n in range(31)]], Success=1),
            "at most 30 keys",
        ),
        (
            emf(metrics=[{"Name": "Success", "Unit": "Percents"}], Check="a", Success=1),
            "not a CloudWatch unit",
        ),
        (
            emf(metrics=[{"Name": "Success", "StorageResolution": 30}], Check="a", Success=1),
            "StorageResolution must be 1 or 60",
        ),
        (emf(timestamp="now", Check="api", Success=1), "Timestamp must be a number"),
        ({"_aws": {"Timestamp": 0}, "Success": 1}, "CloudWatchMetrics must be an array"),
    ],
)
def test_a_document_breaking_the_specification_yields_no_metric_and_says_why(
    document: dict[str, Any], why: str
) -> None:
    good = emf(Check="api", Success=1)

    extraction = extract_emf(lines(good, document), now=NOW)

    assert len(extraction.metrics) == 1  # the valid document on line 1 still counts
    (rejection,) = extraction.rejected
    assert rejection.line == 2
    assert why in rejection.reason


@pytest.mark.parametrize(
    "stamp",
    [NOW - dt.timedelta(days=14, minutes=1), NOW + dt.timedelta(hours=2, minutes=1)],
)
def test_a_time_cloudwatch_refuses_drops_the_document(stamp: dt.datetime) -> None:
    document = emf(timestamp=int(stamp.timestamp() * 1000), Check="api", Success=1)

    extraction = extract_emf(lines(document), now=NOW)

    assert extraction.metrics == ()
    assert "timestamp" in extraction.rejected[0].reason


def test_the_canarys_emitted_metrics_come_back_exactly_as_its_alarms_read_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The real adapter (Powertools' EphemeralMetrics), so a change in what it prints shows here.
    points = (
        MetricPoint("Success", (("Check", "api"),), 0.0, Unit.COUNT),
        MetricPoint("Latency", (("Check", "api"),), 120.0, Unit.MILLISECONDS),
        MetricPoint("Success", (("Check", "api"), ("Dependency", "database")), 0.0, Unit.COUNT),
    )
    at = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    capsys.readouterr()

    EmfMetrics("Nightshift").emit(points, at)
    extraction = extract_emf(capsys.readouterr().out, now=at)

    assert extraction.rejected == ()
    assert sorted((m.name, m.dimensions, m.values, m.unit) for m in extraction.metrics) == sorted(
        (p.name, p.dimensions, (p.value,), p.unit.value) for p in points
    )
    assert {m.timestamp for m in extraction.metrics} == {at}
