"""POST a JSON message to a chat webhook, the way Slack and Teams expect it.

A 429 is retried in place when its Retry-After fits in the time we have; anything else that is
not a 2xx raises DeliveryError (carrying Retry-After when given), so SQS retries the record and
its dead-letter queue keeps it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3

from nightshift.errors import DeliveryError

_POOL = urllib3.PoolManager(
    timeout=urllib3.Timeout(connect=3.0, read=10.0),
    retries=False,
    headers={"User-Agent": "nightshift-notifier"},
)
# Retry a 429 in place at most this many times and never sleep longer than this in one go.
MAX_IN_PLACE_RETRIES = 2
MAX_IN_PLACE_WAIT_SECONDS = 5.0


# The IAM actions this module needs: none (HTTP to chat webhooks).
IAM_ACTIONS = frozenset()


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    attempts: int


def redact(url: str) -> str:
    """The URL with its secret parts removed, safe for logs: scheme and host only."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…"


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    destination: str,
    pool: urllib3.PoolManager | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WebhookResponse:
    """POST `payload` to `url`; return on 2xx, raise DeliveryError otherwise."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    http = pool or _POOL
    attempts = 0
    while True:
        attempts += 1
        try:
            response = http.request(
                "POST", url, body=body, headers={"Content-Type": "application/json"}
            )
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryError(destination, f"{type(exc).__name__} at {redact(url)}") from exc
        if 200 <= response.status < 300:
            return WebhookResponse(status=response.status, attempts=attempts)
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if (
            response.status == 429
            and attempts <= MAX_IN_PLACE_RETRIES
            and retry_after is not None
            and retry_after <= MAX_IN_PLACE_WAIT_SECONDS
        ):
            sleep(retry_after)
            continue
        raise DeliveryError(
            destination,
            f"HTTP {response.status} from {redact(url)}",
            retry_after=retry_after,
        )


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: too far ahead to wait for in place anyway
