"""The size of ECS task definitions, to price the services the scheduler parks or restores.

One DescribeTaskDefinition per distinct task definition, asked only for the services a run
switches (a steady-state run asks nothing); cached per warm container, because a revision's
cpu and memory never change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from nightshift.errors import AwsError
from nightshift.schedule.ports import TaskSize

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

logger = Logger(child=True)

# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset({"ecs:DescribeTaskDefinition"})


class TaskDefinitionSizes:
    """TaskSizeReader over ECS: task-level cpu and memory, and the CPU architecture."""

    def __init__(self, ecs: ECSClient) -> None:
        self._ecs = ecs
        self._known: dict[str, TaskSize | None] = {}

    def sizes(self, task_definitions: Sequence[str]) -> Mapping[str, TaskSize]:
        for arn in task_definitions:
            if arn not in self._known:
                self._known[arn] = self._describe(arn)
        return {arn: size for arn in task_definitions if (size := self._known.get(arn)) is not None}

    def _describe(self, arn: str) -> TaskSize | None:
        try:
            definition = self._ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        except ClientError as exc:
            raise AwsError.from_client_error("DescribeTaskDefinition", exc) from exc
        cpu, memory = definition.get("cpu"), definition.get("memory")
        if not cpu or not memory:
            # EC2 launch type without task-level sizes: not a Fargate price.
            logger.info("task definition without task-level cpu and memory", arn=arn)
            return None
        platform = definition.get("runtimePlatform") or {}
        return TaskSize.from_units(cpu, memory, platform.get("cpuArchitecture"))
