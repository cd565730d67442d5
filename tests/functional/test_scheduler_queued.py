"""The scheduler's SQS engine (docs/organization.md, decision 24) under moto: a run with more
targets than `targets.queue_above` queues one message per target to the function's FIFO queue;
each message, handed to the same handler as Lambda's SQS event source hands it (one record,
ReportBatchItemFailures applied as Lambda applies it: localcloud.lambda_events), works its one
target; the last target recorded publishes the run's one report.

The accounts are those of test_scheduler_targets (the hub, staging in two Regions, production,
a sandbox without the spoke role) and a qa account with its spoke role: four targets, over a
queue_above of 2. Every call is judged against the scheduler's role (with the queue the test
made as its SchedulerTargetQueue) or, through a spoke role, against spoke.yaml's.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from iamjudge.pytest_plugin import JudgedCalls
from localcloud.declared import OpsTopic
from localcloud.lambda_events import batch_outcome, sqs_record
from nightshift.adapters.reporting import ReportPublisher
from tests.conftest import FakeLambdaContext, load_handler
from tests.functional.test_scheduler import emitted_metrics
from tests.functional.test_scheduler_targets import FRIDAY_EVENING, Organization
from tests.support import organization as hub_account
from tests.support.organization import (
    HUB,
    HUB_REGION,
    OTHER_REGION,
    PRODUCTION,
    SANDBOX,
    STAGING,
)

QA = "555555555555"
QUEUE = "nightshift-staging-scheduler-targets.fifo"
QUEUE_URL = f"https://sqs.{HUB_REGION}.amazonaws.com/{HUB}/{QUEUE}"
QUEUE_ARN = f"arn:aws:sqs:{HUB_REGION}:{HUB}:{QUEUE}"
POLICY = f"""
version: 1
schedules:
  office-hours:
    timezone: Europe/Berlin
    periods: [{{days: mon-fri, start: "07:30", stop: "19:00"}}]
targets:
  max_concurrency: 4
  queue_above: 2
  accounts:
    - {{account: "{STAGING}", name: staging, regions: [{HUB_REGION}, {OTHER_REGION}]}}
    - {{account: "{QA}", name: qa}}
    - {{account: "{PRODUCTION}", name: production, production: true}}
    - {{account: "{SANDBOX}", name: sandbox}}
"""


class Hub:
    """The organization, the hub's target queue and its ops topic."""

    def __init__(self, organization: Organization, ops: OpsTopic) -> None:
        self.organization = organization
        self.ops = ops
        self.sqs = boto3.client("sqs", region_name=HUB_REGION)

    def receive(self) -> dict[str, Any] | None:
        """The next message Lambda's poller would take, as its event's one record."""
        messages = self.sqs.receive_message(
            QueueUrl=QUEUE_URL,
            MaxNumberOfMessages=1,
            AttributeNames=["All"],
            VisibilityTimeout=0,  # a failed message is visible again at once (no waiting)
        ).get("Messages", [])
        return sqs_record(messages[0], QUEUE_ARN, HUB_REGION) if messages else None

    def deliver(self, record: dict[str, Any], *, delete: bool = True) -> tuple[str, ...]:
        """Invoke the handler with `record`; delete it when it succeeded, as Lambda does
        (unless `delete` is False: the delete was lost, so SQS delivers it again). Returns the
        ids of the failed records."""
        try:
            payload = handler()({"Records": [record]}, context())
        except BatchProcessingError:  # every record failed: the invocation fails, as in Lambda
            payload, function_error = None, True
        else:
            function_error = False
        outcome = batch_outcome(
            [record["messageId"]],
            payload,
            function_error=function_error,
            reports_item_failures=True,
        )
        if outcome.succeeded and delete:
            self.sqs.delete_message(QueueUrl=QUEUE_URL, ReceiptHandle=record["receiptHandle"])
        return outcome.failed

    def work(self, count: int | None = None) -> None:
        """Deliver the next `count` messages (every one left when None), each worked without
        failing."""
        while count is None or count > 0:
            record = self.receive()
            if record is None:
                assert count is None, f"{count} more message(s) expected"
                return
            assert self.deliver(record) == ()
            count = None if count is None else count - 1

    def queued(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=QUEUE_URL, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


def handler() -> Any:
    return load_handler("scheduler").lambda_handler


def context() -> FakeLambdaContext:
    return FakeLambdaContext(
        invoked_function_arn=f"arn:aws:lambda:{HUB_REGION}:{HUB}:function:nightshift-scheduler",
        remaining_ms=120_000,
    )


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, iam_judge: JudgedCalls) -> Iterator[Hub]:
    policy = tmp_path / "nightshift.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    iam_judge.parameters["SchedulerTargetWorkers"] = "10"
    extra = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false", "NIGHTSHIFT_TARGET_QUEUE_URL": QUEUE_URL}
    with hub_account.hub(
        monkeypatch, iam_judge, service="scheduler", policy=policy, extra=extra
    ) as ops:
        url = boto3.client("sqs").create_queue(
            QueueName=QUEUE, Attributes={"FifoQueue": "true", "VisibilityTimeout": "720"}
        )["QueueUrl"]
        assert url == QUEUE_URL
        made = Organization()
        for account in (STAGING, QA, PRODUCTION):
            made.spoke_role(account)
        for account, region in [
            (STAGING, HUB_REGION),
            (STAGING, OTHER_REGION),
            (QA, HUB_REGION),
            (PRODUCTION, HUB_REGION),
            (SANDBOX, HUB_REGION),
        ]:
            made.app(account, region)
        yield Hub(made, ops)


def scheduled_run(time: str = FRIDAY_EVENING) -> dict[str, Any]:
    result: dict[str, Any] = handler()({"time": time}, context())
    return result


def test_a_run_beyond_the_bound_queues_each_target_and_publishes_one_report(hub: Hub) -> None:
    queued = scheduled_run()

    # The scheduled invocation queued the four targets and changed nothing itself.
    assert queued["summary"].startswith("4 targets queued, one message each")
    assert hub.queued() == 4
    assert hub.ops.reports() == []
    assert hub.organization.desired(STAGING, HUB_REGION) == 2

    hub.work()  # the sandbox's failure is its outcome, not a failed message

    assert hub.queued() == 0
    assert hub.organization.desired(STAGING, HUB_REGION) == 0
    assert hub.organization.desired(STAGING, OTHER_REGION) == 0
    assert hub.organization.desired(QA, HUB_REGION) == 0
    assert hub.organization.desired(PRODUCTION, HUB_REGION) == 2
    (report,) = hub.ops.reports()
    assert report["run_id"] == "scheduler-2026-11-20T18:00:00Z"
    assert report["summary"].startswith("4 targets: 3 worked, 1 failed; staging")
    assert f"left out: production {PRODUCTION}: production" in report["summary"]
    (error,) = report["errors"]
    assert error.startswith(f"sandbox {SANDBOX} {HUB_REGION}: not worked: AwsError: AssumeRole")
    stopped = {item["resource"] for item in report["items"] if item["outcome"] == "done"}
    assert stopped == {
        f"arn:aws:ecs:{HUB_REGION}:{STAGING}:service/todoapp/api",
        f"arn:aws:ecs:{OTHER_REGION}:{STAGING}:service/todoapp/api",
        f"arn:aws:ecs:{HUB_REGION}:{QA}:service/todoapp/api",
    }


def test_each_worker_counts_its_target_and_the_one_that_gathers_adds_the_runs_metrics(
    hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    scheduled_run()
    hub.work()

    # Summed over the invocations' EMF documents, as CloudWatch sums them.
    emitted = Counter[str]()
    for line in capsys.readouterr().out.splitlines():
        emitted.update(emitted_metrics(line))
    assert emitted["TargetsQueued"] == 4  # the scheduled invocation
    assert emitted["TargetsWorked"] == 4  # one per worker, so no worker publishes nothing
    assert emitted["Stopped"] == 3  # the run's, once: by the worker that gathered it


def test_monday_mornings_queued_run_restores_what_fridays_parked(hub: Hub) -> None:
    for time in (FRIDAY_EVENING, "2026-11-23T06:35:00Z"):  # 19:00 Friday, 07:35 Monday CET
        scheduled_run(time)
        hub.work()

    # Each target's worker found its own parked records (read by its ARN prefix) and restored them.
    for account, region in [(STAGING, HUB_REGION), (STAGING, OTHER_REGION), (QA, HUB_REGION)]:
        assert hub.organization.desired(account, region) == 2
    friday, monday = hub.ops.reports()
    assert monday["run_id"] == "scheduler-2026-11-23T06:35:00Z"
    started = {item["resource"] for item in monday["items"] if item["action"] == "start"}
    assert started == {item["resource"] for item in friday["items"] if item["action"] == "stop"}
    assert len(started) == 3


def test_a_redelivered_message_is_counted_once(hub: Hub) -> None:
    scheduled_run()
    first = hub.receive()
    assert first is not None
    assert hub.deliver(first, delete=False) == ()  # worked; its delete lost
    assert hub.deliver(first) == ()  # delivered again: recorded already, not counted again

    hub.work()

    (report,) = hub.ops.reports()
    assert report["summary"].startswith("4 targets: 3 worked, 1 failed")
    # Every redelivery of a target of a published run publishes nothing more.
    assert hub.deliver(first) == ()
    assert hub.ops.reports() == []


def test_a_stale_scheduled_run_queues_nothing(hub: Hub) -> None:
    scheduled_run("2026-11-20T18:05:00Z")
    while (record := hub.receive()) is not None:
        hub.deliver(record)
    hub.ops.reports()

    refused = scheduled_run(FRIDAY_EVENING)

    assert refused["summary"].startswith("refused: the event for 2026-11-20T18:00:00Z is older")
    assert hub.queued() == 0


def test_a_run_whose_target_never_records_is_published_an_hour_later_naming_it(
    hub: Hub,
) -> None:
    scheduled_run()
    hub.work(3)
    # The fourth is taken and never comes back (its worker keeps failing, or it went to the
    # dead-letter queue): no report for the run yet.
    stuck = hub.sqs.receive_message(
        QueueUrl=QUEUE_URL, MaxNumberOfMessages=1, AttributeNames=["All"], VisibilityTimeout=43200
    )["Messages"][0]
    assert hub.ops.reports() == []

    scheduled_run("2026-11-20T18:55:00Z")  # within the hour: still waited for
    assert hub.ops.reports() == []
    scheduled_run("2026-11-20T19:00:00Z")

    (overdue,) = hub.ops.reports()
    assert overdue["run_id"] == "scheduler-2026-11-20T18:00:00Z"
    assert overdue["summary"].startswith("4 targets: ")
    missing = [error for error in overdue["errors"] if "no outcome recorded" in error]
    assert len(missing) == 1
    # Its outcome arriving after all is recorded, and publishes nothing more.
    assert hub.deliver(sqs_record(stuck, QUEUE_ARN, HUB_REGION), delete=False) == ()
    assert hub.ops.reports() == []


class Crash(BaseException):
    """The worker's process dying (its Timeout, out of memory): nothing after it runs."""


def test_a_report_claimed_by_a_worker_that_died_before_publishing_is_published_an_hour_later(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduled_run()
    hub.work(3)
    last = hub.receive()
    assert last is not None

    def dies(*_: object) -> None:
        raise Crash

    with monkeypatch.context() as dying:
        dying.setattr(ReportPublisher, "publish", dies)
        with pytest.raises(Crash):
            hub.deliver(last, delete=False)  # the last worker claimed the report, then died
    assert hub.deliver(last) == ()  # redelivered: the claim is held, so it publishes nothing
    assert hub.ops.reports() == []

    scheduled_run("2026-11-20T19:00:00Z")

    (late,) = hub.ops.reports()
    assert late["run_id"] == "scheduler-2026-11-20T18:00:00Z"
    assert late["summary"].startswith("4 targets: 3 worked, 1 failed")
    assert not [error for error in late["errors"] if "no outcome recorded" in error]


def test_a_message_no_run_of_this_scheduler_would_send_fails_and_acts_nowhere(hub: Hub) -> None:
    scheduled_run()
    record = hub.receive()
    assert record is not None
    body = json.loads(record["body"])
    body["target"]["role_arn"] = f"arn:aws:iam::{body['target']['account']}:role/admin"

    assert hub.deliver(dict(record, body=json.dumps(body))) == (record["messageId"],)
    assert hub.deliver(dict(record, body="{}")) == (record["messageId"],)
    assert hub.organization.desired(STAGING, HUB_REGION) == 2
    assert hub.ops.reports() == []


def test_a_dry_run_is_worked_in_the_invocation_and_returns_its_plan(hub: Hub) -> None:
    report = scheduled_run_dry()

    assert hub.queued() == 0
    assert report["dry_run"] is True
    assert report["summary"].startswith("4 targets: 3 worked, 1 failed")
    assert {item["outcome"] for item in report["items"]} == {"planned"}


def scheduled_run_dry() -> dict[str, Any]:
    result: dict[str, Any] = handler()({"time": FRIDAY_EVENING, "dry_run": True}, context())
    return result
