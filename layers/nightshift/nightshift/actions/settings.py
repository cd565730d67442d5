"""The actions function's settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nightshift.errors import ConfigurationError
from nightshift.settings import CommonSettings, required


@dataclass(frozen=True)
class ActionsSettings(CommonSettings):
    signing_key_secret: str = ""  # Secrets Manager name of the HMAC key of action tokens
    slack_secret: str = ""  # Secrets Manager name of the Slack app's signing secret
    timezone: str = "UTC"  # how times read in pages and reports
    metrics_namespace: str = "Nightshift"  # where the canary and scheduler publish (status page)

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(f"unknown time zone {self.timezone!r}") from exc


def settings_from_environ(environ: Mapping[str, str] | None = None) -> ActionsSettings:
    common = CommonSettings.from_environ(environ)
    return ActionsSettings(
        **vars(common),
        signing_key_secret=required("NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET", environ),
        slack_secret=required("NIGHTSHIFT_ACTIONS_SLACK_SECRET", environ),
        timezone=required("NIGHTSHIFT_ACTIONS_TIMEZONE", environ),
        # The stack's one namespace (Globals); the status page reads the canary's and scheduler's.
        metrics_namespace=(environ if environ is not None else os.environ).get(
            "POWERTOOLS_METRICS_NAMESPACE", "Nightshift"
        ),
    )
