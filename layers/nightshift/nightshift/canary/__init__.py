"""The canary: HTTP(S) health checks with gatus-like conditions, probed concurrently.

The function's shape: `events` (the scheduled input), `settings` (from the environment),
`ports` (what a run talks to), `plan` (the run's pure decisions), `service` (one run carried out
through the ports), `report` (the run's report). Pure domain: `conditions` (the language),
`checks` (typed checks from the policy), `verdict` (judging one observation), `metrics` (what a
run publishes), `alarms` (the alarms each check calls for), `status` (when a run is worth a
report), `parking` (whether a check's environment is intentionally parked). The HTTP prober
is an adapter: `nightshift.adapters.http_probe`. Reference: docs/canary.md.
"""

from typing import TYPE_CHECKING

from nightshift.lazy import lazy_exports

if TYPE_CHECKING:
    from nightshift.canary.checks import (
        CanaryPolicy,
        Check,
        Header,
        canary_policy,
        from_policy,
        from_section,
    )
    from nightshift.canary.conditions import (
        Condition,
        ConditionError,
        ConditionResult,
        evaluate,
        parse_condition,
        parse_duration_ms,
    )
    from nightshift.canary.events import canary_trigger
    from nightshift.canary.metrics import MetricPoint, Unit, dependencies_of, metric_points
    from nightshift.canary.parking import (
        Dependency,
        ParkingFacts,
        Phase,
        Watch,
        WatchDecision,
        decide,
    )
    from nightshift.canary.report import report_items, run_summary, unprobed_report
    from nightshift.canary.service import Canary
    from nightshift.canary.settings import CanarySettings
    from nightshift.canary.verdict import (
        CheckResult,
        CheckVerdict,
        Observation,
        ProbeResults,
        assess,
    )

# Each name is imported from its module when first asked for (nightshift.lazy): importing one
# module of the package (the redeploy and actions functions read `status` and `parking`) loads that
# module, not the whole canary.
__getattr__ = lazy_exports(
    __name__,
    globals(),
    {
        "checks": (
            "CanaryPolicy",
            "Check",
            "Header",
            "canary_policy",
            "from_policy",
            "from_section",
        ),
        "conditions": (
            "Condition",
            "ConditionError",
            "ConditionResult",
            "evaluate",
            "parse_condition",
            "parse_duration_ms",
        ),
        "events": ("canary_trigger",),
        "metrics": (
            "MetricPoint",
            "Unit",
            "dependencies_of",
            "metric_points",
        ),
        "parking": (
            "Dependency",
            "ParkingFacts",
            "Phase",
            "Watch",
            "WatchDecision",
            "decide",
        ),
        "report": (
            "report_items",
            "run_summary",
            "unprobed_report",
        ),
        "service": ("Canary",),
        "settings": ("CanarySettings",),
        "verdict": (
            "CheckResult",
            "CheckVerdict",
            "Observation",
            "ProbeResults",
            "assess",
        ),
    },
)

__all__ = [
    "Canary",
    "CanaryPolicy",
    "CanarySettings",
    "Check",
    "CheckResult",
    "CheckVerdict",
    "Condition",
    "ConditionError",
    "ConditionResult",
    "Dependency",
    "Header",
    "MetricPoint",
    "Observation",
    "ParkingFacts",
    "Phase",
    "ProbeResults",
    "Unit",
    "Watch",
    "WatchDecision",
    "assess",
    "canary_policy",
    "canary_trigger",
    "decide",
    "dependencies_of",
    "evaluate",
    "from_policy",
    "from_section",
    "metric_points",
    "parse_condition",
    "parse_duration_ms",
    "report_items",
    "run_summary",
    "unprobed_report",
]
