"""The webhook POST against a local receiver: urllib3's Retry honours a short Retry-After in
place (at most twice, at most 5 s); anything else fails at once with DeliveryError, so SQS
retries the record later. Error texts never carry the URL's secret path."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from localcloud.receiver import ScriptedResponse, WebhookReceiver
from localcloud.server import free_port
from nightshift.adapters.webhook import MAX_IN_PLACE_RETRIES, post_json
from nightshift.errors import DeliveryError

MESSAGE = {"text": "ALARM: todoapp-backend-high-cpu"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as started:
        yield started


def statuses(receiver: WebhookReceiver) -> list[int]:
    return [request.status for request in receiver.requests]


def test_a_429_with_a_short_retry_after_is_retried_after_that_wait(
    receiver: WebhookReceiver,
) -> None:
    receiver.script(ScriptedResponse(429, {"Retry-After": "1"}), 200)
    began = time.monotonic()

    response = post_json(receiver.url_for("oncall"), MESSAGE, destination="oncall")

    assert time.monotonic() - began >= 1.0
    assert (response.status, response.attempts) == (200, 2)
    assert statuses(receiver) == [429, 200]
    assert receiver.requests[1].json == MESSAGE


def test_a_429_asking_for_a_long_wait_fails_at_once_carrying_its_retry_after(
    receiver: WebhookReceiver,
) -> None:
    receiver.script(ScriptedResponse(429, {"Retry-After": "30"}))

    with pytest.raises(DeliveryError) as raised:
        post_json(receiver.url_for("oncall"), MESSAGE, destination="oncall")

    assert raised.value.retry_after == 30.0
    assert statuses(receiver) == [429]


def test_a_429_without_retry_after_is_not_retried_in_place(receiver: WebhookReceiver) -> None:
    receiver.script(429)

    with pytest.raises(DeliveryError, match="HTTP 429") as raised:
        post_json(receiver.url_for("oncall"), MESSAGE, destination="oncall")

    assert raised.value.retry_after is None
    assert statuses(receiver) == [429]


def test_repeated_429s_are_retried_twice_then_fail(receiver: WebhookReceiver) -> None:
    receiver.always(ScriptedResponse(429, {"Retry-After": "0"}))

    with pytest.raises(DeliveryError, match="HTTP 429") as raised:
        post_json(receiver.url_for("oncall"), MESSAGE, destination="oncall")

    assert raised.value.retry_after == 0.0
    assert statuses(receiver) == [429] * (1 + MAX_IN_PLACE_RETRIES)


def test_a_server_error_fails_at_once_without_the_secret_path(receiver: WebhookReceiver) -> None:
    receiver.script(500)
    url = receiver.url_for("T000/B000/secret-token")

    with pytest.raises(DeliveryError) as raised:
        post_json(url, MESSAGE, destination="oncall")

    assert statuses(receiver) == [500]
    assert "HTTP 500 from http://127.0.0.1/…" in str(raised.value)
    assert "secret-token" not in str(raised.value)


def test_a_redirect_is_not_followed_but_reported(receiver: WebhookReceiver) -> None:
    receiver.script(ScriptedResponse(302, {"Location": "http://127.0.0.1:9/elsewhere"}))

    with pytest.raises(DeliveryError, match="HTTP 302"):
        post_json(receiver.url_for("oncall"), MESSAGE, destination="oncall")

    assert statuses(receiver) == [302]


def test_nobody_listening_is_a_delivery_error_naming_the_cause() -> None:
    url = f"http://127.0.0.1:{free_port()}/services/secret-token"

    with pytest.raises(DeliveryError, match="NewConnectionError") as raised:
        post_json(url, MESSAGE, destination="oncall")

    assert "secret-token" not in str(raised.value)
