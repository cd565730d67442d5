"""EventBridge's *CloudWatch Alarm State Change* events: what a member account's spoke sends the
hub's ops topic for every alarm there (spoke.yaml, EventsToHubRule; docs/organization.md).

The event says what an alarm's SNS message says, in other words: `detail.alarmName`,
`detail.state` and `detail.previousState` (`value`, `reason`, `reasonData`, `timestamp`),
`detail.configuration` (`description`, `metrics[]` with `metricStat.metric.name` and
dimensions as an object, or `alarmRule` for a composite alarm), the alarm's ARN in
`resources[0]`, and the account and Region at the top. A state change's configuration usually
has no comparison or threshold: the threshold is in `reasonData`, the comparison only in the
reason's words ("was greater than the threshold"). A composite alarm's triggering children
are in `state.reasonData` (`triggeringAlarms`).

Its fields are turned into the SNS message's (`sns_fields`, pure) and read by the one reading of
an alarm (`cloudwatch.alarm_notification`): the same title, facts, links and severity, and the
same dedup key (`cloudwatch-alarm:<alarm ARN>`), so the notifier's memory of an alarm is one
whichever way its state changes arrive (an alarm that also notifies the hub's topic itself is
not posted twice within the repeat window).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from nightshift.notify.model import Notification, Source
from nightshift.notify.sources import cloudwatch
from nightshift.notify.sources.message import Message, Recogniser
from nightshift.notify.sources.reading import (
    UnreadableMessage,
    mappings,
    optional_mapping,
    optional_number,
    optional_text,
    required_text,
)

DETAIL_TYPE = "CloudWatch Alarm State Change"

# The reason's words for the comparison, when the configuration does not state it (an OK's
# reason says "was not greater than": the alarm's comparison is still "greater than").
_COMPARED = re.compile(
    r"(?:was|were) (?:not )?(?P<side>greater|less) than (?P<equal>or equal to )?the threshold"
)
_COMPARISONS = {
    ("greater", False): "GreaterThanThreshold",
    ("greater", True): "GreaterThanOrEqualToThreshold",
    ("less", False): "LessThanThreshold",
    ("less", True): "LessThanOrEqualToThreshold",
}
# An anomaly alarm's reason names the edges of its band it compares with.
_BAND_EDGES = re.compile(r"(?P<side>less than the lower|greater than the upper) thresholds")
_BAND_COMPARISONS = {
    frozenset({"less than the lower"}): "LessThanLowerThreshold",
    frozenset({"greater than the upper"}): "GreaterThanUpperThreshold",
    frozenset({"less than the lower", "greater than the upper"}): (
        "LessThanLowerOrGreaterThanUpperThreshold"
    ),
}
_BAND_EXPRESSION = "ANOMALY_DETECTION_BAND"
# The configuration's evaluation settings, where a state change carries them, by SNS name.
_EVALUATION = {
    "evaluationPeriods": "EvaluationPeriods",
    "datapointsToAlarm": "DatapointsToAlarm",
    "threshold": "Threshold",
    "comparisonOperator": "ComparisonOperator",
}


def claims(message: Message) -> bool:
    document = message.json_object
    return document is not None and document.get("detail-type") == DETAIL_TYPE


def read(message: Message) -> Notification:
    """Turn a CloudWatch Alarm State Change event into the Notification of its alarm.

    >>> from nightshift.notify.events import Inbound
    >>> event = {"detail-type": DETAIL_TYPE, "account": "222222222222", "region": "eu-west-1",
    ...          "resources": ["arn:aws:cloudwatch:eu-west-1:222222222222:alarm:cpu"],
    ...          "detail": {"alarmName": "cpu", "state": {"value": "ALARM"},
    ...                     "previousState": {"value": "OK"}}}
    >>> n = read(Message.of(Inbound("m-1", None, json.dumps(event), None, None)))
    >>> n.title, n.region, n.account, n.dedup_key
    ('ALARM: cpu', 'eu-west-1', '222222222222', \
'cloudwatch-alarm:arn:aws:cloudwatch:eu-west-1:222222222222:alarm:cpu')
    """
    document = message.json_object
    if document is None:
        raise UnreadableMessage("the message is not a JSON object")
    fields = sns_fields(document)
    return cloudwatch.alarm_notification(fields, message.inbound, optional_text(document, "region"))


RECOGNISER = Recogniser(
    source=Source.CLOUDWATCH_ALARM,
    describes="a CloudWatch alarm state change event",
    claims=claims,
    read=read,
)


def sns_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """The alarm's SNS message fields that the event holds (UnreadableMessage when it lacks the
    alarm's name or new state).

    >>> event = {"account": "222222222222", "resources": [], "detail": {
    ...     "alarmName": "cpu", "state": {"value": "OK", "reason": "Threshold Crossed: 1 out of "
    ...     "the last 1 datapoints [3.0 (02/10/19 16:59:00)] was not greater than the threshold "
    ...     "(50.0)", "reasonData": "{\\"threshold\\": 50.0}"}, "configuration": {"metrics": [
    ...     {"id": "m1", "metricStat": {"metric": {"namespace": "AWS/EC2", "name": "CPUUtilization",
    ...      "dimensions": {"InstanceId": "i-1"}}, "period": 300, "stat": "Average"}}]}}}
    >>> fields = sns_fields(event)
    >>> fields["NewStateValue"], fields["AWSAccountId"], fields["Trigger"]["ComparisonOperator"]
    ('OK', '222222222222', 'GreaterThanThreshold')
    >>> fields["Trigger"]["Threshold"], fields["Trigger"]["Dimensions"]
    (50.0, [{'name': 'InstanceId', 'value': 'i-1'}])
    """
    detail = optional_mapping(event, "detail")
    if detail is None:
        raise UnreadableMessage("field 'detail': expected an object")
    state = optional_mapping(detail, "state")
    if state is None:
        raise UnreadableMessage("field 'detail.state': expected an object")
    previous = optional_mapping(detail, "previousState") or {}
    configuration = optional_mapping(detail, "configuration") or {}
    reason = optional_text(state, "reason")
    fields: dict[str, Any] = {
        "AlarmName": required_text(detail, "alarmName"),
        "NewStateValue": required_text(state, "value"),
        "OldStateValue": optional_text(previous, "value"),
        "NewStateReason": reason,
        "StateChangeTime": optional_text(state, "timestamp") or optional_text(event, "time"),
        "AlarmDescription": optional_text(configuration, "description"),
        "AWSAccountId": optional_text(event, "account"),
        "AlarmArn": _alarm_arn(event),
    }
    reason_data = _reason_data(state)
    rule = optional_text(configuration, "alarmRule")
    if rule is not None:
        fields["AlarmRule"] = rule
        fields["TriggeringChildren"] = [
            {"Arn": optional_text(child, "arn"), "State": _child_state(child)}
            for child in mappings(reason_data, "triggeringAlarms")
        ]
    else:
        trigger = _trigger(configuration, reason_data, reason or "")
        if trigger is not None:
            fields["Trigger"] = trigger
    return {key: value for key, value in fields.items() if value is not None}


def _alarm_arn(event: Mapping[str, Any]) -> str | None:
    resources = event.get("resources")
    if isinstance(resources, list):
        for resource in resources:
            if isinstance(resource, str) and ":alarm:" in resource:
                return resource
    return None


def _reason_data(state: Mapping[str, Any]) -> Mapping[str, Any]:
    """`reasonData`, a JSON string; {} when absent or unreadable (it only adds detail)."""
    text = optional_text(state, "reasonData")
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, Mapping) else {}


def _child_state(child: Mapping[str, Any]) -> dict[str, str]:
    state = optional_mapping(child, "state") or {}
    pairs = (
        ("Value", optional_text(state, "value")),
        ("Timestamp", optional_text(state, "timestamp")),
    )
    return {key: value for key, value in pairs if value is not None}


def _trigger(
    configuration: Mapping[str, Any], reason_data: Mapping[str, Any], reason: str
) -> dict[str, Any] | None:
    metrics = mappings(configuration, "metrics")
    if not metrics:
        return None
    trigger: dict[str, Any]
    band = None
    single = len(metrics) == 1 and optional_text(metrics[0], "expression") is None
    if single:
        stat = optional_mapping(metrics[0], "metricStat") or {}
        metric = optional_mapping(stat, "metric") or {}
        trigger = {
            "MetricName": optional_text(metric, "name"),
            "Namespace": optional_text(metric, "namespace"),
            "Statistic": optional_text(stat, "stat"),
            "Period": optional_number(stat, "period"),
            "Dimensions": _dimensions(metric),
        }
    else:
        trigger = {"Metrics": [_metric(metric) for metric in metrics]}
        band = next(
            (
                optional_text(metric, "id")
                for metric in metrics
                if (optional_text(metric, "expression") or "").startswith(_BAND_EXPRESSION)
            ),
            None,
        )
        trigger["ThresholdMetricId"] = band
    for name, sns_name in _EVALUATION.items():
        trigger[sns_name] = configuration.get(name)
    if trigger["Threshold"] is None and band is None:
        trigger["Threshold"] = optional_number(reason_data, "threshold")
    if trigger["ComparisonOperator"] is None:
        trigger["ComparisonOperator"] = _comparison(reason, banded=band is not None)
    return {key: value for key, value in trigger.items() if value is not None}


def _comparison(reason: str, banded: bool) -> str | None:
    """The comparison operator the reason's words describe, as the API names it.

    >>> _comparison("1 datapoint [91.4 (20/11/26 18:03:00)] was greater than the threshold "
    ...             "(80.0)", banded=False)
    'GreaterThanThreshold'
    >>> _comparison("[0.0 (03/10/19 15:58:00)] was less than the lower thresholds [0.02] or "
    ...             "greater than the upper thresholds [0.3]", banded=True)
    'LessThanLowerOrGreaterThanUpperThreshold'
    """
    if banded:
        edges = frozenset(found["side"] for found in _BAND_EDGES.finditer(reason))
        return _BAND_COMPARISONS.get(edges)
    compared = _COMPARED.search(reason)
    if compared is None:
        return None
    return _COMPARISONS[(compared["side"], compared["equal"] is not None)]


def _metric(metric: Mapping[str, Any]) -> dict[str, Any]:
    stat = optional_mapping(metric, "metricStat")
    inner = optional_mapping(stat or {}, "metric") or {}
    fields: dict[str, Any] = {
        "Id": optional_text(metric, "id"),
        "Expression": optional_text(metric, "expression"),
        "Label": optional_text(metric, "label"),
        "ReturnData": metric.get("returnData"),
    }
    if stat is not None:
        fields["MetricStat"] = {
            "Metric": {
                "Namespace": optional_text(inner, "namespace"),
                "MetricName": optional_text(inner, "name"),
                "Dimensions": _dimensions(inner),
            },
            "Period": optional_number(stat, "period"),
            "Stat": optional_text(stat, "stat"),
        }
    return {key: value for key, value in fields.items() if value is not None}


def _dimensions(metric: Mapping[str, Any]) -> list[dict[str, str]]:
    """EventBridge's `{"InstanceId": "i-1"}` as SNS's `[{"name": ..., "value": ...}]`."""
    dimensions = optional_mapping(metric, "dimensions") or {}
    return [
        {"name": str(name), "value": value}
        for name, value in dimensions.items()
        if isinstance(value, str)
    ]
