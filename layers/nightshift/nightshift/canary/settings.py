"""The canary's settings, read once from the environment the template sets (the edge's job),
and the alarm period its schedule's `rate(...)` expression implies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nightshift.canary.alarms import AlarmRules
from nightshift.errors import ConfigurationError
from nightshift.settings import CommonSettings, required

RATE = "NIGHTSHIFT_CANARY_RATE"  # the schedule's rate(...) expression: the alarms' period
DATAPOINTS = "NIGHTSHIFT_CANARY_ALARM_DATAPOINTS"  # M of M-of-N
PERIODS = "NIGHTSHIFT_CANARY_ALARM_PERIODS"  # N of M-of-N
NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"  # where the metrics go, and what the alarms watch

_RATE = re.compile(r"rate\((?P<value>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)")
_SECONDS_PER_UNIT = {"minute": 60, "hour": 3600, "day": 86_400}


@dataclass(frozen=True)
class CanarySettings:
    common: CommonSettings
    namespace: str
    period_seconds: int
    datapoints_to_alarm: int
    evaluation_periods: int

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> CanarySettings:
        return cls(
            common=CommonSettings.from_environ(environ),
            namespace=required(NAMESPACE, environ),
            period_seconds=rate_seconds(required(RATE, environ)),
            datapoints_to_alarm=_whole_number(DATAPOINTS, environ),
            evaluation_periods=_whole_number(PERIODS, environ),
        )

    @property
    def policy_dir(self) -> str:
        """Where the policy file lies: relative CA bundle paths of the checks start here."""
        return str(Path(self.common.policy_file).parent)

    @property
    def alarm_rules(self) -> AlarmRules:
        return AlarmRules(
            environment=self.common.environment,
            namespace=self.namespace,
            topic_arn=self.common.ops_topic_arn,
            period_seconds=self.period_seconds,
            datapoints_to_alarm=self.datapoints_to_alarm,
            evaluation_periods=self.evaluation_periods,
        )


def _whole_number(name: str, environ: Mapping[str, str] | None) -> int:
    text = required(name, environ)
    try:
        return int(text)
    except ValueError as exc:
        raise ConfigurationError(
            f"environment variable {name} must be a whole number, got {text!r}"
        ) from exc


def rate_seconds(expression: str) -> int:
    """The interval of a Scheduler `rate(...)` expression, in seconds (the canary's alarm period).

    >>> rate_seconds("rate(1 minute)"), rate_seconds("rate(5 minutes)")
    (60, 300)
    """
    match = _RATE.fullmatch(expression.strip())
    if match is None:
        raise ConfigurationError(
            f"canary rate must read rate(<n> minute[s]|hour[s]|day[s]), got {expression!r}"
        )
    value, unit = int(match["value"]), match["unit"].removesuffix("s")
    if (value == 1) != (not match["unit"].endswith("s")):
        raise ConfigurationError(
            f"canary rate {expression!r}: Scheduler wants the singular unit for 1 only"
        )
    return value * _SECONDS_PER_UNIT[unit]
