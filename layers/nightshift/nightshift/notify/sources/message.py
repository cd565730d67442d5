"""The message a recogniser looks at, and the shape every recogniser has."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nightshift.notify.events import Inbound
from nightshift.notify.model import Notification, Source


@dataclass(frozen=True)
class Message:
    """An Inbound with its body decoded once.

    `document` is the JSON value, or None for text; `json_problem` says why a body that looks like
    JSON (starts with `{` or `[`) could not be decoded, so the raw fallback can tell people.
    """

    inbound: Inbound
    document: Any
    json_problem: str | None = None

    @classmethod
    def of(cls, inbound: Inbound) -> Message:
        try:
            return cls(inbound=inbound, document=json.loads(inbound.body))
        except (ValueError, RecursionError) as exc:
            looks_like_json = inbound.body.lstrip()[:1] in ("{", "[")
            problem = f"not valid JSON ({exc})" if looks_like_json else None
            return cls(inbound=inbound, document=None, json_problem=problem)

    @property
    def json_object(self) -> dict[str, Any] | None:
        return self.document if isinstance(self.document, dict) else None


@dataclass(frozen=True)
class Recogniser:
    """One source the notifier understands.

    `claims` answers quickly whether the message looks like this source; `read` turns it into a
    Notification and raises (UnreadableMessage, KeyError, ...) when a claimed message is broken.
    """

    source: Source
    describes: str
    claims: Callable[[Message], bool]
    read: Callable[[Message], Notification]
