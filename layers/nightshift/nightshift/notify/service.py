"""The notifier's shell for one inbound message: parse, suppress, route, render, deliver, record.

Every decision is made by the core (`nightshift.notify.*`); this module wires the ports. A
destination that fails does not stop the others; the message then raises, so SQS retries it and
only the destinations not yet in the delivery ledger are tried again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from nightshift.errors import DeliveryError, NightshiftError
from nightshift.notify.delivery import plan_delivery
from nightshift.notify.inbound import Inbound
from nightshift.notify.model import Notification, Source
from nightshift.notify.render import email, slack, teams
from nightshift.notify.routing import DestinationType, NotifyPolicy
from nightshift.notify.sources import parse
from nightshift.notify.suppression import AlarmMemory, decide, event_time

logger = Logger(child=True)


class DeliveryLedger(Protocol):
    def delivered(self, message_id: str, destination: str) -> bool: ...
    def record_delivery(self, message_id: str, destination: str, at: dt.datetime) -> None: ...
    def alarm_memory(self, dedup_key: str) -> AlarmMemory | None: ...
    def remember(self, memory: AlarmMemory) -> None: ...


class WebhookPort(Protocol):
    def __call__(self, url: str, payload: Mapping[str, Any], *, destination: str) -> object: ...


class EmailPort(Protocol):
    def send(self, topic_arn: str, subject: str, text: str, *, destination: str) -> str: ...


@dataclass(frozen=True)
class Outcome:
    """What happened to one inbound message."""

    notification: Notification | None
    delivered: tuple[str, ...] = ()
    already_delivered: tuple[str, ...] = ()
    suppressed_reason: str | None = None
    failures: Mapping[str, str] = field(default_factory=dict)
    unrouted: bool = False  # no route matched: sent to the policy's fallback destination


@dataclass
class Notifier:
    policy: NotifyPolicy
    ledger: DeliveryLedger
    webhook_url: Callable[[str], str]
    post: WebhookPort
    email: EmailPort

    def handle(self, inbound: Inbound, arrived: dt.datetime) -> Outcome:
        """Deliver one inbound message; `arrived` is when SQS got it (the fallback event time)."""
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
        decision = decide(
            notification,
            memory,
            event_time(notification, arrived),
            self.policy.repeat_window,
            message_id=inbound.message_id,
        )
        if not decision.send:
            logger.info("message suppressed", reason=decision.reason, subject=notification.name)
            return Outcome(notification=notification, suppressed_reason=decision.reason)
        notification = decision.applied_to(notification)

        routing = self.policy.route(notification)
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
        plan = plan_delivery(
            destinations,
            {name for name in destinations if self.ledger.delivered(inbound.message_id, name)},
        )
        delivered: list[str] = []
        failures: dict[str, str] = {}
        for name in plan.send_to:
            try:
                self._deliver(name, notification)
            except NightshiftError as exc:
                # DeliveryError messages carry only the webhook's host, never its secret path.
                logger.warning("delivery failed", destination=name, error=str(exc))
                failures[name] = str(exc)
                continue
            self.ledger.record_delivery(inbound.message_id, name, arrived)
            delivered.append(name)

        if decision.remember is not None and not failures:
            self.ledger.remember(decision.remember)
        outcome = Outcome(
            notification=notification,
            delivered=tuple(delivered),
            already_delivered=plan.already_delivered,
            failures=failures,
            unrouted=routing.fallback,
        )
        if failures:
            raise UndeliveredError(outcome)
        return outcome

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

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        names = ", ".join(sorted(outcome.failures))
        super().__init__(names, "; ".join(outcome.failures.values()))


class UnroutedError(DeliveryError):
    """No route matched and the policy has no fallback (a policy without a notify section):
    the record fails visibly instead of being acknowledged with no delivery."""

    def __init__(self, reason: str) -> None:
        super().__init__("(no destination)", reason)
