"""Slack's v0 request signature and the button click payload."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pytest

from nightshift.actions.slack import SlackCheck, check_request, parse_click, signature

SECRET = b"8f742231b10e8888abcd99yyyzzz85a5"
NOW = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC)
TIMESTAMP = str(int(NOW.timestamp()))


def click_body(value: str = "tok.sig", user: dict[str, str] | None = None) -> bytes:
    payload = {
        "type": "block_actions",
        "user": user or {"id": "U0CA5", "username": "amy", "name": "amy"},
        "actions": [{"action_id": "keep-running", "value": value, "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def headers(body: bytes, timestamp: str = TIMESTAMP, secret: bytes = SECRET) -> dict[str, str]:
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(secret, timestamp, body),
    }


def test_the_signature_is_hmac_sha256_of_v0_timestamp_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET, b"v0:1:body", hashlib.sha256).hexdigest()
    assert signature(SECRET, "1", b"body") == f"v0={expected}"


def test_a_request_signed_by_our_app_now_passes() -> None:
    body = click_body()
    assert check_request(SECRET, headers(body), body, NOW) is SlackCheck.OK


def test_header_names_are_case_insensitive() -> None:
    body = click_body()
    lowered = {k.lower(): v for k, v in headers(body).items()}
    assert check_request(SECRET, lowered, body, NOW) is SlackCheck.OK


def test_another_secret_or_body_is_a_bad_signature() -> None:
    body = click_body()
    assert check_request(SECRET, headers(body, secret=b"x"), body, NOW) is SlackCheck.BAD_SIGNATURE
    assert (
        check_request(SECRET, headers(body), click_body("other"), NOW) is SlackCheck.BAD_SIGNATURE
    )


@pytest.mark.parametrize("seconds", [301, -301, 3600])
def test_outside_five_minutes_is_stale(seconds: int) -> None:
    body = click_body()
    sent = str(int(NOW.timestamp()) - seconds)
    assert check_request(SECRET, headers(body, sent), body, NOW) is SlackCheck.STALE


@pytest.mark.parametrize("seconds", [300, -300, 0])
def test_within_five_minutes_passes(seconds: int) -> None:
    body = click_body()
    sent = str(int(NOW.timestamp()) - seconds)
    assert check_request(SECRET, headers(body, sent), body, NOW) is SlackCheck.OK


def test_missing_headers_are_unsigned() -> None:
    body = click_body()
    assert check_request(SECRET, {}, body, NOW) is SlackCheck.UNSIGNED
    only_time = {"X-Slack-Request-Timestamp": TIMESTAMP, "X-Slack-Signature": "sha1=abc"}
    assert check_request(SECRET, only_time, body, NOW) is SlackCheck.UNSIGNED


def test_a_click_names_the_user_and_carries_the_token() -> None:
    click = parse_click(click_body("abc.def"))
    assert click is not None
    assert (click.user, click.token) == ("amy", "abc.def")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"payload=not-json",
        urlencode({"payload": json.dumps({"type": "view_submission"})}).encode(),
    ],
)
def test_anything_but_a_button_click_is_none(body: bytes) -> None:
    assert parse_click(body) is None
