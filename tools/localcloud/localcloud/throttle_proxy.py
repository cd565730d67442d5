"""The throttle proxy: a WSGI layer in front of moto that counts every request and, when asked,
refuses what AWS's documented token buckets would refuse, with AWS's own error answers.

Every client of the server is counted the same way, at the server, whatever SDK or retry logic it
uses (the bench runs two tools against one endpoint). The layer sits inside the moto server's
process (localcloud.inprocess wraps moto's WSGI application with it), so counting costs no extra
HTTP hop.

What it enforces (`LIMITS`), per account and Region as AWS does:
- EC2 DeleteSnapshot: a bucket of 100 tokens refilled at 5 a second;
- RDS: one bucket of 300 tokens refilled at 12 a second shared by every RDS action.
A request takes one token; without a token it is refused (a refused request takes none) with
EC2's `RequestLimitExceeded` (HTTP 503) or RDS's `Throttling` (HTTP 400, "Rate exceeded").
`rate_scale` multiplies the refill rates (bursts stay as documented) for runs that must be short.

The buckets here are written independently of `nightshift.pacing`, the client-side pacer under
test: the server must not share the client's mistakes.

>>> bucket = ServerBucket(burst=2, rate=1.0, now=0.0)
>>> [bucket.take(0.0), bucket.take(0.0), bucket.take(0.0), bucket.take(1.0)]
[True, True, False, True]
"""

from __future__ import annotations

import io
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Control = Callable[[str, str, bytes], tuple[int, bytes]]
"""(method, path, body) -> (status, JSON body): the control endpoints under CONTROL_PREFIX, answered
by the server itself and never counted (localcloud.inprocess)."""

CONTROL_PREFIX = "/__localcloud/"
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Limit:
    """A documented token bucket and the actions that draw from it ("*": every action)."""

    name: str
    service: str
    actions: frozenset[str]
    burst: float
    rate: float
    source: str

    def covers(self, service: str, action: str) -> bool:
        return service == self.service and ("*" in self.actions or action in self.actions)


LIMITS = (
    Limit(
        name="ec2:DeleteSnapshot",
        service="ec2",
        actions=frozenset({"DeleteSnapshot"}),
        burst=100,
        rate=5.0,
        source="https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html",
    ),
    Limit(
        name="rds:*",
        service="rds",
        actions=frozenset({"*"}),
        burst=300,
        rate=12.0,
        source="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html",
    ),
)

# How AWS answers a throttled request, per service: HTTP status and the error body's shape.
THROTTLE_ANSWERS: Mapping[str, tuple[int, str]] = {
    "ec2": (
        503,
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            "<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
            "</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ),
    ),
    "rds": (
        400,
        (
            '<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">\n  <Error>\n'
            "    <Type>Sender</Type>\n    <Code>Throttling</Code>\n"
            "    <Message>Rate exceeded</Message>\n  </Error>\n"
            "  <RequestId>{request_id}</RequestId>\n</ErrorResponse>"
        ),
    ),
}
STATUS_LINES = {200: "200 OK", 400: "400 Bad Request", 404: "404 Not Found", 503: "503 Slow Down"}


class ServerBucket:
    """AWS's side of a token bucket: it never waits, it only says yes or no."""

    def __init__(self, burst: float, rate: float, now: float) -> None:
        self.burst = burst
        self.rate = rate
        self._tokens = burst
        self._updated = now

    def take(self, now: float) -> bool:
        self._tokens = min(self.burst, self._tokens + max(0.0, now - self._updated) * self.rate)
        self._updated = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


@dataclass
class Meter:
    """Requests, throttled requests and error answers per `service:Action`; with a `scope_of`
    on the proxy, requests per scope too (e.g. per account and Region)."""

    requests: Counter[str]
    throttled: Counter[str]
    errors: Counter[str]
    scopes: Counter[str] = field(default_factory=Counter)

    @classmethod
    def empty(cls) -> Meter:
        return cls(Counter(), Counter(), Counter())

    def to_json(self) -> dict[str, dict[str, int]]:
        counts = {
            "requests": dict(self.requests),
            "throttled": dict(self.throttled),
            "errors": dict(self.errors),
        }
        if self.scopes:
            counts["scopes"] = dict(self.scopes)
        return counts


def request_operation(environ: Mapping[str, Any], body: bytes) -> tuple[str, str]:
    """(service, action) of a signed AWS request: the service from the SigV4 credential scope,
    the action from X-Amz-Target (JSON protocols) or the form's Action (query protocols).

    >>> request_operation({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AK/20261121/"
    ...     "eu-central-1/ec2/aws4_request, SignedHeaders=host"}, b"Action=DeleteSnapshot&V=1")
    ('ec2', 'DeleteSnapshot')
    >>> request_operation({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AK/20261121/"
    ...     "eu-central-1/ecs/aws4_request", "HTTP_X_AMZ_TARGET":
    ...     "AmazonEC2ContainerServiceV20141113.DescribeServices"}, b"{}")
    ('ecs', 'DescribeServices')
    """
    scope = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else "unsigned"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    if body and "form-urlencoded" in environ.get("CONTENT_TYPE", "form-urlencoded"):
        actions = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if actions:
            return service, actions[0]
    return service, f"{environ.get('REQUEST_METHOD', '?')} {environ.get('PATH_INFO', '/')}"


class ThrottleProxy:
    """WSGI middleware around moto: meter, optional token buckets, control endpoints."""

    def __init__(
        self, app: WsgiApp, control: Control, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._app = app
        self._control = control
        self._clock = clock
        self._lock = threading.Lock()
        self._meter = Meter.empty()
        self._buckets: dict[str, ServerBucket] | None = None
        self.rate_scale: float | None = None
        # Set by a host that counts requests per scope too: the request's scope, or None.
        self.scope_of: Callable[[Mapping[str, Any]], str | None] | None = None

    # -- what the caller asks ---------------------------------------------------------------

    def throttle(self, rate_scale: float | None) -> None:
        """Enforce LIMITS with refill rates times `rate_scale` (full buckets), or stop (None)."""
        with self._lock:
            self.rate_scale = rate_scale
            if rate_scale is None:
                self._buckets = None
                return
            now = self._clock()
            self._buckets = {
                limit.name: ServerBucket(limit.burst, limit.rate * rate_scale, now)
                for limit in LIMITS
            }

    def served(self, *operations: str) -> int:
        """How many requests of these operations ("service:Action") were counted since the
        last `take_meter`, without taking the meter."""
        with self._lock:
            return sum(self._meter.requests[operation] for operation in operations)

    def requests(self) -> dict[str, int]:
        """Requests per operation ("service:Action") since the last `take_meter`, without
        taking the meter."""
        with self._lock:
            return dict(self._meter.requests)

    def take_meter(self) -> Meter:
        """The counts since the last call; counting starts again from zero."""
        with self._lock:
            meter, self._meter = self._meter, Meter.empty()
        return meter

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            status, answer = self._control(environ["REQUEST_METHOD"], path, body)
            return self._answer(start_response, status, answer, "application/json")
        environ["wsgi.input"] = io.BytesIO(body)
        service, action = request_operation(environ, body)
        operation = f"{service}:{action}"
        refused = self._admit(service, action)
        scope = self.scope_of(environ) if self.scope_of is not None else None
        with self._lock:
            self._meter.requests[operation] += 1
            if scope is not None:
                self._meter.scopes[scope] += 1
            if refused is not None:
                self._meter.throttled[operation] += 1
        if refused is not None:
            status, template = THROTTLE_ANSWERS[refused.service]
            text = template.format(request_id=uuid.uuid4())
            return self._answer(start_response, status, text.encode(), "text/xml")

        def counting_start_response(status: str, headers: Any, *args: Any) -> Any:
            if int(status.split(" ", 1)[0]) >= 400:
                with self._lock:
                    self._meter.errors[operation] += 1
            return start_response(status, headers, *args)

        return self._app(environ, counting_start_response)

    def _admit(self, service: str, action: str) -> Limit | None:
        """The limit that refuses this request, or None when it may pass."""
        with self._lock:
            if self._buckets is None:
                return None
            now = self._clock()
            for limit in LIMITS:
                if limit.covers(service, action) and not self._buckets[limit.name].take(now):
                    return limit
        return None

    @staticmethod
    def _answer(
        start_response: Callable[..., Any], status: int, body: bytes, content_type: str
    ) -> list[bytes]:
        start_response(
            STATUS_LINES.get(status, f"{status} Status"),
            [("Content-Type", content_type), ("Content-Length", str(len(body)))],
        )
        return [body]
