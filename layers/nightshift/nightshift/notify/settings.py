"""The notifier's settings: what it reads from the environment, and its policy section.

The handler calls these once per warm container; a policy error then fails every record, so
nothing is lost (the records stay in the queue, then in its dead-letter queue).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nightshift.notify.accounts import AccountName, account_names
from nightshift.notify.routing import NotifyPolicy
from nightshift.policy.model import Policy
from nightshift.settings import CommonSettings


@dataclass(frozen=True)
class NotifierSettings:
    """The notifier reads what every function reads (its webhooks are named by the policy and
    kept in Secrets Manager, its email topics are named by the policy) and, when the actions
    function is enabled, its URL and the name of the signing key secret (docs/actions.md)."""

    common: CommonSettings
    actions_url: str = ""  # NIGHTSHIFT_ACTIONS_URL; empty: messages offer no actions
    signing_key_secret: str = ""  # NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET

    @property
    def offers_actions(self) -> bool:
        return bool(self.actions_url and self.signing_key_secret)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> NotifierSettings:
        env = os.environ if environ is None else environ
        return cls(
            common=CommonSettings.from_environ(environ),
            actions_url=env.get("NIGHTSHIFT_ACTIONS_URL", "").strip(),
            signing_key_secret=env.get("NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET", "").strip(),
        )


def notify_policy(policy: Policy) -> NotifyPolicy:
    """The deployed policy's `notify` section as a NotifyPolicy; without a section, `{}` (routes
    nowhere). PolicyError naming the policy's source when its routes could drop a message."""
    return NotifyPolicy.from_section(policy.section("notify") or {}, policy.source)


def schedule_zones(policy: Policy) -> Mapping[str, ZoneInfo]:
    """Each schedule's time zone, for the actions a message offers ("until 22:00" local)."""
    from nightshift.schedule.policy import SchedulerPolicy  # only when actions are enabled

    return {name: s.zone for name, s in SchedulerPolicy.from_policy(policy).schedules.items()}


def named_accounts(policy: Policy) -> Mapping[str, AccountName]:
    """The accounts the policy's `targets` name, for the messages of member accounts (their
    alarms and deployments, sent by the spoke); a policy without `targets` names none and
    builds none of the targets' classes."""
    if policy.section("targets") is None:
        return {}
    targets = policy.targets
    return account_names(targets.entries if targets is not None else ())
