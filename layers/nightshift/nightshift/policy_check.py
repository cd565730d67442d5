"""Check a policy file completely: the schema, then every section's own model (time zones that
exist, conditions that parse, keep counts that keep something, routes to known destinations).

Each function checks its own section when it starts; this runs all of them at once, for
`make lint`, the tests and `scripts/check-policy`, so a mistake fails before it is deployed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nightshift.canary.checks import from_section as canary_checks
from nightshift.notify.routing import NotifyPolicy
from nightshift.policy import Policy, load_policy
from nightshift.redeploy.policy import RedeployPolicy
from nightshift.retention.rules import PrunerSettings, RetentionPolicy
from nightshift.schedule.model import SchedulerPolicy

# Which model reads which section; a section absent from the file is not checked.
SECTION_MODELS: Mapping[str, Callable[[Policy], Any]] = {
    "schedules": SchedulerPolicy.from_policy,
    "scheduler": SchedulerPolicy.from_policy,
    "retention": RetentionPolicy.from_policy,
    "pruner": PrunerSettings.from_policy,
    "redeploy": RedeployPolicy.from_policy,
    "canaries": lambda policy: canary_checks(
        policy.section("canaries"),
        source=policy.source,
        base_dir=str(Path(policy.source).parent),
    ),
    "notify": lambda policy: NotifyPolicy.from_section(policy.section("notify"), policy.source),
}


def check_policy(path: str | Path) -> Policy:
    """Load `path` and build every section's model; raise PolicyError on the first mistake."""
    policy = load_policy(path)
    for name, model in SECTION_MODELS.items():
        if policy.section(name) is not None:
            model(policy)
    return policy
