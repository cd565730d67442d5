"""The notifier's service on in-memory ports: suppress, route, deliver once, count."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pytest

from nightshift.errors import ConfigurationError
from nightshift.notify.events import QueuedMessage
from nightshift.notify.routing import NotifyPolicy
from nightshift.notify.service import (
    Delivery,
    Notifier,
    Tally,
    UndeliveredError,
    UnroutedError,
    counted,
    failure_counts,
)
from tests.support.fakes.notifier import EmailOutbox, MemoryLedger, WebhookInbox
from tests.unit.notifier.fixtures import record

ARRIVED = dt.datetime(2026, 11, 20, 18, 30, tzinfo=dt.UTC)
POLICY: Mapping[str, Any] = {
    "destinations": {
        "oncall": {"type": "slack", "secret": "nightshift/slack"},
        "ops": {"type": "teams", "secret": "nightshift/teams"},
        "mail": {"type": "email", "topic_arn": "arn:aws:sns:eu-central-1:1:mail"},
    },
    "routes": [
        {"match": {"source": ["cloudwatch-alarm"]}, "to": ["oncall", "ops", "mail"]},
        {"match": {"source": ["budget"]}, "to": ["ops"]},
    ],
    "fallback": "oncall",
}


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


@pytest.fixture
def webhooks() -> WebhookInbox:
    return WebhookInbox()


@pytest.fixture
def outbox() -> EmailOutbox:
    return EmailOutbox()


def service(
    ledger: MemoryLedger,
    webhooks: WebhookInbox,
    outbox: EmailOutbox,
    policy: Mapping[str, Any] = POLICY,
) -> Notifier:
    section = NotifyPolicy.from_section(policy)
    return Notifier(section, ledger, webhooks.url, webhooks.post, outbox)


def message(name: str) -> QueuedMessage:
    return QueuedMessage.from_sqs_record(record(name), received=ARRIVED)


def test_first_alarm_reaches_every_routed_destination_and_is_remembered(
    ledger: MemoryLedger, webhooks: WebhookInbox, outbox: EmailOutbox
) -> None:
    delivery = service(ledger, webhooks, outbox).handle(message("cloudwatch-alarm-metric"))

    assert delivery.delivered == ("oncall", "ops", "mail")
    assert webhooks.destinations() == ["oncall", "ops"]
    assert [destination for _, _, destination in outbox.sent] == ["mail"]
    assert len(ledger.deliveries) == 3
    assert len(ledger.memories) == 1
    assert delivery.counts == {Tally.SENT: 3}


def test_repeat_of_the_same_alarm_is_suppressed_with_its_reason_and_sends_nothing(
    ledger: MemoryLedger, webhooks: WebhookInbox, outbox: EmailOutbox
) -> None:
    notifier = service(ledger, webhooks, outbox)
    notifier.handle(message("cloudwatch-alarm-metric"))
    repeat = record("cloudwatch-alarm-metric")
    repeat["body"] = json.dumps({**json.loads(repeat["body"]), "MessageId": "sns-again"})

    delivery = notifier.handle(QueuedMessage.from_sqs_record(repeat, received=ARRIVED))

    assert delivery.suppressed_reason is not None
    assert delivery.suppressed_reason.startswith("repeat of ALARM")
    assert len(webhooks.posts) == 2
    assert delivery.counts == {Tally.SUPPRESSED: 1, Tally.SENT: 0}


def test_failed_destination_raises_after_the_others_and_only_it_is_retried(
    ledger: MemoryLedger, webhooks: WebhookInbox, outbox: EmailOutbox
) -> None:
    notifier = service(ledger, webhooks, outbox)
    webhooks.failing.add("ops")

    with pytest.raises(UndeliveredError) as raised:
        notifier.handle(message("cloudwatch-alarm-metric"))

    assert raised.value.delivery.delivered == ("oncall", "mail")
    assert not ledger.memories  # remembered only once every destination has it
    assert failure_counts(raised.value) == {Tally.SENT: 2, Tally.FAILED: 1}

    webhooks.failing.clear()
    retry = notifier.handle(message("cloudwatch-alarm-metric"))

    assert retry.delivered == ("ops",)
    assert retry.already_delivered == ("oncall", "mail")
    assert webhooks.destinations() == ["oncall", "ops"]
    assert len(ledger.memories) == 1


def test_message_no_route_matches_goes_to_the_fallback_and_counts_as_unrouted(
    ledger: MemoryLedger, webhooks: WebhookInbox, outbox: EmailOutbox
) -> None:
    delivery = service(ledger, webhooks, outbox).handle(message("unrecognised-text"))

    assert delivery.unrouted
    assert delivery.delivered == ("oncall",)
    assert delivery.counts == {Tally.UNROUTED: 1, Tally.UNRECOGNISED: 1, Tally.SENT: 1}


def test_policy_without_notify_section_fails_the_message_as_unrouted(
    ledger: MemoryLedger, webhooks: WebhookInbox, outbox: EmailOutbox
) -> None:
    with pytest.raises(UnroutedError) as raised:
        service(ledger, webhooks, outbox, policy={}).handle(message("cloudwatch-alarm-metric"))

    assert failure_counts(raised.value) == {Tally.FAILED: 1}
    assert not webhooks.posts
    assert not ledger.deliveries


def test_counted_counts_a_nightshift_error_as_one_failure_and_raises_it_again() -> None:
    seen: list[tuple[Tally, int]] = []

    with pytest.raises(ConfigurationError), counted(lambda t, n: seen.append((t, n))):
        raise ConfigurationError("environment variable NIGHTSHIFT_STATE_TABLE is not set")

    assert seen == [(Tally.FAILED, 1)]


def test_counted_leaves_a_crash_uncounted() -> None:
    seen: list[tuple[Tally, int]] = []

    with pytest.raises(KeyError), counted(lambda t, n: seen.append((t, n))):
        raise KeyError("bug")

    assert seen == []


def test_counted_counts_the_delivery_it_is_given() -> None:
    seen: list[tuple[Tally, int]] = []

    with counted(lambda t, n: seen.append((t, n))) as tally:
        tally(Delivery(None, suppressed_reason="repeat"))

    assert seen == [(Tally.SUPPRESSED, 1), (Tally.SENT, 0)]
