"""The notifier's service for one queued message: parse, plan, render, deliver, record.

Every decision is made by the core (`nightshift.notify.plan` and the modules it uses); this
class carries the plan out through the ports. A destination that fails does not stop the
others; the message then raises, so SQS retries it and only the destinations not yet in the
delivery ledger are tried again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum

from aws_lambda_powertools import Logger

from nightshift.errors import DeliveryError, NightshiftError
from nightshift.notify import actions
from nightshift.notify.events import QueuedMessage
from nightshift.notify.model import Notification, Source
from nightshift.notify.plan import plan_delivery, plan_message
from nightshift.notify.ports import (
    ActionLinks,
    DeliveryLedger,
    EmailPublisher,
    WebhookPost,
    WebhookUrls,
)
from nightshift.notify.render import email, slack, teams
from nightshift.notify.routing import DestinationType, NotifyPolicy
from nightshift.notify.sources import parse
from nightshift.report import Report

logger = Logger(child=True)


class Tally(StrEnum):
    """What a message counts towards (the handler names each count's metric)."""

    UNROUTED = "unrouted"
    UNRECOGNISED = "unrecognised"
    SUPPRESSED = "suppressed"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """What happened to one queued message."""

    notification: Notification | None
    delivered: tuple[str, ...] = ()
    already_delivered: tuple[str, ...] = ()
    suppressed_reason: str | None = None
    failures: Mapping[str, str] = field(default_factory=dict)
    unrouted: bool = False  # no route matched: sent to the policy's fallback destination

    @property
    def counts(self) -> dict[Tally, int]:
        """The counts of a message handled without a failure (sent is always counted).

        >>> Delivery(None, delivered=("oncall",), unrouted=True).counts
        {<Tally.UNROUTED: 'unrouted'>: 1, <Tally.SENT: 'sent'>: 1}
        """
        unrecognised = (
            self.notification is not None and self.notification.source is Source.UNRECOGNISED
        )
        flags = {
            Tally.UNROUTED: self.unrouted,
            Tally.UNRECOGNISED: unrecognised,
            Tally.SUPPRESSED: bool(self.suppressed_reason),
        }
        counted = {tally: 1 for tally, raised in flags.items() if raised}
        return {**counted, Tally.SENT: len(self.delivered)}


@contextmanager
def counted(count: Callable[[Tally, int], None]) -> Iterator[Callable[[Delivery], None]]:
    """Count what happens to one message: the delivery the block passes to the function it gets,
    or the NightshiftError it raises (counted, then raised again: the record stays in the queue).

    >>> seen = []
    >>> with counted(lambda tally, value: seen.append((tally.value, value))) as tally:
    ...     tally(Delivery(None, delivered=("oncall",)))
    >>> seen
    [('sent', 1)]
    """

    def tally(delivery: Delivery) -> None:
        for name, value in delivery.counts.items():
            count(name, value)

    try:
        yield tally
    except NightshiftError as exc:
        for name, value in failure_counts(exc).items():
            count(name, value)
        raise


def failure_counts(error: NightshiftError) -> dict[Tally, int]:
    """The counts of a message that failed: the destinations reached before a delivery failed,
    and one failure (also for a policy or setting error: the record stays in the queue)."""
    if isinstance(error, UndeliveredError):
        return {Tally.SENT: len(error.delivery.delivered), Tally.FAILED: 1}
    return {Tally.FAILED: 1}


@dataclass
class Notifier:
    """Delivers queued messages; constructed with its ports (the handler wires the adapters)."""

    policy: NotifyPolicy
    ledger: DeliveryLedger
    webhook_url: WebhookUrls
    post: WebhookPost
    email: EmailPublisher
    action_links: ActionLinks | None = None  # None: the actions function is not enabled

    def handle(self, message: QueuedMessage) -> Delivery:
        """Deliver one queued message; UndeliveredError when a destination failed, UnroutedError
        when it has none (both leave the record in the queue)."""
        inbound, arrived = message.inbound, message.arrived
        notification = parse(inbound)
        logger.info(
            "message parsed",
            source=notification.source.value,
            severity=notification.severity.value,
            state=notification.state.value,
            subject=notification.name,
            message_id=inbound.message_id,
        )
        memory = (
            self.ledger.alarm_memory(notification.dedup_key)
            if notification.source is not Source.UNRECOGNISED
            else None
        )
        plan = plan_message(notification, memory, arrived, self.policy, inbound.message_id)
        if plan.routing is None:
            logger.info("message suppressed", reason=plan.reason, subject=notification.name)
            if plan.remember is not None:
                self.ledger.remember(plan.remember)
            return Delivery(notification=notification, suppressed_reason=plan.reason)
        notification, routing = self._with_actions(plan.notification), plan.routing

        if not routing.destinations:
            # Never acknowledged without a delivery: the record fails and the DLQ keeps it.
            logger.error("message not routed", reason=routing.reason, subject=notification.name)
            raise UnroutedError(routing.reason)
        if routing.fallback:
            logger.warning(
                "message sent to fallback",
                reason=routing.reason,
                destination=routing.destinations[0],
                subject=notification.name,
                source=notification.source.value,
            )
        destinations = routing.destinations
        owed = plan_delivery(
            destinations,
            {name for name in destinations if self.ledger.delivered(inbound.message_id, name)},
        )
        delivered: list[str] = []
        failures: dict[str, str] = {}
        for name in owed.send_to:
            try:
                self._deliver(name, notification)
            except NightshiftError as exc:
                # DeliveryError messages carry only the webhook's host, never its secret path.
                logger.warning("delivery failed", destination=name, error=str(exc))
                failures[name] = str(exc)
                continue
            self.ledger.record_delivery(inbound.message_id, name, arrived)
            delivered.append(name)

        if plan.remember is not None and not failures:
            self.ledger.remember(plan.remember)
        delivery = Delivery(
            notification=notification,
            delivered=tuple(delivered),
            already_delivered=owed.already_delivered,
            failures=failures,
            unrouted=routing.fallback,
        )
        if failures:
            raise UndeliveredError(delivery)
        return delivery

    def _with_actions(self, notification: Notification) -> Notification:
        """A Nightshift report with the signed actions it offers (`notify.actions.offers`); every
        destination of the message gets the same tokens, so a click anywhere uses them up."""
        links = self.action_links
        if links is None or notification.source is not Source.NIGHTSHIFT_REPORT:
            return notification
        found = actions.offers(Report.from_json(json.loads(notification.raw)), links.zones)
        if not found:
            return notification
        for offer in found:
            logger.info("action offered", action=offer.kind.value, reason=offer.reason)
        return replace(notification, actions=actions.signed(found, links.key(), links.url))

    def _deliver(self, name: str, notification: Notification) -> None:
        destination = self.policy.destinations[name]
        details_url = notification.links[0].url if notification.links else None
        if destination.type is DestinationType.EMAIL:
            message = email.render(notification, details_url)
            self.email.send(
                destination.topic_arn or "", message.subject, message.text, destination=name
            )
            return
        renderer = slack if destination.type is DestinationType.SLACK else teams
        payload = renderer.render(notification, details_url)
        self.post(self.webhook_url(destination.secret or ""), payload, destination=name)


class UndeliveredError(DeliveryError):
    """At least one destination failed; raised so SQS retries the record (and the DLQ keeps it)."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        names = ", ".join(sorted(delivery.failures))
        super().__init__(names, "; ".join(delivery.failures.values()))


class UnroutedError(DeliveryError):
    """No route matched and the policy has no fallback (a policy without a notify section):
    the record fails visibly instead of being acknowledged with no delivery."""

    def __init__(self, reason: str) -> None:
        super().__init__("(no destination)", reason)
