"""The scheduler's SQS engine in the local cloud (docs/organization.md, "Beyond the bound: the
SQS engine"): the built hub stack deployed with `SchedulerTargetWorkers=2` (its event source on
the FIFO SchedulerTargetQueue enabled), the organization of test_organization (staging in two
Regions with the spoke, production, a sandbox without it), and a policy with `queue_above: 1`.

The built SchedulerFunction runs under the Lambda RIE: EventBridge Scheduler's run queues one
message per target; the local cloud's SQS poller (`Router.drain`, Lambda's partial batch rules)
hands each to the same function, which works its target; one report reaches the ops topic. Every
call is judged against the deployed roles (tools/iamjudge).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from localcloud import Project, Router
from localcloud.declared import OpsTopic, subscribe_queue
from localcloud.fleet import Capacity, Fleet
from localcloud.organization import HUB_REGION, OTHER_REGION, PRODUCTION, REGIONS, STAGING
from tests.integration.organization import FRIDAY_EVENING, SANDBOX, SCHEDULES, deployed_hub

pytestmark = pytest.mark.integration


@dataclass
class Cloud:
    router: Router
    schedule: str
    fleets: dict[tuple[str, str], Fleet]
    ops: OpsTopic
    ledger: Path

    def capacity(self, account: str, region: str) -> Capacity | None:
        (observed,) = self.fleets[(account, region)].observe().values()
        return observed.capacity


@pytest.fixture(scope="module")
def cloud(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with deployed_hub(
        project,
        tmp_path_factory.mktemp("queued"),
        SCHEDULES,
        parameters={"SchedulerTargetWorkers": "2"},
        targets={"queue_above": 1},
    ) as deployed:
        sns, sqs = deployed.endpoint.client("sns"), deployed.endpoint.client("sqs")
        topic = deployed.hub.outputs["OpsTopicArn"]
        ops = OpsTopic(topic, subscribe_queue(sns, sqs, topic, "test-ops-reader"), sqs)
        fleets = {
            (account, region): deployed.office_api(account, region)
            for account, region in [(STAGING, HUB_REGION), (STAGING, OTHER_REGION)]
        }
        yield Cloud(deployed.router, deployed.schedule, fleets, ops, deployed.ledger)


def test_a_queued_run_is_worked_target_by_target_and_reported_once(cloud: Cloud) -> None:
    (delivery,) = cloud.router.fire_schedule(cloud.schedule, FRIDAY_EVENING).deliveries
    assert delivery.result is not None, delivery.note
    assert not delivery.result.error, delivery.result.error_message + delivery.result.logs
    queued: dict[str, Any] = delivery.result.payload
    assert queued["summary"].startswith("3 targets queued, one message each")
    assert cloud.capacity(STAGING, HUB_REGION) == Capacity(3, 2, 10)  # not yet
    assert [r for r in cloud.ops.reports() if r["function"] == "scheduler"] == []

    drained = cloud.router.drain("SchedulerTargetQueue")

    assert len(drained.batches) == 3
    assert all(len(batch.event["Records"]) == 1 for batch in drained.batches)
    assert all(not batch.outcome.failed for batch in drained.batches)
    parked = Capacity(desired=0, minimum=0, maximum=0)
    assert cloud.capacity(STAGING, HUB_REGION) == parked
    assert cloud.capacity(STAGING, OTHER_REGION) == parked
    (report,) = [r for r in cloud.ops.reports() if r["function"] == "scheduler"]
    assert report["summary"].startswith("3 targets: 2 worked, 1 failed")
    assert f"left out: production {PRODUCTION}: production" in report["summary"]
    (error,) = report["errors"]
    assert error.startswith(f"sandbox {SANDBOX} {HUB_REGION}: not worked: AwsError: AssumeRole")
    stopped = {i["resource"] for i in report["items"] if i["outcome"] == "done"}
    assert stopped == {f"arn:aws:ecs:{region}:{STAGING}:service/office/api" for region in REGIONS}

    judged = [json.loads(line) for line in cloud.ledger.read_text(encoding="utf-8").splitlines()]
    assert judged, "no call was judged: install the IAM judge (make iam-judge)"
    assert {row["decision"] for row in judged} == {"Allowed"}
    scheduler = {row["action"] for row in judged if row["function"] == "scheduler"}
    assert {"sqs:SendMessage", "dynamodb:UpdateItem", "sts:AssumeRole"} <= scheduler
