"""Every fixture rendered for every destination, as text a person can read in a terminal.

`make preview` prints `preview_lines(Path("events/notifier"))`: every SQS event there, then
every digest fixture in its `digest/` folder (the messages kept for one digest, composed as the
notifier's digest run does). The Slack and Teams views show
roughly what the apps would: the header, the texts with their markup, fields as `label: value`,
links as `[label] url`, a Nightshift report's signed actions as `[label] (button)` and links
(signed with a preview key for an example function URL: they work nowhere). The local cloud's
webhook receiver can use `slack_lines` and `teams_lines` for what it records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nightshift.notify import actions
from nightshift.notify.digest import DigestEntry, DigestSchedule, compose, next_due
from nightshift.notify.events import Inbound
from nightshift.notify.model import Notification, Source
from nightshift.notify.render import email, slack, teams
from nightshift.notify.sources import parse
from nightshift.notify.suppression import decide, event_time
from nightshift.report import Report

RULE = "─" * 78
_NO_TIME = datetime(2026, 1, 1, tzinfo=UTC)
_REPEAT_WINDOW = timedelta(minutes=60)
_SLACK_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
# The notifier signs with the stack's key for its function URL; the preview with these.
PREVIEW_KEY = b"preview-only-signing-key"
PREVIEW_URL = "https://preview.lambda-url.eu-central-1.on.aws/"


def preview_lines(fixture_dir: Path) -> Iterator[str]:
    """For each `*.json` SQS event in `fixture_dir` (sorted by name), each record: the parsed
    notification's headline, then its Slack, Teams and email renderings."""
    for path in sorted(fixture_dir.glob("*.json"), key=lambda path: path.stem):
        yield from fixture_lines(path)
    for path in sorted((fixture_dir / "digest").glob("*.json"), key=lambda path: path.stem):
        yield from digest_lines(path)


def digest_lines(path: Path) -> Iterator[str]:
    """A digest fixture (`environment`, `digest: {at, timezone}`, the run's `time`, and the
    `Records` that brought the kept messages) composed into its digest and rendered."""
    document = json.loads(path.read_text(encoding="utf-8"))
    spec = document["digest"]
    schedule = DigestSchedule.parse(spec["at"], spec.get("timezone", "UTC"))
    now = datetime.fromisoformat(document["time"])
    entries = []
    for record in document.get("Records", ()):
        inbound = Inbound.from_sqs_body(record.get("body", ""), record.get("messageId"))
        n = parse(inbound)
        at = event_time(n, now)
        entry = DigestEntry(
            inbound.message_id, "preview", next_due(schedule, at), at, n.title, inbound.body
        )
        entries.append(entry)
    digest = compose(entries, document["environment"], schedule.zone, now)
    yield from notification_lines(f"digest/{path.name}", digest)


def fixture_lines(path: Path) -> Iterator[str]:
    """One SQS event file's records, each parsed and rendered for every destination."""
    event = json.loads(path.read_text(encoding="utf-8"))
    for record in event.get("Records", ()):
        inbound = Inbound.from_sqs_body(record.get("body", ""), record.get("messageId"))
        yield from notification_lines(path.name, with_actions(parse(inbound)))


def with_actions(n: Notification) -> Notification:
    """A Nightshift report with the actions the notifier would offer (docs/actions.md)."""
    if n.source is not Source.NIGHTSHIFT_REPORT:
        return n
    found = actions.offers(Report.from_json(json.loads(n.raw)))
    signed = actions.signed(found, PREVIEW_KEY, PREVIEW_URL, nonce="preview")
    return replace(n, actions=signed)


def notification_lines(name: str, n: Notification) -> Iterator[str]:
    yield "═" * 78
    yield f"{name}: {n.source.value} · {n.severity.value} · {n.state.value} · {n.dedup_key}"
    # What a notifier with nothing remembered does with it (a new alarm's first verdict is
    # remembered, not posted): shown, so the rendering below is not mistaken for a post.
    verdict = decide(n, None, event_time(n, _NO_TIME), _REPEAT_WINDOW)
    if not verdict.send:
        yield f"not posted: {verdict.reason}"
    yield "═" * 78
    yield "Slack"
    yield RULE
    yield from slack_lines(slack.render(n))
    yield ""
    yield "Teams"
    yield RULE
    yield from teams_lines(teams.render(n))
    yield ""
    yield "Email"
    yield RULE
    message = email.render(n)
    yield f"Subject: {message.subject}"
    yield ""
    yield from message.text.splitlines()
    yield ""


def slack_lines(message: Mapping[str, Any]) -> Iterator[str]:
    """A Slack Block Kit message as plain lines."""
    yield f"(notification text) {_plain(message.get('text', ''))}"
    for block in message.get("blocks", ()):
        kind = block.get("type")
        if kind == "header":
            yield f"▌{block['text']['text']}"
        elif kind == "section" and "fields" in block:
            for item in block["fields"]:
                label, _, value = _plain(item["text"]).partition("\n")
                yield f"  {label}: {value}"
        elif kind == "section":
            yield from (f"  {line}" for line in _plain(block["text"]["text"]).splitlines())
        elif kind == "actions":
            yield "  " + "  ".join(
                f"[{element['text']['text']}] (button)" for element in block["elements"]
            )
        elif kind == "context":
            yield "  · " + " ".join(
                _plain(element.get("text", "")) for element in block["elements"]
            )
        else:
            yield f"  ({kind} block)"


def teams_lines(payload: Mapping[str, Any]) -> Iterator[str]:
    """A Teams Adaptive Card message as plain lines."""
    for attachment in payload.get("attachments", ()):
        card = attachment.get("content", {})
        for element in card.get("body", ()):
            kind = element.get("type")
            if kind == "TextBlock":
                marker = "▌" if element.get("size") == "Large" else " "
                yield from (f"{marker} {line}" for line in element["text"].splitlines())
            elif kind == "FactSet":
                yield from (f"  {fact['title']}: {fact['value']}" for fact in element["facts"])
            elif kind == "RichTextBlock":
                text = "".join(inline.get("text", "") for inline in element["inlines"])
                yield from (f"  │ {line}" for line in text.splitlines())
            else:
                yield f"  ({kind})"
        for action in card.get("actions", ()):
            yield f"  [{action.get('title')}] {action.get('url')}"


def _plain(mrkdwn: str) -> str:
    text = _SLACK_LINK.sub(lambda match: f"[{match[2]}] {match[1]}", mrkdwn)
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text
