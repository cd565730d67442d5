"""The notifier's settings: what it reads from the environment, and its policy section.

The handler calls these once per warm container; a policy error then fails every record, so
nothing is lost (the records stay in the queue, then in its dead-letter queue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nightshift.notify.routing import NotifyPolicy
from nightshift.policy.model import Policy
from nightshift.settings import CommonSettings


@dataclass(frozen=True)
class NotifierSettings:
    """The notifier reads only what every function reads (its webhooks are named by the policy
    and kept in Secrets Manager, its email topics are named by the policy)."""

    common: CommonSettings

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> NotifierSettings:
        return cls(common=CommonSettings.from_environ(environ))


def notify_policy(policy: Policy) -> NotifyPolicy:
    """The deployed policy's `notify` section as a NotifyPolicy; without a section, `{}` (routes
    nowhere). PolicyError naming the policy's source when its routes could drop a message."""
    return NotifyPolicy.from_section(policy.section("notify") or {}, policy.source)
