"""Slack incoming webhooks: Block Kit blocks, with a top-level `text` that notifications and
screen readers show.

Slack's limits, enforced here: 50 blocks, header text 150 characters, section text 3000, a
section's fields 10 of 2000 each, context text 3000, and `text` about 40,000. What does not fit is
cut, and a note says so, with a link to the full details when the caller has one. Links are
mrkdwn links rather than buttons: buttons from an incoming webhook show a warning in Slack when
the app has no interactivity endpoint. The one exception is a message's signed actions
(docs/actions.md): native buttons whose `value` is the signed token (the Slack app's
interactivity request URL is the actions function's `/slack`), and below them the same actions
as signed links for a workspace without the app. Both carry the same token: it works once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nightshift.notify.model import ActionButton, Fact, Link, Notification
from nightshift.notify.render.presentation import (
    ELLIPSIS,
    clip,
    context_line,
    is_short,
    look_of,
    raw_text,
)

MAX_BLOCKS = 50
HEADER_TEXT = 150
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS_PER_SECTION = 10
CONTEXT_TEXT = 3000
FALLBACK_TEXT = 40_000
RAW_BLOCKS = 4
LABEL_TEXT = 200
CODE_FENCE = "```"
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_PREFIX = "nightshift-action-"  # action_id of a signed action's button

type Block = dict[str, Any]


@dataclass(frozen=True)
class _Body:
    blocks: tuple[Block, ...]
    shortened: bool


def render(n: Notification, details_url: str | None = None) -> dict[str, Any]:
    """The JSON body to POST to a Slack incoming webhook.

    >>> from nightshift.notify.model import Severity, Source, State
    >>> n = Notification(Source.CLOUDWATCH_ALARM, Severity.CRITICAL, State.OK,
    ...                  "RESOLVED: cpu", "cpu", "CPU is fine", (), (), "k", "")
    >>> message = render(n)
    >>> message["text"], message["blocks"][0]["text"]["text"]
    ('RESOLVED: cpu — CPU is fine', ':large_green_circle: RESOLVED: cpu')
    """
    look = look_of(n)
    title = " ".join(n.title.split())
    header: Block = {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": clip(f"{look.slack_emoji} {title}", HEADER_TEXT),
            "emoji": True,
        },
    }
    body = _body(n)
    tail = [
        block for block in (*_actions(n.actions), _links(n.links), _context(n)) if block is not None
    ]
    room = MAX_BLOCKS - 1 - len(tail) - 1  # header, tail, and a note if anything is cut
    shortened = body.shortened or len(body.blocks) > room
    blocks = [header, *body.blocks[:room]]
    if shortened:
        blocks.append(_note(details_url))
    blocks.extend(tail)
    fallback = f"{title} — {n.summary}" if n.summary else title
    return {"text": clip(escape(fallback), FALLBACK_TEXT), "blocks": blocks}


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn and `text`.

    >>> escape("OK -> ALARM & <b>")
    'OK -&gt; ALARM &amp; &lt;b&gt;'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _body(n: Notification) -> _Body:
    blocks: list[Block] = []
    shortened = False
    if n.summary:
        text, cut = _mrkdwn(n.summary, SECTION_TEXT)
        blocks.append(_section(text))
        shortened |= cut
    for group in _groups(n.facts):
        if len(group) == 1 and not is_short(group[0].value):
            text, cut = _fact_text(group[0], SECTION_TEXT)
            blocks.append(_section(text))
            shortened |= cut
            continue
        fields = []
        for fact in group:
            text, cut = _fact_text(fact, FIELD_TEXT)
            fields.append({"type": "mrkdwn", "text": text})
            shortened |= cut
        blocks.append({"type": "section", "fields": fields})
    raw = raw_text(n)
    if raw is not None:
        chunks = _chunks(
            escape(raw.replace(CODE_FENCE, "`\u200b``")) or "(empty message)",
            SECTION_TEXT - 2 * len(CODE_FENCE) - 2,
        )
        blocks.extend(
            _section(f"{CODE_FENCE}\n{chunk}\n{CODE_FENCE}") for chunk in chunks[:RAW_BLOCKS]
        )
        shortened |= len(chunks) > RAW_BLOCKS
    return _Body(tuple(blocks), shortened)


def _groups(facts: tuple[Fact, ...]) -> list[list[Fact]]:
    """Runs of short facts become one section's fields (at most 10); a long fact stands alone."""
    groups: list[list[Fact]] = []
    for fact in facts:
        if not is_short(fact.value):
            groups.append([fact])
        elif groups and is_short(groups[-1][0].value) and len(groups[-1]) < FIELDS_PER_SECTION:
            groups[-1].append(fact)
        else:
            groups.append([fact])
    return groups


def _fact_text(fact: Fact, limit: int) -> tuple[str, bool]:
    label = escape(clip(" ".join(fact.label.split()), LABEL_TEXT))
    value, cut = _mrkdwn(fact.value, limit - len(label) - 3)
    return f"*{label}*\n{value}", cut


def _links(links: tuple[Link, ...]) -> Block | None:
    text = ""
    for link in links:
        piece = f"<{_url(link.url)}|{escape(link.label).replace('|', '¦')}>"
        candidate = f"{text}  ·  {piece}" if text else piece
        if len(candidate) > SECTION_TEXT:
            break
        text = candidate
    return _section(text) if text else None


def _actions(buttons: tuple[ActionButton, ...]) -> tuple[Block | None, ...]:
    """Native buttons (their value is the token; Slack posts a click to the actions function),
    then the same actions as links."""
    usable = [b for b in buttons if len(b.token) <= BUTTON_VALUE]
    if not usable:
        return ()
    elements = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": clip(b.label, BUTTON_TEXT)},
            "value": b.token,
            "action_id": f"{ACTION_PREFIX}{index}",
        }
        for index, b in enumerate(usable)
    ]
    links = "  ·  ".join(f"<{_url(b.url)}|{escape(b.label).replace('|', '¦')}>" for b in usable)
    note = {
        "type": "mrkdwn",
        "text": clip(f"Or by link (confirm on the page): {links}", CONTEXT_TEXT),
    }
    return {"type": "actions", "elements": elements}, {"type": "context", "elements": [note]}


def _context(n: Notification) -> Block:
    text = clip(escape(context_line(n)), CONTEXT_TEXT)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _note(details_url: str | None) -> Block:
    text = "_Shortened to fit Slack's message limits._"
    if details_url:
        text += f" <{_url(details_url)}|Full details>"
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def _mrkdwn(text: str, limit: int) -> tuple[str, bool]:
    """Escaped text within `limit`, never cutting an entity in half; and whether it was cut."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped, False
    return _PARTIAL_ENTITY.sub("", escaped[: limit - len(ELLIPSIS)]) + ELLIPSIS, True


def _chunks(escaped: str, size: int) -> list[str]:
    chunks = []
    start = 0
    while start < len(escaped):
        piece = escaped[start : start + size]
        if start + size < len(escaped):
            piece = _PARTIAL_ENTITY.sub("", piece) or piece
        chunks.append(piece)
        start += len(piece)
    return chunks


def _url(url: str) -> str:
    """A URL that cannot end Slack's <url|label> early."""
    return url.replace(" ", "%20").replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
