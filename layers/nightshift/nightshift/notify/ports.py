"""What the notifier's service talks to; the real adapters are in `nightshift.adapters`
(`state.NotifierState`, `secrets.SecretReader.webhook_url`, `webhook.post_json`,
`email.EmailTopic`), the in-memory fakes with the tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from nightshift.notify.digest import DigestEntry
from nightshift.notify.suppression import AlarmMemory


class DeliveryLedger(Protocol):
    """The notifier's state: which destinations have a message, the last state per alarm, and
    the messages kept for a digest (kept idempotently: keeping the same message for the same
    destination twice keeps it once)."""

    def delivered(self, message_id: str, destination: str) -> bool: ...
    def record_delivery(self, message_id: str, destination: str, at: dt.datetime) -> None: ...
    def alarm_memory(self, dedup_key: str) -> AlarmMemory | None: ...
    def remember(self, memory: AlarmMemory) -> None: ...
    def keep_for_digest(self, entry: DigestEntry) -> None: ...
    def digest_due(self, now: dt.datetime) -> tuple[DigestEntry, ...]: ...
    def forget_digest(self, entry: DigestEntry) -> None: ...


class WebhookUrls(Protocol):
    """The webhook URL kept in the secret `name` (the policy's `secret` of a destination)."""

    def __call__(self, name: str) -> str: ...


class WebhookPost(Protocol):
    """POST a JSON payload to a Slack or Teams webhook; DeliveryError when it is refused."""

    def __call__(self, url: str, payload: Mapping[str, Any], *, destination: str) -> object: ...


class EmailPublisher(Protocol):
    """Publish an email message to an SNS topic with email subscriptions; returns its id."""

    def send(self, topic_arn: str, subject: str, text: str, *, destination: str) -> str: ...


@dataclass(frozen=True)
class ActionLinks:
    """What the notifier needs to offer signed actions (docs/actions.md): the actions function's
    URL, the signing key (read when a message offers an action: adapter
    `secrets.SecretReader.value` of the signing key secret) and the schedules' time zones."""

    url: str
    key: Callable[[], bytes]
    zones: Mapping[str, ZoneInfo]
