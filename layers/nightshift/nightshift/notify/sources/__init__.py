"""Every source the notifier understands, as a table of recognisers, and `parse`, which turns
any inbound message into exactly one Notification.

A message no recogniser claims, or one whose recogniser cannot read it (malformed JSON, missing
fields, odd types), becomes an UNRECOGNISED notification that shows the raw text and says why.
Nothing is dropped and `parse` never raises for what a message contains.
"""

from __future__ import annotations

from nightshift.errors import EventError
from nightshift.notify.events import Inbound
from nightshift.notify.model import Notification
from nightshift.notify.sources import (
    budgets,
    cloudwatch,
    cloudwatch_event,
    cost_anomaly,
    ecs_deployment,
    nightshift_report,
    unrecognised,
)
from nightshift.notify.sources.message import Message, Recogniser

__all__ = ["RECOGNISERS", "Message", "Recogniser", "parse"]

# Most specific first: each claims only messages with its own markers, so order rarely matters.
RECOGNISERS: tuple[Recogniser, ...] = (
    nightshift_report.RECOGNISER,
    cloudwatch.RECOGNISER,
    cloudwatch_event.RECOGNISER,
    ecs_deployment.RECOGNISER,
    cost_anomaly.RECOGNISER,
    budgets.RECOGNISER,
)

# What a broken message makes a reader raise. Anything else is a bug and propagates.
_CONTENT_PROBLEMS = (
    EventError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


def parse(inbound: Inbound) -> Notification:
    """The one Notification for an inbound message.

    >>> parse(Inbound("m-1", "Hello", "disk full on bastion", None, None)).source.value
    'unrecognised'
    >>> alarm = '{"AlarmName": "cpu", "NewStateValue": "ALARM"}'
    >>> parse(Inbound("m-2", None, alarm, None, None)).title
    'ALARM: cpu'
    >>> broken = '{"AlarmName": "cpu", "NewStateValue": 7}'
    >>> print(parse(Inbound("m-3", None, broken, None, None)).facts[0].value)
    looks like a CloudWatch alarm but could not be read: field 'NewStateValue': expected a \
non-empty string, got int
    """
    message = Message.of(inbound)
    for recogniser in RECOGNISERS:
        try:
            claimed = recogniser.claims(message)
        except _CONTENT_PROBLEMS:
            claimed = False
        if not claimed:
            continue
        try:
            return recogniser.read(message)
        except _CONTENT_PROBLEMS as exc:
            problem = str(exc) if isinstance(exc, EventError) else f"{type(exc).__name__}: {exc}"
            why = f"looks like {recogniser.describes} but could not be read: {problem}"
            return unrecognised.read(message, why)
    why = f"{message.json_problem}; " if message.json_problem else ""
    return unrecognised.read(message, f"{why}no recogniser matched ({_known()})")


def _known() -> str:
    # An alarm's SNS message and its EventBridge event are both the source cloudwatch-alarm.
    sources = dict.fromkeys(recogniser.source.value for recogniser in RECOGNISERS)
    return "understood: " + ", ".join(sources)
