"""Cost Anomaly Detection alerts as SNS delivers them."""

from __future__ import annotations

import json

import pytest

from nightshift.notify.events import Inbound
from nightshift.notify.model import Notification, Severity, Source, State
from nightshift.notify.sources import parse

from .fixtures import envelope, notification

REFERENCE = json.loads(envelope("cost-anomaly")["Message"])


def anomaly(**changes: object) -> Notification:
    document = {**REFERENCE, **changes}
    return parse(Inbound("m-1", None, json.dumps(document), None, None))


def facts(n: Notification) -> dict[str, str]:
    return {fact.label: fact.value for fact in n.facts}


def test_cost_anomaly_shows_impact_spend_root_cause_and_link() -> None:
    n = notification("cost-anomaly")

    assert (n.source, n.state, n.severity) == (Source.COST_ANOMALY, State.ALARM, Severity.WARNING)
    assert n.title == "Cost anomaly: +$38.50 (+283%) in Amazon Relational Database Service"
    shown = facts(n)
    assert shown["Impact"] == "+$38.50 (+283%)"
    assert shown["Spend"] == "$52.10 actual vs $13.60 expected"
    assert shown["Monitor"] == "todoapp-services"
    assert shown["Period"] == "2026-11-18 to 2026-11-19"
    assert shown["Score"] == "0.82 (max 0.82)"
    assert shown["Root cause 1"] == (
        "Amazon Relational Database Service · eu-central-1 · EUC1-InstanceUsage:db.r6g.large · "
        "account todoapp-staging (111122223333)"
    )
    assert n.links[0].url == REFERENCE["anomalyDetailsLink"]
    assert n.dedup_key == "cost-anomaly:9d1a3f7e-2b4c-4e6d-8f0a-1b3c5d7e9f11"
    assert n.name == "todoapp-services"


def test_eventbridge_spelling_of_the_dimension_is_read_too() -> None:
    document = {k: v for k, v in REFERENCE.items() if k != "dimensionalValue"}
    document["dimensionValue"] = "Amazon Elastic Compute Cloud - Compute"

    n = parse(Inbound("m-1", None, json.dumps(document), None, None))

    assert facts(n)["Service"] == "Amazon Elastic Compute Cloud - Compute"


def test_an_ongoing_anomaly_has_no_end_date() -> None:
    document = {k: v for k, v in REFERENCE.items() if k != "anomalyEndDate"}

    n = parse(Inbound("m-1", None, json.dumps(document), None, None))

    assert facts(n)["Period"] == "since 2026-11-18"


def test_many_root_causes_are_capped_with_a_count() -> None:
    cause = REFERENCE["rootCauses"][0]

    n = anomaly(rootCauses=[cause] * 8)

    assert [label for label in facts(n) if label.startswith("Root cause")] == [
        f"Root cause {i}" for i in range(1, 6)
    ]
    assert facts(n)["More root causes"] == "3"


@pytest.mark.parametrize(
    "changes",
    [{"impact": "big"}, {"impact": {"totalImpact": "38.5"}}, {"anomalyId": None}],
)
def test_an_anomaly_without_impact_or_id_falls_back_to_raw(changes: dict[str, object]) -> None:
    n = anomaly(**changes)

    assert n.source is Source.UNRECOGNISED
    assert "Cost Anomaly Detection alert but could not be read" in n.facts[0].value
