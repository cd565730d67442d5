"""Redeploy's settings: what the template sets (the common environment variables) and the
policy's `redeploy` section (`RedeployPolicy`, in nightshift.redeploy.policy)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nightshift.redeploy.policy import RedeployPolicy
from nightshift.settings import CommonSettings, optional

FUNCTION = "redeploy"
# EventBridge retries a delivery for up to 24 hours: a push seen again within a day is a duplicate.
# Later copies are still harmless: services already on the digest are no-ops.
PUSH_IDEMPOTENCY_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class RedeploySettings:
    """What the template sets for redeploy: the common variables, and the actions function's
    URL and signing key for approve links."""

    common: CommonSettings
    # Where an approval report's signed approve link points, and the Secrets Manager name of
    # the key it is signed with (the actions function's); without both, no link is made.
    actions_url: str | None = None
    signing_key_secret: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> RedeploySettings:
        return cls(
            common=CommonSettings.from_environ(environ),
            actions_url=optional("NIGHTSHIFT_ACTIONS_URL", environ),
            signing_key_secret=optional("NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET", environ),
        )

    @property
    def environment(self) -> str:
        return self.common.environment


__all__ = ["FUNCTION", "PUSH_IDEMPOTENCY_SECONDS", "RedeployPolicy", "RedeploySettings"]
