"""The canary's HTTP(S) prober (an adapter): every check of a run probed at once, each within its
own timeout.

Standard library only (http.client, ssl, socket), so the layer stays pure Python. A run takes
about as long as its slowest check, not the sum: one thread per check, at most MAX_WORKERS.
A check that fails is tried once more after a short random pause (100-300 ms) before the
failure counts, so one dropped connection does not page anyone.
"""

from __future__ import annotations

import datetime as dt
import http.client
import random
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from nightshift import __version__
from nightshift.canary.checks import Check
from nightshift.canary.verdict import CheckResult, Observation, ProbeResults, assess
from nightshift.errors import NightshiftError

MAX_WORKERS = 32
MAX_BODY_BYTES = 64 * 1024
RETRY_PAUSE_S = (0.1, 0.3)
_CHUNK = 16 * 1024
DEFAULT_HEADERS = {
    "User-Agent": f"nightshift-canary/{__version__}",
    "Accept": "application/json, */*;q=0.5",
    "Connection": "close",
}

# The IAM actions this module needs: none (plain HTTP(S) to the checks' endpoints; header secrets
# come through the resolver the caller passes, see adapters.secrets).
IAM_ACTIONS = frozenset[str]()


# Plain classes, not data classes: knobs and a bound port, never compared or shown; a data class
# would be built at every cold start of the canary (tests/unit/test_cold_start.py).
class ProbeTiming:
    """The engine's knobs: the pause before the retry, the body size read, the thread bound."""

    __slots__ = ("max_body_bytes", "max_workers", "retry_pause_s")

    def __init__(
        self,
        retry_pause_s: tuple[float, float] = RETRY_PAUSE_S,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_workers: int = MAX_WORKERS,
    ) -> None:
        self.retry_pause_s = retry_pause_s
        self.max_body_bytes = max_body_bytes
        self.max_workers = max_workers


class HttpProber:
    """The canary's prober port over `probe_all`, with the header secrets' resolver bound."""

    __slots__ = ("resolve_header_secret",)

    def __init__(self, resolve_header_secret: Callable[[str], str]) -> None:
        self.resolve_header_secret = resolve_header_secret

    def __call__(self, checks: Sequence[Check], now: dt.datetime) -> ProbeResults:
        return probe_all(checks, resolve_header_secret=self.resolve_header_secret, now=now)


DEFAULT_TIMING = ProbeTiming()  # the deployed knobs


def probe_all(
    checks: Sequence[Check],
    *,
    resolve_header_secret: Callable[[str], str],
    now: dt.datetime,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    timing: ProbeTiming = DEFAULT_TIMING,
) -> ProbeResults:
    """Probe every check concurrently and judge each against its conditions.

    `now` is the run's time (the schedule's), used for the days left on certificates.
    `resolve_header_secret(secret_id)` returns a header's value from Secrets Manager; if it
    raises a NightshiftError the check is reported as not probed (no downtime metric).

        results = probe_all(checks, resolve_header_secret=secrets.get, now=scheduled_time)
        [r.reason for r in results.failing]
    """
    jitter = rng or random.Random()
    started = clock()
    if not checks:
        return ProbeResults(time=now, results=(), wall_time_ms=0.0)

    def probe(check: Check) -> CheckResult:
        return _probe(check, resolve_header_secret, now, clock, sleep, jitter, timing)

    with ThreadPoolExecutor(
        max_workers=max(1, min(timing.max_workers, len(checks))), thread_name_prefix="canary"
    ) as pool:
        results = tuple(pool.map(probe, checks))
    return ProbeResults(time=now, results=results, wall_time_ms=(clock() - started) * 1000)


def _probe(
    check: Check,
    resolve_header_secret: Callable[[str], str],
    now: dt.datetime,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    rng: random.Random,
    timing: ProbeTiming,
) -> CheckResult:
    try:
        headers = _headers(check, resolve_header_secret)
    except NightshiftError as exc:
        return CheckResult(check, verdict=None, attempts=0, setup_error=str(exc))
    try:
        context = _tls_context(check.ca_bundle) if check.https else None
    except OSError as exc:  # ssl.SSLError included: a bundle that is not PEM
        problem = f"cannot load CA bundle {check.ca_bundle}: {exc.strerror or exc}"
        return CheckResult(check, verdict=None, attempts=0, setup_error=problem)

    def attempt() -> Observation:
        return _attempt(check, headers, context, now, clock, timing.max_body_bytes)

    first = assess(check, attempt())
    if first.up:
        return CheckResult(check, first, attempts=1)
    sleep(rng.uniform(*timing.retry_pause_s))
    second = assess(check, attempt())
    return CheckResult(check, second, attempts=2, first_failure=first.reason)


def _headers(check: Check, resolve_header_secret: Callable[[str], str]) -> dict[str, str]:
    headers = dict(DEFAULT_HEADERS)
    for header in check.headers:
        if header.secret is not None:
            headers[header.name] = resolve_header_secret(header.secret)
        else:
            headers[header.name] = header.value or ""
    return headers


@cache
def _tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Verifying context (hostname and chain); a check's CA bundle replaces the system CAs.

    Verification stays on: getpeercert() only returns the expiry of a verified certificate.
    """
    return ssl.create_default_context(cafile=ca_bundle)


def _attempt(
    check: Check,
    headers: dict[str, str],
    context: ssl.SSLContext | None,
    now: dt.datetime,
    clock: Callable[[], float],
    max_body_bytes: int,
) -> Observation:
    timeout_s = check.timeout_ms / 1000
    started = clock()
    deadline = started + timeout_s
    connection: http.client.HTTPConnection
    if context is not None:
        connection = http.client.HTTPSConnection(
            check.host, check.port, timeout=timeout_s, context=context
        )
    else:
        connection = http.client.HTTPConnection(check.host, check.port, timeout=timeout_s)
    try:
        body = check.body.encode() if check.body is not None else None
        connection.request(check.method, check.target, body=body, headers=headers)
        not_after = _certificate_not_after(connection.sock) if context is not None else None
        _limit(connection, deadline, clock)
        response = connection.getresponse()
        content, truncated = _read_body(response, connection, deadline, clock, max_body_bytes)
        return Observation(
            observed_at=now,
            status=response.status,
            response_time_ms=(clock() - started) * 1000,
            body=content,
            body_truncated=truncated,
            certificate_not_after=not_after,
        )
    except (OSError, http.client.HTTPException) as exc:
        return Observation(observed_at=now, error=_describe(exc, check))
    finally:
        connection.close()


def _limit(
    connection: http.client.HTTPConnection, deadline: float, clock: Callable[[], float]
) -> None:
    """Shrink the socket timeout to what is left of the check's time, so a server that
    trickles bytes cannot stretch one probe beyond its timeout."""
    remaining = deadline - clock()
    if remaining <= 0:
        raise TimeoutError("check deadline passed")
    if connection.sock is not None:
        connection.sock.settimeout(remaining)


def _read_body(
    response: http.client.HTTPResponse,
    connection: http.client.HTTPConnection,
    deadline: float,
    clock: Callable[[], float],
    max_body_bytes: int,
) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while size <= max_body_bytes:
        _limit(connection, deadline, clock)
        chunk = response.read(min(_CHUNK, max_body_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    content = b"".join(chunks)
    return content[:max_body_bytes], size > max_body_bytes


def _certificate_not_after(sock: socket.socket | None) -> dt.datetime | None:
    if not isinstance(sock, ssl.SSLSocket):
        return None
    certificate = sock.getpeercert()
    not_after = certificate.get("notAfter") if certificate else None
    if not isinstance(not_after, str):
        return None
    return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), dt.UTC)


def _tls_rejected(exc: BaseException, check: Check) -> str:
    verify_message = getattr(exc, "verify_message", None) or "verification failed"
    return f"TLS certificate rejected: {verify_message}"


def _tls_failed(exc: BaseException, check: Check) -> str:
    return f"TLS handshake failed: {getattr(exc, 'reason', None) or type(exc).__name__}"


# Most specific first: the first class the exception is an instance of describes it.
FAILURES: tuple[tuple[type[BaseException], Callable[[BaseException, Check], str]], ...] = (
    (ssl.SSLCertVerificationError, _tls_rejected),
    (ssl.SSLError, _tls_failed),
    (TimeoutError, lambda exc, check: f"timed out after {check.timeout_ms} ms"),
    (ConnectionRefusedError, lambda exc, check: f"connection refused by {check.host}:{check.port}"),
    (http.client.RemoteDisconnected, lambda exc, check: "connection closed without a response"),
    (ConnectionResetError, lambda exc, check: "connection reset by the server"),
    (socket.gaierror, lambda exc, check: f"DNS lookup failed for {check.host}"),
    (http.client.HTTPException, lambda exc, check: f"invalid HTTP response ({type(exc).__name__})"),
    (
        OSError,
        lambda exc, check: f"network error: {getattr(exc, 'strerror', None) or type(exc).__name__}",
    ),
)


def _describe(exc: BaseException, check: Check) -> str:
    for kind, describe in FAILURES:
        if isinstance(exc, kind):
            return describe(exc, check)
    return type(exc).__name__
