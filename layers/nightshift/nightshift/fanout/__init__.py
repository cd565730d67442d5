"""Hub and spoke: a policy's targets expanded into (account, Region, role) work items, and the
runner that works them with bounded concurrency, each target isolated from the others
(docs/organization.md)."""

from nightshift.fanout.combine import (
    CombinedMetric,
    CombinedOutcome,
    RunHeading,
    TargetOutcome,
    combine_outcomes,
)
from nightshift.fanout.order import WorkingOrder, working_order
from nightshift.fanout.plan import Expansion, WorkItem, expand_targets, spoke_role_name
from nightshift.fanout.runner import FanOutRun, TargetResult, work_targets

__all__ = [
    "CombinedMetric",
    "CombinedOutcome",
    "Expansion",
    "FanOutRun",
    "RunHeading",
    "TargetOutcome",
    "TargetResult",
    "WorkItem",
    "WorkingOrder",
    "combine_outcomes",
    "expand_targets",
    "spoke_role_name",
    "work_targets",
    "working_order",
]
