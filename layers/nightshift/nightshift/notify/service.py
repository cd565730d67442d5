"""The notifier's service for one queued message: parse, plan, render, deliver, record.

Every decision is made by the core (`nightshift.notify.plan` and the modules it uses); this
class carries the plan out through the ports. A destination that fails does not stop the
others; the message then raises, so SQS retries it and only the destinations not yet in the
delivery ledger are tried again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger

from nightshift.errors import DeliveryError, NightshiftError
from nightshift.notify import actions
from nightshift.notify.accounts import AccountName, named
from nightshift.notify.digest import DigestEntry, compose, next_due, plan_digests
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
from nightshift.notify.routing import DestinationType, NotifyPolicy
from nightshift.notify.sources import parse
from nightshift.notify.suppression import event_time
from nightshift.report import Report

logger = Logger(child=True)


class Tally(StrEnum):
    """What a message counts towards (the handler names each count's metric)."""

    UNROUTED = "unrouted"
    UNRECOGNISED = "unrecognised"
    SUPPRESSED = "suppressed"
    SENT = "sent"
    DIGESTED = "digested"
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
    digested: tuple[str, ...] = ()  # kept for these destinations' digests

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
        digested = {Tally.DIGESTED: len(self.digested)} if self.digested else {}
        return {**counted, **digested, Tally.SENT: len(self.delivered)}


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
    environment: str = "this environment"  # named in the digest's title
    action_links: ActionLinks | None = None  # None: the actions function is not enabled
    # The member accounts the policy's targets name (notify.accounts); empty: none named.
    accounts: Mapping[str, AccountName] = field(default_factory=dict)

    def handle(self, message: QueuedMessage) -> Delivery:
        """Deliver one queued message; UndeliveredError when a destination failed, UnroutedError
        when it has none (both leave the record in the queue)."""
        inbound, arrived = message.inbound, message.arrived
        notification = named(parse(inbound), self.accounts)
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

        digested = self._keep_for_digest(message, notification, routing.digest)
        if not routing.destinations and not digested:
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
            digested=digested,
        )
        if failures:
            raise UndeliveredError(delivery)
        return delivery

    def _keep_for_digest(
        self, message: QueuedMessage, n: Notification, destinations: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Keep `n` for the digest of each of `destinations`, due at the policy's next digest
        time after the message happened (a retried record keeps the same items)."""
        schedule = self.policy.digest
        if not destinations or schedule is None:
            return ()
        at = event_time(n, message.arrived)
        for name in destinations:
            self.ledger.keep_for_digest(
                DigestEntry(
                    message_id=message.inbound.message_id,
                    destination=name,
                    due=next_due(schedule, at),
                    at=at,
                    title=n.title,
                    body=message.inbound.body,
                )
            )
        logger.info("message kept for the digest", destinations=list(destinations))
        return destinations

    def send_digests(self, now: dt.datetime) -> DigestRun:
        """Send every digest due at `now`, one per destination; forget what went out. A digest
        that fails stays kept (the next run sends it, with whatever came since) and the run
        raises UndeliveredError after trying the others; one that went out is never sent again
        (its messages are in the delivery ledger before they are forgotten)."""
        due = self.ledger.digest_due(now)
        sent_before = {
            (e.message_id, e.destination)
            for e in due
            if self.ledger.delivered(e.message_id, e.destination)
        }
        sent: list[str] = []
        failures: dict[str, str] = {}
        for plan in plan_digests(due, sent_before):
            logger.info("digest planned", destination=plan.destination, reason=plan.reason)
            if plan.send:
                zone = self.policy.digest.zone if self.policy.digest else dt.UTC
                digest = compose(plan.send, self.environment, zone, now)
                # Kept for a destination the policy no longer has: its fallback gets it.
                target = (
                    plan.destination
                    if plan.destination in self.policy.destinations
                    else self.policy.fallback
                )
                try:
                    if target is None:
                        raise UnroutedError(
                            f"digest for {plan.destination!r}, a destination the policy no "
                            "longer has, and no fallback: kept until it expires"
                        )
                    self._deliver(target, digest)
                except NightshiftError as exc:
                    logger.warning("digest failed", destination=plan.destination, error=str(exc))
                    failures[plan.destination] = str(exc)
                    continue
                for entry in plan.send:
                    self.ledger.record_delivery(entry.message_id, plan.destination, now)
                sent.append(plan.destination)
            for entry in (*plan.send, *plan.already_sent):
                self.ledger.forget_digest(entry)
        run = DigestRun(due=len(due), sent=tuple(sent), failures=failures)
        if failures:
            raise UndeliveredError(Delivery(None, delivered=tuple(sent), failures=failures))
        return run

    def _with_actions(self, notification: Notification) -> Notification:
        """A Nightshift report with the signed actions it offers (`notify.actions.offers`) and
        the approve links redeploy signed into it (`notify.actions.approvals`); every
        destination of the message gets the same tokens, so a click anywhere uses them up."""
        if notification.source is not Source.NIGHTSHIFT_REPORT:
            return notification
        report = Report.from_json(json.loads(notification.raw))
        held = actions.approvals(report)
        for button in held:
            logger.info("action offered", action="approve", reason=button.reason)
        links = self.action_links
        found = actions.offers(report, links.zones) if links is not None else ()
        for offer in found:
            logger.info("action offered", action=offer.kind.value, reason=offer.reason)
        if links is None or not found:
            return replace(notification, actions=held) if held else notification
        signed = actions.signed(found, links.key(), links.url)
        return replace(notification, actions=(*held, *signed)[: actions.MAX_OFFERS])

    def _deliver(self, name: str, notification: Notification) -> None:
        destination = self.policy.destinations[name]
        details_url = notification.links[0].url if notification.links else None
        if destination.type is DestinationType.EMAIL:
            from nightshift.notify.render import email  # each renderer at its first use

            message = email.render(notification, details_url)
            self.email.send(
                destination.topic_arn or "", message.subject, message.text, destination=name
            )
            return
        payload = _webhook_renderer(destination.type)(notification, details_url)
        self.post(self.webhook_url(destination.secret or ""), payload, destination=name)


def _webhook_renderer(kind: DestinationType) -> Callable[[Notification, str | None], Any]:
    """Slack's or Teams' renderer, imported at its first use: a cold start loads no renderer,
    and a notifier loads only those of the destinations its messages reach."""
    if kind is DestinationType.SLACK:
        from nightshift.notify.render import slack

        return slack.render
    from nightshift.notify.render import teams

    return teams.render


@dataclass(frozen=True)
class DigestRun:
    """What one digest run did: how many kept messages were due, which destinations got one."""

    due: int
    sent: tuple[str, ...]
    failures: Mapping[str, str] = field(default_factory=dict)


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
