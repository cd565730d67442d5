"""What every destination shows the same way: the look of a state, the context line, times,
the raw text of an unrecognised message, and clipping text to a destination's limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from nightshift.notify.model import Notification, Severity, Source, State

ELLIPSIS = "…"


@dataclass(frozen=True)
class Look:
    """How a notification's standing is shown: a word, Slack's emoji code, the same emoji in
    Unicode (Teams), and the Adaptive Card colour for the badge."""

    label: str
    slack_emoji: str
    symbol: str
    teams_color: str


# The state decides where it says something (resolved, no data); otherwise the severity does.
_BY_STATE = {
    State.OK: Look("RESOLVED", ":large_green_circle:", "🟢", "good"),
    State.INSUFFICIENT_DATA: Look("INSUFFICIENT DATA", ":white_circle:", "⚪", "default"),
}
_BY_SEVERITY = {
    Severity.CRITICAL: Look("CRITICAL", ":red_circle:", "🔴", "attention"),
    Severity.WARNING: Look("WARNING", ":large_orange_circle:", "🟠", "warning"),
    Severity.INFO: Look("INFO", ":large_blue_circle:", "🔵", "accent"),
}
_UNRECOGNISED = Look("UNRECOGNISED", ":grey_question:", "❔", "warning")
_SOURCE_NAMES = {
    Source.CLOUDWATCH_ALARM: "CloudWatch alarm",
    Source.BUDGET: "AWS Budgets",
    Source.COST_ANOMALY: "Cost Anomaly Detection",
    Source.ECS_DEPLOYMENT: "ECS deployment",
    Source.NIGHTSHIFT_REPORT: "Nightshift report",
    Source.UNRECOGNISED: "unrecognised message",
}
# A fact this long, or with a line break, gets a block of its own instead of a column.
SHORT_FACT = 120


def look_of(n: Notification) -> Look:
    """>>> from nightshift.notify.model import Notification
    >>> n = Notification(Source.CLOUDWATCH_ALARM, Severity.CRITICAL, State.OK, "t", "n", "", (),
    ...                  (), "k", "")
    >>> look_of(n).label
    'RESOLVED'
    """
    if n.source is Source.UNRECOGNISED:
        return _UNRECOGNISED
    return _BY_STATE.get(n.state) or _BY_SEVERITY[n.severity]


def source_name(source: Source) -> str:
    return _SOURCE_NAMES[source]


def context_line(n: Notification) -> str:
    """Where and when, in one line: "CloudWatch alarm · eu-central-1 · account 1111… · time"."""
    parts = [source_name(n.source), n.region, f"account {n.account}" if n.account else None]
    parts.append(shown_time(n.occurred_at))
    return " · ".join(part for part in parts if part)


def shown_time(iso: str | None) -> str | None:
    """>>> shown_time("2026-11-20T18:04:12.205+00:00"), shown_time("yesterday")
    ('2026-11-20 18:04:12 UTC', 'yesterday')
    """
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def is_short(value: str) -> bool:
    return len(value) <= SHORT_FACT and "\n" not in value


def raw_text(n: Notification) -> str | None:
    """The original message for people to read: only for unrecognised messages (the others are
    fully described by their facts), JSON pretty-printed, anything else as it came."""
    if n.source is not Source.UNRECOGNISED:
        return None
    try:
        document = json.loads(n.raw)
    except (ValueError, RecursionError):
        return n.raw
    if not isinstance(document, dict | list):
        return n.raw
    try:
        return json.dumps(document, indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return n.raw


def clip(text: str, limit: int, marker: str = ELLIPSIS) -> str:
    """At most `limit` characters, ending with `marker` when something was cut.

    >>> clip("abcdef", 4), clip("abc", 4)
    ('abc…', 'abc')
    """
    if len(text) <= limit:
        return text
    return text[: max(limit - len(marker), 0)] + marker[:limit]


def clip_bytes(text: str, limit: int, marker: str = ELLIPSIS) -> str:
    """At most `limit` bytes of UTF-8, never splitting a character.

    >>> clip_bytes("héllo", 4)
    'h…'
    """
    if len(text.encode("utf-8")) <= limit:
        return text
    room = max(limit - len(marker.encode("utf-8")), 0)
    return text.encode("utf-8")[:room].decode("utf-8", errors="ignore") + marker
