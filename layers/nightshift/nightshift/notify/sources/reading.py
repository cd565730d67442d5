"""Typed reads from a decoded JSON message, so a missing or mistyped field says which one it was.

Required reads raise UnreadableMessage (the recogniser then falls back to the raw message);
optional reads return None for a missing or mistyped value, so one odd detail never costs the
whole message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from nightshift.errors import EventError
from nightshift.notify.events import readable


class UnreadableMessage(EventError):
    """A message claimed by a recogniser lacks a field that recogniser needs."""


def required_text(document: Mapping[str, Any], key: str) -> str:
    """A non-empty string field.

    >>> required_text({"AlarmName": "cpu"}, "AlarmName")
    'cpu'
    """
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UnreadableMessage(f"field {key!r}: expected a non-empty string, got {_kind(value)}")
    return readable(value)


def optional_text(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    return readable(value) if isinstance(value, str) and value.strip() else None


def optional_number(document: Mapping[str, Any], key: str) -> float | None:
    value = document.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def optional_mapping(document: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = document.get(key)
    return value if isinstance(value, Mapping) else None


def mappings(document: Mapping[str, Any], key: str) -> tuple[Mapping[str, Any], ...]:
    """The objects in a list field; anything that is not an object is left out."""
    value = document.get(key)
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    return tuple(item for item in value if isinstance(item, Mapping))


_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):")


def arn_partition(arn: str | None) -> str | None:
    match = _ARN.match(arn or "")
    return match["partition"] if match else None


def arn_region(arn: str | None) -> str | None:
    """The region code in an ARN, if it has one.

    >>> arn_region("arn:aws:cloudwatch:eu-central-1:111122223333:alarm:cpu")
    'eu-central-1'
    """
    match = _ARN.match(arn or "")
    return match["region"] or None if match else None


def arn_account(arn: str | None) -> str | None:
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


_MONEY = re.compile(r"^\$?\s*(?P<amount>\d[\d,]*(?:\.\d+)?)$")


def money(text: str | None) -> Decimal | None:
    """A dollar amount as AWS writes it, with or without cents.

    >>> money("$1,234.50"), money("$100"), money("about ten")
    (Decimal('1234.50'), Decimal('100'), None)
    """
    match = _MONEY.match((text or "").strip())
    if not match:
        return None
    try:
        return Decimal(match["amount"].replace(",", ""))
    except InvalidOperation:
        return None


def dollars(amount: Decimal | float) -> str:
    """>>> dollars(Decimal("41.5")), dollars(38.5)
    ('$41.50', '$38.50')
    """
    return f"${Decimal(str(amount)):,.2f}"


def number_text(value: float) -> str:
    """A threshold or datapoint as people write it: 80.0 -> '80', 0.85 -> '0.85'.

    >>> number_text(80.0), number_text(0.85), number_text(1e-07)
    ('80', '0.85', '1e-07')
    """
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


def duration_text(seconds: float | None) -> str | None:
    """>>> duration_text(300), duration_text(10), duration_text(3600), duration_text(86400)
    ('5 min', '10 s', '1 h', '1 day')
    """
    if seconds is None or seconds <= 0:
        return None
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            plural = "s" if unit == "day" and count > 1 else ""
            return f"{count} {unit}{plural}"
    return f"{number_text(seconds)} s"


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def instant(text: str | None) -> datetime | None:
    """An ISO 8601 time as AWS writes it (`...+0000`, `...Z`), in UTC; None if it is not one.

    >>> instant("2026-11-20T18:04:12.205+0000").isoformat()
    '2026-11-20T18:04:12.205000+00:00'
    """
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso_instant(text: str | None) -> str | None:
    """The time normalised to ISO 8601 UTC, or the text unchanged when it is not a time.

    >>> iso_instant("2026-11-20T18:04:12.205+0000"), iso_instant("2026-11-20T09:16:02Z")
    ('2026-11-20T18:04:12.205+00:00', '2026-11-20T09:16:02+00:00')
    """
    moment = instant(text)
    if moment is None:
        return text or None
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
