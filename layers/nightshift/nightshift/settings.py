"""Settings read once from the environment into frozen dataclasses.

A missing variable raises ConfigurationError naming it; nothing falls back to an empty string.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from nightshift.errors import ConfigurationError


def required(name: str, environ: Mapping[str, str] | None = None) -> str:
    """Return the environment variable `name`, or raise an error that names it."""
    env = os.environ if environ is None else environ
    value = env.get(name)
    if value is None or value == "":
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def optional(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Return the environment variable `name`, or None when it is absent or empty: only for a
    setting whose absence has a documented meaning (e.g. no policy parameter: the layer's file)."""
    env = os.environ if environ is None else environ
    return env.get(name) or None


def flag(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Return a required true/false environment variable."""
    value = required(name, environ).strip().lower()
    if value not in {"true", "false"}:
        raise ConfigurationError(
            f"environment variable {name} must be true or false, got {value!r}"
        )
    return value == "true"


@dataclass(frozen=True)
class CommonSettings:
    """What every function reads: where its policy is, where it keeps state, where it reports.

    The policy is the SSM parameter version `policy_parameter` names (`/name:version`, from the
    template's PolicySource) when it is set, else the file `policy_file` in the policy layer.
    """

    environment: str
    policy_file: str
    state_table: str
    ops_topic_arn: str
    policy_parameter: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> CommonSettings:
        return cls(
            environment=required("NIGHTSHIFT_ENVIRONMENT", environ),
            policy_file=required("NIGHTSHIFT_POLICY_FILE", environ),
            state_table=required("NIGHTSHIFT_STATE_TABLE", environ),
            ops_topic_arn=required("NIGHTSHIFT_OPS_TOPIC_ARN", environ),
            policy_parameter=optional("NIGHTSHIFT_POLICY_PARAMETER", environ),
        )
