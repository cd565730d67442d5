"""Pruner: once a day, delete the snapshots the retention policy no longer keeps.

EventBridge Scheduler invokes it with `{"time": "<aws.scheduler.scheduled-time>"}` (add
`"dry_run": true` for a plan only); the run is `nightshift.retention.service`. docs/pruner.md.
"""

from __future__ import annotations

import random
import time
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from nightshift.adapters.invocation import InvocationClock
from nightshift.adapters.policy_parameter import load_deployed_policy
from nightshift.adapters.reporting import ReportPublisher, failure_reported
from nightshift.adapters.snapshots import CursorStore, SnapshotDeleter, SnapshotInventory
from nightshift.library_logs import quiet_library_loggers
from nightshift.retention.events import pruner_trigger
from nightshift.retention.service import RESERVE_SECONDS, Invocation, Pruner
from nightshift.retention.settings import PrunerEnvironment, PrunerPolicy
from nightshift.retention.targets import PrunerRun
from nightshift.tracing import traced_handler

if TYPE_CHECKING:
    from nightshift.retention.targets import PrunerTargets

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger = Logger()
metrics = Metrics()


env = cache(PrunerEnvironment.from_environ)
publisher = cache(lambda: ReportPublisher(env().common.ops_topic_arn))
# The policy is read at the first run (again after a PolicyError).
policy = cache(lambda: PrunerPolicy.from_policy(load_deployed_policy(env().common), env()))


@cache
def pruner() -> Pruner:
    """The hub's own account and Region (a policy without targets), built once per container."""
    common = env().common
    return Pruner(
        policy=policy,
        environment=common.environment,
        inventory=SnapshotInventory(),
        delete=SnapshotDeleter(),
        cursors=CursorStore(common.state_table),
        publisher=publisher(),
        failures=partial(failure_reported, publisher(), logger=logger),
        metrics=metrics,
        logger=logger,
        sleep=time.sleep,
        rand=random.random,
    )


def pruner_run(function_arn: str) -> PrunerRun:
    """This run: the hub's own pruner, or (a policy with targets) every target's, each through
    its spoke role (docs/organization.md)."""
    common = env().common

    def targets() -> PrunerTargets:
        from nightshift.adapters.pruner_targets import pruner_targets  # targets only (cold start)

        found = policy().targets
        assert found is not None, "a run across targets needs targets"
        return pruner_targets(
            found,
            policy=policy,
            environment=common.environment,
            state_table=common.state_table,
            function_arn=function_arn,
            logger=logger,
        )

    return PrunerRun(
        policy=policy,
        environment=common.environment,
        single=pruner,
        targets=targets,
        publisher=publisher(),
        failures=partial(failure_reported, publisher(), logger=logger),
        metrics=metrics,
    )


@logger.inject_lambda_context(correlation_id_path="time")
@traced_handler
@metrics.log_metrics
def lambda_handler(event: object, context: LambdaContext) -> dict[str, Any]:
    trigger = pruner_trigger(event)
    clock = InvocationClock(context)
    # The start second tells a retry's report from the first attempt's (same request id).
    run_id = f"{context.aws_request_id}-{int(time.time())}"
    invocation = Invocation(run_id, clock, clock.deadline(RESERVE_SECONDS))
    return pruner_run(context.invoked_function_arn).run(trigger, invocation).to_json()
