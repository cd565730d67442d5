"""The SQS engine's pure parts (nightshift.fanout.queue, nightshift.schedule.queued): the
message body, the batches, the choice of engine, the gather decision and the gathered report."""

from __future__ import annotations

import datetime as dt
import doctest
import json

import pytest

from nightshift.errors import EventError
from nightshift.fanout import TargetResult, WorkItem
from nightshift.fanout import queue as queue_module
from nightshift.fanout.queue import (
    TargetMessage,
    batches,
    gather_due,
    outstanding,
    overdue_runs,
    queue_decision,
    run_messages,
)
from nightshift.report import Report
from nightshift.schedule.events import ScheduledTrigger
from nightshift.schedule.queued import NOT_RECORDED, gathered_outcome, outcome_json
from nightshift.schedule.report import RunMetric
from nightshift.schedule.service import SchedulerOutcome

AT = dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC)
ROLE = "arn:aws:iam::{}:role/nightshift-spoke-scheduler-staging"


def items(count: int) -> list[WorkItem]:
    return [
        WorkItem(f"{100000000000 + n}", "eu-central-1", ROLE.format(100000000000 + n), f"t{n}")
        for n in range(count)
    ]


def test_doctests() -> None:
    result = doctest.testmod(queue_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_every_message_round_trips_and_carries_the_runs_times() -> None:
    last = AT - dt.timedelta(minutes=5)
    messages = run_messages("scheduler", items(23), AT, last)

    assert [m.index for m in messages] == list(range(23))
    assert {m.total for m in messages} == {23}
    for message in messages:
        back = TargetMessage.from_body(message.body())
        assert back == message
        assert back.time == AT
        assert back.last_run == last
    # One group per target, one de-duplication id per run and target.
    assert len({m.group for m in messages}) == 23
    assert len({m.deduplication_id for m in messages}) == 23
    assert all(len(m.deduplication_id) <= 128 for m in messages)


def test_the_first_run_carries_no_last_run() -> None:
    (message,) = run_messages("scheduler", items(1), AT, None)

    assert json.loads(message.body())["last_run"] is None
    assert TargetMessage.from_body(message.body()).last_run is None


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "{}",
        '{"v": 2}',
        json.dumps(
            {**json.loads(run_messages("scheduler", items(1), AT, None)[0].body()), "index": 5}
        ),
        json.dumps({**json.loads(run_messages("scheduler", items(1), AT, None)[0].body()), "v": 9}),
    ],
)
def test_a_body_that_is_not_a_queued_target_is_refused(body: str) -> None:
    with pytest.raises(EventError, match="not a queued target"):
        TargetMessage.from_body(body)


def test_batches_of_ten_at_most() -> None:
    assert [len(b) for b in batches(range(150))] == [10] * 15
    assert list(batches([])) == []
    assert [len(b) for b in batches(range(11))] == [10, 1]


@pytest.mark.parametrize(
    ("count", "above", "dry_run", "configured", "queue"),
    [
        (5, None, False, True, False),  # no queue_above: as before
        (5, 5, False, True, False),  # at the bound: in the invocation
        (6, 5, False, True, True),
        (6, 5, True, True, False),  # a dry run returns its plan
        (6, 5, False, False, False),  # no queue deployed (SchedulerTargetWorkers 0)
    ],
)
def test_the_engine_is_chosen_by_the_count_the_policy_and_the_deployment(
    count: int, above: int | None, dry_run: bool, configured: bool, queue: bool
) -> None:
    decision = queue_decision(count, above, dry_run, configured)

    assert decision.queue is queue
    assert decision.reason


def test_only_the_recording_that_completes_the_run_publishes() -> None:
    total = 5
    decisions = [gather_due(total, recorded, True, False) for recorded in range(1, total + 1)]

    assert [d.publish for d in decisions] == [False] * 4 + [True]
    # A redelivery that counts nothing publishes only a complete run nobody published.
    assert gather_due(total, 5, False, False).publish
    assert not gather_due(total, 5, False, True).publish
    assert not gather_due(total, 4, False, False).publish
    assert not gather_due(total, 5, True, True).publish


def test_outstanding_and_overdue() -> None:
    assert outstanding(3, []) == (0, 1, 2)
    assert outstanding(3, [2, 0, 1]) == ()
    runs = ["scheduler-2026-11-20T17:00:00Z", "scheduler-2026-11-20T17:55:00Z"]
    assert overdue_runs(runs, AT) == ("scheduler-2026-11-20T17:00:00Z",)
    assert overdue_runs(runs, AT + dt.timedelta(hours=1)) == tuple(runs)
    assert overdue_runs([], AT) == ()


def outcome(summary: str, published_because: str | None) -> SchedulerOutcome:
    report = Report(
        function="scheduler",
        run_id="scheduler-2026-11-20T18:00:00Z",
        time="2026-11-20T18:00:00Z",
        environment="staging",
        dry_run=False,
        summary=summary,
        totals={"stopped": 1.0},
    )
    return SchedulerOutcome(report, published_because, (RunMetric("Stopped", "Count", 1.0),))


def test_the_gathered_report_is_the_in_invocation_one_with_missing_targets_named() -> None:
    targets = items(3)
    stored = {
        0: outcome_json(TargetResult(targets[0], value=outcome("stopped 1", "stopped"))),
        2: outcome_json(TargetResult(targets[2], error="AwsError: AssumeRole failed")),
    }
    # Through JSON, as the ledger keeps them.
    stored = {index: json.loads(json.dumps(data)) for index, data in stored.items()}

    combined = gathered_outcome(
        [t.label for t in targets],
        ["prod 9: production: the scheduler never acts there"],
        stored,
        ScheduledTrigger(AT),
        "staging",
    )

    report = combined.report
    assert report.run_id == "scheduler-2026-11-20T18:00:00Z"
    assert report.summary.startswith("3 targets: 1 worked, 2 failed; ")
    assert report.summary.endswith("left out: prod 9: production: the scheduler never acts there")
    assert report.errors == (
        f"{targets[1].label}: not worked: {NOT_RECORDED}",
        f"{targets[2].label}: not worked: AwsError: AssumeRole failed",
    )
    assert report.totals["stopped"] == 1.0
    assert combined.published_because is not None
    metrics = {m.name: m.value for m in combined.metrics}
    assert metrics == {"Stopped": 1.0, "TargetsFailed": 2.0}
