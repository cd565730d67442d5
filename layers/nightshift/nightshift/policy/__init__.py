"""The policy file: one YAML document (shipped to the functions as JSON), validated against a
JSON schema composed of one schema per section (`schema/<section>.json`), so each function owns
the shape of its own section."""

from typing import TYPE_CHECKING, Any

from nightshift.policy.loader import (
    SECTIONS,
    PolicyParameter,
    as_json,
    field_paths,
    load_policy,
    load_policy_parameter,
    parse_policy,
    policy_schema,
)
from nightshift.policy.model import (
    DEFAULT_PROTECT,
    NEVER_IN_PRODUCTION,
    TARGET_FUNCTIONS,
    Policy,
    ProtectRule,
)

if TYPE_CHECKING:
    from nightshift.policy.targets import Target, Targets


def __getattr__(name: str) -> Any:
    """`Target` and `Targets`, imported when first asked for: a function without targets does not
    build them at a cold start (tests/unit/test_cold_start.py)."""
    if name in {"Target", "Targets"}:
        from nightshift.policy import targets

        return getattr(targets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_PROTECT",
    "NEVER_IN_PRODUCTION",
    "SECTIONS",
    "TARGET_FUNCTIONS",
    "Policy",
    "PolicyParameter",
    "ProtectRule",
    "Target",
    "Targets",
    "as_json",
    "field_paths",
    "load_policy",
    "load_policy_parameter",
    "parse_policy",
    "policy_schema",
]
