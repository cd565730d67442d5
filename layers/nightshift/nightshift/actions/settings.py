"""The actions function's settings, read once from the environment."""

from __future__ import annotations

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
    )
