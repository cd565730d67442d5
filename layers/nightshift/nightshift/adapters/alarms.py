"""CloudWatch metric alarms the canary keeps: read under a name prefix, put, delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from nightshift.canary.alarms import AlarmSpec
from nightshift.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

# PutMetricAlarm allows a few calls a second per account: adaptive mode paces us when throttled.
RETRIES = Config(retries={"mode": "adaptive", "total_max_attempts": 5})
DELETE_BATCH = 100  # DeleteAlarms takes at most 100 names


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "cloudwatch:DescribeAlarms",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DeleteAlarms",
    }
)


class MetricAlarms:
    def __init__(self, client: CloudWatchClient | None = None) -> None:
        self._client = client or boto3.client("cloudwatch", config=RETRIES)

    def existing(self, prefix: str) -> tuple[AlarmSpec, ...]:
        """Every metric alarm whose name starts with `prefix`."""
        paginator = self._client.get_paginator("describe_alarms")
        try:
            pages = paginator.paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"])
            return tuple(_spec(alarm) for page in pages for alarm in page.get("MetricAlarms", ()))
        except ClientError as exc:
            raise AwsError.from_client_error("DescribeAlarms", exc) from exc

    def put(self, spec: AlarmSpec) -> None:
        """Create or replace the alarm named `spec.name` (PutMetricAlarm replaces it whole)."""
        try:
            self._client.put_metric_alarm(
                AlarmName=spec.name,
                AlarmDescription=spec.description,
                Namespace=spec.namespace,
                MetricName=spec.metric_name,
                Dimensions=[{"Name": name, "Value": value} for name, value in spec.dimensions],
                Statistic=spec.statistic,  # type: ignore[arg-type]
                Period=spec.period,
                EvaluationPeriods=spec.evaluation_periods,
                DatapointsToAlarm=spec.datapoints_to_alarm,
                Threshold=spec.threshold,
                ComparisonOperator=spec.comparison,  # type: ignore[arg-type]
                TreatMissingData=spec.treat_missing_data,
                AlarmActions=list(spec.alarm_actions),
                OKActions=list(spec.ok_actions),
                ActionsEnabled=spec.actions_enabled,
            )
        except ClientError as exc:
            raise AwsError.from_client_error("PutMetricAlarm", exc) from exc

    def delete(self, names: Sequence[str]) -> None:
        for start in range(0, len(names), DELETE_BATCH):
            try:
                self._client.delete_alarms(AlarmNames=list(names[start : start + DELETE_BATCH]))
            except ClientError as exc:
                raise AwsError.from_client_error("DeleteAlarms", exc) from exc


def _spec(alarm: Mapping[str, Any]) -> AlarmSpec:
    """An alarm as CloudWatch describes it. A metric-math alarm has no MetricName: it reads as
    empty, differs from what the canary wants, and is replaced."""
    return AlarmSpec(
        name=alarm["AlarmName"],
        description=alarm.get("AlarmDescription") or "",
        namespace=alarm.get("Namespace") or "",
        metric_name=alarm.get("MetricName") or "",
        dimensions=tuple((d["Name"], d["Value"]) for d in alarm.get("Dimensions") or ()),
        statistic=alarm.get("Statistic") or alarm.get("ExtendedStatistic") or "",
        period=int(alarm.get("Period") or 0),
        evaluation_periods=int(alarm.get("EvaluationPeriods") or 0),
        # CloudWatch leaves DatapointsToAlarm out when it equals EvaluationPeriods.
        datapoints_to_alarm=int(
            alarm.get("DatapointsToAlarm") or alarm.get("EvaluationPeriods") or 0
        ),
        threshold=float(alarm.get("Threshold") or 0.0),
        comparison=alarm.get("ComparisonOperator") or "",
        treat_missing_data=alarm.get("TreatMissingData") or "missing",
        alarm_actions=tuple(alarm.get("AlarmActions") or ()),
        ok_actions=tuple(alarm.get("OKActions") or ()),
        actions_enabled=bool(alarm.get("ActionsEnabled", True)),
    )
