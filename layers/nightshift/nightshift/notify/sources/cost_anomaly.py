"""AWS Cost Anomaly Detection alerts as SNS delivers them (JSON).

On SNS the service or dimension is `dimensionalValue`; EventBridge spells it `dimensionValue`;
both are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightshift.notify.model import Fact, Link, Notification, Severity, Source, State
from nightshift.notify.sources.message import Message, Recogniser
from nightshift.notify.sources.reading import (
    UnreadableMessage,
    dollars,
    iso_instant,
    mappings,
    number_text,
    optional_mapping,
    optional_number,
    optional_text,
    required_text,
)

_MAX_ROOT_CAUSES = 5
_ROOT_CAUSE_PARTS = ("service", "region", "usageType")


def claims(message: Message) -> bool:
    document = message.json_object
    return document is not None and "anomalyId" in document and "impact" in document


def read(message: Message) -> Notification:
    """Turn a Cost Anomaly Detection alert into a Notification.

    >>> from nightshift.notify.events import Inbound
    >>> body = ('{"anomalyId": "a-1", "dimensionalValue": "Amazon EC2",'
    ...         ' "impact": {"totalImpact": 12.5, "totalImpactPercentage": 40.0}}')
    >>> read(Message.of(Inbound("m-1", None, body, None, None))).title
    'Cost anomaly: +$12.50 (+40%) in Amazon EC2'
    """
    document = message.json_object
    if document is None:
        raise UnreadableMessage("the message is not a JSON object")
    anomaly_id = required_text(document, "anomalyId")
    impact = optional_mapping(document, "impact")
    if impact is None:
        raise UnreadableMessage("field 'impact': expected an object")
    total = optional_number(impact, "totalImpact")
    if total is None:
        total = optional_number(impact, "maxImpact")
    if total is None:
        raise UnreadableMessage("field 'impact.totalImpact': expected a number")
    share = optional_number(impact, "totalImpactPercentage")
    where = (
        optional_text(document, "dimensionalValue")
        or optional_text(document, "dimensionValue")
        or "an unnamed service"
    )
    change = f"+{dollars(total)}" + (f" (+{number_text(round(share))}%)" if share else "")
    monitor = optional_text(document, "monitorName")

    facts = [Fact("Impact", change)]
    actual = optional_number(impact, "totalActualSpend")
    expected = optional_number(impact, "totalExpectedSpend")
    if actual is not None and expected is not None:
        facts.append(Fact("Spend", f"{dollars(actual)} actual vs {dollars(expected)} expected"))
    facts.append(Fact("Service", where))
    if monitor:
        facts.append(Fact("Monitor", monitor))
    period = _period(document)
    if period:
        facts.append(Fact("Period", period))
    score = optional_mapping(document, "anomalyScore") or {}
    current = optional_number(score, "currentScore")
    if current is not None:
        highest = optional_number(score, "maxScore")
        facts.append(
            Fact(
                "Score", f"{current:g} (max {highest:g})" if highest is not None else f"{current:g}"
            )
        )
    causes = mappings(document, "rootCauses")
    facts.extend(
        Fact(f"Root cause {index}", _root_cause(cause))
        for index, cause in enumerate(causes[:_MAX_ROOT_CAUSES], start=1)
    )
    if len(causes) > _MAX_ROOT_CAUSES:
        facts.append(Fact("More root causes", str(len(causes) - _MAX_ROOT_CAUSES)))
    details = optional_text(document, "anomalyDetailsLink")
    return Notification(
        source=Source.COST_ANOMALY,
        severity=Severity.WARNING,
        state=State.ALARM,
        title=f"Cost anomaly: {change} in {where}",
        name=monitor or where,
        summary=(
            f"Cost Anomaly Detection found spend on {where} {dollars(total)} above what was "
            "expected."
        ),
        facts=tuple(facts),
        links=(Link("Anomaly details", details),) if details else (),
        dedup_key=f"cost-anomaly:{anomaly_id}",
        raw=message.inbound.body,
        occurred_at=iso_instant(message.inbound.timestamp),
        account=optional_text(document, "accountId"),
    )


RECOGNISER = Recogniser(
    source=Source.COST_ANOMALY,
    describes="a Cost Anomaly Detection alert",
    claims=claims,
    read=read,
)


def _period(document: Mapping[str, Any]) -> str | None:
    start = iso_instant(optional_text(document, "anomalyStartDate"))
    end = iso_instant(optional_text(document, "anomalyEndDate"))
    if start and end:
        return f"{start[:10]} to {end[:10]}"
    return f"since {start[:10]}" if start else None


def _root_cause(cause: Mapping[str, Any]) -> str:
    parts = [optional_text(cause, key) for key in _ROOT_CAUSE_PARTS]
    account = optional_text(cause, "linkedAccount")
    account_name = optional_text(cause, "linkedAccountName")
    if account:
        parts.append(
            f"account {account_name} ({account})" if account_name else f"account {account}"
        )
    return " · ".join(part for part in parts if part) or "(not stated)"
