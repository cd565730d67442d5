"""In-memory ports of the scheduler's service (`nightshift.schedule.ports`): one account that
finds resources, keeps parked records and the last run, and switches, with a log of every change
and switches or writes that fail on demand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nightshift.errors import AwsError
from nightshift.schedule import ParkedRecord, ScheduledResource
from nightshift.schedule.plan import Decision


def failure(operation: str) -> AwsError:
    return AwsError(operation, "AccessDeniedException", "not allowed")


@dataclass
class Account:
    """The resources, the parked records and the last run, with a log of every change."""

    resources: list[ScheduledResource]
    records: dict[str, ParkedRecord] = field(default_factory=dict)
    last: dt.datetime | None = None
    refusals: str | None = None
    log: list[str] = field(default_factory=list)
    failing_switches: set[str] = field(default_factory=set)
    failing_writes: set[str] = field(default_factory=set)
    described: dict[str, ScheduledResource] = field(default_factory=dict)
    describes: list[tuple[str, ...]] = field(default_factory=list)

    # ports.ResourceFinder: the sweep hands out the resources as they are (a test gives them
    # described, or tag-only with `ScheduledResource.tagged` and their described state in
    # `described`); `describe` records what it was asked for.
    def sweep(self) -> Sequence[ScheduledResource]:
        return self.resources

    def describe(self, resources: Sequence[ScheduledResource]) -> Sequence[ScheduledResource]:
        self.describes.append(tuple(r.arn for r in resources))
        return [self.described[r.arn] for r in resources if r.arn in self.described]

    # ports.ParkingPort
    def parked(self) -> Mapping[str, ParkedRecord]:
        return dict(self.records)

    def park(self, record: ParkedRecord, *, keep_existing: bool = False) -> bool:
        if "PutItem" in self.failing_writes:
            raise failure("PutItem")
        if keep_existing and record.arn in self.records:
            return False
        self.records[record.arn] = record
        self.log.append(f"{record.state} {record.arn.rsplit('/', 1)[-1]}")
        return True

    def release(self, arn: str) -> None:
        if "DeleteItem" in self.failing_writes:
            raise failure("DeleteItem")
        self.records.pop(arn, None)
        self.log.append(f"release {arn.rsplit('/', 1)[-1]}")

    def write(
        self, parks: Sequence[ParkedRecord], releases: Sequence[str]
    ) -> Mapping[str, AwsError]:
        failures: dict[str, AwsError] = {}
        for record in parks:
            try:
                self.park(record)
            except AwsError as exc:
                failures[record.arn] = exc
        for arn in releases:
            try:
                self.release(arn)
            except AwsError as exc:
                failures[arn] = exc
        return failures

    def last_run(self) -> dt.datetime | None:
        return self.last

    def last_record(self) -> tuple[dt.datetime | None, str | None]:
        return self.last, self.refusals

    def record_run(self, scheduled_time: dt.datetime, refusals: str = "") -> bool:
        if "last_run" in self.failing_writes:
            raise failure("PutItem")
        self.last = scheduled_time
        self.refusals = refusals
        return True

    # ports.SwitchPort
    def apply(self, decision: Decision) -> None:
        name = decision.resource.name
        if name in self.failing_switches:
            raise failure("UpdateService")
        self.log.append(f"{decision.action} {name}")

    def apply_all(self, decisions: Sequence[Decision]) -> Mapping[str, AwsError]:
        failures: dict[str, AwsError] = {}
        for decision in decisions:
            try:
                self.apply(decision)
            except AwsError as exc:
                failures[decision.arn] = exc
        return failures
