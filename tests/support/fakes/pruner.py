"""In-memory stand-ins for the pruner's ports (nightshift.retention.ports), for tests of
`nightshift.retention.service.Pruner` without AWS."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from aws_lambda_powertools import Logger

from nightshift.adapters.reporting import failure_reported
from nightshift.errors import AwsError, NightshiftError
from nightshift.policy import parse_policy
from nightshift.report import Report
from nightshift.retention import DeletionCursor, Snapshot, SnapshotListing
from nightshift.retention.ports import Pace
from nightshift.retention.service import Pruner
from nightshift.retention.settings import PrunerEnvironment, PrunerPolicy
from nightshift.settings import CommonSettings


class FakeClock:
    """Seconds since the invocation began; they move only when someone sleeps or calls AWS."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class MemorySnapshots:
    """The account's snapshots; `failure` makes the next listing fail as AWS would."""

    def __init__(self, snapshots: Iterable[Snapshot], *, locks_known: bool = True) -> None:
        self.snapshots_by_id = {snapshot.id: snapshot for snapshot in snapshots}
        self.locks_known = locks_known
        self.failure: NightshiftError | None = None

    def snapshots(self, *, pace_rds: Pace) -> SnapshotListing:
        if self.failure is not None:
            raise self.failure
        return SnapshotListing(tuple(self.snapshots_by_id.values()), self.locks_known)


class MemoryDeleter:
    """Deletes from `MemorySnapshots`; each call takes `seconds` on the clock. `refuse` maps a
    snapshot id to the AWS error code its deletion fails with."""

    def __init__(
        self,
        account: MemorySnapshots,
        clock: FakeClock,
        *,
        seconds: float = 0.1,
        refuse: Mapping[str, str] | None = None,
    ) -> None:
        self.account = account
        self.clock = clock
        self.seconds = seconds
        self.refuse = dict(refuse or {})
        self.deleted: list[str] = []

    def __call__(self, snapshot: Snapshot) -> None:
        self.clock.now += self.seconds
        code = self.refuse.get(snapshot.id)
        if code is not None:
            raise AwsError("DeleteSnapshot", code, snapshot.id)
        if self.account.snapshots_by_id.pop(snapshot.id, None) is None:
            raise AwsError("DeleteSnapshot", "InvalidSnapshot.NotFound", snapshot.id)
        self.deleted.append(snapshot.id)


@dataclass
class MemoryCursorStore:
    """The state table's cursor item: the cursor, whether its cycle finished, when saved."""

    cursor: DeletionCursor | None = None
    finished: bool = True
    saves: list[tuple[DeletionCursor, bool, datetime]] = field(default_factory=list)

    def unfinished(self) -> DeletionCursor | None:
        return None if self.finished else self.cursor

    def save(self, cursor: DeletionCursor, *, finished: bool, at: datetime) -> None:
        self.cursor, self.finished = cursor, finished
        self.saves.append((cursor, finished, at))


@dataclass
class RecordingPublisher:
    """The ops topic: the reports published, in order; `failure` makes publishing fail."""

    reports: list[Report] = field(default_factory=list)
    failure: NightshiftError | None = None

    def publish(self, report: Report) -> str:
        if self.failure is not None:
            raise self.failure
        self.reports.append(report)
        return f"message-{len(self.reports)}"


@dataclass
class RecordingMetrics:
    """Powertools' Metrics as (name, unit, value), in the order added."""

    added: list[tuple[str, str, float]] = field(default_factory=list)

    def add_metric(self, name: str, unit: str, value: float) -> None:
        self.added.append((name, unit, value))

    def value(self, name: str) -> float:
        return sum(value for added, _, value in self.added if added == name)


ENVIRONMENT = PrunerEnvironment(
    common=CommonSettings.from_environ(
        {
            "NIGHTSHIFT_ENVIRONMENT": "staging",
            "NIGHTSHIFT_STATE_TABLE": "nightshift-state",
            "NIGHTSHIFT_OPS_TOPIC_ARN": "arn:aws:sns:eu-central-1:123456789012:nightshift-ops",
            "NIGHTSHIFT_POLICY_FILE": "nightshift.yaml",
        }
    ),
    dry_run=False,
    prices={"ebs_snapshot": 0.05, "rds_snapshot": 0.095, "aurora_snapshot": 0.021},
)


def pruner_policy(text: str, environment: PrunerEnvironment = ENVIRONMENT) -> PrunerPolicy:
    """The policy YAML `text` as the service reads it."""
    return PrunerPolicy.from_policy(parse_policy(text), environment)


@dataclass
class FakePruner:
    """A `Pruner` on in-memory ports, with the ports at hand for assertions."""

    service: Pruner
    account: MemorySnapshots
    deleter: MemoryDeleter
    cursors: MemoryCursorStore
    publisher: RecordingPublisher
    metrics: RecordingMetrics
    clock: FakeClock


def fake_pruner(
    policy: PrunerPolicy | NightshiftError,
    snapshots: Iterable[Snapshot],
    *,
    seconds_per_delete: float = 0.1,
    refuse: Mapping[str, str] | None = None,
) -> FakePruner:
    """A pruner over `snapshots`; `policy` may be the error that loading the policy raises."""
    clock = FakeClock()
    account = MemorySnapshots(snapshots)
    deleter = MemoryDeleter(account, clock, seconds=seconds_per_delete, refuse=refuse)
    cursors, publisher, metrics = MemoryCursorStore(), RecordingPublisher(), RecordingMetrics()

    def load_policy() -> PrunerPolicy:
        if isinstance(policy, NightshiftError):
            raise policy
        return policy

    logger = Logger(service="pruner")
    service = Pruner(
        policy=load_policy,
        environment=ENVIRONMENT.common.environment,
        inventory=account,
        delete=deleter,
        cursors=cursors,
        publisher=publisher,
        failures=partial(failure_reported, publisher, logger=logger),
        metrics=metrics,
        logger=logger,
        sleep=clock.sleep,
        rand=lambda: 0.5,
        workers=1,  # one deletion at a time: the fake clock moves only as each one takes time
    )
    return FakePruner(service, account, deleter, cursors, publisher, metrics, clock)
