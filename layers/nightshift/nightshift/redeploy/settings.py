"""Redeploy's settings: what the template sets (the common environment variables) and the
policy's `redeploy` section (`RedeployPolicy`, in nightshift.redeploy.policy)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nightshift.redeploy.policy import RedeployPolicy
from nightshift.settings import CommonSettings

FUNCTION = "redeploy"
# EventBridge retries a delivery for up to 24 hours: a push seen again within a day is a duplicate.
# Later copies are still harmless: services already on the digest are no-ops.
PUSH_IDEMPOTENCY_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class RedeploySettings:
    """What the template sets for redeploy; it has no variables of its own."""

    common: CommonSettings

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> RedeploySettings:
        return cls(common=CommonSettings.from_environ(environ))

    @property
    def environment(self) -> str:
        return self.common.environment


__all__ = ["FUNCTION", "PUSH_IDEMPOTENCY_SECONDS", "RedeployPolicy", "RedeploySettings"]
