"""POST a JSON message to a chat webhook, the way Slack and Teams expect it.

A 429 is retried in place by urllib3's `Retry` (`respect_retry_after_header`) when its
Retry-After fits in the time we have (at most 5 s, at most twice); anything else that is not a
2xx raises DeliveryError (carrying Retry-After when given), so SQS retries the record and its
dead-letter queue keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import MaxRetryError

from nightshift.errors import DeliveryError

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

_POOL = urllib3.PoolManager(
    timeout=urllib3.Timeout(connect=3.0, read=10.0),
    retries=False,
    headers={"User-Agent": "nightshift-notifier"},
)
# Retry a 429 in place at most this many times and never sleep longer than this in one go.
MAX_IN_PLACE_RETRIES = 2
MAX_IN_PLACE_WAIT_SECONDS = 5.0


class ShortRetryAfter(urllib3.Retry):
    """urllib3's Retry for a webhook POST: only a 429, only as often as MAX_IN_PLACE_RETRIES, and
    only when its Retry-After asks for at most MAX_IN_PLACE_WAIT_SECONDS (urllib3 then sleeps
    exactly that long). A longer or missing Retry-After gives the 429 back at once: a Lambda
    never sleeps through its timeout, SQS retries the record later."""

    @classmethod
    def for_webhooks(cls) -> Self:
        return cls(
            total=MAX_IN_PLACE_RETRIES,
            connect=0,
            read=0,
            redirect=0,
            other=0,
            status_forcelist={429},
            allowed_methods={"POST"},
            respect_retry_after_header=True,
            raise_on_status=False,
            backoff_factor=0,
        )

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is None or wait > MAX_IN_PLACE_WAIT_SECONDS:
                # Not worth waiting here: urlopen hands the 429 back (raise_on_status=False).
                # urllib3 types the pool as required yet passes Retry an optional one and
                # raises the same way itself (urllib3/util/retry.py).
                raise MaxRetryError(_pool, url or "", None)  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)


# The IAM actions this module needs: none (HTTP to chat webhooks).
IAM_ACTIONS = frozenset[str]()


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
) -> WebhookResponse:
    """POST `payload` to `url`; return on 2xx, raise DeliveryError otherwise."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    http = pool or _POOL
    try:
        response = http.request(
            "POST",
            url,
            body=body,
            headers={"Content-Type": "application/json"},
            retries=ShortRetryAfter.for_webhooks(),
            redirect=False,  # a webhook that redirects is misconfigured: say so, do not follow
        )
    except urllib3.exceptions.HTTPError as exc:
        cause = exc.reason if isinstance(exc, MaxRetryError) and exc.reason else exc
        raise DeliveryError(destination, f"{type(cause).__name__} at {redact(url)}") from exc
    retries = getattr(response, "retries", None)
    attempts = 1 + (len(retries.history) if retries is not None else 0)
    if 200 <= response.status < 300:
        return WebhookResponse(status=response.status, attempts=attempts)
    raise DeliveryError(
        destination,
        f"HTTP {response.status} from {redact(url)}",
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: too far ahead to wait for in place anyway
