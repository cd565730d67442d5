"""The week's checks, over the chat transcript and the fleet's facts. Pure: no I/O, no clock.

A message is a *page* when it asks someone to act now (an alarm in ALARM, a failure, a rollback,
a budget over its threshold, a start that did not come back healthy), a *warning* when the
notifier marks it so (sent at once, acted on when someone can: a refusal the scheduler had not
made before), a *digest* when it gathers a day's routine reports, and *info* otherwise (a
routine report: stopped, started, deployed, pruned, resolved). Routine is info and digests: what
the notifier's own `digest.routine` lets wait.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from localcloud.week.plan import Incident

RESOLVED_WITHIN = dt.timedelta(minutes=60)  # an incident's OK comes within this after its end
HEALTHY_WITHIN = dt.timedelta(minutes=30)  # a start is verified if said healthy within this


class Kind(StrEnum):
    PAGE = "page"
    WARNING = "warning"
    INFO = "info"
    DIGEST = "digest"


@dataclass(frozen=True)
class Message:
    """One chat message as the receiver got it, at the simulated minute it arrived."""

    at: dt.datetime
    path: str
    text: str


@dataclass(frozen=True)
class Run:
    """One function run: when, which function, its report (payload), its error if any."""

    at: dt.datetime
    function: str
    payload: Mapping[str, Any]
    error: str = ""


@dataclass(frozen=True)
class FleetFacts:
    """What the harness saw of the fleet: parking windows (stop, start or None), starts and the
    first canary run that found every check up after each, production before and after."""

    parked: tuple[tuple[dt.datetime, dt.datetime | None], ...] = ()
    started: tuple[dt.datetime, ...] = ()
    healthy_after_start: tuple[dt.datetime | None, ...] = ()
    production_before: Mapping[str, str] = field(default_factory=dict)
    production_after: Mapping[str, str] = field(default_factory=dict)
    production_touched: tuple[str, ...] = ()
    incidents: tuple[Incident, ...] = ()


_PAGE = re.compile(
    r"\bALARM\b|\bfailed\b|\bFAILED\b|\bfailure\b|roll(?:ing|ed)? back|rollback|"
    r"exceeded your alert threshold|not healthy|\bdown\b",
    re.IGNORECASE,
)
_DIGEST = re.compile(r"\bdigest\b|^\W*last night\b", re.IGNORECASE | re.MULTILINE)
_RESOLVED = re.compile(r"\bOK\b|RESOLVED|Resolved|back to OK|completed", re.IGNORECASE)
_ENVIRONMENTS = ("production", "staging")
_EMOJI = re.compile(r"^\s*(?::[a-z0-9_+-]+:\s*)+")  # Slack's leading :red_circle:


def headline(text: str) -> str:
    """The message's first line as people see it (the header block, else the fallback text).

    >>> headline("[slack]\\n(notification text) fallback\\n▌ALARM: api-5xx\\nmore")
    'ALARM: api-5xx'
    >>> headline("[slack]\\n(notification text) just this")
    'just this'
    >>> headline("▌:red_circle: ALARM: api-5xx")
    'ALARM: api-5xx'
    """
    lines = [line for line in text.splitlines() if line.strip() and line.strip() != "[slack]"]
    for line in lines:
        if line.startswith("▌"):
            return _EMOJI.sub("", line.removeprefix("▌")).strip()
    first = lines[0].removeprefix("(notification text)") if lines else ""
    return _EMOJI.sub("", first).strip()


def kind_of(text: str) -> Kind:
    """How people read a message, from what it says first.

    >>> kind_of("▌ALARM: nightshift-staging-canary-backend-down")
    <Kind.PAGE: 'page'>
    >>> kind_of("▌OK: nightshift-staging-canary-backend-down")
    <Kind.INFO: 'info'>
    >>> kind_of("▌Last night: staging parked 19:00-07:30")
    <Kind.DIGEST: 'digest'>
    >>> kind_of("▌:large_orange_circle: scheduler (staging): stopped 2, 2 refused")
    <Kind.WARNING: 'warning'>
    """
    first = headline(text)
    if _DIGEST.search(first):
        return Kind.DIGEST
    if re.match(r"^(OK|RESOLVED)\b", first):
        return Kind.INFO
    if _PAGE.search(first):
        return Kind.PAGE
    header = next((line for line in text.splitlines() if line.startswith("▌")), "")
    return Kind.WARNING if ":large_orange_circle:" in header else Kind.INFO  # Slack's mark


def _answers_a_page(text: str) -> bool:
    """An alarm's OK or a RESOLVED closes a page: part of the page's thread, not routine (but a
    RESOLVED with no open ALARM on record, a new alarm's first verdict, closes nothing)."""
    closes = re.match(r"^(OK|RESOLVED)\b", headline(text)) is not None
    # A report that closes a page (a deploy's completion after its failure) says so in its
    # "Resolved after" fact, which the notifier adds only to an OK that closes an open ALARM.
    closes = closes or "Resolved after" in text
    return closes and "no open ALARM on record" not in text


def environment_of(text: str) -> str:
    """The environment a message is about: the first one it names, else "-".

    >>> environment_of("scheduler (staging): 2 stopped"), environment_of("budget")
    ('staging', '-')
    """
    found = [(text.find(name), name) for name in _ENVIRONMENTS if name in text]
    return min(found)[1] if found else "-"


@dataclass(frozen=True)
class Check:
    """One of the issue's "done when" checks: its name, whether it holds, and the figures."""

    name: str
    holds: bool
    detail: str


@dataclass(frozen=True)
class WeekSummary:
    counts: Mapping[dt.date, Mapping[Kind, int]]  # per local day
    # info and digest messages per day and environment, besides those closing a page (OK)
    routine: Mapping[tuple[dt.date, str], int]
    checks: tuple[Check, ...]
    dollars: str
    dollars_per_day: Mapping[dt.date, str] = field(default_factory=dict)

    def check(self, name: str) -> Check:
        (found,) = [c for c in self.checks if c.name == name]
        return found


PARKING_PAGES = "0 pages caused by intended parking"
INCIDENTS_ONCE = "each injected incident paged once and resolved once"
INCIDENTS_PAGED = "each injected incident paged at least once"
STARTS_HEALTHY = "every start verified healthy"
PRODUCTION = "production untouched"
ROUTINE = (
    "at most one routine message per environment per day besides pages (and warnings, sent at once)"
)


def summarize(
    messages: Sequence[Message],
    runs: Sequence[Run],
    facts: FleetFacts,
    day_of: Callable[[dt.datetime], dt.date],
    days: Sequence[dt.date],
) -> WeekSummary:
    """Counts per day and kind, routine messages per day and environment, and the checks."""
    kinds = [(m, kind_of(m.text)) for m in messages]
    counts = {day: {kind: 0 for kind in Kind} for day in days}
    routine: Counter[tuple[dt.date, str]] = Counter()
    for message, kind in kinds:
        counts.setdefault(day_of(message.at), {k: 0 for k in Kind})[kind] += 1
        if kind in (Kind.INFO, Kind.DIGEST) and not _answers_a_page(message.text):
            routine[(day_of(message.at), environment_of(message.text))] += 1
    pages = [m for m, k in kinds if k is Kind.PAGE]
    checks = (
        _parking_pages(pages, facts),
        *_incident_checks(kinds, facts.incidents),
        _starts_healthy(messages, facts),
        _production(facts),
        _routine(routine),
    )
    per_day = {day: dollars_saved([r for r in runs if day_of(r.at) == day]) for day in days}
    return WeekSummary(counts, dict(routine), checks, dollars_saved(runs), per_day)


def _in_incident(at: dt.datetime, incidents: Sequence[Incident]) -> bool:
    return any(i.start <= at <= i.end + RESOLVED_WITHIN for i in incidents)


def _parking_pages(pages: Sequence[Message], facts: FleetFacts) -> Check:
    def parked(at: dt.datetime) -> bool:
        return any(
            stop <= at and (start is None or at <= start + HEALTHY_WITHIN)
            for stop, start in facts.parked
        )

    caused = [p for p in pages if parked(p.at) and not _in_incident(p.at, facts.incidents)]
    return Check(PARKING_PAGES, not caused, f"{len(caused)} page(s) while staging was parked")


def _incident_checks(
    kinds: Sequence[tuple[Message, Kind]], incidents: Sequence[Incident]
) -> tuple[Check, Check]:
    details, once, at_least = [], True, True
    for incident in incidents:
        window = [
            (m, k) for m, k in kinds if incident.start <= m.at <= incident.end + RESOLVED_WITHIN
        ]
        paged = sum(1 for _, k in window if k is Kind.PAGE)
        resolved = sum(
            1 for m, k in window if k is not Kind.PAGE and _RESOLVED.search(headline(m.text))
        )
        details.append(f"{incident.name}: paged {paged}, resolved {resolved}")
        once = once and paged == 1 and resolved == 1
        at_least = at_least and paged >= 1
    text = "; ".join(details) or "no incidents"
    return Check(INCIDENTS_ONCE, once, text), Check(INCIDENTS_PAGED, at_least, text)


def _starts_healthy(messages: Sequence[Message], facts: FleetFacts) -> Check:
    """A start is verified when a message says staging is healthy within HEALTHY_WITHIN."""
    verified = 0
    for start in facts.started:
        said = [
            m
            for m in messages
            if start <= m.at <= start + HEALTHY_WITHIN
            and "healthy" in m.text.lower()
            and "not healthy" not in m.text.lower()
        ]
        verified += bool(said)
    seen = sum(1 for at in facts.healthy_after_start if at is not None)
    return Check(
        STARTS_HEALTHY,
        bool(facts.started) and verified == len(facts.started),
        f"{verified} of {len(facts.started)} starts reported healthy in chat "
        f"(the canary found every check up after {seen} of them)",
    )


def _production(facts: FleetFacts) -> Check:
    changed = [
        name
        for name in facts.production_before
        if facts.production_after.get(name) != facts.production_before[name]
    ]
    holds = not changed and not facts.production_touched and bool(facts.production_before)
    detail = (
        f"{len(facts.production_before)} production resources as they were; "
        f"changed: {changed or 'none'}; acted on: {list(facts.production_touched) or 'none'}"
    )
    return Check(PRODUCTION, holds, detail)


def _routine(routine: Mapping[tuple[dt.date, str], int]) -> Check:
    over = {key: n for key, n in routine.items() if n > 1}
    worst = max(routine.values(), default=0)
    return Check(
        ROUTINE, not over, f"{len(over)} environment-days over one; the most in a day: {worst}"
    )


_DOLLAR_KEYS = re.compile(r"dollar|usd|\$", re.IGNORECASE)


def dollars_saved(runs: Sequence[Run]) -> str:
    """The scheduler's reported dollars saved over the week, or "not priced" when its reports
    carry no dollar figure (totals keyed with dollars/usd).

    >>> dollars_saved([Run(dt.datetime(2026, 10, 19), "SchedulerFunction", {"totals": {}})])
    'not priced'
    >>> dollars_saved([Run(dt.datetime(2026, 10, 19), "SchedulerFunction",
    ...                    {"totals": {"dollars_saved": 1.5}})] * 2)
    '$3.00'
    """
    total, priced = 0.0, False
    for run in runs:
        if run.function != "SchedulerFunction":
            continue
        for key, value in run.payload.get("totals", {}).items():
            if _DOLLAR_KEYS.search(key) and isinstance(value, int | float):
                total, priced = total + float(value), True
    return f"${total:,.2f}" if priced else "not priced"


# ------------------------------------------------------------------------- the record on disk
def to_json(
    messages: Sequence[Message], runs: Sequence[Run], facts: FleetFacts, figures: Mapping[str, Any]
) -> dict[str, Any]:
    """What the play recorded, as JSON: the transcript, the runs that matter to the checks
    (the scheduler's, pruner's and redeploy's reports, and any failed run), the facts."""
    kept = [
        r
        for r in runs
        if r.error or r.function in ("SchedulerFunction", "PrunerFunction", "RedeployFunction")
    ]
    return {
        "messages": [{"at": m.at.isoformat(), "path": m.path, "text": m.text} for m in messages],
        "runs": [
            {
                "at": r.at.isoformat(),
                "function": r.function,
                "summary": r.payload.get("summary"),
                "totals": r.payload.get("totals", {}),
                "items": [
                    i for i in r.payload.get("items", []) if i.get("outcome") in ("done", "failed")
                ],
                "error": r.error,
            }
            for r in kept
        ],
        "facts": {
            "parked": [[a.isoformat(), b.isoformat() if b else None] for a, b in facts.parked],
            "started": [a.isoformat() for a in facts.started],
            "healthy_after_start": [
                a.isoformat() if a else None for a in facts.healthy_after_start
            ],
            "production_before": dict(facts.production_before),
            "production_after": dict(facts.production_after),
            "production_touched": list(facts.production_touched),
        },
        "figures": dict(figures),
    }


def from_json(
    record: Mapping[str, Any], incidents: tuple[Incident, ...]
) -> tuple[list[Message], list[Run], FleetFacts, dict[str, Any]]:
    def when(text: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(text) if text else None

    messages = [
        Message(dt.datetime.fromisoformat(m["at"]), m["path"], m["text"])
        for m in record["messages"]
    ]
    runs = [
        Run(
            dt.datetime.fromisoformat(r["at"]),
            r["function"],
            {"summary": r["summary"], "totals": r["totals"], "items": r["items"]},
            r["error"],
        )
        for r in record["runs"]
    ]
    f = record["facts"]
    facts = FleetFacts(
        parked=tuple((dt.datetime.fromisoformat(a), when(b)) for a, b in f["parked"]),
        started=tuple(dt.datetime.fromisoformat(a) for a in f["started"]),
        healthy_after_start=tuple(when(a) for a in f["healthy_after_start"]),
        production_before=f["production_before"],
        production_after=f["production_after"],
        production_touched=tuple(f["production_touched"]),
        incidents=incidents,
    )
    return messages, runs, facts, dict(record["figures"])
