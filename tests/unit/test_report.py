"""The shared report: counts, severity and a JSON form that round-trips."""

from __future__ import annotations

from nightshift.report import SCHEMA_ID, Outcome, Report, ReportItem, Severity


def _item(outcome: Outcome) -> ReportItem:
    return ReportItem(
        resource="arn:aws:ecs:eu-central-1:111122223333:service/todoapp-cluster/todoapp-backend-service",
        kind="ecs-service",
        action="stop",
        outcome=outcome,
        reason="outside office-hours",
        details={"desired_count": 2},
    )


def _report(*outcomes: Outcome, errors: tuple[str, ...] = ()) -> Report:
    return Report(
        function="scheduler",
        run_id="run-1",
        time="2026-11-20T18:00:00+00:00",
        environment="staging",
        dry_run=False,
        summary="stopped 1 resource",
        items=tuple(_item(o) for o in outcomes),
        totals={"hours_saved": 12.5},
        errors=errors,
    )


def test_counts_list_every_outcome_even_when_zero() -> None:
    counts = _report(Outcome.DONE, Outcome.DONE, Outcome.SKIPPED).counts

    assert counts == {"done": 2, "planned": 0, "skipped": 1, "refused": 0, "failed": 0}


def test_failed_item_makes_the_report_critical() -> None:
    assert _report(Outcome.DONE, Outcome.FAILED).severity is Severity.CRITICAL


def test_refused_item_makes_the_report_a_warning() -> None:
    assert _report(Outcome.REFUSED).severity is Severity.WARNING


def test_run_error_makes_the_report_critical() -> None:
    assert _report(errors=("policy invalid",)).severity is Severity.CRITICAL


def test_json_form_carries_the_schema_id_and_round_trips() -> None:
    report = _report(Outcome.DONE, Outcome.REFUSED)

    data = report.to_json()

    assert data["schema"] == SCHEMA_ID
    assert data["severity"] == "warning"
    assert Report.from_json(data) == report
