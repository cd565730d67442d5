"""TargetedEcs.describe_services: the services of each target described together, 10 per
DescribeServices call and cluster (as EcsServices does within one target), not one call per
service; an ARN in no target is refused before any call. Real boto3 against moto."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest
from moto import mock_aws

from nightshift.adapters.redeploy_targets import TargetedEcs
from nightshift.adapters.target_sessions import TargetSessions
from nightshift.errors import AwsError
from nightshift.fanout import WorkItem

ACCOUNT = "123456789012"  # moto's
REGIONS = ("eu-central-1", "eu-west-1")


class CountedSessions(TargetSessions):
    """The hub's own sessions, each counting the ECS operations its clients call."""

    def __init__(self, calls: Counter[tuple[str, str]]) -> None:
        super().__init__("describe-test")
        self.calls = calls

    def session(self, item: WorkItem) -> boto3.Session:
        session = super().session(item)

        def count(model: Any, **_: Any) -> None:
            self.calls[(item.region, model.name)] += 1

        session.events.register("before-call.ecs", count)
        return session


def services(region: str, cluster: str, count: int) -> list[str]:
    ecs = boto3.client("ecs", region_name=region)
    ecs.create_cluster(clusterName=cluster)
    family = ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 64}]
    )["taskDefinition"]["taskDefinitionArn"]
    return [
        ecs.create_service(
            cluster=cluster, serviceName=f"svc-{index:02}", taskDefinition=family, desiredCount=0
        )["service"]["serviceArn"]
        for index in range(count)
    ]


@mock_aws
def test_services_are_described_ten_per_call_per_target_and_cluster() -> None:
    arns = [
        *services(REGIONS[0], "todoapp", 12),
        *services(REGIONS[0], "batch", 1),
        *services(REGIONS[1], "todoapp", 3),
    ]
    calls: Counter[tuple[str, str]] = Counter()
    ecs = TargetedEcs(
        [WorkItem(ACCOUNT, region) for region in REGIONS], CountedSessions(calls), max_workers=2
    )

    described = ecs.describe_services(arns)

    assert sorted(service.arn for service in described) == sorted(arns)
    # eu-central-1: todoapp 10 + 2, batch 1; eu-west-1: todoapp 3. One call per service would
    # be 16.
    assert calls == {(REGIONS[0], "DescribeServices"): 3, (REGIONS[1], "DescribeServices"): 1}


@mock_aws
def test_a_service_in_no_target_is_refused_before_any_call() -> None:
    arns = services(REGIONS[0], "todoapp", 1)
    elsewhere = "arn:aws:ecs:us-east-1:999999999999:service/todoapp/svc-00"
    calls: Counter[tuple[str, str]] = Counter()
    ecs = TargetedEcs([WorkItem(ACCOUNT, REGIONS[0])], CountedSessions(calls), max_workers=1)

    with pytest.raises(AwsError, match="NotATarget"):
        ecs.describe_services([*arns, elsewhere])

    assert calls == {}
