"""Local HTTP and HTTPS health endpoints for the canary to probe, with answers switched at will
(the canary's tests, the bench's canary run).

    from localcloud.health_server import HealthServer, Reply

    with HealthServer() as app:
        app.answer(app.degraded())           # every request from now on
        app.answer_next(Reply(status=500))   # only the next request, then back to the above
        check = Check.build("api", app.url("/health"), ["[STATUS] == 200"])

An HTTPS server takes a self-signed certificate made with the `openssl` CLI, whose expiry the
test chooses (`self_signed_certificate(folder, days=10)`); the check trusts it through its
`ca_bundle`. The healthy and degraded bodies are the seeds' /health answers
(localcloud/data, copied unchanged from the reference payloads; the demo's app answers them too).
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

DATA = Path(__file__).resolve().parent / "data"
HEALTHY_BODY = (DATA / "http-health-healthy.json").read_bytes()
DEGRADED_BODY = (DATA / "http-health-degraded.json").read_bytes()
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Reply:
    """One answer: status, body, an optional pause before answering, or hanging up instead."""

    status: int = 200
    body: bytes = b""
    delay_s: float = 0.0
    content_type: str = "application/json"
    hang_up: bool = False  # close the connection without any response


@dataclass(frozen=True)
class Request:
    """What the server received, so tests can assert on headers and bodies sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path
    not_after: dt.datetime


def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def self_signed_certificate(
    folder: Path, *, days: int, names: tuple[str, ...] = ("DNS:localhost", f"IP:{LOOPBACK}")
) -> Certificate:
    """A self-signed EC certificate valid from now for `days` days, for the given SANs."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"cert-{days}d-{len(list(folder.glob('*.pem')))}"
    cert_file, key_file = folder / f"{stem}.pem", folder / f"{stem}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key_file), "-out", str(cert_file), "-days", str(days),
            "-subj", "/CN=nightshift-canary-test",
            "-addext", f"subjectAltName={','.join(names)}",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    end = subprocess.run(
        ["openssl", "x509", "-in", str(cert_file), "-noout", "-enddate"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    seconds = ssl.cert_time_to_seconds(end.removeprefix("notAfter="))
    return Certificate(cert_file, key_file, dt.datetime.fromtimestamp(seconds, dt.UTC))


def refused_url(path: str = "/health") -> str:
    """A URL on a loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    return f"http://{LOOPBACK}:{port}{path}"


@dataclass
class _Script:
    default: Reply = field(default_factory=lambda: Reply(body=HEALTHY_BODY))
    queued: deque[Reply] = field(default_factory=deque)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            return self.queued.popleft() if self.queued else self.default


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_POST(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = Request(
            self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
        )
        reply = self.server.script.next(received)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.hang_up:
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(reply.body)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: callers assert on `requests`, not on access logs."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many checks connect at once; the default 5 would drop SYNs

    def __init__(self, script: _Script, context: ssl.SSLContext | None) -> None:
        self.script = script
        self.context = context
        super().__init__((LOOPBACK, 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.context is not None:
            # The TLS handshake runs here, in the request's thread, not in the accept loop.
            request.settimeout(5)
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client refused our certificate: that is what some tests want
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout) leaves a broken pipe behind; that is expected."""


class HealthServer:
    """A switchable health endpoint on a free loopback port, HTTP or (with a certificate) HTTPS."""

    def __init__(self, certificate: Certificate | None = None) -> None:
        context = None
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate.cert_file, certificate.key_file)
        self.certificate = certificate
        self._script = _Script()
        self._server = _Server(self._script, context)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/health", host: str = LOOPBACK) -> str:
        scheme = "https" if self.certificate else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    @property
    def requests(self) -> list[Request]:
        with self._script.lock:
            return list(self._script.requests)

    def answer(self, reply: Reply) -> None:
        """Answer every request from now on with `reply`."""
        with self._script.lock:
            self._script.default = reply
            self._script.queued.clear()

    def answer_next(self, *replies: Reply) -> None:
        """Answer the next requests with `replies`, once each, then the standing answer."""
        with self._script.lock:
            self._script.queued.extend(replies)

    @staticmethod
    def healthy(delay_s: float = 0.0) -> Reply:
        return Reply(body=HEALTHY_BODY, delay_s=delay_s)

    @staticmethod
    def degraded(status: int = 503) -> Reply:
        return Reply(status=status, body=DEGRADED_BODY)

    @staticmethod
    def server_error() -> Reply:
        return Reply(
            status=500, body=b"<html>Internal Server Error</html>", content_type="text/html"
        )

    @staticmethod
    def invalid_json() -> Reply:
        return Reply(body=b'{"status": "healthy", "services": ')
