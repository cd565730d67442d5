"""Each destination gets a message once, across SQS retries and SNS redeliveries."""

from __future__ import annotations

import pytest

from nightshift.notify.plan import DeliveryPlan, ledger_key, plan_delivery


@pytest.mark.parametrize(
    ("destinations", "delivered", "plan"),
    [
        (("oncall", "ops"), set(), DeliveryPlan(("oncall", "ops"), (), "first delivery")),
        (
            ("oncall", "ops"),
            {"oncall"},
            DeliveryPlan(("ops",), ("oncall",), "redelivery: oncall already have it"),
        ),
        (
            ("oncall", "ops"),
            {"ops", "oncall"},
            DeliveryPlan((), ("oncall", "ops"), "redelivery: every destination already has it"),
        ),
        ((), {"oncall"}, DeliveryPlan((), (), "no destinations")),
        (("ops",), {"retired"}, DeliveryPlan(("ops",), (), "first delivery")),
    ],
)
def test_only_destinations_without_the_message_are_planned(
    destinations: tuple[str, ...], delivered: set[str], plan: DeliveryPlan
) -> None:
    assert plan_delivery(destinations, delivered) == plan


def test_ledger_key_joins_message_and_destination() -> None:
    assert ledger_key("6f2c1a9e-0b5d-5e0c-9a77-2d1f0e8c4b10", "oncall") == (
        "6f2c1a9e-0b5d-5e0c-9a77-2d1f0e8c4b10#oncall"
    )
