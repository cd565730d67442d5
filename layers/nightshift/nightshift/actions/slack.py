"""Slack interactivity: the request signature (Slack's v0 scheme) and the button click.

Slack signs each request with the app's signing secret: HMAC-SHA256 over
`v0:<X-Slack-Request-Timestamp>:<raw body>`, sent hex-encoded as `X-Slack-Signature: v0=<hex>`.
A request whose timestamp is more than five minutes from our clock is refused, so a captured
request cannot be replayed later (within the window, the action token's single use refuses it).
The body is form-encoded with one field, `payload`, a JSON document; a button click
(`block_actions`) names the user and carries the button's `value`: our signed action token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs

REPLAY_WINDOW = dt.timedelta(minutes=5)
SIGNATURE_HEADER = "x-slack-signature"
TIMESTAMP_HEADER = "x-slack-request-timestamp"


class SlackCheck(StrEnum):
    OK = "ok"
    UNSIGNED = "unsigned"  # a header is missing or not in the v0 form
    STALE = "stale"  # the timestamp is outside the replay window
    BAD_SIGNATURE = "bad signature"


@dataclass(frozen=True)
class SlackClick:
    user: str  # how the report names who clicked
    token: str  # the button's value: a signed action token


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """`v0=<hex>` for this body and timestamp (what Slack sends; tests sign with it too)."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()


def check_request(
    secret: bytes, headers: Mapping[str, str], body: bytes, now: dt.datetime
) -> SlackCheck:
    """Whether a request comes from our Slack app: signed with its secret, within the window."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp, given = lowered.get(TIMESTAMP_HEADER, ""), lowered.get(SIGNATURE_HEADER, "")
    if not timestamp.isdigit() or not given.startswith("v0="):
        return SlackCheck.UNSIGNED
    sent = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    if abs(now - sent) > REPLAY_WINDOW:
        return SlackCheck.STALE
    if not hmac.compare_digest(given.encode(), signature(secret, timestamp, body).encode()):
        return SlackCheck.BAD_SIGNATURE
    return SlackCheck.OK


def parse_click(body: bytes) -> SlackClick | None:
    """The user and the first button's value of a `block_actions` payload; None for anything
    else (a request we do not act on)."""
    fields = parse_qs(body.decode("utf-8", "replace"))
    try:
        payload = json.loads(fields["payload"][0])
    except (KeyError, IndexError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return None
    actions, user = payload.get("actions"), payload.get("user")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return None
    value = actions[0].get("value")
    if not isinstance(value, str) or not isinstance(user, dict):
        return None
    name = user.get("username") or user.get("name") or user.get("id")
    if not isinstance(name, str) or not name:
        return None
    return SlackClick(user=name, token=value)
