"""Shared test doubles for the pruner's core: a fake clock, a recording deleter, snapshot makers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from nightshift.errors import AwsError
from nightshift.retention import Snapshot, SnapshotKind

NOW = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)
STAGING = {"Environment": "staging"}


class FakeClock:
    """Monotonic seconds that move only when someone sleeps (or a test says so)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingDeleter:
    """Deletes by remembering; answers with a scripted AWS error code per id when told to.

    Each call costs `seconds` on the clock, as a real API call would.
    """

    def __init__(
        self,
        clock: FakeClock,
        errors: Mapping[str, list[str]] | None = None,
        seconds: float = 0.05,
    ) -> None:
        self.clock = clock
        self.errors = {k: list(v) for k, v in (errors or {}).items()}
        self.seconds = seconds
        self.calls: list[tuple[float, str]] = []

    def __call__(self, snapshot: Snapshot) -> None:
        self.calls.append((self.clock(), snapshot.id))
        self.clock.advance(self.seconds)
        scripted = self.errors.get(snapshot.id)
        if scripted:
            code = scripted.pop(0)
            raise AwsError("DeleteSnapshot", code, f"{snapshot.id}: {code}")

    @property
    def ids(self) -> list[str]:
        return [snapshot_id for _, snapshot_id in self.calls]


def make_snapshot(
    snapshot_id: str,
    *,
    age: timedelta = timedelta(days=1),
    kind: SnapshotKind = SnapshotKind.EBS,
    origin: str | None = "vol-0a1",
    tags: Mapping[str, str] | None = None,
    now: datetime = NOW,
    **fields: object,
) -> Snapshot:
    return Snapshot(
        id=snapshot_id,
        kind=kind,
        origin=origin,
        created=now - age,
        size_gib=fields.pop("size_gib", 10.0),  # type: ignore[arg-type]
        tags=STAGING if tags is None else tags,
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Factories rather than instances, so hypothesis tests can make a fresh one per example.
@pytest.fixture
def new_clock() -> type[FakeClock]:
    return FakeClock


@pytest.fixture
def new_deleter() -> type[RecordingDeleter]:
    return RecordingDeleter


@pytest.fixture
def snapshot() -> Callable[..., Snapshot]:
    return make_snapshot
