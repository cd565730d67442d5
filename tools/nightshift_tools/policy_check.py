"""Check a policy file completely: the schema, then every section's own model (time zones that
exist, conditions that parse, keep counts that keep something, routes to known destinations).

Each function checks its own section when it starts; this runs all of them at once, for
`make lint`, the tests, `scripts/check-policy` and `scripts/publish-policy`, so a mistake fails
before it is deployed. `review_policy` reports every mistake (jsonschema's `iter_errors`, a
development dependency: no function imports this module) and warns about what is valid but
probably not meant: a period that stops before it starts, a canary check that does not say
whether the schedules of its policy park what it probes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from nightshift.canary.checks import from_section as canary_checks
from nightshift.errors import PolicyError
from nightshift.notify.routing import NotifyPolicy
from nightshift.policy import Policy, load_policy, policy_schema
from nightshift.policy.loader import build_policy, read_document, reference_mistakes
from nightshift.redeploy.policy import RedeployPolicy
from nightshift.retention.rules import PrunerSettings, RetentionPolicy
from nightshift.schedule.policy import SchedulerPolicy

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
    "targets": lambda policy: policy.targets,
}


def check_policy(path: str | Path) -> Policy:
    """Load `path` and build every section's model; raise PolicyError on the first mistake."""
    policy = load_policy(path)
    for name, model in SECTION_MODELS.items():
        if policy.section(name) is not None:
            model(policy)
    return policy


@dataclass(frozen=True)
class PolicyReview:
    """Every mistake in one policy file (empty: it would load), and warnings about what is valid
    but probably not what was meant. Each is one line: `file: field: problem`."""

    source: str
    mistakes: tuple[PolicyError, ...]
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.mistakes


def review_policy(path: str | Path) -> PolicyReview:
    """Check `path` completely: every schema mistake, every cross-reference, every section model
    (the first mistake of each section's model), and warn about swapped-looking periods."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return PolicyReview(source, (PolicyError(source, "(file)", f"cannot be read: {exc}"),))
    return review_text(text, source)


def review_text(text: str, source: str) -> PolicyReview:
    """`review_policy` of policy text (what `scripts/publish-policy` is about to upload)."""
    try:
        data = read_document(text, source)
    except PolicyError as exc:
        return PolicyReview(source, (exc,))
    schema_mistakes = tuple(
        PolicyError(source, _json_path(error.absolute_path), _json_problem(error))
        for error in sorted(
            jsonschema.Draft7Validator(policy_schema()).iter_errors(data),
            key=lambda error: [str(part) for part in error.absolute_path],
        )
    )
    if schema_mistakes:
        return PolicyReview(source, schema_mistakes)
    mistakes = list(reference_mistakes(data, source))
    policy = build_policy(data, source)
    for name, model in SECTION_MODELS.items():
        if policy.section(name) is None or (name == "notify" and mistakes):
            continue
        try:
            model(policy)
        except PolicyError as exc:
            if all(str(exc) != str(seen) for seen in mistakes):
                mistakes.append(exc)
    warnings = (*_period_warnings(data, source), *_parking_warnings(data, source))
    return PolicyReview(source, tuple(mistakes), warnings)


def _json_path(parts: Any) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _json_problem(error: jsonschema.ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return f"unknown field {', '.join(map(repr, unknown))}; valid fields: {', '.join(allowed)}"
    if error.validator == "pattern" and schema.get("description"):
        return f"{error.instance!r} is not valid: expected {schema['description']}"
    return error.message


def _period_warnings(data: Mapping[str, Any], source: str) -> list[str]:
    """A period that stops before it starts is valid (it runs overnight) but is more often a
    day period with start and stop swapped: say so, and what it will do."""
    warnings = []
    for name, schedule in (data.get("schedules") or {}).items():
        for index, period in enumerate(schedule.get("periods") or ()):
            start, stop = period.get("start"), period.get("stop")
            if isinstance(start, str) and isinstance(stop, str) and stop < start:
                warnings.append(
                    f"{source}: schedules.{name}.periods[{index}]: stop {stop} is before start "
                    f"{start}: it runs overnight, {start} to {stop} the next morning; swap "
                    "them if you meant the daytime"
                )
    return warnings


def _parking_warnings(data: Mapping[str, Any], source: str) -> list[str]:
    """A policy file is deployed for one environment, and a schedule in it parks that
    environment's tagged resources: a check of that policy probes what they park unless it says
    otherwise. So, where the policy has schedules, every check without `depends_on` is warned
    about: it would be down (and page) each time they park it. `depends_on: none` says it
    probes nothing they park (docs/canary.md, "Parked environments")."""
    schedules = sorted(data.get("schedules") or {})
    if not schedules:
        return []
    return [
        f"{source}: canaries[{index}]: check {check.get('name')!r} does not say whether it "
        f"depends on what this policy's schedules ({', '.join(schedules)}) park: while they "
        "park it, it is down and pages; add `depends_on: {schedule: <name>}` (or `depends_on: "
        "none` if it probes nothing they park)"
        for index, check in enumerate(data.get("canaries") or ())
        if "depends_on" not in check
    ]
