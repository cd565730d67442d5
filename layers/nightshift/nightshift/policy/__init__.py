"""The policy file: one YAML document (shipped to the functions as JSON), validated against a
JSON schema composed of one schema per section (`schema/<section>.json`), so each function owns
the shape of its own section."""

from typing import TYPE_CHECKING

from nightshift.lazy import lazy_exports

if TYPE_CHECKING:
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
    from nightshift.policy.targets import Target, Targets

# Each name is imported from its module when first asked for (nightshift.lazy): the model's
# names (ProtectRule) do not load the loader and its validator (the actions function reads
# protect rules only when it acts), and Target and Targets are built only by a function with
# targets (tests/unit/test_cold_start.py).
__getattr__ = lazy_exports(
    __name__,
    globals(),
    {
        "loader": (
            "SECTIONS",
            "PolicyParameter",
            "as_json",
            "field_paths",
            "load_policy",
            "load_policy_parameter",
            "parse_policy",
            "policy_schema",
        ),
        "model": (
            "DEFAULT_PROTECT",
            "NEVER_IN_PRODUCTION",
            "TARGET_FUNCTIONS",
            "Policy",
            "ProtectRule",
        ),
        "targets": ("Target", "Targets"),
    },
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
