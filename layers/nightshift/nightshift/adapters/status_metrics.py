"""The status page's metrics: one CloudWatch GetMetricData over the last 24 hours, an hour a point.

Per canary check (dimension Check=<name>, as the canary publishes them): Success (average: 1 when
every probe of the hour passed) and Parked (maximum). The scheduler's Stopped, Started and
DollarsSaved (dimension service=scheduler, as Powertools publishes them), summed over the day.
Pages of the answer (NextToken) are followed by botocore's paginator; one page holds them all
for up to 100 checks (2 x 100 x 24 + 3 x 24 points, under GetMetricData's 100,800).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef

RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 3})
HOUR = 3600
MAX_CHECKS = 100  # GetMetricData takes 500 queries; two a check, three for the scheduler
SCHEDULER_METRICS = ("Stopped", "Started", "DollarsSaved")

# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset({"cloudwatch:GetMetricData"})


@dataclass(frozen=True)
class DayMetrics:
    """Per check, hour start (UTC) -> value; the scheduler's sums over the day."""

    success: dict[str, dict[dt.datetime, float]] = field(default_factory=dict)
    parked: dict[str, dict[dt.datetime, float]] = field(default_factory=dict)
    scheduler: dict[str, float] = field(default_factory=dict)


class StatusMetrics:
    def __init__(self, namespace: str, client: CloudWatchClient | None = None) -> None:
        self._namespace = namespace
        self._client = client or boto3.client("cloudwatch", config=RETRIES)

    def last_day(self, checks: Sequence[str], start: dt.datetime, end: dt.datetime) -> DayMetrics:
        checks = list(checks)[:MAX_CHECKS]
        queries: list[MetricDataQueryTypeDef] = []
        for n, check in enumerate(checks):
            queries.append(self._query(f"s{n}", "Success", "Check", check, "Average"))
            queries.append(self._query(f"p{n}", "Parked", "Check", check, "Maximum"))
        for n, name in enumerate(SCHEDULER_METRICS):
            queries.append(self._query(f"r{n}", name, "service", "scheduler", "Sum"))
        pages = self._client.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries,
            StartTime=start,
            EndTime=end,
            ScanBy="TimestampAscending",
        )
        found = DayMetrics(
            success={c: {} for c in checks},
            parked={c: {} for c in checks},
            scheduler=dict.fromkeys(SCHEDULER_METRICS, 0.0),
        )
        try:
            for page in pages:
                for result in page.get("MetricDataResults", ()):
                    points = dict(
                        zip(result.get("Timestamps", ()), result.get("Values", ()), strict=False)
                    )
                    kind, index = result["Id"][0], int(result["Id"][1:])
                    if kind == "r":
                        found.scheduler[SCHEDULER_METRICS[index]] += sum(points.values())
                    else:
                        board = found.success if kind == "s" else found.parked
                        board[checks[index]].update(
                            {at.astimezone(dt.UTC): value for at, value in points.items()}
                        )
        except ClientError as exc:
            raise AwsError.from_client_error("GetMetricData", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("GetMetricData", exc) from exc
        return found

    def _query(
        self, query_id: str, name: str, dimension: str, value: str, stat: str
    ) -> MetricDataQueryTypeDef:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self._namespace,
                    "MetricName": name,
                    "Dimensions": [{"Name": dimension, "Value": value}],
                },
                "Period": HOUR,
                "Stat": stat,
            },
            "ReturnData": True,
        }
