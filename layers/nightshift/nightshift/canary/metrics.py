"""Which metrics a run publishes (pure): names, dimensions, values and units, bounded in number.

Per check (dimension Check=<name>): Success 0/1, Latency in ms when a response came, and
DaysToCertExpiry for HTTPS. Per dependency found in a JSON health body's `services` map
(dimensions Check and Dependency): Success 0/1 and Latency. At most MAX_DEPENDENCIES
dependencies per check, names sanitised, so a chatty health endpoint cannot create thousands
of CloudWatch metrics. The handler emits the points through Powertools Metrics (EMF).

A check with `depends_on` also publishes Parked (1 while parked, else 0), LateStart (1 while not
healthy within its bound after a start, 0 while live; nothing while parked or starting, so the
start alarm stays in ALARM over a night until a start is healthy), and TimeToHealthy (seconds
from the start to the first healthy probe) once per start. While such a check is not LIVE
(parked, starting, late) its probe does not count: no Success, Latency or dependency points
(DaysToCertExpiry, which is not about downtime, still goes out).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nightshift.canary.conditions import NOT_JSON
from nightshift.canary.parking import Phase, WatchDecision
from nightshift.canary.verdict import CheckResult, ProbeResults

MAX_DEPENDENCIES = 10
MAX_DIMENSION_CHARS = 64
SERVICES_FIELD = "services"
# Dependency states that count as up; anything else (down, degraded, fail, error) is down.
UP_STATES = frozenset({"up", "ok", "healthy", "pass", "passing"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class Unit(StrEnum):
    """CloudWatch units; the values are what Powertools' MetricUnit accepts."""

    COUNT = "Count"
    MILLISECONDS = "Milliseconds"
    SECONDS = "Seconds"
    NONE = "None"


@dataclass(frozen=True)
class MetricPoint:
    """One value to publish: `dimensions` as (name, value) pairs, in a stable order."""

    name: str
    dimensions: tuple[tuple[str, str], ...]
    value: float
    unit: Unit

    @property
    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)


@dataclass(frozen=True)
class Dependency:
    """One entry of a health body's `services` map: `up` is None when it states no status."""

    name: str
    up: bool | None
    latency_ms: float | None


@dataclass(frozen=True)
class Dependencies:
    """The dependencies kept for metrics, and how many were left out by the cap."""

    kept: tuple[Dependency, ...] = ()
    dropped: int = 0


def dependencies_of(document: Any, limit: int = MAX_DEPENDENCIES) -> Dependencies:
    """Dependencies in a health document's `services` map, sorted by name, at most `limit`.

    >>> deps = dependencies_of({"services": {"database": {"status": "down", "latency_ms": 5012}}})
    >>> deps.kept
    (Dependency(name='database', up=False, latency_ms=5012.0),)
    """
    services = document.get(SERVICES_FIELD) if isinstance(document, Mapping) else None
    if not isinstance(services, Mapping):
        return Dependencies()
    kept: dict[str, Dependency] = {}
    for raw_name in sorted(services, key=str):
        name = dimension_value(str(raw_name))
        if not name or name in kept:
            continue
        if len(kept) == limit:
            break
        kept[name] = _dependency(name, services[raw_name])
    return Dependencies(kept=tuple(kept.values()), dropped=len(services) - len(kept))


def dimension_value(text: str) -> str:
    """A CloudWatch-friendly dimension value: safe characters only, bounded length.

    >>> dimension_value("payments api/v2")
    'payments_api_v2'
    """
    return _UNSAFE.sub("_", text).strip("_")[:MAX_DIMENSION_CHARS]


def metric_points(
    results: ProbeResults,
    watches: Mapping[str, WatchDecision] | None = None,
    snoozed: frozenset[str] = frozenset(),
) -> tuple[MetricPoint, ...]:
    """Every metric value of a run. A check that could not be probed publishes nothing: a
    missing header secret is our failure (it is in the report), not the endpoint's downtime.
    `watches` holds the phase of each check with `depends_on` (`parking.decide`). A check in
    `snoozed` (snoozed from chat, docs/actions.md) does not count either, like a parked one: no
    Success, Latency or dependency points, so its down alarm (missing data ignored) cannot fire.

    For a healthy HTTPS check `api` whose body lists database, redis and s3:
    Success{Check=api}=1, Latency{Check=api}=120.0, DaysToCertExpiry{Check=api}=41.5,
    Success{Check=api,Dependency=database}=1, Latency{Check=api,Dependency=database}=2.5, ...
    """
    points: list[MetricPoint] = []
    for result in results.results:
        watch = (watches or {}).get(result.check.name)
        counted = (watch is None or watch.counts) and result.check.name not in snoozed
        points.extend(_check_points(result, counted=counted))
        if watch is not None and result.verdict is not None:
            points.extend(_watch_points(watch))
    return tuple(points)


def _watch_points(watch: WatchDecision) -> list[MetricPoint]:
    check = (("Check", watch.check),)
    points = [MetricPoint("Parked", check, float(watch.phase is Phase.PARKED), Unit.COUNT)]
    if watch.phase in (Phase.LIVE, Phase.LATE):
        late = float(watch.phase is Phase.LATE)
        points.append(MetricPoint("LateStart", check, late, Unit.COUNT))
    if watch.healthy_after is not None:
        seconds = round(watch.healthy_after.total_seconds(), 1)
        points.append(MetricPoint("TimeToHealthy", check, seconds, Unit.SECONDS))
    return points


def _check_points(result: CheckResult, *, counted: bool = True) -> list[MetricPoint]:
    verdict = result.verdict
    if verdict is None:
        return []
    check = (("Check", result.check.name),)
    seen = verdict.observation
    days = seen.days_to_certificate_expiry
    if not counted:
        # Parked, starting or late: the probe is not evidence of downtime (module docstring).
        return [] if days is None else [_days_point(check, days)]
    points = [MetricPoint("Success", check, 1.0 if verdict.up else 0.0, Unit.COUNT)]
    if seen.connected and seen.response_time_ms is not None:
        points.append(
            MetricPoint("Latency", check, round(seen.response_time_ms, 1), Unit.MILLISECONDS)
        )
    if days is not None:
        points.append(_days_point(check, days))
    document = seen.body_json if seen.connected else NOT_JSON
    for dependency in dependencies_of(document).kept:
        dimensions = (*check, ("Dependency", dependency.name))
        if dependency.up is not None:
            points.append(
                MetricPoint("Success", dimensions, 1.0 if dependency.up else 0.0, Unit.COUNT)
            )
        if dependency.latency_ms is not None:
            points.append(
                MetricPoint("Latency", dimensions, dependency.latency_ms, Unit.MILLISECONDS)
            )
    return points


def _days_point(check: tuple[tuple[str, str], ...], days: float) -> MetricPoint:
    return MetricPoint("DaysToCertExpiry", check, round(days, 2), Unit.NONE)


def _dependency(name: str, entry: Any) -> Dependency:
    status: Any = entry.get("status") if isinstance(entry, Mapping) else entry
    latency: Any = entry.get("latency_ms") if isinstance(entry, Mapping) else None
    return Dependency(name=name, up=_is_up(status), latency_ms=_milliseconds(latency))


def _is_up(status: Any) -> bool | None:
    if isinstance(status, bool):
        return status
    if isinstance(status, str):
        return status.strip().lower() in UP_STATES
    return None


def _milliseconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None
