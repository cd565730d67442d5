"""Nightshift's own reports (nightshift.report/v1)."""

from __future__ import annotations

import json

import pytest

from nightshift.notify.events import Inbound
from nightshift.notify.model import Severity, Source, State
from nightshift.notify.sources import parse
from nightshift.report import Outcome, Report, ReportItem

from .fixtures import notification


def report(**changes: object) -> Report:
    base = {
        "function": "pruner",
        "run_id": "r-1",
        "time": "2026-11-20T03:00:00Z",
        "environment": "staging",
        "dry_run": False,
        "summary": "pruned",
    }
    return Report(**{**base, **changes})


def parsed(r: Report) -> object:
    return parse(Inbound("m-1", "Nightshift report", r.dumps(), None, None))


@pytest.mark.parametrize(
    ("case", "severity", "title"),
    [
        (
            "nightshift-report-scheduler",
            Severity.WARNING,
            "scheduler (staging): stopped 2 resources for the night",
        ),
        (
            "nightshift-report-pruner-failed",
            Severity.CRITICAL,
            "pruner (staging): deleted 1 snapshot, 1 deletion failed",
        ),
    ],
)
def test_report_fixtures_take_the_reports_own_severity(
    case: str, severity: Severity, title: str
) -> None:
    n = notification(case)

    assert (n.source, n.state, n.severity, n.title) == (
        Source.NIGHTSHIFT_REPORT,
        State.INFO,
        severity,
        title,
    )


def test_failures_come_first_then_refusals_then_done_then_skips() -> None:
    n = notification("nightshift-report-scheduler")

    assert [fact.value.split(" — ")[0] for fact in n.facts[1:]] == [
        "stop refused",
        "stopped",
        "stopped",
        "left as it is",
    ]
    assert n.facts[1].label == "ec2-instance i-0a1b2c3d4e5f60718"
    assert n.facts[1].value == "stop refused — protected: Environment=production"


def test_summary_counts_only_the_outcomes_that_happened() -> None:
    n = notification("nightshift-report-scheduler")

    assert n.summary == "2 done, 1 skipped, 1 refused."


def test_a_report_where_everything_was_done_has_no_counting_line() -> None:
    item = ReportItem(
        "arn:aws:rds:eu-central-1:1:db:app", "rds-instance", "start", Outcome.DONE, ""
    )

    assert parsed(report(items=(item,))).summary == ""


def test_zero_totals_go_and_totals_sharing_a_label_become_one_fact() -> None:
    n = parsed(
        report(totals={"deleted": 3, "deleted_gib": 60, "failed": 0, "monthly_savings_usd": 3.0})
    )

    assert [(f.label, f.value) for f in n.facts] == [
        ("Deleted", "3 · 60 GiB"),
        ("Monthly savings", "$3.00"),
    ]


def test_tallies_by_reason_are_one_line() -> None:
    n = parsed(report(totals={"keep: last": 6, "keep: daily": 0, "protected: automated": 1}))

    assert [(f.label, f.value) for f in n.facts] == [
        ("By reason", "keep: last 6 · protected: automated 1")
    ]


def test_items_with_nothing_done_are_left_out_and_no_raw_action_names_show() -> None:
    items = (
        ReportItem(
            "arn:aws:rds:eu-central-1:1:db:app",
            "rds-instance",
            "none",
            Outcome.SKIPPED,
            "office-hours: running",
        ),
        ReportItem(
            "arn:aws:ecs:eu-central-1:1:service/c/api",
            "ecs-service",
            "start",
            Outcome.DONE,
            "restore the parked capacity",
        ),
    )

    n = parsed(report(items=items))

    assert [(f.label, f.value) for f in n.facts] == [
        ("ecs-service api", "started — restore the parked capacity")
    ]
    assert not any("SKIPPED" in f.value or "none" in f.value for f in n.facts)


@pytest.mark.parametrize(
    ("details", "said"),
    [
        ({"estimated_saving_usd": 1.1}, " · ≈ $1.10 saved until the next start"),
        ({"saved_usd": 0.24, "hours_parked": 12.5}, " · ≈ $0.24 saved over 12.5 h parked"),
        (
            {"unpriced": "unpriced: EC2 p5.48xlarge is not in the price table for eu-central-1"},
            " · unpriced: EC2 p5.48xlarge is not in the price table for eu-central-1",
        ),
    ],
)
def test_a_switch_says_its_dollars_or_why_it_is_unpriced(
    details: dict[str, object], said: str
) -> None:
    item = ReportItem("i-1", "ec2-instance", "stop", Outcome.DONE, "off-hours", details)

    [fact] = parsed(report(items=(item,))).facts

    assert fact.value == "stopped — off-hours" + said


def test_totals_are_shown_in_their_units() -> None:
    n = notification("nightshift-report-pruner-failed")

    shown = {fact.label: fact.value for fact in n.facts}
    assert shown["Deleted"] == "20 GiB"
    assert shown["Estimated monthly savings"] == "$1.90"


def test_errors_are_the_first_facts_and_make_it_critical() -> None:
    n = parsed(report(errors=("policy file unreadable",)))

    assert n.severity is Severity.CRITICAL
    assert n.facts[0].label == "Error"
    assert n.summary.endswith("1 error stopped part of the run.")


def test_a_dry_run_says_so_in_the_title() -> None:
    n = parsed(report(dry_run=True))

    assert n.title == "pruner (staging, dry run): pruned"


def test_each_run_is_its_own_dedup_key() -> None:
    assert parsed(report(run_id="a")).dedup_key != parsed(report(run_id="b")).dedup_key
    assert parsed(report(run_id="a")).dedup_key == "nightshift-report:pruner:a"


def test_a_report_item_with_an_unknown_outcome_falls_back_to_raw() -> None:
    document = report(
        items=(ReportItem("x", "ebs-snapshot", "delete", Outcome.DONE, "old"),)
    ).to_json()
    document["items"][0]["outcome"] = "exploded"

    n = parse(Inbound("m-1", None, json.dumps(document), None, None))

    assert n.source is Source.UNRECOGNISED
    assert "Nightshift report" in n.facts[0].value


@pytest.mark.parametrize(
    ("fixture", "heads_up"),
    [
        ("nightshift-report-scheduler-heads-up", True),  # an item `heads-up`: a stop is coming
        ("nightshift-report-scheduler", False),
        ("nightshift-report-scheduler-start", False),
        ("nightshift-report-pruner", False),
        ("cloudwatch-alarm-metric", False),  # not a Nightshift report at all
    ],
)
def test_reading_a_report_says_whether_it_is_a_heads_up(fixture: str, heads_up: bool) -> None:
    assert notification(fixture).heads_up is heads_up
