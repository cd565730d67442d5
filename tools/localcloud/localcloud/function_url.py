"""A Lambda function URL in front of a function of the local cloud: a real HTTP server on
loopback that turns each request into the function URL event (payload format 2.0), invokes the
built function under the runtime emulator, and turns its answer back into an HTTP response.

moto stores a function URL's configuration but serves no requests; this is what AWS's front end
does for them, kept to what Nightshift's actions function reads: method, path, query string,
headers (lower-cased), the body (always base64, `isBase64Encoded` true), and the response's
`statusCode`, `headers`, `body`, `isBase64Encoded`. A function error is a 502, as in AWS.

    with FunctionUrlFront(lambda event: invoke(stack, "ActionsFunction", event)) as url:
        urllib3.request("GET", f"{url}/?token=...")
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Invoke = Callable[[dict[str, Any]], tuple[Any, bool]]  # event -> (payload, function error)


def url_event(
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    host: str,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The function URL event of one HTTP request (payload format 2.0), received at `now`
    (`requestContext.time` and `timeEpoch`; default: the clock)."""
    split = urlsplit(target)
    now = now or dt.datetime.now(dt.UTC)
    lowered = {name.lower(): value for name, value in headers.items()}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": split.path or "/",
        "rawQueryString": split.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": host.split(".")[0],
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": split.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": bool(body),
    }
    if split.query:
        event["queryStringParameters"] = dict(parse_qsl(split.query, keep_blank_values=True))
    if body:
        event["body"] = base64.b64encode(body).decode("ascii")
    return event


class FunctionUrlFront:
    """Serves one function at `url` until closed (a context manager).

    `clock` is when a request arrives, as the front stamps it on the event: the wall clock, or
    a simulated one (`make demo` clicks links on its simulated day; a test clicks a day later).
    """

    def __init__(self, invoke: Invoke, clock: Callable[[], dt.datetime] | None = None) -> None:
        front = self
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                front._answer(self, "GET")

            def do_POST(self) -> None:
                front._answer(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._invoke = invoke
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> str:
        self._thread.start()
        return self.url

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        host = request.headers.get("Host", "localhost")
        event = url_event(
            method, request.path, dict(request.headers.items()), body, host, self.clock()
        )
        payload, failed = self._invoke(event)
        if failed or not isinstance(payload, dict) or "statusCode" not in payload:
            status, headers, content = (
                502,
                {"Content-Type": "application/json"},
                b'{"Message":null}',
            )
        else:
            status = int(payload["statusCode"])
            headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
            text = payload.get("body") or ""
            if payload.get("isBase64Encoded"):
                content = base64.b64decode(text)
            else:
                content = (
                    text.encode("utf-8") if isinstance(text, str) else json.dumps(text).encode()
                )
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(content)))
        request.end_headers()
        request.wfile.write(content)
