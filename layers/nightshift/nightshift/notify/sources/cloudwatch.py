"""CloudWatch alarm notifications as SNS delivers them: metric, metric math, anomaly band and
composite alarms, in ALARM, OK and INSUFFICIENT_DATA.

Quirks handled (see tests/fixtures/reference/README.md): `Message` is a JSON string; `Region` is a
display name ("Europe (Frankfurt)"), so the region code comes from `AlarmArn`; dimensions use
lower-case `name`/`value`; metric-math alarms have `Trigger.Metrics[]` and no `MetricName`;
anomaly alarms have `ThresholdMetricId` and no `Threshold`; composite alarms have no `Trigger`
but `AlarmRule` and `TriggeringChildren`. The datapoints and the threshold they crossed exist only
in the reason text, so they are read from it where present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from nightshift.notify.console import Graph, alarm_url, metrics_url
from nightshift.notify.events import Inbound
from nightshift.notify.model import Fact, Link, Notification, Severity, Source, State
from nightshift.notify.render.presentation import shown_time
from nightshift.notify.sources.message import Message, Recogniser
from nightshift.notify.sources.reading import (
    UnreadableMessage,
    arn_account,
    arn_partition,
    arn_region,
    duration_text,
    instant,
    iso_instant,
    mappings,
    number_text,
    optional_mapping,
    optional_number,
    optional_text,
    required_text,
)


class AlarmKind(StrEnum):
    METRIC = "metric"
    METRIC_MATH = "metric math"
    ANOMALY_DETECTION = "anomaly detection"
    COMPOSITE = "composite"


_STATES = {
    "ALARM": State.ALARM,
    "OK": State.OK,
    "INSUFFICIENT_DATA": State.INSUFFICIENT_DATA,
}
_TITLE_WORDS = {
    State.ALARM: "ALARM",
    State.OK: "RESOLVED",
    State.INSUFFICIENT_DATA: "INSUFFICIENT DATA",
}
# An OK keeps the alarm's severity, so routes by severity send the resolution where the alarm went.
_SEVERITIES = {
    State.ALARM: Severity.CRITICAL,
    State.OK: Severity.CRITICAL,
    State.INSUFFICIENT_DATA: Severity.WARNING,
}
_COMPARISONS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
    "GreaterThanUpperThreshold": "above the band",
    "LessThanLowerThreshold": "below the band",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside the band",
}
_STATISTICS = {
    "AVERAGE": "Average",
    "SUM": "Sum",
    "MINIMUM": "Minimum",
    "MAXIMUM": "Maximum",
    "SAMPLE_COUNT": "SampleCount",
}

# "... 2 datapoints [91.4 (20/11/26 18:03:00), 87.2 (20/11/26 17:58:00)] were greater than the
# threshold (80.0) ..." -- the only place the values that crossed the threshold appear.
_CROSSED = re.compile(
    r"datapoints? \[(?P<points>[^\]]{1,2000})\] (?:was|were) [a-z ]{1,60}? ?the threshold "
    r"\((?P<threshold>[^)]{1,40})\)"
)
_POINT = re.compile(r"(?P<value>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?) \((?P<when>[^)]*)\)")
# Anomaly alarms name the band's edges instead: "... greater than the upper thresholds [0.85, ...]"
_BAND = re.compile(r"(?P<edge>upper|lower) thresholds \[(?P<values>[^\]]{1,2000})\]")
# Only a link the description calls a runbook ("Runbook: https://..."): any other URL in it
# (say, the endpoint a canary probes) is not what to do.
_RUNBOOK = re.compile(r"runbook\W{0,3}(https?://[^\s<>\"')]+)", re.IGNORECASE)
_ALARM_ARN = re.compile(r"arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d+:alarm:")
_METRIC_WINDOW_BEFORE = timedelta(hours=3)
_METRIC_WINDOW_AFTER = timedelta(minutes=30)
_MAX_CHILD_LINKS = 4


def claims(message: Message) -> bool:
    document = message.json_object
    return (
        document is not None
        and "AlarmName" in document
        and ("NewStateValue" in document or "AlarmArn" in document)
    )


def read(message: Message) -> Notification:
    """Turn a CloudWatch alarm's SNS message into a Notification.

    >>> from nightshift.notify.events import Inbound
    >>> body = ('{"AlarmName": "cpu", "NewStateValue": "OK", "OldStateValue": "ALARM",'
    ...         ' "AlarmArn": "arn:aws:cloudwatch:eu-central-1:111122223333:alarm:cpu"}')
    >>> n = read(Message.of(Inbound("m-1", None, body, None, None)))
    >>> n.title, n.state.value, n.region
    ('RESOLVED: cpu', 'ok', 'eu-central-1')
    """
    document = message.json_object
    if document is None:
        raise UnreadableMessage("the message is not a JSON object")
    return alarm_notification(document, message.inbound)


def alarm_notification(
    document: Mapping[str, Any], inbound: Inbound, region: str | None = None
) -> Notification:
    """The Notification of an alarm's state change in the SNS message's fields: the one reading
    of an alarm, which EventBridge's *CloudWatch Alarm State Change* event reaches too
    (sources.cloudwatch_event turns its fields into these). `region` is where the alarm is when
    its ARN does not say; without either, the Region of the topic that delivered it."""
    name = required_text(document, "AlarmName")
    new_state = required_text(document, "NewStateValue")
    state = _STATES.get(new_state)
    if state is None:
        raise UnreadableMessage(f"field 'NewStateValue': unknown alarm state {new_state!r}")
    old_state = optional_text(document, "OldStateValue")
    reason = optional_text(document, "NewStateReason")
    arn = optional_text(document, "AlarmArn")
    region = arn_region(arn) or region or arn_region(inbound.topic_arn)
    partition = arn_partition(arn)
    trigger = optional_mapping(document, "Trigger")
    kind = _kind(document, trigger)
    changed = optional_text(document, "StateChangeTime")

    description = optional_text(document, "AlarmDescription")
    condition = _condition_facts(trigger, reason) if trigger is not None else []
    # The reason is CloudWatch's wording of the value against the threshold: shown only when
    # the value could not be read from it (people read "Value" first, at 3 a.m.).
    said = any(fact.label == "Value" for fact in condition)
    facts = [Fact("Reason", reason)] if reason and not said else []
    facts.append(Fact("State", f"{old_state} → {new_state}" if old_state else new_state))
    if state is State.ALARM and shown_time(iso_instant(changed)):
        facts.append(Fact("Since", shown_time(iso_instant(changed)) or ""))
    # A link in the description is the alarm's runbook: what to do comes first.
    links = [Link("Runbook", u.rstrip(".,;:")) for u in _RUNBOOK.findall(description or "")[:1]]
    if region:
        links.append(Link("Alarm", alarm_url(region, name, partition)))
    if kind is AlarmKind.COMPOSITE:
        facts.extend(_composite_facts(document))
        links.extend(_child_links(document, region, partition))
    elif trigger is not None:
        facts.extend(condition)
        graph = _graph(trigger, changed)
        if region and graph is not None:
            links.append(Link("Metric", metrics_url(region, graph, partition)))
    if kind is not AlarmKind.METRIC:
        facts.append(Fact("Alarm type", kind.value))

    was = f" from {old_state}" if old_state else ""
    return Notification(
        source=Source.CLOUDWATCH_ALARM,
        severity=_severity(state, description),
        state=state,
        title=f"{_TITLE_WORDS[state]}: {name}",
        name=name,
        summary=description or f"The {kind.value} alarm {name} changed{was} to {new_state}.",
        facts=tuple(facts),
        links=tuple(links),
        dedup_key=f"cloudwatch-alarm:{arn}" if arn else f"cloudwatch-alarm:{region}:{name}",
        raw=inbound.body,
        occurred_at=iso_instant(changed) or inbound.timestamp,
        region=region,
        account=optional_text(document, "AWSAccountId") or arn_account(arn),
        previous_state=_STATES.get(old_state or ""),
    )


RECOGNISER = Recogniser(
    source=Source.CLOUDWATCH_ALARM, describes="a CloudWatch alarm", claims=claims, read=read
)


def _kind(document: Mapping[str, Any], trigger: Mapping[str, Any] | None) -> AlarmKind:
    if trigger is None:
        return AlarmKind.COMPOSITE if "AlarmRule" in document else AlarmKind.METRIC
    if "ThresholdMetricId" in trigger:
        return AlarmKind.ANOMALY_DETECTION
    if any("Expression" in metric for metric in mappings(trigger, "Metrics")):
        return AlarmKind.METRIC_MATH
    return AlarmKind.METRIC


def _condition_facts(trigger: Mapping[str, Any], reason: str | None) -> list[Fact]:
    """Value first (what people need at 3 a.m.), then the threshold, then what is measured."""
    comparison = optional_text(trigger, "ComparisonOperator")
    operator = _COMPARISONS.get(comparison or "", comparison or "")
    threshold = optional_number(trigger, "Threshold")
    condition = " ".join(
        part for part in (operator, number_text(threshold) if threshold is not None else "") if part
    )
    stated = number_text(threshold) if threshold is not None else None
    value, details = _reason_facts(reason or "", operator, stated)
    measured = (
        _single_metric_facts(trigger) if "MetricName" in trigger else _metric_list_facts(trigger)
    )
    return [*value, Fact("Threshold", _evaluation(condition, trigger)), *measured, *details]


def _single_metric_facts(trigger: Mapping[str, Any]) -> list[Fact]:
    metric = " ".join(
        part
        for part in (optional_text(trigger, "Namespace"), optional_text(trigger, "MetricName"))
        if part
    )
    statistic = _statistic(trigger)
    period = duration_text(optional_number(trigger, "Period"))
    how = f"{statistic} over {period}" if statistic and period else statistic
    # One line: what is measured, how, and of what ("AWS/ECS CPUUtilization · Average over
    # 5 min · ServiceName=api").
    return [
        Fact("Metric", " · ".join(part for part in (metric, how, _dimensions(trigger)) if part))
    ]


def _metric_list_facts(trigger: Mapping[str, Any]) -> list[Fact]:
    band_id = optional_text(trigger, "ThresholdMetricId")
    facts = []
    for metric in mappings(trigger, "Metrics"):
        metric_id = optional_text(metric, "Id") or "?"
        expression = optional_text(metric, "Expression")
        label = optional_text(metric, "Label")
        if expression and metric_id == band_id:
            facts.append(Fact("Band", f"{expression} ({label})" if label else expression))
        elif expression:
            facts.append(
                Fact(f"Expression {metric_id}", f"{label} = {expression}" if label else expression)
            )
        else:
            facts.append(Fact(f"Metric {metric_id}", _metric_stat_text(metric)))
    return facts


def _metric_stat_text(metric: Mapping[str, Any]) -> str:
    stat = optional_mapping(metric, "MetricStat") or {}
    inner = optional_mapping(stat, "Metric") or {}
    name = " ".join(
        part
        for part in (optional_text(inner, "Namespace"), optional_text(inner, "MetricName"))
        if part
    )
    statistic = optional_text(stat, "Stat")
    period = duration_text(optional_number(stat, "Period"))
    parts = [
        name or "(metric not named)",
        f"{statistic} over {period}" if statistic and period else statistic,
        _dimensions(inner),
    ]
    return " · ".join(part for part in parts if part)


def _statistic(trigger: Mapping[str, Any]) -> str | None:
    extended = optional_text(trigger, "ExtendedStatistic")
    if extended:
        return extended
    statistic = optional_text(trigger, "Statistic")
    return _STATISTICS.get(statistic or "", statistic)


def _dimensions(metric: Mapping[str, Any]) -> str:
    pairs = (_dimension(d) for d in mappings(metric, "Dimensions"))
    return ", ".join(f"{name}={value}" for name, value in pairs if name)


def _dimension(dimension: Mapping[str, Any]) -> tuple[str, str]:
    # SNS writes lower-case name/value; the API and EventBridge write Name/Value.
    name = optional_text(dimension, "name") or optional_text(dimension, "Name") or ""
    value = optional_text(dimension, "value") or optional_text(dimension, "Value") or ""
    return name, value


def _evaluation(condition: str, trigger: Mapping[str, Any]) -> str:
    periods = optional_number(trigger, "EvaluationPeriods")
    to_alarm = optional_number(trigger, "DatapointsToAlarm") or periods
    period = duration_text(optional_number(trigger, "Period"))
    text = condition or "(not stated)"
    if periods and to_alarm:
        text += f" for {number_text(to_alarm)} of {number_text(periods)} datapoints"
        if period:
            text += f" of {period}"
    return text


def _reason_facts(
    reason: str, operator: str, threshold: str | None
) -> tuple[list[Fact], list[Fact]]:
    """(the value against its threshold, further datapoints) as far as the reason text says."""
    crossed = _CROSSED.search(reason)
    if crossed:
        points = [point.group() for point in _POINT.finditer(crossed["points"])]
        latest = _POINT.search(crossed["points"])
        if latest is None:
            return [], []
        against = " ".join(part for part in (operator, threshold or crossed["threshold"]) if part)
        value = [Fact("Value", f"{latest['value']} vs threshold {against}")]
        return value, [Fact("Datapoints", ", ".join(points))] if len(points) > 1 else []
    band = _BAND.search(reason)
    if band:
        return [], [Fact(f"{band['edge'].capitalize()} band", band["values"].strip())]
    return [], []


def _composite_facts(document: Mapping[str, Any]) -> list[Fact]:
    facts = []
    rule = optional_text(document, "AlarmRule")
    if rule:
        facts.append(Fact("Rule", _ALARM_ARN.sub("", rule)))
    triggered = []
    for child in mappings(document, "TriggeringChildren"):
        state = optional_mapping(child, "State") or {}
        value = optional_text(state, "Value")
        since = iso_instant(optional_text(state, "Timestamp"))
        detail = " since ".join(part for part in (value, since) if part)
        name = _child_name(child)
        triggered.append(f"{name} ({detail})" if detail else name)
    if triggered:
        facts.append(Fact("Triggered by", "; ".join(triggered)))
    return facts


def _child_links(
    document: Mapping[str, Any], region: str | None, partition: str | None
) -> list[Link]:
    links = []
    for child in mappings(document, "TriggeringChildren")[:_MAX_CHILD_LINKS]:
        arn = optional_text(child, "Arn")
        child_region = arn_region(arn) or region
        if child_region:
            name = _child_name(child)
            links.append(Link(f"Alarm {name}", alarm_url(child_region, name, partition)))
    return links


def _child_name(child: Mapping[str, Any]) -> str:
    arn = optional_text(child, "Arn") or "(unnamed)"
    return arn.rsplit(":alarm:", 1)[-1]


def _graph(trigger: Mapping[str, Any], changed: str | None) -> dict[str, Graph] | None:
    metrics: list[Graph]
    if "MetricName" in trigger:
        dimensions = [item for pair in _dimension_pairs(trigger) for item in pair]
        options: dict[str, Graph] = {}
        statistic = _statistic(trigger)
        period = optional_number(trigger, "Period")
        if statistic:
            options["stat"] = statistic
        if period:
            options["period"] = int(period)
        metrics = [
            [
                optional_text(trigger, "Namespace") or "",
                optional_text(trigger, "MetricName") or "",
                *dimensions,
                options,
            ]
        ]
    else:
        metrics = [_graph_metric(metric) for metric in mappings(trigger, "Metrics")]
        if not metrics:
            return None
    graph: dict[str, Graph] = {"metrics": metrics, "view": "timeSeries", "stacked": False}
    moment = instant(changed)
    if moment is not None:
        graph["start"] = _console_time(moment - _METRIC_WINDOW_BEFORE)
        graph["end"] = _console_time(moment + _METRIC_WINDOW_AFTER)
    return graph


def _graph_metric(metric: Mapping[str, Any]) -> Graph:
    metric_id = optional_text(metric, "Id") or "m"
    expression = optional_text(metric, "Expression")
    label = optional_text(metric, "Label")
    if expression:
        options: dict[str, Graph] = {"expression": expression, "id": metric_id}
        if label:
            options["label"] = label
        return [options]
    stat = optional_mapping(metric, "MetricStat") or {}
    inner = optional_mapping(stat, "Metric") or {}
    dimensions = [item for pair in _dimension_pairs(inner) for item in pair]
    options = {"id": metric_id}
    statistic = optional_text(stat, "Stat")
    period = optional_number(stat, "Period")
    if statistic:
        options["stat"] = statistic
    if period:
        options["period"] = int(period)
    if metric.get("ReturnData") is False:
        options["visible"] = False
    return [
        optional_text(inner, "Namespace") or "",
        optional_text(inner, "MetricName") or "",
        *dimensions,
        options,
    ]


def _dimension_pairs(metric: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [pair for pair in map(_dimension, mappings(metric, "Dimensions")) if pair[0]]


def _console_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _severity(state: State, description: str | None) -> Severity:
    """An alarm whose description starts with "Warning:" is a warning, not a page (the canary's
    certificate alarms do; any alarm can). INSUFFICIENT_DATA is always a warning.

    >>> _severity(State.ALARM, "Warning: the certificate expires in 14 days").value
    'warning'
    >>> _severity(State.OK, "CPU utilization is too high").value
    'critical'
    """
    if description and description.lstrip().lower().startswith("warning:"):
        return Severity.WARNING
    return _SEVERITIES[state]
