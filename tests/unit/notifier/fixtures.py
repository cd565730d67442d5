"""The notifier's shared events (events/notifier/<case>.json), loaded by name."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from nightshift.notify.events import Inbound
from nightshift.notify.model import Notification
from nightshift.notify.sources import parse

FIXTURE_DIR = Path(__file__).resolve().parents[3] / "events" / "notifier"


def fixture_names() -> list[str]:
    """Every case, without `.json`, sorted."""
    return sorted(path.stem for path in FIXTURE_DIR.glob("*.json"))


@cache
def _text(name: str) -> str:
    return (FIXTURE_DIR / f"{name}.json").read_text(encoding="utf-8")


def load_event(name: str) -> dict[str, Any]:
    """The SQS Lambda event of case `name` (a fresh copy each time)."""
    return json.loads(_text(name))


def record(name: str) -> dict[str, Any]:
    return load_event(name)["Records"][0]


def envelope(name: str) -> dict[str, Any]:
    """The SNS envelope in the case's SQS body."""
    return json.loads(record(name)["body"])


def inbound(name: str) -> Inbound:
    first = record(name)
    return Inbound.from_sqs_body(first["body"], first["messageId"])


def notification(name: str) -> Notification:
    return parse(inbound(name))
