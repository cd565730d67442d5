"""In-memory fakes of the canary's ports (nightshift.canary.ports), for the tests that run the
service without AWS or HTTP: each records what it was given and can be told to refuse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from nightshift.canary import Check, CheckResult, MetricPoint, Observation, ProbeResults, assess
from nightshift.canary.alarms import AlarmSpec
from nightshift.canary.parking import ParkingFacts, Watch
from nightshift.canary.ports import Remembered
from nightshift.canary.status import StatusBoard
from nightshift.errors import AwsError
from nightshift.report import Report
from nightshift.schedule.resources import ParkedRecord

DENIED = AwsError("PutMetricAlarm", "AccessDenied", "not allowed")


@dataclass
class FakeProbe:
    statuses: dict[str, int]

    def __call__(self, checks: Sequence[Check], now: dt.datetime) -> ProbeResults:
        results = tuple(
            CheckResult(
                c,
                assess(c, Observation(now, status=self.statuses[c.name], response_time_ms=50.0)),
                1,
            )
            for c in checks
        )
        return ProbeResults(now, results, 60.0)


@dataclass
class FakeMetrics:
    emitted: list[tuple[MetricPoint, dt.datetime]] = field(default_factory=list)

    def emit(self, points: Sequence[MetricPoint], at: dt.datetime) -> int:
        self.emitted.extend((p, at) for p in points)
        return len({p.dimensions for p in points})


@dataclass
class FakeAlarms:
    alarms: dict[str, AlarmSpec] = field(default_factory=dict)
    refuse_describe: bool = False
    refuse_put: frozenset[str] = frozenset()

    def existing(self, prefix: str) -> tuple[AlarmSpec, ...]:
        if self.refuse_describe:
            raise AwsError("DescribeAlarms", "Throttling", "rate exceeded")
        return tuple(a for name, a in self.alarms.items() if name.startswith(prefix))

    def put(self, spec: AlarmSpec) -> None:
        if spec.name in self.refuse_put:
            raise DENIED
        self.alarms[spec.name] = spec

    def delete(self, names: Sequence[str]) -> None:
        for name in names:
            self.alarms.pop(name)


@dataclass
class FakeMemory:
    board: StatusBoard | None = None
    refuse: bool = False
    writes: int = 0
    phases: dict[str, Watch] = field(default_factory=dict)

    reads: int = 0

    def recall(self) -> Remembered:
        self.reads += 1
        if self.refuse:
            raise AwsError("Query", "ProvisionedThroughputExceededException", "slow down")
        return Remembered(self.board, dict(self.phases))

    def remember(self, board: StatusBoard, *, at: dt.datetime, run_id: str) -> None:
        self.board = board
        self.writes += 1

    def remember_watches(self, watches: Mapping[str, Watch], *, at: dt.datetime) -> None:
        self.phases = dict(watches)


@dataclass
class FakeParking:
    """The scheduler's parked records and tagged resources, as `ParkedEnvironment` reads them."""

    found: ParkingFacts = field(default_factory=ParkingFacts)
    refuse: bool = False
    asked: list[tuple[tuple[tuple[str, str], ...], ...]] = field(default_factory=list)

    def facts(
        self,
        tag_filters: Sequence[tuple[tuple[str, str], ...]],
        *,
        resources_if: Callable[[tuple[ParkedRecord, ...]], bool] | None = None,
    ) -> ParkingFacts:
        if self.refuse:
            raise AwsError("Query", "ProvisionedThroughputExceededException", "slow down")
        if resources_if is not None and not resources_if(self.found.records):
            return ParkingFacts(records=self.found.records)
        self.asked.append(tuple(tag_filters))  # the tagged resources were read
        return self.found


@dataclass
class FakeTopic:
    published: list[Report] = field(default_factory=list)

    def publish(self, report: Report) -> str:
        self.published.append(report)
        return f"m-{len(self.published)}"
