"""What the pruner's service talks to. The real adapters are in `nightshift.adapters`
(snapshots: `SnapshotInventory`, `SnapshotDeleter`, `CursorStore`; reporting:
`ReportPublisher`, `failure_reported`); in-memory fakes are in tests/support/fakes/pruner.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from nightshift.ports import FailureGuard, MetricsSink, ReportSink
from nightshift.retention.apply import Deleter
from nightshift.retention.cursor import DeletionCursor
from nightshift.retention.model import SnapshotListing
from nightshift.retention.settings import PrunerPolicy

Page = dict[str, Any]
Pace = Callable[[Callable[[], Page]], Page]
"""Runs one AWS call when the rate limit allows, retrying it on throttling (a Pacer's `call`)."""


class SnapshotSource(Protocol):
    """Lists every snapshot the pruner decides about (adapter: `SnapshotInventory`)."""

    def snapshots(self, *, pace_rds: Pace) -> SnapshotListing: ...


class CursorKeeper(Protocol):
    """Keeps the deletion cursor of an unfinished cycle (adapter: `CursorStore`)."""

    def unfinished(self) -> DeletionCursor | None: ...

    def save(self, cursor: DeletionCursor, *, finished: bool, at: datetime) -> None: ...


PolicySource = Callable[[], PrunerPolicy]
"""The deployed policy, merged with the deployment's settings; raises PolicyError when unusable."""

__all__ = [
    "CursorKeeper",
    "Deleter",
    "FailureGuard",
    "MetricsSink",
    "Pace",
    "PolicySource",
    "ReportSink",
    "SnapshotSource",
]
