"""The one report every function publishes to the ops topic, and the notifier renders.

The JSON form is documented in docs/report-schema.md; `SCHEMA_ID` marks it so the notifier can
recognise it among alarms and budget alerts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from nightshift import __version__

SCHEMA_ID = "nightshift.report/v1"
# Which release wrote a report: people reading a message from a mixed fleet can tell.
PRODUCER = f"nightshift/{__version__}"


class Outcome(StrEnum):
    """What happened to one item of a run."""

    DONE = "done"  # the action was carried out (AWS confirmed it)
    PLANNED = "planned"  # dry-run: the action would have been carried out
    SKIPPED = "skipped"  # nothing to do, or not in scope
    REFUSED = "refused"  # a safety rule forbade it (protect tag, circuit breaker, staleness)
    FAILED = "failed"  # the action was attempted and AWS said no


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class ReportItem:
    """One resource's line in a report: what was (or would be) done to it, and why."""

    resource: str
    kind: str
    action: str
    outcome: Outcome
    reason: str
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "kind": self.kind,
            "action": self.action,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "details": dict(self.details),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportItem:
        return cls(
            resource=str(data["resource"]),
            kind=str(data["kind"]),
            action=str(data["action"]),
            outcome=Outcome(data["outcome"]),
            reason=str(data["reason"]),
            details=MappingProxyType(dict(data.get("details") or {})),
        )


@dataclass(frozen=True)
class Report:
    """What one run of a function did, skipped and why, failed and why."""

    function: str
    run_id: str
    time: str  # ISO 8601 instant the run was triggered for (the event's time, not the clock)
    environment: str
    dry_run: bool
    summary: str
    items: tuple[ReportItem, ...] = ()
    totals: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    errors: tuple[str, ...] = ()
    producer: str = PRODUCER

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(item.outcome.value for item in self.items)
        return {outcome.value: counted.get(outcome.value, 0) for outcome in Outcome}

    @property
    def severity(self) -> Severity:
        if self.errors or any(item.outcome is Outcome.FAILED for item in self.items):
            return Severity.CRITICAL
        if any(item.outcome is Outcome.REFUSED for item in self.items):
            return Severity.WARNING
        return Severity.INFO

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_ID,
            "producer": self.producer,
            "function": self.function,
            "run_id": self.run_id,
            "time": self.time,
            "environment": self.environment,
            "dry_run": self.dry_run,
            "summary": self.summary,
            "severity": self.severity.value,
            "counts": self.counts,
            "totals": dict(self.totals),
            "errors": list(self.errors),
            "items": [item.to_json() for item in self.items],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        if data.get("schema") != SCHEMA_ID:
            raise ValueError(f"not a {SCHEMA_ID} document")
        return cls(
            function=str(data["function"]),
            run_id=str(data["run_id"]),
            time=str(data["time"]),
            environment=str(data["environment"]),
            dry_run=bool(data["dry_run"]),
            summary=str(data["summary"]),
            items=tuple(ReportItem.from_json(item) for item in data.get("items", ())),
            totals=MappingProxyType(dict(data.get("totals") or {})),
            errors=tuple(str(e) for e in data.get("errors", ())),
            # Reports written by 0.1.0 carry no producer.
            producer=str(data.get("producer", "nightshift/unknown")),
        )
