"""What a canary run talks to, as Protocols: the service is built with these injected. The real
adapters live in `nightshift.adapters` (http_probe, emf, alarms, canary_memory, reporting); the
ops topic is the shared `nightshift.ports.ReportSink`; the in-memory fakes live with the tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from nightshift.canary.alarms import AlarmSpec
from nightshift.canary.checks import Check
from nightshift.canary.metrics import MetricPoint
from nightshift.canary.parking import ParkingFacts, Watch
from nightshift.canary.status import StatusBoard
from nightshift.canary.verdict import ProbeResults
from nightshift.schedule.resources import ParkedRecord


class Prober(Protocol):
    """Probes every check at the run's time and judges each (adapters.http_probe.HttpProber)."""

    def __call__(self, checks: Sequence[Check], now: dt.datetime) -> ProbeResults: ...


class CheckMetricSink(Protocol):
    """Writes the checks' metric points, stamped with the run's time (adapters.emf.EmfMetrics)."""

    def emit(self, points: Sequence[MetricPoint], at: dt.datetime) -> int: ...


class AlarmStore(Protocol):
    """The canary's CloudWatch alarms under its name prefix (adapters.alarms.MetricAlarms)."""

    def existing(self, prefix: str) -> tuple[AlarmSpec, ...]: ...
    def put(self, spec: AlarmSpec) -> None: ...
    def delete(self, names: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class Remembered:
    """What earlier runs left: the board last reported (None: nothing yet, or unreadable) and
    the phase of each check with `depends_on`, by check name."""

    board: StatusBoard | None = None
    watches: Mapping[str, Watch] = field(default_factory=dict)


class StatusMemory(Protocol):
    """The picture last reported and the checks' phases (adapters.canary_memory.CanaryMemory):
    read together, once a run."""

    def recall(self) -> Remembered: ...
    def remember(self, board: StatusBoard, *, at: dt.datetime, run_id: str) -> None: ...
    def remember_watches(self, watches: Mapping[str, Watch], *, at: dt.datetime) -> None: ...


class ParkingFactsSource(Protocol):
    """The scheduler's parked records and the resources carrying each of `tag_filters` (read
    only: adapters.parked_environment.ParkedEnvironment)."""

    def facts(
        self,
        tag_filters: Sequence[tuple[tuple[str, str], ...]],
        *,
        resources_if: Callable[[tuple[ParkedRecord, ...]], bool] | None = None,
    ) -> ParkingFacts: ...


class SnoozeSource(Protocol):
    """The checks snoozed from chat (read only: adapters.canary_snoozes.CanarySnoozes)."""

    def snoozed(self, now: dt.datetime) -> frozenset[str]: ...
