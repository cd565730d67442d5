"""Nightshift's own reports (`nightshift.report/v1`, docs/report-schema.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nightshift.notify.actions import HEADS_UP
from nightshift.notify.model import Fact, Notification, Severity, Source, State
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

# Action names said in words (anything else: "<action> done" / "<action> failed").
_DONE_WORDS = {
    "stop": "stopped",
    "start": "started",
    "delete": "deleted",
    "redeploy": "redeployed",
    "create": "created",
    "update": "updated",
    "probe": "up",
    "deployment": "deployed",
    "heads-up": "stops soon",
}
_FAILED_WORDS = {"probe": "down"}
_SKIPPED_WORDS = {"keep": "kept", "protect": "kept"}
_NOTHING = frozenset({"none"})

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
    """Turn a published Report into a Notification for people: errors, totals, then items,
    failures first. Rules (docs/notifier.md): zero counts and totals are left out; totals that
    share a label are one fact ("Deleted: 3 · 60 GiB"); an item is named by its short name and
    said in words ("stopped", "would delete", "start failed"), never as a raw action and
    outcome; an item with nothing done ("none", skipped) is left out.

    >>> from nightshift.notify.events import Inbound
    >>> report = Report("pruner", "r-1", "2026-11-20T03:00:00Z", "staging", True, "nothing to do")
    >>> read(Message.of(Inbound("m-1", None, report.dumps(), None, None))).title
    'pruner (staging, dry run): nothing to do'
    """
    document = message.json_object
    if document is None:
        raise UnreadableMessage("the message is not a JSON object")
    report = Report.from_json(document)
    severity, paged_by = report_severity(report)
    facts = [Fact("Error", error) for error in report.errors]
    if paged_by:
        facts.append(Fact("Paged by", ", ".join(paged_by)))
    facts.extend(_total_facts(report.totals))
    shown = [item for item in sorted(report.items, key=_item_rank) if not _silent(item)]
    facts.extend(_item_fact(item) for item in shown)
    dry_run = ", dry run" if report.dry_run else ""
    own_key = f"nightshift-report:{report.function}:{report.run_id}"
    state, dedup_key, unpaired = _incident(report, severity, own_key)
    return Notification(
        source=Source.NIGHTSHIFT_REPORT,
        severity=severity,
        state=state,
        title=f"{report.function} ({report.environment}{dry_run}): {report.summary}",
        name=report.function,
        summary=(_counted(report) + _error_note(report)).strip(),
        facts=tuple(facts),
        links=(),
        dedup_key=dedup_key,
        raw=message.inbound.body,
        occurred_at=iso_instant(report.time),
        unpaired_key=unpaired,
        heads_up=any(item.action == HEADS_UP for item in report.items),
    )


def _incident(report: Report, severity: Severity, own_key: str) -> tuple[State, str, str | None]:
    """The state and dedup key of a report that is part of an incident: a one-item report whose
    item names its `incident` and `role` (redeploy's deployment outcomes). A failing `page` is an
    ALARM keyed by the incident, so a second failure of it within the repeat window is a repeat;
    a `resolve` is an OK keyed by the incident, so it closes the page (and keeps its own key as
    a routine message when no page is open: `suppression.paired`). Anything else is routine
    information keyed by its run.

    >>> from nightshift.report import ReportItem
    >>> item = ReportItem("arn:svc", "ecs-service", "deployment", Outcome.FAILED, "failed",
    ...                   {"incident": "ecs-deployment:arn:svc", "role": "page"})
    >>> report = Report("redeploy", "e-1", "t", "staging", False, "failed", (item,))
    >>> _incident(report, Severity.CRITICAL, "own")
    (<State.ALARM: 'alarm'>, 'incident:ecs-deployment:arn:svc', None)
    """
    if len(report.items) != 1 or report.errors:
        return State.INFO, own_key, None
    details = report.items[0].details
    incident, role = details.get("incident"), details.get("role")
    if not incident:
        return State.INFO, own_key, None
    key = f"incident:{incident}"
    if role == "page" and severity is Severity.CRITICAL:
        return State.ALARM, key, None
    if role == "resolve" and severity is Severity.INFO:
        return State.OK, key, own_key
    return State.INFO, own_key, None


def report_severity(report: Report) -> tuple[Severity, tuple[str, ...]]:
    """The report's severity, and the alarms that page for it instead: one incident pages once.

    A failure whose item names the alarm that pages for it (`details.paged_by`: the canary's
    down or start alarm for that check, in place) is that alarm's page, and its OK the resolve;
    a report whose every failure is paged that way is routine (severity info), so it neither
    pages a second time nor waits outside a digest. An error, a refusal or a failure no alarm
    covers keeps the report's own severity. A refusal already reported (`details.known`: the
    scheduler refuses the same resources for the same reasons as in its last run) is routine
    too; a new or changed refusal keeps the warning.

    >>> from nightshift.report import ReportItem
    >>> down = ReportItem("api", "http-check", "probe", Outcome.FAILED, "down: 503",
    ...                   {"paged_by": "nightshift-staging-canary-check-down-api"})
    >>> report_severity(Report("canary", "r", "t", "staging", False, "down: api", (down,)))
    (<Severity.INFO: 'info'>, ('nightshift-staging-canary-check-down-api',))
    >>> report_severity(Report("canary", "r", "t", "staging", False, "down: api",
    ...                        (down,), errors=("alarms not checked",)))[0]
    <Severity.CRITICAL: 'critical'>
    >>> known = ReportItem("db", "rds-instance", "refuse", Outcome.REFUSED, "protected",
    ...                    {"known": "refused alike in the last run"})
    >>> report_severity(Report("scheduler", "r", "t", "staging", False, "1 refused", (known,)))
    (<Severity.INFO: 'info'>, ())
    """
    severity = report.severity
    failed = [item for item in report.items if item.outcome is Outcome.FAILED]
    refused = [item for item in report.items if item.outcome is Outcome.REFUSED]
    alarms = tuple(
        dict.fromkeys(
            str(item.details["paged_by"]) for item in failed if item.details.get("paged_by")
        )
    )
    if severity is Severity.INFO or report.errors:
        return severity, ()
    if any(not item.details.get("paged_by") for item in failed) or any(
        not item.details.get("known") for item in refused
    ):
        return severity, ()
    return Severity.INFO, alarms


RECOGNISER = Recogniser(
    source=Source.NIGHTSHIFT_REPORT,
    describes=f"a Nightshift report ({SCHEMA_ID})",
    claims=claims,
    read=read,
)


def _total_facts(totals: Mapping[str, float]) -> list[Fact]:
    """Non-zero totals in their units, one fact per label.

    >>> _total_facts({"deleted_count": 3, "deleted_gib": 60, "failed": 0, "keep: last": 6})
    [Fact(label='Deleted', value='3 · 60 GiB'), Fact(label='By reason', value='keep: last 6')]
    """
    by_label: dict[str, list[str]] = {}
    reasons: list[str] = []
    for key, value in sorted(totals.items()):
        if not value:
            continue
        if ":" in key:
            # A tally by reason ("keep: last", "protected: automated"): one line for them all.
            reasons.append(f"{key} {number_text(float(value))}")
            continue
        label, shown = _total(key, float(value))
        by_label.setdefault(label, []).append(shown)
    facts = [Fact(label, " · ".join(values)) for label, values in by_label.items()]
    return facts + ([Fact("By reason", " · ".join(reasons))] if reasons else [])


def _total(key: str, value: float) -> tuple[str, str]:
    """>>> _total("estimated_monthly_savings_usd", 1.9)
    ('Estimated monthly savings', '$1.90')
    """
    for suffix, show in _UNITS.items():
        if key.endswith(suffix):
            return _label(key.removesuffix(suffix)), show(value)
    return _label(key), number_text(value)


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize() or key


def _item_rank(item: ReportItem) -> int:
    return _ITEM_ORDER[item.outcome]


def _silent(item: ReportItem) -> bool:
    """Nothing was done and nothing is wrong: not worth a line."""
    return item.outcome is Outcome.SKIPPED and item.action in _NOTHING


def _item_fact(item: ReportItem) -> Fact:
    """>>> item = ReportItem("arn:aws:rds:eu-central-1:1:db:app", "rds-instance", "stop",
    ...     Outcome.DONE, "office-hours: outside its periods", {"estimated_saving_usd": 0.24})
    >>> fact = _item_fact(item)
    >>> fact.label
    'rds-instance app'
    >>> print(fact.value)
    stopped — office-hours: outside its periods · ≈ $0.24 saved until the next start
    """
    words = _words(item)
    reason = item.reason.strip()
    said = reason if not reason or reason.lower().startswith(words) else f"{words} — {reason}"
    return Fact(f"{item.kind} {_short_name(item.resource)}", said + _money(item.details))


def _words(item: ReportItem) -> str:
    action = item.action
    match item.outcome:
        case Outcome.DONE:
            return _DONE_WORDS.get(action, f"{action} done")
        case Outcome.FAILED:
            return _FAILED_WORDS.get(action, f"{action} failed")
        case Outcome.PLANNED:
            return f"would {action}"
        case Outcome.REFUSED:
            return "refused" if action == "refuse" else f"{action} refused"
        case Outcome.SKIPPED:
            return _SKIPPED_WORDS.get(action, "left as it is")


def _money(details: Mapping[str, Any]) -> str:
    if "saved_usd" in details:
        hours = details.get("hours_parked")
        over = f" over {number_text(float(hours))} h parked" if hours is not None else ""
        return f" · ≈ {dollars(float(details['saved_usd']))} saved{over}"
    if "estimated_saving_usd" in details:
        return f" · ≈ {dollars(float(details['estimated_saving_usd']))} saved until the next start"
    if "unpriced" in details:
        return f" · {details['unpriced']}"
    return ""


def _short_name(resource: str) -> str:
    """The name people know: an ARN's last part.

    >>> _short_name("arn:aws:ecs:eu-central-1:1:service/app/api"), _short_name("snap-1")
    ('api', 'snap-1')
    """
    if not resource.startswith("arn:"):
        return resource
    return resource.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or resource


def _counted(report: Report) -> str:
    """The outcomes worth a word: none when every item was done (the title says what)."""
    counts = {outcome: n for outcome, n in report.counts.items() if n}
    if set(counts) <= {Outcome.DONE.value, Outcome.SKIPPED.value}:
        return ""
    return ", ".join(f"{n} {outcome}" for outcome, n in counts.items()) + "."


def _error_note(report: Report) -> str:
    count = len(report.errors)
    if not count:
        return ""
    return f" {count} error{'s' if count > 1 else ''} stopped part of the run."
