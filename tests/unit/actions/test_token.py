"""The signed action token: every verification reason, the expiry edge, each field tampered."""

from __future__ import annotations

import base64
import datetime as dt
import doctest
import json

import pytest

from nightshift.actions import plan, token
from nightshift.actions.token import ActionKind, Reason, new_token, sign, verify

KEY = b"k" * 64
NOW = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC)
EXPIRES = NOW + dt.timedelta(hours=2)
UNTIL = dt.datetime(2026, 12, 4, 22, 0, tzinfo=dt.UTC)


def keep_running() -> token.ActionToken:
    return new_token(ActionKind.KEEP_RUNNING, "office-hours", EXPIRES, until=UNTIL, nonce="n1")


def _payload(text: str) -> dict[str, object]:
    part = text.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def _with_payload(text: str, data: dict[str, object]) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + text.split(".")[1]


def test_a_signed_token_verifies_and_round_trips() -> None:
    signed = sign(keep_running(), KEY)
    checked = verify(signed, KEY, NOW, expected_target="office-hours")
    assert checked.reason is Reason.OK
    assert checked.token == keep_running()


def test_without_an_expected_target_the_token_names_it() -> None:
    assert verify(sign(keep_running(), KEY), KEY, NOW).reason is Reason.OK


def test_the_link_expires_at_its_expiry_exactly() -> None:
    signed = sign(keep_running(), KEY)
    assert verify(signed, KEY, EXPIRES - dt.timedelta(seconds=1)).reason is Reason.OK
    assert verify(signed, KEY, EXPIRES).reason is Reason.EXPIRED
    assert verify(signed, KEY, EXPIRES + dt.timedelta(days=9)).reason is Reason.EXPIRED


def test_another_key_is_a_forgery() -> None:
    assert verify(sign(keep_running(), b"other"), KEY, NOW).reason is Reason.FORGED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("k", "stop-now"),
        ("t", "always-on"),
        ("e", 4102444800),
        ("n", "n2"),
        ("u", 4102444800),
        ("v", 2),
    ],
)
def test_each_field_tampered_with_is_a_forgery(field: str, value: object) -> None:
    signed = sign(keep_running(), KEY)
    tampered = _with_payload(signed, {**_payload(signed), field: value})
    assert verify(tampered, KEY, NOW).reason is Reason.FORGED


def test_a_removed_until_is_a_forgery() -> None:
    signed = sign(keep_running(), KEY)
    data = _payload(signed)
    del data["u"]
    assert verify(_with_payload(signed, data), KEY, NOW).reason is Reason.FORGED


def test_a_tampered_signature_is_a_forgery() -> None:
    payload, signature = sign(keep_running(), KEY).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert verify(f"{payload}.{flipped}", KEY, NOW).reason is Reason.FORGED


@pytest.mark.parametrize("text", ["", "abc", ".", "abc.", ".abc", "a.b!c", "x" * 3000 + ".y"])
def test_what_is_not_a_token_is_malformed(text: str) -> None:
    assert verify(text, KEY, NOW).reason is Reason.MALFORMED


def test_a_well_signed_payload_we_cannot_read_is_malformed() -> None:
    payload = base64.urlsafe_b64encode(b'{"v":1,"k":"dance"}').rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(token._mac(KEY, payload)).rstrip(b"=").decode()
    assert verify(f"{payload}.{signature}", KEY, NOW).reason is Reason.MALFORMED


def test_a_link_for_another_target_is_refused() -> None:
    checked = verify(sign(keep_running(), KEY), KEY, NOW, expected_target="always-on")
    assert checked.reason is Reason.WRONG_TARGET


def test_an_expired_link_is_expired_whatever_its_target() -> None:
    signed = sign(keep_running(), KEY)
    assert verify(signed, KEY, EXPIRES, expected_target="other").reason is Reason.EXPIRED


def test_timed_kinds_need_until_and_targets_have_no_spaces() -> None:
    with pytest.raises(ValueError, match="until"):
        new_token(ActionKind.SNOOZE, "api-health", EXPIRES)
    with pytest.raises(ValueError, match="target"):
        new_token(ActionKind.ROLLBACK, "a b", EXPIRES)


def test_nonces_are_fresh() -> None:
    first = new_token(ActionKind.ROLLBACK, "x", EXPIRES)
    assert first.nonce != new_token(ActionKind.ROLLBACK, "x", EXPIRES).nonce
    assert len(first.nonce) >= 20


def test_docstrings() -> None:
    assert doctest.testmod(plan).failed == 0


def status_link(expires: dt.datetime = EXPIRES) -> str:
    return sign(new_token(ActionKind.STATUS, "staging", expires, nonce="s1"), KEY)


def test_a_status_link_opens_the_status_page_only() -> None:
    status_only = frozenset({ActionKind.STATUS})
    assert verify(status_link(), KEY, NOW, "staging", kinds=status_only).ok
    # Where an action is asked for (a link's page, its form, a Slack button), it does nothing.
    assert verify(status_link(), KEY, NOW, "staging").reason is Reason.WRONG_KIND
    assert verify(status_link(), KEY, NOW).reason is Reason.WRONG_KIND
    # And an action link does not open the status page.
    assert verify(sign(keep_running(), KEY), KEY, NOW, kinds=status_only).reason is (
        Reason.WRONG_KIND
    )


def test_a_status_link_expires_and_names_its_environment() -> None:
    status_only = frozenset({ActionKind.STATUS})
    late = verify(status_link(), KEY, EXPIRES, "staging", kinds=status_only)
    assert late.reason is Reason.EXPIRED
    assert verify(status_link(), KEY, NOW, "prod", kinds=status_only).reason is (
        Reason.WRONG_TARGET
    )
    tampered = _with_payload(status_link(), {**_payload(status_link()), "t": "prod"})
    assert verify(tampered, KEY, NOW, "prod", kinds=status_only).reason is Reason.FORGED


def test_a_status_token_never_acts() -> None:
    made = new_token(ActionKind.STATUS, "staging", EXPIRES, nonce="s1")
    assert plan.target_problem(made) == "a status link does not act"
