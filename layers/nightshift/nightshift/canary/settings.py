"""The canary's settings, read once from the environment the template sets (shell side)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nightshift.canary.alarms import AlarmRules
from nightshift.canary.trigger import rate_seconds
from nightshift.errors import ConfigurationError
from nightshift.settings import CommonSettings, required

RATE = "NIGHTSHIFT_CANARY_RATE"  # the schedule's rate(...) expression: the alarms' period
DATAPOINTS = "NIGHTSHIFT_CANARY_ALARM_DATAPOINTS"  # M of M-of-N
PERIODS = "NIGHTSHIFT_CANARY_ALARM_PERIODS"  # N of M-of-N
NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"  # where the metrics go, and what the alarms watch


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
