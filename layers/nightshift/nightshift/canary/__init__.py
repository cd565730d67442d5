"""The canary: HTTP(S) health checks with gatus-like conditions, probed concurrently.

Pure core: `conditions` (the language), `checks` (typed checks from the policy), `verdict`
(judging one observation), `metrics` and `reporting` (what a run publishes), `trigger` (the
scheduled input), `alarms` (the alarms each check calls for, and the plan that keeps them in
step), `status` (when a run is worth a report). Shell: `probe` (the concurrent probe engine,
standard library only), `run` (one run wired to its ports), `settings`. Reference: docs/canary.md.
"""

from nightshift.canary.checks import Check, Header, from_section
from nightshift.canary.conditions import (
    Condition,
    ConditionError,
    ConditionResult,
    evaluate,
    parse_condition,
    parse_duration_ms,
)
from nightshift.canary.metrics import MetricPoint, Unit, dependencies_of, metric_points
from nightshift.canary.probe import ProbeTiming, probe_all
from nightshift.canary.reporting import report_items, run_summary
from nightshift.canary.verdict import (
    CheckResult,
    CheckVerdict,
    Observation,
    ProbeResults,
    assess,
)

__all__ = [
    "Check",
    "CheckResult",
    "CheckVerdict",
    "Condition",
    "ConditionError",
    "ConditionResult",
    "Header",
    "MetricPoint",
    "Observation",
    "ProbeResults",
    "ProbeTiming",
    "Unit",
    "assess",
    "dependencies_of",
    "evaluate",
    "from_section",
    "metric_points",
    "parse_condition",
    "parse_duration_ms",
    "probe_all",
    "report_items",
    "run_summary",
]
