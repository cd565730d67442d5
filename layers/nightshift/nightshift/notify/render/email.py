"""Email through an SNS topic with email subscriptions: a plain-text subject and body.

SNS wants the subject in ASCII, without line breaks or control characters, and shorter than 100
characters; a publish is at most 256 KiB. The body puts the raw message (if any) last, so a cut
loses the least useful part, and a note then points to the full details when the caller has them.
"""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass

from nightshift.notify.model import Notification
from nightshift.notify.render.presentation import clip, clip_bytes, context_line, raw_text

SUBJECT_CHARS = 99
BODY_BYTES = 240_000
FALLBACK_SUBJECT = "Nightshift notification"
_WIDTH = 100
# Characters our own texts use that have a plain ASCII spelling.
_ASCII = str.maketrans(
    {
        "\N{RIGHTWARDS ARROW}": "->",
        "\N{HORIZONTAL ELLIPSIS}": "...",
        "\N{EM DASH}": "-",
        "\N{EN DASH}": "-",
        "\N{MIDDLE DOT}": "-",
        "\N{LEFT DOUBLE QUOTATION MARK}": '"',
        "\N{RIGHT DOUBLE QUOTATION MARK}": '"',
        "\N{LEFT SINGLE QUOTATION MARK}": "'",
        "\N{RIGHT SINGLE QUOTATION MARK}": "'",
        "\N{EURO SIGN}": "EUR",
    }
)


@dataclass(frozen=True)
class EmailMessage:
    subject: str
    text: str


def render(n: Notification, details_url: str | None = None) -> EmailMessage:
    """Subject and body for SNS Publish to an email topic.

    >>> from nightshift.notify.model import Fact, Severity, Source, State
    >>> n = Notification(Source.CLOUDWATCH_ALARM, Severity.CRITICAL, State.ALARM,
    ...                  "ALARM: cpu", "cpu", "CPU is high", (Fact("State", "OK → ALARM"),),
    ...                  (), "k", "")
    >>> message = render(n)
    >>> message.subject
    'ALARM: cpu'
    >>> print(message.text.splitlines()[5])
    State: OK → ALARM
    """
    title = " ".join(n.title.split())
    lines = [title, "=" * min(len(title), _WIDTH), ""]
    if n.summary:
        lines += [*_wrapped(n.summary), ""]
    for fact in n.facts:
        lines += _fact_lines(fact.label, fact.value)
    if n.facts:
        lines.append("")
    if n.actions:
        lines.append("Actions (each link works once; its page asks you to confirm):")
        lines += [f"  {button.label}: {button.url}" for button in n.actions]
        lines.append("")
    if n.links:
        lines.append("Links:")
        lines += [f"  {link.label}: {link.url}" for link in n.links]
        lines.append("")
    lines += ["-- ", context_line(n), "Sent by Nightshift."]
    raw = raw_text(n)
    if raw is not None:
        lines += ["", "Message as received:", "", raw or "(empty message)"]
    return EmailMessage(subject=subject_line(n.title), text=_fit("\n".join(lines), details_url))


def subject_line(title: str) -> str:
    """An SNS-acceptable subject: ASCII, one line, under 100 characters.

    >>> subject_line("Budget  dev: cost → €5\\n")
    'Budget dev: cost -> EUR5'
    """
    text = title.translate(_ASCII)
    text = unicodedata.normalize("NFKD", text).encode("ascii", errors="ignore").decode("ascii")
    text = " ".join("".join(char if char.isprintable() else " " for char in text).split())
    return clip(text, SUBJECT_CHARS, marker="...") or FALLBACK_SUBJECT


def _fact_lines(label: str, value: str) -> list[str]:
    label = " ".join(label.split())
    if "\n" not in value and len(label) + len(value) + 2 <= _WIDTH:
        return [f"{label}: {value}"]
    wrapped = (
        line
        for paragraph in value.splitlines() or [""]
        for line in textwrap.wrap(paragraph, _WIDTH - 2, break_long_words=False) or [""]
    )
    return [f"{label}:", *(f"  {line}" for line in wrapped)]


def _wrapped(text: str) -> list[str]:
    return [
        line
        for paragraph in text.splitlines() or [""]
        for line in (textwrap.wrap(paragraph, _WIDTH, break_long_words=False) or [""])
    ]


def _fit(text: str, details_url: str | None) -> str:
    if len(text.encode("utf-8")) <= BODY_BYTES:
        return text
    note = "\n\n[Shortened to fit the email size limit."
    note += f" Full details: {details_url}]" if details_url else "]"
    return clip_bytes(text, BODY_BYTES - len(note.encode("utf-8"))) + note
