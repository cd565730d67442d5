"""Microsoft Teams Workflows webhooks: an Adaptive Card (1.4) in the `message` envelope that the
"Post to a channel when a webhook request is received" workflow expects.

Teams refuses a payload over about 28 KB, so the card is built with ever smaller allowances
(fewer facts, shorter texts, a shorter raw message) until it fits; when anything was cut, a note
says so and links to the full details when the caller has them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from nightshift.notify.model import Notification
from nightshift.notify.render.presentation import (
    clip,
    context_line,
    is_short,
    look_of,
    raw_text,
    source_name,
)

MAX_PAYLOAD_BYTES = 28_000
MAX_ACTIONS = 6
MAX_URL = 2048
CARD_VERSION = "1.4"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

type Element = dict[str, Any]


@dataclass(frozen=True)
class Allowance:
    """How much of a notification one attempt at the card may show (None: every fact)."""

    facts: int | None
    text: int
    raw: int


# Tried in order; the first card that fits is sent. The last one always fits.
ALLOWANCES = (
    Allowance(facts=None, text=20_000, raw=20_000),
    Allowance(facts=None, text=4_000, raw=8_000),
    Allowance(facts=40, text=2_000, raw=4_000),
    Allowance(facts=20, text=1_000, raw=2_000),
    Allowance(facts=10, text=500, raw=1_000),
    Allowance(facts=5, text=300, raw=500),
    Allowance(facts=0, text=200, raw=0),
)


def render(n: Notification, details_url: str | None = None) -> dict[str, Any]:
    """The JSON body to POST to a Teams Workflows webhook.

    >>> from nightshift.notify.model import Severity, Source, State
    >>> n = Notification(Source.CLOUDWATCH_ALARM, Severity.CRITICAL, State.ALARM,
    ...                  "ALARM: cpu", "cpu", "CPU is high", (), (), "k", "")
    >>> card = render(n)["attachments"][0]["content"]
    >>> card["version"], card["body"][1]["text"]
    ('1.4', 'ALARM: cpu')
    """
    for allowance in ALLOWANCES:
        payload = _envelope(_card(n, allowance, details_url))
        if payload_size(payload) <= MAX_PAYLOAD_BYTES:
            return payload
    return payload


def payload_size(payload: dict[str, Any]) -> int:
    """Bytes on the wire, as Teams counts them."""
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _envelope(card: Element) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [{"contentType": CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


def _card(n: Notification, allowance: Allowance, details_url: str | None) -> Element:
    look = look_of(n)
    shortened = False

    def fit(text: str, limit: int) -> str:
        nonlocal shortened
        clipped = clip(text, limit)
        shortened |= clipped != text
        return clipped

    body: list[Element] = [
        _text(
            f"{look.symbol} {look.label} · {source_name(n.source)}",
            size="Small",
            weight="Bolder",
            color=look.teams_color,
        ),
        _text(
            fit(" ".join(n.title.split()), min(allowance.text, 500)), size="Large", weight="Bolder"
        ),
    ]
    if n.summary:
        body.append(_text(fit(n.summary, allowance.text)))
    facts = n.facts if allowance.facts is None else n.facts[: allowance.facts]
    shortened |= len(facts) < len(n.facts)
    short_run: list[Element] = []
    for fact in facts:
        if is_short(fact.value):
            short_run.append(
                {"title": fit(fact.label, 200), "value": fit(fact.value, allowance.text)}
            )
            continue
        if short_run:
            body.append({"type": "FactSet", "facts": short_run})
            short_run = []
        body.append(_text(f"**{fit(fact.label, 200)}**", spacing="Medium"))
        body.append(_text(fit(fact.value, allowance.text), spacing="None"))
    if short_run:
        body.append({"type": "FactSet", "facts": short_run})
    raw = raw_text(n)
    if raw is not None:
        shown = fit(raw or "(empty message)", allowance.raw) if allowance.raw else ""
        shortened |= not allowance.raw
        if shown:
            # A TextRun is not markdown, so the message shows exactly as it came.
            body.append(
                {
                    "type": "RichTextBlock",
                    "inlines": [{"type": "TextRun", "text": shown, "fontType": "Monospace"}],
                }
            )
    if shortened:
        note = "Shortened to fit Teams' message size limit."
        body.append(
            _text(f"{note} [Full details]({details_url})" if details_url else note, isSubtle=True)
        )
    body.append(_text(clip(context_line(n), allowance.text), size="Small", isSubtle=True))
    # Signed actions first (docs/actions.md): each opens its link, whose page asks to confirm.
    actions = [
        {"type": "Action.OpenUrl", "title": clip(button.label, 60), "url": button.url}
        for button in n.actions
        if len(button.url) <= MAX_URL
    ]
    actions += [
        {"type": "Action.OpenUrl", "title": clip(link.label, 60), "url": link.url}
        for link in n.links
        if len(link.url) <= MAX_URL
    ]
    if shortened and details_url:
        actions.insert(0, {"type": "Action.OpenUrl", "title": "Full details", "url": details_url})
    card: Element = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        card["actions"] = actions[:MAX_ACTIONS]
    return card


def _text(text: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}
