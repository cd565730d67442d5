"""Nightshift's own reports (`nightshift.report/v1`, docs/report-schema.md)."""

from __future__ import annotations

from collections.abc import Callable

from nightshift.notify.model import Fact, Notification, Source, State
from nightshift.notify.sources.message import Message, Recogniser
from nightshift.notify.sources.reading import UnreadableMessage, dollars, iso_instant, number_text
from nightshift.report import SCHEMA_ID, Outcome, Report, ReportItem

# Totals are snake_case names whose suffix is their unit (docs/report-schema.md).
_UNITS: dict[str, Callable[[float], str]] = {
    "_usd": dollars,
    "_gib": lambda value: f"{number_text(value)} GiB",
    "_hours": lambda value: f"{number_text(value)} h",
    "_count": number_text,
}

# People read failures first, then what was refused, then what happened; skips come last.
_ITEM_ORDER = {
    Outcome.FAILED: 0,
    Outcome.REFUSED: 1,
    Outcome.DONE: 2,
    Outcome.PLANNED: 3,
    Outcome.SKIPPED: 4,
}


def claims(message: Message) -> bool:
    document = message.json_object
    return document is not None and document.get("schema") == SCHEMA_ID


def read(message: Message) -> Notification:
    """Turn a published Report into a Notification: errors, totals, then items, failures first.

    >>> from nightshift.notify.events import Inbound
    >>> report = Report("pruner", "r-1", "2026-11-20T03:00:00Z", "staging", True, "nothing to do")
    >>> read(Message.of(Inbound("m-1", None, report.dumps(), None, None))).title
    'pruner (staging, dry run): nothing to do'
    """
    document = message.json_object
    if document is None:
        raise UnreadableMessage("the message is not a JSON object")
    report = Report.from_json(document)
    counts = report.counts
    facts = [Fact("Error", error) for error in report.errors]
    facts.extend(_total_fact(key, float(value)) for key, value in sorted(report.totals.items()))
    facts.extend(_item_fact(item) for item in sorted(report.items, key=_item_rank))
    dry_run = ", dry run" if report.dry_run else ""
    counted = ", ".join(f"{counts[outcome.value]} {outcome.value}" for outcome in Outcome)
    return Notification(
        source=Source.NIGHTSHIFT_REPORT,
        severity=report.severity,
        state=State.INFO,
        title=f"{report.function} ({report.environment}{dry_run}): {report.summary}",
        name=report.function,
        summary=f"{len(report.items)} items: {counted}." + _error_note(report),
        facts=tuple(facts),
        links=(),
        dedup_key=f"nightshift-report:{report.function}:{report.run_id}",
        raw=message.inbound.body,
        occurred_at=iso_instant(report.time),
    )


RECOGNISER = Recogniser(
    source=Source.NIGHTSHIFT_REPORT,
    describes=f"a Nightshift report ({SCHEMA_ID})",
    claims=claims,
    read=read,
)


def _total_fact(key: str, value: float) -> Fact:
    """>>> _total_fact("estimated_monthly_savings_usd", 1.9)
    Fact(label='Estimated monthly savings', value='$1.90')
    """
    for suffix, show in _UNITS.items():
        if key.endswith(suffix):
            return Fact(_label(key.removesuffix(suffix)), show(value))
    return Fact(_label(key), number_text(value))


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize() or key


def _item_rank(item: ReportItem) -> int:
    return _ITEM_ORDER[item.outcome]


def _item_fact(item: ReportItem) -> Fact:
    return Fact(
        f"{item.kind} {item.resource}",
        f"{item.action}: {item.outcome.value.upper()} — {item.reason}",
    )


def _error_note(report: Report) -> str:
    count = len(report.errors)
    if not count:
        return ""
    return f" {count} error{'s' if count > 1 else ''} stopped part of the run."
