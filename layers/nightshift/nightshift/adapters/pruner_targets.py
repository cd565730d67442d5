"""The pruner's hub and spoke wiring: the policy's targets expanded (an OU's accounts listed),
and for each target a `Pruner` on that target's own clients (its spoke role's session), with its
own deletion cursor in the hub's state table. Used by the handler and `plan-prune`."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING

import boto3

from nightshift.adapters.snapshots import (
    DESCRIBE,
    PACED,
    CursorStore,
    SnapshotDeleter,
    SnapshotInventory,
)
from nightshift.adapters.target_sessions import TargetSessions, function_expansion
from nightshift.fanout import Expansion, WorkItem
from nightshift.retention.service import Pruner
from nightshift.retention.targets import PrunerTargets, TargetSinks, raised_as_is

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from mypy_boto3_dynamodb import DynamoDBClient

    from nightshift.policy import Targets
    from nightshift.retention.ports import PolicySource

# The IAM actions this module needs: none of its own (the adapters it uses declare theirs).
IAM_ACTIONS = frozenset[str]()

FUNCTION = "pruner"


def pruner_expansion(
    targets: Targets, *, hub_account: str, hub_region: str, environment: str
) -> Expansion:
    """The pruner's work items (production targets never among them)."""
    return function_expansion(
        FUNCTION, targets, hub_account=hub_account, hub_region=hub_region, environment=environment
    )


def target_inventory(session: boto3.Session) -> SnapshotInventory:
    """The snapshot listing of one target, on its session's clients."""
    return SnapshotInventory(
        ec2=session.client("ec2", config=DESCRIBE), rds=session.client("rds", config=PACED)
    )


def pruner_targets(
    targets: Targets,
    *,
    policy: PolicySource,
    environment: str,
    state_table: str,
    function_arn: str,
    logger: Logger,
    dynamodb: DynamoDBClient | None = None,
) -> PrunerTargets:
    """A run across the policy's targets; `function_arn` (the Lambda context's) names the hub's
    account and Region. Built per run: the spoke roles' credentials are cached for the run."""
    region, account = function_arn.split(":")[3:5]
    expansion = pruner_expansion(
        targets, hub_account=account, hub_region=region, environment=environment
    )
    sessions = TargetSessions(session_name=f"nightshift-{FUNCTION}-{environment}")
    hub_table = dynamodb or boto3.client("dynamodb")

    def pruner_for(item: WorkItem, sinks: TargetSinks) -> Pruner:
        session = sessions.session(item)
        return Pruner(
            policy=policy,
            environment=environment,
            inventory=target_inventory(session),
            delete=SnapshotDeleter(
                ec2=session.client("ec2", config=PACED), rds=session.client("rds", config=PACED)
            ),
            cursors=CursorStore(state_table, hub_table, target=f"{item.account}#{item.region}"),
            publisher=sinks,
            failures=raised_as_is,
            metrics=sinks,
            logger=logger,
            sleep=time.sleep,
            rand=random.random,
        )

    return PrunerTargets(expansion.items, expansion.excluded, targets.max_concurrency, pruner_for)
