"""The ports more than one function talks to, as Protocols: where a run's report goes, where its
metrics go, and the guard that reports a failure before anything changed. Each function's own
ports (`<core>/ports.py`) name these rather than declaring them again.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from nightshift.report import Report


class ReportSink(Protocol):
    """Sends a run's report to the ops topic (adapter: `adapters.reporting.ReportPublisher`)."""

    def publish(self, report: Report) -> str: ...


class MetricsSink(Protocol):
    """Takes a run's metrics (adapter: Powertools' `Metrics`, flushed as EMF)."""

    def add_metric(self, name: str, unit: str, value: float) -> None: ...


FailureGuard = Callable[[Callable[[str], Report]], AbstractContextManager[None]]
"""Runs a block; a NightshiftError from it is reported (the report `failure(error)` builds) and
raised again: `partial(adapters.reporting.failure_reported, publisher, logger=logger)`."""
