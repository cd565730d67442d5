"""Hub and spoke: a policy's targets expanded into (account, Region, role) work items, and the
runner that works them with bounded concurrency, each target isolated from the others
(docs/organization.md)."""

from nightshift.fanout.plan import Expansion, WorkItem, expand_targets, spoke_role_name
from nightshift.fanout.runner import FanOutRun, TargetResult, work_targets

__all__ = [
    "Expansion",
    "FanOutRun",
    "TargetResult",
    "WorkItem",
    "expand_targets",
    "spoke_role_name",
    "work_targets",
]
