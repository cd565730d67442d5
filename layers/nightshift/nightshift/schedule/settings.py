"""The scheduler's settings: the environment every function reads (`CommonSettings`; the
scheduler has no variables of its own) and its part of the deployed policy.

The handler reads both once per warm container; the service gets them as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nightshift.policy import Policy, ProtectRule
from nightshift.schedule.policy import SchedulerPolicy
from nightshift.settings import CommonSettings


def settings_from_environ(environ: Mapping[str, str] | None = None) -> CommonSettings:
    """The scheduler's environment; ConfigurationError names a missing variable."""
    return CommonSettings.from_environ(environ)


@dataclass(frozen=True)
class SchedulerConfig:
    """What the scheduler reads from the deployed policy: the named schedules and its
    `scheduler` section, and the protect rule.

    >>> from nightshift.policy import parse_policy
    >>> config = SchedulerConfig.from_policy(parse_policy("version: 1"))
    >>> dict(config.policy.schedules), config.policy.settings.max_stops
    ({}, 50)
    """

    policy: SchedulerPolicy
    protect: ProtectRule

    @classmethod
    def from_policy(cls, loaded: Policy) -> SchedulerConfig:
        return cls(SchedulerPolicy.from_policy(loaded), loaded.protect)
