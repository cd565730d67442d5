"""The example app's `GET /health`, served on loopback for the canary to probe, switchable.

The bodies are the seeds' own answers, as the local cloud's health server has them
(localcloud/data): healthy with 200, degraded (the database down) with 503. The address is the
one the demo policy's canary names (policy/demo.yaml); port 0 there means a free port, picked
here, and the demo publishes the policy with the address the app got (`app.url`).

    with HealthApp.for_url("http://127.0.0.1:0/health") as app:
        app.degrade()
        ...
        app.recover()
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

from localcloud.errors import LocalCloudError
from localcloud.health_server import DEGRADED_BODY, HEALTHY_BODY


@dataclass(frozen=True)
class HealthAnswer:
    """What `/health` answers while the app is in one state."""

    state: str
    status: int
    body: bytes


HEALTHY = HealthAnswer("healthy", 200, HEALTHY_BODY)
DEGRADED = HealthAnswer("degraded", 503, DEGRADED_BODY)


class HealthApp:
    """A threaded HTTP server on a loopback address answering `path` with the current state."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self._lock = threading.Lock()
        self._answer = HEALTHY
        self.probes = 0  # requests answered, for the timeline
        try:
            self._server = ThreadingHTTPServer((host, port), self._handler_class())
        except OSError as exc:
            raise LocalCloudError(
                f"the demo's health app cannot listen on {host}:{port} ({exc.strerror}): is "
                "another `make demo` running?"
            ) from exc
        self.port = int(self._server.server_address[1])  # the one the OS picked for port 0
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-health-app", daemon=True
        )

    @classmethod
    def for_url(cls, url: str) -> HealthApp:
        """The app at the canary's URL, which must be plain HTTP on a loopback address: the
        demo never contacts anything outside 127.0.0.0/8."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if parts.scheme != "http" or not loopback or parts.port is None:
            raise LocalCloudError(
                f"the demo policy's canary must probe http://127.0.0.1:<port>/..., not {url}"
            )
        return cls(host, parts.port, parts.path or "/")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    @property
    def state(self) -> str:
        with self._lock:
            return self._answer.state

    def degrade(self) -> None:
        self._set(DEGRADED)

    def recover(self) -> None:
        self._set(HEALTHY)

    def _set(self, answer: HealthAnswer) -> None:
        with self._lock:
            self._answer = answer

    def _current(self) -> HealthAnswer:
        with self._lock:
            self.probes += 1
            return self._answer

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != app.path:
                    self._send(404, b'{"detail": "Not Found"}')
                    return
                answer = app._current()
                self._send(answer.status, answer.body)

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the timeline says what the canary saw."""

        return Handler
