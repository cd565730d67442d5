"""Metrics from what functions print: CloudWatch Logs' embedded metric format (EMF), emulated.

In AWS a function's stdout goes to CloudWatch Logs, which turns every log event that is an EMF
document into metrics; alarms then read those metrics. moto never sees the logs, so the local cloud
does it: `publish_emf(endpoint, result.logs)` reads an invocation's logs and puts each metric value
into moto with PutMetricData. `localcloud.runtime.invoke` calls it after every invocation.

The extraction (`extract_emf`) is pure and follows the EMF specification
(docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification):

- a log event is one line; it is EMF when it is a JSON object with an `_aws` member. Other lines
  (plain text, JSON log lines) are just logs;
- `_aws.Timestamp` (milliseconds since the epoch) stamps every value of the document, and a time
  CloudWatch refuses (more than two weeks old, more than two hours ahead) drops the document;
- each `CloudWatchMetrics` directive names a `Namespace`, its `Metrics` (at most 100, each a
  `Name`, an optional `Unit`, default None, and `StorageResolution`, default 60) and its
  `Dimensions`: a list of dimension sets (each at most 30 keys, possibly empty), and **every
  dimension set makes its own metric**, with the values of those keys on the root node;
- a metric's value is a number or an array of at most 100 numbers on the root node; a dimension's
  value is a non-empty string of at most 1024 characters;
- a document that breaks a rule is stored as a log line by CloudWatch Logs but yields no metric at
  all (the `rejected` list says why, as the AWS/Logs EMFValidationErrors metric would count it).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from localcloud.server import Endpoint

logger = logging.getLogger(__name__)

MAX_METRICS_PER_DIRECTIVE = 100
MAX_DIMENSION_KEYS = 30
MAX_VALUES_PER_METRIC = 100
MAX_DIMENSION_VALUE_CHARS = 1024
MAX_NAME_CHARS = 1024
MAX_DIMENSION_KEY_CHARS = 250
PAST_LIMIT = dt.timedelta(days=14)
FUTURE_LIMIT = dt.timedelta(hours=2)
STANDARD_RESOLUTION = 60
PUT_BATCH = 500  # PutMetricData takes at most 1000 datums (and 1 MB) per call
UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
        "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
        "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
        "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
        "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
    }
)  # fmt: skip


class EmfError(ValueError):
    """Why an EMF document yields no metrics."""


@dataclass(frozen=True)
class MetricValues:
    """The values one EMF document gives one metric (namespace, name and exact dimensions)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    values: tuple[float, ...]
    timestamp: dt.datetime
    unit: str = "None"
    storage_resolution: int = STANDARD_RESOLUTION

    def datum(self) -> dict[str, Any]:
        """The PutMetricData MetricDatum for these values."""
        datum: dict[str, Any] = {
            "MetricName": self.name,
            "Dimensions": [{"Name": name, "Value": value} for name, value in self.dimensions],
            "Timestamp": self.timestamp,
            "Unit": self.unit,
            "StorageResolution": self.storage_resolution,
        }
        if len(self.values) == 1:
            datum["Value"] = self.values[0]
        else:
            datum["Values"] = list(self.values)
        return datum


@dataclass(frozen=True)
class Rejection:
    """An EMF document that yields no metrics: its line in the logs and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class EmfExtraction:
    """Every metric the EMF documents of some logs give, and the documents that were rejected."""

    metrics: tuple[MetricValues, ...] = ()
    rejected: tuple[Rejection, ...] = ()

    @property
    def value_count(self) -> int:
        return sum(len(metric.values) for metric in self.metrics)


def extract_emf(logs_text: str, *, now: dt.datetime) -> EmfExtraction:
    """The metrics CloudWatch Logs would extract from `logs_text`, received at `now`.

    >>> line = ('{"_aws": {"Timestamp": 1795302240000, "CloudWatchMetrics": [{"Namespace": "N",'
    ...         ' "Dimensions": [["Check"]], "Metrics": [{"Name": "Success", "Unit": "Count"}]}]},'
    ...         ' "Check": "api", "Success": [0.0]}')
    >>> now = dt.datetime(2026, 11, 21, 23, 5, tzinfo=dt.UTC)
    >>> [(m.name, m.dimensions, m.values) for m in extract_emf(line, now=now).metrics]
    [('Success', (('Check', 'api'),), (0.0,))]
    """
    metrics: list[MetricValues] = []
    rejected: list[Rejection] = []
    for number, line in enumerate(logs_text.splitlines(), start=1):
        document = _emf_document(line)
        if document is None:
            continue
        try:
            found = document_metrics(document)
            _check_time(found, now)
        except EmfError as exc:
            rejected.append(Rejection(number, str(exc)))
            continue
        metrics.extend(found)
    return EmfExtraction(tuple(metrics), tuple(rejected))


def document_metrics(document: Mapping[str, Any]) -> tuple[MetricValues, ...]:
    """The metrics of one EMF document, one per metric and dimension set; EmfError if invalid.

    >>> document_metrics({"_aws": {"Timestamp": 0, "CloudWatchMetrics": [{"Namespace": "N",
    ...     "Dimensions": [[]], "Metrics": [{"Name": "Runs"}]}]}, "Runs": 1})[0].dimensions
    ()
    """
    metadata = document.get("_aws")
    if not isinstance(metadata, Mapping):
        raise EmfError("_aws must be an object")
    timestamp = _timestamp(metadata.get("Timestamp"))
    directives = metadata.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        raise EmfError("_aws.CloudWatchMetrics must be an array")
    metrics: list[MetricValues] = []
    for index, directive in enumerate(directives):
        where = f"_aws.CloudWatchMetrics[{index}]"
        if not isinstance(directive, Mapping):
            raise EmfError(f"{where} must be an object")
        metrics.extend(_directive_metrics(directive, document, timestamp, where))
    return tuple(metrics)


def publish_emf(endpoint: Endpoint, logs_text: str, *, now: dt.datetime | None = None) -> int:
    """Put the metrics of every EMF document in `logs_text` into moto (PutMetricData, one call
    per namespace and batch); return how many values were put. Rejected documents are logged
    and skipped, as CloudWatch Logs skips them."""
    extraction = extract_emf(logs_text, now=now or dt.datetime.now(dt.UTC))
    for rejection in extraction.rejected:
        logger.warning("EMF document on log line %d rejected: %s", rejection.line, rejection.reason)
    if not extraction.metrics:
        return 0
    client = endpoint.client("cloudwatch")
    put = 0
    for namespace, metrics in _by_namespace(extraction.metrics).items():
        for start in range(0, len(metrics), PUT_BATCH):
            batch = metrics[start : start + PUT_BATCH]
            try:
                client.put_metric_data(
                    Namespace=namespace, MetricData=[metric.datum() for metric in batch]
                )
            except ClientError as exc:
                logger.warning("PutMetricData for %s refused: %s", namespace, exc)
                continue
            put += sum(len(metric.values) for metric in batch)
    return put


# ------------------------------------------------------------------------------- the rules
def _emf_document(line: str) -> Mapping[str, Any] | None:
    text = line.strip()
    if not text.startswith("{") or '"_aws"' not in text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) and "_aws" in document else None


def _timestamp(value: Any) -> dt.datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EmfError("_aws.Timestamp must be a number of milliseconds since the epoch")
    if not math.isfinite(value) or value != int(value):
        raise EmfError(f"_aws.Timestamp must be whole milliseconds, got {value!r}")
    try:
        return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise EmfError(f"_aws.Timestamp {value!r} is not a time") from exc


def _check_time(metrics: Sequence[MetricValues], now: dt.datetime) -> None:
    if not metrics:
        return
    stamp = metrics[0].timestamp
    if stamp < now - PAST_LIMIT:
        raise EmfError(f"timestamp {stamp.isoformat()} is more than 14 days old")
    if stamp > now + FUTURE_LIMIT:
        raise EmfError(f"timestamp {stamp.isoformat()} is more than 2 hours ahead")


def _directive_metrics(
    directive: Mapping[str, Any],
    document: Mapping[str, Any],
    timestamp: dt.datetime,
    where: str,
) -> list[MetricValues]:
    namespace = directive.get("Namespace")
    if not isinstance(namespace, str) or not 1 <= len(namespace) <= MAX_NAME_CHARS:
        raise EmfError(f"{where}.Namespace must be a string of 1 to {MAX_NAME_CHARS} characters")
    dimension_sets = directive.get("Dimensions")
    if not isinstance(dimension_sets, list) or not dimension_sets:
        raise EmfError(f"{where}.Dimensions must be a non-empty array of dimension sets")
    definitions = directive.get("Metrics")
    if not isinstance(definitions, list):
        raise EmfError(f"{where}.Metrics must be an array")
    if len(definitions) > MAX_METRICS_PER_DIRECTIVE:
        raise EmfError(f"{where}.Metrics has {len(definitions)} metrics; at most 100")
    dimensions = [
        _dimension_set(keys, document, f"{where}.Dimensions[{n}]")
        for n, keys in enumerate(dimension_sets)
    ]
    metrics = []
    for n, definition in enumerate(definitions):
        name, unit, resolution = _definition(definition, f"{where}.Metrics[{n}]")
        values = _values(document, name)
        metrics.extend(
            MetricValues(namespace, name, dims, values, timestamp, unit, resolution)
            for dims in dict.fromkeys(dimensions)  # the same set twice is one metric
        )
    return metrics


def _dimension_set(
    keys: Any, document: Mapping[str, Any], where: str
) -> tuple[tuple[str, str], ...]:
    if not isinstance(keys, list) or len(keys) > MAX_DIMENSION_KEYS:
        raise EmfError(f"{where} must be an array of at most {MAX_DIMENSION_KEYS} keys")
    dimensions = []
    for key in keys:
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_DIMENSION_KEY_CHARS:
            raise EmfError(f"{where}: a dimension key must be a string of 1 to 250 characters")
        value = document.get(key)
        if not isinstance(value, str) or not value.strip():
            raise EmfError(f"dimension {key!r} needs a non-empty string on the root node")
        if len(value) > MAX_DIMENSION_VALUE_CHARS:
            raise EmfError(f"dimension {key!r} is longer than {MAX_DIMENSION_VALUE_CHARS}")
        dimensions.append((key, value))
    return tuple(dimensions)


def _definition(definition: Any, where: str) -> tuple[str, str, int]:
    if not isinstance(definition, Mapping):
        raise EmfError(f"{where} must be an object")
    name = definition.get("Name")
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_CHARS:
        raise EmfError(f"{where}.Name must be a string of 1 to {MAX_NAME_CHARS} characters")
    unit = definition.get("Unit", "None")
    if unit not in UNITS:
        raise EmfError(f"{where}.Unit {unit!r} is not a CloudWatch unit")
    resolution = definition.get("StorageResolution", STANDARD_RESOLUTION)
    if resolution not in (1, STANDARD_RESOLUTION) or isinstance(resolution, bool):
        raise EmfError(f"{where}.StorageResolution must be 1 or 60, got {resolution!r}")
    return name, str(unit), int(resolution)


def _values(document: Mapping[str, Any], name: str) -> tuple[float, ...]:
    if name not in document:
        raise EmfError(f"metric {name!r} has no value on the root node")
    raw = document[name]
    values = raw if isinstance(raw, list) else [raw]
    if not values or len(values) > MAX_VALUES_PER_METRIC:
        raise EmfError(f"metric {name!r} needs 1 to {MAX_VALUES_PER_METRIC} values")
    if not all(_is_number(value) for value in values):
        raise EmfError(f"metric {name!r} must be a number or an array of numbers")
    return tuple(float(value) for value in values)


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _by_namespace(metrics: Iterable[MetricValues]) -> dict[str, list[MetricValues]]:
    grouped: dict[str, list[MetricValues]] = {}
    for metric in metrics:
        grouped.setdefault(metric.namespace, []).append(metric)
    return grouped
