"""The signed action token: what to do, to what, until when the link works, and a nonce.

A token is `<payload>.<signature>`, both base64url without padding. The payload is compact JSON
(`v` version, `k` kind, `t` target, `u` until (optional), `e` expiry in epoch seconds, `n` nonce);
the signature is HMAC-SHA256 over the payload text with the signing key, under a domain prefix
so no other HMAC the key might make can pass for a token. The same token is a link's `token`
query parameter and a Slack button's value, so every channel (links, Slack, Teams cards, email)
shares one verifier.

Verification returns its reason, checked in this order: malformed (not a token at all), forged
(signature wrong: any field tampered with), expired (now at or after the expiry), wrong target
(the request names another target than the token), wrong kind (a status link where an action
is asked for, or the other way round). "already used" is decided by the state table
(a conditional write, `service`), after everything else passed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

VERSION = 1
DOMAIN = b"nightshift-action/v1."
NONCE_BYTES = 16
MAX_TOKEN_CHARS = 2048  # a URL stays well under browsers' and chat apps' limits


class ActionKind(StrEnum):
    KEEP_RUNNING = "keep-running"  # override running-until=<until>
    STOP_NOW = "stop-now"  # override stopped-until=<until>
    START_NOW = "start-now"  # override running-until=<until>
    SNOOZE = "snooze"  # a canary check is snoozed until <until>
    ROLLBACK = "rollback"  # a service goes back to its previous task definition revision
    APPROVE = "approve"  # a held redeploy (target: its key) is deployed, once, within 24 h
    STATUS = (
        "status"  # read only: the status page of an environment (target: its name), until expiry
    )


# The kinds that change something (links, buttons); a status link never acts, an action link
# never shows the status page.
ACTING_KINDS = frozenset(kind for kind in ActionKind if kind is not ActionKind.STATUS)


# Kinds whose token must carry `until` (when the effect ends by itself).
TIMED_KINDS = frozenset(
    {ActionKind.KEEP_RUNNING, ActionKind.STOP_NOW, ActionKind.START_NOW, ActionKind.SNOOZE}
)


class Reason(StrEnum):
    OK = "ok"
    MALFORMED = "malformed"
    FORGED = "forged"
    EXPIRED = "expired"
    WRONG_TARGET = "wrong target"
    WRONG_KIND = "wrong kind"
    ALREADY_USED = "already used"


@dataclass(frozen=True)
class ActionToken:
    kind: ActionKind
    target: str
    expires: dt.datetime  # the link works before this instant (UTC)
    nonce: str
    until: dt.datetime | None = None  # when a timed action's effect ends (UTC)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "v": VERSION,
            "k": self.kind.value,
            "t": self.target,
            "e": int(self.expires.timestamp()),
            "n": self.nonce,
        }
        if self.until is not None:
            data["u"] = int(self.until.timestamp())
        return data


@dataclass(frozen=True)
class Verification:
    reason: Reason
    token: ActionToken | None = None  # set when the signature was good (also when expired)

    @property
    def ok(self) -> bool:
        return self.reason is Reason.OK


def new_token(
    kind: ActionKind,
    target: str,
    expires: dt.datetime,
    until: dt.datetime | None = None,
    nonce: str | None = None,
) -> ActionToken:
    """A token with a fresh random nonce (what the notifier will call when it renders buttons)."""
    if kind in TIMED_KINDS and until is None:
        raise ValueError(f"{kind} needs an `until`")
    if not target or any(c.isspace() for c in target):
        raise ValueError("a target is a non-empty name or ARN without spaces")
    return ActionToken(
        kind=kind,
        target=target,
        expires=_whole_seconds(expires),
        nonce=nonce or secrets.token_urlsafe(NONCE_BYTES),
        until=_whole_seconds(until) if until is not None else None,
    )


def sign(token: ActionToken, key: bytes) -> str:
    """`<payload>.<signature>`: the text a link or a button carries."""
    payload = _b64(json.dumps(token.payload(), sort_keys=True, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(key, payload))}"


def verify(
    text: str,
    key: bytes,
    now: dt.datetime,
    expected_target: str | None = None,
    kinds: frozenset[ActionKind] = ACTING_KINDS,
) -> Verification:
    """Check a token's signature (constant-time), expiry and target; return the reason.

    `expected_target` is the target the request names beside the token (a link's `target`
    parameter); None when the token alone names it (a Slack button). `kinds` are the kinds the
    route serves: the acting ones, unless the route is the status page.
    """
    payload, separator, signature = text.partition(".")
    if not separator or not payload or not signature or len(text) > MAX_TOKEN_CHARS:
        return Verification(Reason.MALFORMED)
    try:
        given = _unb64(signature)
    except ValueError:
        return Verification(Reason.MALFORMED)
    if not hmac.compare_digest(given, _mac(key, payload)):
        return Verification(Reason.FORGED)
    try:
        token = _parse(json.loads(_unb64(payload)))
    except (ValueError, KeyError, TypeError):
        # Signed by our key but unreadable (a future version): not ours to act on.
        return Verification(Reason.MALFORMED)
    if now >= token.expires:
        return Verification(Reason.EXPIRED, token)
    if expected_target is not None and not hmac.compare_digest(
        expected_target.encode(), token.target.encode()
    ):
        return Verification(Reason.WRONG_TARGET, token)
    if token.kind not in kinds:
        return Verification(Reason.WRONG_KIND, token)
    return Verification(Reason.OK, token)


def _parse(data: Any) -> ActionToken:
    if not isinstance(data, dict) or data.get("v") != VERSION:
        raise ValueError("unknown token version")
    kind = ActionKind(data["k"])
    until = _instant(data["u"]) if "u" in data else None
    if kind in TIMED_KINDS and until is None:
        raise ValueError(f"{kind} without until")
    target, nonce = data["t"], data["n"]
    if not isinstance(target, str) or not target or not isinstance(nonce, str) or not nonce:
        raise ValueError("target and nonce are non-empty strings")
    return ActionToken(kind, target, _instant(data["e"]), nonce, until)


def _instant(value: Any) -> dt.datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("an instant is whole epoch seconds")
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _whole_seconds(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("instants are timezone-aware")
    return instant.astimezone(dt.UTC).replace(microsecond=0)


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, DOMAIN + payload.encode("ascii", "replace"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
