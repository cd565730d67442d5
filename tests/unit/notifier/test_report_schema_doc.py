"""docs/report-schema.md's JSON Schema and example match what Report.dumps() publishes."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest

from nightshift.report import Outcome, Report, ReportItem

from .fixtures import envelope

DOC = Path(__file__).resolve().parents[3] / "docs" / "report-schema.md"
JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


@cache
def blocks() -> list[Any]:
    return [json.loads(block) for block in JSON_BLOCK.findall(DOC.read_text(encoding="utf-8"))]


def validate(document: dict[str, Any]) -> None:
    fastjsonschema.compile(blocks()[0], formats={"date-time": r"^\d{4}-\d\d-\d\dT"})(document)


@pytest.mark.parametrize("case", ["nightshift-report-scheduler", "nightshift-report-pruner-failed"])
def test_published_reports_match_the_documented_schema(case: str) -> None:
    validate(json.loads(envelope(case)["Message"]))


def test_a_report_with_errors_and_every_outcome_matches_the_schema() -> None:
    report = Report(
        function="redeploy",
        run_id="r",
        time="2026-11-20T09:15:00Z",
        environment="prod",
        dry_run=True,
        summary="s",
        items=tuple(ReportItem("svc", "ecs-service", "deploy", o, "why") for o in Outcome),
        totals={"services_count": 5},
        errors=("stale event",),
    )

    validate(report.to_json())


def test_the_documented_example_is_valid_and_reads_back_as_a_report() -> None:
    example = blocks()[1]

    validate(example)
    assert Report.from_json(example).to_json() == example


def test_the_schema_refuses_a_report_without_items() -> None:
    document = json.loads(envelope("nightshift-report-scheduler")["Message"])
    del document["items"]

    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        validate(document)
