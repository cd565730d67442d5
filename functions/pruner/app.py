"""Pruner: once a day, delete the snapshots the retention policy no longer keeps.

EventBridge Scheduler invokes it with `{"time": "<aws.scheduler.scheduled-time>"}` (add
`"dry_run": true` for a plan only); the run is `nightshift.retention.service`. docs/pruner.md.
"""

from __future__ import annotations

import random
import time
from functools import cache, partial
from typing import Any

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
from nightshift.tracing import traced_handler

quiet_library_loggers()  # before any client: no bodies or webhook paths at DEBUG
logger = Logger()
metrics = Metrics()


@cache
def pruner() -> Pruner:
    env = PrunerEnvironment.from_environ()
    common, publisher = env.common, ReportPublisher(env.common.ops_topic_arn)
    return Pruner(  # the policy is read at the first run (again after a PolicyError)
        policy=cache(lambda: PrunerPolicy.from_policy(load_deployed_policy(common), env)),
        environment=common.environment,
        inventory=SnapshotInventory(),
        delete=SnapshotDeleter(),
        cursors=CursorStore(common.state_table),
        publisher=publisher,
        failures=partial(failure_reported, publisher, logger=logger),
        metrics=metrics,
        logger=logger,
        sleep=time.sleep,
        rand=random.random,
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
    return pruner().run(trigger, invocation).to_json()
