"""The fallback: a message nobody recognised, kept readable and marked as such."""

from __future__ import annotations

from nightshift.notify.model import Fact, Notification, Severity, Source, State
from nightshift.notify.sources.message import Message
from nightshift.notify.sources.reading import iso_instant

SUMMARY = "Nightshift did not recognise this message, so it is shown as it was received."


def read(message: Message, why: str) -> Notification:
    """Wrap any message as an UNRECOGNISED notification whose `raw` is the body, untouched.

    >>> from nightshift.notify.events import Inbound
    >>> n = read(Message.of(Inbound("m-1", "Hello", "disk full", None, None)), "no match")
    >>> n.source.value, n.title, n.raw
    ('unrecognised', 'Unrecognised message: Hello', 'disk full')
    """
    inbound = message.inbound
    subject = " ".join((inbound.subject or "").split())
    facts = [Fact("Why", why)]
    if inbound.topic_arn:
        facts.append(Fact("Topic", inbound.topic_arn))
    facts.append(Fact("Message ID", inbound.message_id))
    return Notification(
        source=Source.UNRECOGNISED,
        severity=Severity.WARNING,
        state=State.INFO,
        title=f"Unrecognised message: {subject}" if subject else "Unrecognised message",
        name=subject,
        summary=SUMMARY,
        facts=tuple(facts),
        links=(),
        dedup_key=f"unrecognised:{inbound.message_id}",
        raw=inbound.body,
        occurred_at=iso_instant(inbound.timestamp),
    )
