"""SNS redeliveries and SQS retries: each destination gets a message once.

The caller keeps a ledger of `ledger_key(message_id, destination)` for each successful delivery
(with a TTL longer than the queue's retention); this pure plan says which destinations are still
owed the message.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass


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
