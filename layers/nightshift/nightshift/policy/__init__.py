"""The policy file: one YAML document (shipped to the functions as JSON), validated against a
JSON schema composed of one schema per section (`schema/<section>.json`), so each function owns
the shape of its own section."""

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
    Target,
    Targets,
)

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
