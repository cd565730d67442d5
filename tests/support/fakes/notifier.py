"""In-memory fakes of the notifier's ports (nightshift.notify.ports)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nightshift.errors import DeliveryError
from nightshift.notify.digest import DigestEntry
from nightshift.notify.plan import ledger_key
from nightshift.notify.suppression import AlarmMemory


@dataclass
class MemoryLedger:
    """The delivery ledger, alarm memory and digest items, in dicts."""

    deliveries: dict[str, dt.datetime] = field(default_factory=dict)
    memories: dict[str, AlarmMemory] = field(default_factory=dict)
    kept: dict[tuple[str, str], DigestEntry] = field(default_factory=dict)

    def delivered(self, message_id: str, destination: str) -> bool:
        return ledger_key(message_id, destination) in self.deliveries

    def record_delivery(self, message_id: str, destination: str, at: dt.datetime) -> None:
        self.deliveries[ledger_key(message_id, destination)] = at

    def alarm_memory(self, dedup_key: str) -> AlarmMemory | None:
        return self.memories.get(dedup_key)

    def remember(self, memory: AlarmMemory) -> None:
        self.memories[memory.dedup_key] = memory

    def keep_for_digest(self, entry: DigestEntry) -> None:
        self.kept[(entry.message_id, entry.destination)] = entry

    def digest_due(self, now: dt.datetime) -> tuple[DigestEntry, ...]:
        return tuple(sorted((e for e in self.kept.values() if e.due <= now), key=lambda e: e.due))

    def forget_digest(self, entry: DigestEntry) -> None:
        self.kept.pop((entry.message_id, entry.destination), None)


@dataclass
class WebhookInbox:
    """Webhook URLs (`url:<secret>`) and the payloads posted to them; a destination in `failing`
    refuses every post with a DeliveryError, as the real webhook adapter does."""

    failing: set[str] = field(default_factory=set)
    posts: list[tuple[str, str, Mapping[str, Any]]] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"https://hooks.example/{name}"

    def post(self, url: str, payload: Mapping[str, Any], *, destination: str) -> object:
        if destination in self.failing:
            raise DeliveryError(destination, "HTTP 500 from hooks.example")
        self.posts.append((destination, url, payload))
        return None

    def destinations(self) -> list[str]:
        return [destination for destination, _, _ in self.posts]


@dataclass
class EmailOutbox:
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # topic, subject, destination

    def send(self, topic_arn: str, subject: str, text: str, *, destination: str) -> str:
        self.sent.append((topic_arn, subject, destination))
        return f"email-{len(self.sent)}"
