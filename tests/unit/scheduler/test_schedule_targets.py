"""The scheduler's one outcome for a run across targets (pure): items, errors, totals, metrics and
whether it is published."""

from __future__ import annotations

from types import MappingProxyType

from nightshift.fanout import FanOutRun, TargetResult, WorkItem
from nightshift.report import Outcome, Report, ReportItem
from nightshift.schedule.events import ScheduledTrigger
from nightshift.schedule.report import RunMetric
from nightshift.schedule.service import SchedulerOutcome
from nightshift.schedule.targets import TARGET_FAILED, combined_outcome

STAGING = WorkItem("222222222222", "eu-west-1", "arn:aws:iam::222222222222:role/r", "staging")
SANDBOX = WorkItem("444444444444", "eu-central-1", "arn:aws:iam::444444444444:role/r", "sandbox")
TRIGGER = ScheduledTrigger.from_event({"time": "2026-11-20T18:00:00Z"}, "scheduler")


def target_outcome(published_because: str | None) -> SchedulerOutcome:
    item = ReportItem(
        resource="arn:aws:ecs:eu-west-1:222222222222:service/todoapp/api",
        kind="ecs-service",
        action="stop",
        outcome=Outcome.DONE,
        reason="office-hours stops",
    )
    report = Report(
        function="scheduler",
        run_id="scheduler-2026-11-20T18:00:00Z",
        time="2026-11-20T18:00:00Z",
        environment="staging",
        dry_run=False,
        summary="1 stopped",
        items=(item,),
        totals=MappingProxyType({"hours_saved": 12.5}),
    )
    return SchedulerOutcome(report, published_because, (RunMetric("Stopped", "Count", 1),))


def test_a_failed_target_is_one_error_line_the_others_work_stands_and_it_is_published() -> None:
    run = FanOutRun(
        (
            TargetResult(STAGING, value=target_outcome(None)),
            TargetResult(SANDBOX, error="AwsError: AssumeRole failed with AccessDenied: no"),
        )
    )

    outcome = combined_outcome(run, ("production 333333333333: production",), TRIGGER, "staging")

    assert [item.resource for item in outcome.report.items] == [
        "arn:aws:ecs:eu-west-1:222222222222:service/todoapp/api"
    ]
    assert outcome.report.errors == (
        (
            "sandbox 444444444444 eu-central-1: not worked: AwsError: AssumeRole failed with "
            "AccessDenied: no"
        ),
    )
    assert outcome.report.summary == (
        "2 targets: 1 worked, 1 failed; staging 222222222222 eu-west-1: 1 stopped; "
        "sandbox 444444444444 eu-central-1: failed; left out: production 333333333333: production"
    )
    assert outcome.published_because == TARGET_FAILED
    assert {(m.name, m.value) for m in outcome.metrics} == {("Stopped", 1), ("TargetsFailed", 1)}
    assert dict(outcome.report.totals) == {"hours_saved": 12.5}


def test_every_target_worked_is_published_when_a_targets_report_would_be() -> None:
    quiet = FanOutRun((TargetResult(STAGING, value=target_outcome(None)),))
    loud = FanOutRun((TargetResult(STAGING, value=target_outcome("resources switched")),))

    assert combined_outcome(quiet, (), TRIGGER, "staging").published_because is None
    assert combined_outcome(loud, (), TRIGGER, "staging").published_because == "resources switched"
