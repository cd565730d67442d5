"""What the scheduler's service talks to. The real adapters are in `nightshift.adapters`
(`scheduled_resources.ScheduledResources`, `parking.ParkingStore`, `power.PowerSwitch`); the
in-memory ones the tests use are in `tests/support/fakes/scheduler.py`. `TaskSize` is what the
TaskSizeReader port returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from nightshift.errors import AwsError
from nightshift.schedule.plan import Decision
from nightshift.schedule.resources import ParkedRecord, ScheduledResource

# The clock of a run: milliseconds left before the Lambda deadline (the context's
# get_remaining_time_in_millis).
TimeLeft = Callable[[], int]


class ResourceFinder(Protocol):
    """The resources tagged with a schedule, in two phases: `sweep` finds them with their tags
    (`described` False where the state and capacity were not read: the tag sweep's resources;
    Auto Scaling groups come described, their listing being their describe); `describe` reads
    the state and capacity of the ones given, and leaves out those that are gone."""

    def sweep(self) -> Sequence[ScheduledResource]: ...
    def describe(self, resources: Sequence[ScheduledResource]) -> Sequence[ScheduledResource]: ...


class ParkingPort(Protocol):
    """The parked records (by ARN) and the time of the last run (with its refusals'
    fingerprint, `nightshift.schedule.report.refusal_fingerprint`). `write` writes records and
    deletes others (by ARN) unconditionally, in batches; it returns the error of each ARN whose
    write failed."""

    def parked(self) -> Mapping[str, ParkedRecord]: ...
    def park(self, record: ParkedRecord, *, keep_existing: bool = False) -> bool: ...
    def release(self, arn: str) -> None: ...
    def write(
        self, parks: Sequence[ParkedRecord], releases: Sequence[str]
    ) -> Mapping[str, AwsError]: ...
    def last_run(self) -> dt.datetime | None: ...
    def last_record(self) -> tuple[dt.datetime | None, str | None]:
        """The last run's time and the refusals fingerprint it stored (None: none stored), in
        one read."""
        ...

    def record_run(self, scheduled_time: dt.datetime, refusals: str = "") -> bool: ...


class HeadsUpLedger(Protocol):
    """Heads-ups already sent (adapter: `adapters.parking.HeadsUpTable`)."""

    def claim(self, key: str, stops_at: dt.datetime) -> bool:
        """True the first time for `key` (a schedule's stop); False when it was sent already."""
        ...


class SwitchPort(Protocol):
    """Starts or stops resources as their decisions say; `apply_all` returns the error of each
    ARN that failed."""

    def apply(self, decision: Decision) -> None: ...
    def apply_all(self, decisions: Sequence[Decision]) -> Mapping[str, AwsError]: ...


@dataclass(frozen=True)
class TaskSize:
    """An ECS task definition's size: cpu and memory (task level) in vCPU and GiB, and its CPU
    architecture (`runtimePlatform.cpuArchitecture`, X86_64 unless it says ARM64)."""

    vcpu: float
    gib: float
    architecture: str = "x86_64"

    @classmethod
    def from_units(cls, cpu: str | int, memory: str | int, architecture: str | None) -> TaskSize:
        """>>> TaskSize.from_units("256", "512", "ARM64")
        TaskSize(vcpu=0.25, gib=0.5, architecture='arm64')
        """
        arch = "arm64" if (architecture or "").upper() == "ARM64" else "x86_64"
        return cls(int(cpu) / 1024, int(memory) / 1024, arch)


class TaskSizeReader(Protocol):
    """The size of each task definition (one describe per distinct ARN, only for the ECS
    services a run switches); a definition it cannot read is left out."""

    def sizes(self, task_definitions: Sequence[str]) -> Mapping[str, TaskSize]: ...
