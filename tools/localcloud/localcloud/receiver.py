"""A local stand-in for Slack and Teams webhooks: records every request, answers as scripted,
and shows what a chat client would display.

    with WebhookReceiver() as receiver:
        receiver.script(ScriptedResponse(429, {"Retry-After": "1"}), ScriptedResponse(200))
        ...  # point a secret at receiver.url_for("oncall") and run the notifier
        print(format_chat_message(receiver.requests[-1].json))
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nightshift_tools.preview import slack_lines, teams_lines


@dataclass(frozen=True)
class ScriptedResponse:
    """One answer the receiver gives: status, headers and body (Slack answers `ok`)."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = "ok"


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it arrived, and the status it was answered with."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    status: int
    received_at: float

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None if it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def destination(self) -> str:
        """The first path segment (the local cloud seeds one path per policy destination)."""
        return self.path.strip("/").split("/", 1)[0]


class WebhookReceiver:
    """A threaded HTTP server on 127.0.0.1 (a free port) that records every request.

    By default it answers 200 `ok`. `script(...)` queues answers for the next requests, in
    order; `always(...)` changes the default answer.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._requests: list[ReceivedRequest] = []
        # Scripts and default answers per destination (the first path segment); None: any.
        self._scripts: dict[str | None, deque[ScriptedResponse]] = {}
        self._defaults: dict[str | None, ScriptedResponse] = {}
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url_for(self, destination: str) -> str:
        return f"{self.url}/{destination}"

    def start(self) -> WebhookReceiver:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="webhook-receiver", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------ behaviour
    def script(self, *responses: ScriptedResponse | int, destination: str | None = None) -> None:
        """Answer the next requests (to `destination`, or to any) with these responses, in
        order, then the default again."""
        with self._lock:
            self._scripts.setdefault(destination, deque()).extend(_response(r) for r in responses)

    def always(self, response: ScriptedResponse | int, destination: str | None = None) -> None:
        """Answer every request (to `destination`, or to any) after any scripted ones with
        `response`."""
        with self._lock:
            self._defaults[destination] = _response(response)

    def reset(self) -> None:
        """Forget recorded requests and scripts; answer 200 `ok` again."""
        with self._lock:
            self._requests.clear()
            self._scripts.clear()
            self._defaults.clear()

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """The recorded requests once there are at least `count` (or when `timeout` passes)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._arrived.wait(remaining)
            return list(self._requests)

    def render(self) -> str:
        """Every recorded request as a chat client would show it."""
        return "\n\n".join(self.render_one(request) for request in self.requests)

    @staticmethod
    def render_one(request: ReceivedRequest) -> str:
        """One request: method, path and status, then the message as a chat client shows it."""
        return _render_request(request)

    def _answer(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Any:
        with self._arrived:
            response = self._next_response(path.strip("/").split("/", 1)[0])
            self._requests.append(
                ReceivedRequest(method, path, dict(headers), body, response.status, time.time())
            )
            self._arrived.notify_all()
        return response

    def _next_response(self, destination: str) -> ScriptedResponse:
        for key in (destination, None):
            script = self._scripts.get(key)
            if script:
                return script.popleft()
        return self._defaults.get(destination) or self._defaults.get(None) or ScriptedResponse()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                response = receiver._answer(self.command, self.path, dict(self.headers), body)
                payload = response.body.encode()
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the receiver's record is the log."""

        return Handler


def _response(value: ScriptedResponse | int) -> ScriptedResponse:
    return value if isinstance(value, ScriptedResponse) else ScriptedResponse(value)


def _render_request(request: ReceivedRequest) -> str:
    heading = f"--- {request.method} {request.path} -> {request.status}"
    body = request.json
    shown = format_chat_message(body) if body is not None else request.body.decode(errors="replace")
    return f"{heading}\n{shown}"


# -------------------------------------------------------------------------------- rendering
def format_chat_message(body: Any) -> str:
    """A plain-text rendering of a Slack (Block Kit) or Teams (Adaptive Card) message body,
    with the same renderer `make preview` uses (nightshift_tools.preview).

    >>> print(format_chat_message({"text": "fallback", "blocks": [
    ...     {"type": "header", "text": {"type": "plain_text", "text": "ALARM: api-5xx"}},
    ... ]}))
    [slack]
    (notification text) fallback
    ▌ALARM: api-5xx
    """
    if isinstance(body, Mapping):
        if body.get("type") == "message" and "attachments" in body:
            return "\n".join(["[teams]", *teams_lines(body)])
        if "blocks" in body or "text" in body:
            return "\n".join(["[slack]", *slack_lines(body)])
    return "[unrecognised message]\n" + json.dumps(body, indent=2, sort_keys=True)
