"""What to send where, with the reasons: the notifier's pure plan for one message.

1. `plan_message`: the alarm memory decides whether the message is a repeat to suppress
   (`suppression.decide`), and the policy's routes pick its destinations (`routing`).
2. `plan_delivery`: SNS redeliveries and SQS retries reach each destination once. The caller
   keeps a ledger of `ledger_key(message_id, destination)` for each successful delivery (with a
   TTL longer than the queue's retention); this plan says which destinations are still owed it.

No I/O, no clock: the caller loads the memory and the ledger and passes the time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from nightshift.notify.model import Notification
from nightshift.notify.routing import NotifyPolicy, RoutingDecision
from nightshift.notify.suppression import AlarmMemory, decide, event_time, paired


@dataclass(frozen=True)
class MessagePlan:
    """Send `notification` (with its annotation applied) to `routing.destinations`, or suppress
    it (`send` False, `reason` says why); store `remember` once every destination has it (at
    once when suppressed: a new alarm's first verdict is remembered, not sent)."""

    notification: Notification
    send: bool
    reason: str
    routing: RoutingDecision | None = None  # None when suppressed
    remember: AlarmMemory | None = None


def plan_message(
    n: Notification,
    memory: AlarmMemory | None,
    arrived: datetime,
    policy: NotifyPolicy,
    message_id: str,
) -> MessagePlan:
    """Suppress `n` as a repeat of what `memory` holds, or route it; `arrived` (when SQS got the
    message) dates a notification that does not say when it happened.

    >>> from datetime import UTC
    >>> from nightshift.notify.model import Severity, Source, State
    >>> policy = NotifyPolicy.from_section({
    ...     "destinations": {"oncall": {"type": "slack", "secret": "s1"}}, "fallback": "oncall"})
    >>> alarm = Notification(Source.CLOUDWATCH_ALARM, Severity.CRITICAL, State.ALARM,
    ...                      "ALARM: cpu", "cpu", "", (), (), "cw:cpu", "")
    >>> plan = plan_message(alarm, None, datetime(2026, 11, 20, tzinfo=UTC), policy, "m-1")
    >>> plan.send, plan.reason, plan.routing.destinations
    (True, 'first ALARM on record', ('oncall',))
    """
    n, _ = paired(n, memory)
    if n.dedup_key != (memory.dedup_key if memory else n.dedup_key):
        memory = None  # a resolve with no open page is routine under its own key
    decision = decide(
        n, memory, event_time(n, arrived), policy.repeat_window, message_id=message_id
    )
    if not decision.send:
        return MessagePlan(n, send=False, reason=decision.reason, remember=decision.remember)
    annotated = decision.applied_to(n)
    return MessagePlan(
        annotated,
        send=True,
        reason=decision.reason,
        routing=policy.route(annotated),
        remember=decision.remember,
    )


@dataclass(frozen=True)
class DeliveryPlan:
    send_to: tuple[str, ...]
    already_delivered: tuple[str, ...]
    reason: str


def ledger_key(message_id: str, destination: str) -> str:
    """>>> ledger_key("6f2c1a9e", "oncall")
    '6f2c1a9e#oncall'
    """
    return f"{message_id}#{destination}"


def plan_delivery(destinations: Sequence[str], delivered: Collection[str]) -> DeliveryPlan:
    """Which of `destinations` still need the message, given those the ledger says have it.

    >>> plan = plan_delivery(("oncall", "ops"), {"oncall"})
    >>> plan.send_to, plan.reason
    (('ops',), 'redelivery: oncall already have it')
    """
    send_to = tuple(name for name in destinations if name not in delivered)
    already = tuple(name for name in destinations if name in delivered)
    if not destinations:
        reason = "no destinations"
    elif not already:
        reason = "first delivery"
    elif not send_to:
        reason = "redelivery: every destination already has it"
    else:
        reason = f"redelivery: {', '.join(already)} already have it"
    return DeliveryPlan(send_to=send_to, already_delivered=already, reason=reason)
