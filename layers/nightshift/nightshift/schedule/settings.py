"""The scheduler's settings: the environment every function reads (`CommonSettings`), its own
`NIGHTSHIFT_SCHEDULER_RATE` (the template's SchedulerRate, which tells one run from the next
when the targets' working order rotates: `nightshift.fanout.order`), and its part of the
deployed policy.

The handler reads both once per warm container; the service gets them as arguments.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from nightshift.errors import ConfigurationError
from nightshift.policy import Policy, ProtectRule
from nightshift.schedule.policy import SchedulerPolicy
from nightshift.settings import CommonSettings, optional

RATE_VARIABLE = "NIGHTSHIFT_SCHEDULER_RATE"
QUEUE_VARIABLE = "NIGHTSHIFT_TARGET_QUEUE_URL"
DEFAULT_RATE = dt.timedelta(minutes=5)  # the template's SchedulerRate default
_RATE = re.compile(r"rate\((\d{1,2}) minutes?\)")


def settings_from_environ(environ: Mapping[str, str] | None = None) -> CommonSettings:
    """The scheduler's environment; ConfigurationError names a missing variable."""
    return CommonSettings.from_environ(environ)


def schedule_rate(environ: Mapping[str, str] | None = None) -> dt.timedelta:
    """How often the scheduler runs: `NIGHTSHIFT_SCHEDULER_RATE`, an EventBridge Scheduler rate
    of minutes (absent: the template's default, 5 minutes).

    >>> schedule_rate({"NIGHTSHIFT_SCHEDULER_RATE": "rate(15 minutes)"})
    datetime.timedelta(seconds=900)
    >>> schedule_rate({})
    datetime.timedelta(seconds=300)
    >>> try:
    ...     schedule_rate({"NIGHTSHIFT_SCHEDULER_RATE": "cron(0 * * * ? *)"})
    ... except ConfigurationError as exc:
    ...     print(exc)
    environment variable NIGHTSHIFT_SCHEDULER_RATE must be a rate of minutes like
    rate(5 minutes), got 'cron(0 * * * ? *)'
    """
    text = optional(RATE_VARIABLE, environ)
    if text is None:
        return DEFAULT_RATE
    match = _RATE.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise ConfigurationError(
            f"environment variable {RATE_VARIABLE} must be a rate of minutes like "
            f"rate(5 minutes), got {text[:40]!r}"
        )
    return dt.timedelta(minutes=int(match[1]))


def target_queue_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The scheduler's own target queue (the SQS engine beyond the in-invocation bound):
    `NIGHTSHIFT_TARGET_QUEUE_URL`, absent when the function has none.

    >>> target_queue_url({})
    >>> target_queue_url({"NIGHTSHIFT_TARGET_QUEUE_URL": "https://sqs/q.fifo"})
    'https://sqs/q.fifo'
    """
    return optional(QUEUE_VARIABLE, environ)


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
