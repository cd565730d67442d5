"""The policy file: one YAML document, validated against a JSON schema composed of one schema per
section (`schema/<section>.json`), so each function owns the shape of its own section."""

from nightshift.policy.loader import (
    SECTIONS,
    field_paths,
    load_policy,
    parse_policy,
    policy_schema,
)
from nightshift.policy.model import DEFAULT_PROTECT, Policy, ProtectRule

__all__ = [
    "DEFAULT_PROTECT",
    "SECTIONS",
    "Policy",
    "ProtectRule",
    "field_paths",
    "load_policy",
    "parse_policy",
    "policy_schema",
]
