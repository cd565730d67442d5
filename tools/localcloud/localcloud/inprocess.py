"""The local cloud's in-process mode, for measurement: moto's server in a thread of this process,
behind the throttle proxy (localcloud.throttle_proxy), which counts every request and, when
asked, throttles as AWS's documented token buckets do.

    with InProcessCloud.start(aws_answers=True) as cloud:
        cloud.endpoint.client("ec2").describe_snapshots()
        cloud.proxy.throttle(rate_scale=20)          # or None: pass everything through
        meter = cloud.proxy.take_meter()             # requests per service:Action since last time
        with moto_clock(moment):                     # what is created meanwhile carries `moment`
            ...

The server is in the caller's process so that the caller can reach moto's backends directly:
seed thousands of snapshots in a second, give them ages, count what is left. A measurement that
must keep a tool's CPU time apart from moto's runs the cloud in a process of its own instead:
`CloudProcess.start("pkg.module")` spawns `python -m pkg.module`, whose main is
`serve(routes)`; the parent then calls the control endpoints (`reset`, `throttle`, `meter`, and
the module's own `routes`) over HTTP under `CONTROL_PREFIX`. Control requests are answered by
the host itself, never counted.

With `aws_answers=True` moto is made to answer as AWS does where a comparison of clients depends
on it (each function below says why): EC2 tags are looked up in a dictionary
(`indexed_ec2_tags`; moto scans every tag in the account per resource, 12 s to list 5,000 tagged
snapshots), snapshot listings are paged as AWS pages them (`aws_pages`), and
DescribeScalableTargets' next token moves on (`scalable_target_pages`). These patch moto's
classes, so they hold for the whole process once applied.

Always, whatever `aws_answers`: moto's server stops working out on every request what never
changes while it runs (`constant_lookups_once`); the answers are the same, each request costs the
server less than half the CPU it did.

The stock local cloud (localcloud.server.MotoServer) is moto's own server in a subprocess, with
none of this: for deploying and running the built functions, not for counting their calls.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import selectors
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.errors import ServerError
from localcloud.server import DEFAULT_REGION, Endpoint
from localcloud.throttle_proxy import CONTROL_PREFIX, ThrottleProxy

logger = logging.getLogger(__name__)

# Read by moto when it makes a backend or a snapshot, so set before the first request:
# no public AMIs in an account's listings, room for the bench's snapshot fleets, and an unknown
# region refused as AWS refuses it.
MOTO_ENVIRONMENT = {
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    "MOTO_RDS_SNAPSHOT_LIMIT": "100000",
    "MOTO_ALLOW_NONEXISTENT_REGION": "false",
}

Route = Callable[[Any], Any]
"""A control endpoint: the request's JSON payload ({} when empty) -> a JSON answer (None: {})."""
Routes = Mapping[tuple[str, str], Route]
"""(method, name under CONTROL_PREFIX) -> route, e.g. ("POST", "seed/snapshots")."""


# --------------------------------------------------------------------- the server, in process
@dataclass
class InProcessCloud:
    """A moto server in a thread of this process, behind the throttle proxy."""

    endpoint: Endpoint
    proxy: ThrottleProxy
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)

    @classmethod
    @contextlib.contextmanager
    def start(
        cls, *, aws_answers: bool, region: str = DEFAULT_REGION, keep_alive: bool = False
    ) -> Iterator[InProcessCloud]:
        """Serve on a free loopback port until the block ends, with MOTO_ENVIRONMENT set meanwhile.
        `aws_answers`: apply the patches below (for the whole process). `keep_alive`: keep a
        client's connection open between requests (keep_alive_handler) as AWS's endpoints do,
        instead of werkzeug's close after every answer."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        saved_environment = {name: os.environ.get(name) for name in MOTO_ENVIRONMENT}
        os.environ.update(MOTO_ENVIRONMENT)
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # a line per request otherwise
        constant_lookups_once()
        if aws_answers:
            indexed_ec2_tags()
            aws_pages()
            scalable_target_pages()
        cloud_box: list[InProcessCloud] = []

        def control(method: str, path: str, body: bytes) -> tuple[int, bytes]:
            return cloud_box[0].control(method, path, body)

        proxy = ThrottleProxy(DomainDispatcherApplication(create_backend_app), control)
        handler = keep_alive_handler(MotoRequestHandler) if keep_alive else MotoRequestHandler
        server = make_server("127.0.0.1", 0, proxy, threaded=True, request_handler=handler)
        cloud = cls(Endpoint(f"http://127.0.0.1:{server.server_port}", region), proxy)
        cloud_box.append(cloud)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield cloud
        finally:
            server.shutdown()
            thread.join()
            for name, value in saved_environment.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def reset(self) -> None:
        """Empty every moto backend; throttling off; the meter emptied."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.proxy.throttle(None)
        self.proxy.take_meter()

    def control(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        """Answer a control request (everything under CONTROL_PREFIX)."""
        name = path.removeprefix(CONTROL_PREFIX)
        payload = json.loads(body) if body else {}
        routes: dict[tuple[str, str], Route] = {
            ("POST", "reset"): lambda _: self.reset(),
            ("POST", "throttle"): lambda p: self.proxy.throttle(p.get("rate_scale")),
            ("POST", "meter"): lambda _: self.proxy.take_meter().to_json(),
            **self.routes,
        }
        route = routes.get((method, name))
        if route is None:
            return 404, json.dumps({"error": f"no {method} {name}"}).encode()
        try:
            answer = route(payload)
        except Exception as exc:  # a seeding bug must reach the caller, not kill the server
            logger.exception("control request failed")
            return 400, json.dumps({"error": repr(exc)}).encode()
        return 200, json.dumps(answer if answer is not None else {}).encode()


def keep_alive_handler(base: type[Any]) -> type[Any]:
    """`base` (werkzeug's request handler) keeping HTTP/1.1 connections open between requests.

    Werkzeug's development server answers every request with `Connection: close` and then
    drains the socket (waiting up to 10 ms for anything the client still sends), because
    http.server cannot skip a request body the application left unread before the next request
    line. Behind the throttle proxy every body is read to its Content-Length before moto sees it,
    so after each answer the connection is at a request boundary: it stays open, and is not
    drained, unless the request's body was chunked (no Content-Length) or the client asked to
    close (then werkzeug's close and drain, as before). Without this every request costs a new
    TCP connection, a new server thread and the drain's wait."""
    import werkzeug.serving

    werkzeug.serving.selectors = _NoDrainSelectors  # type: ignore[attr-defined]

    class KeepAlive(base):  # type: ignore[misc,valid-type]
        def setup(self) -> None:
            super().setup()
            # The headers and the body are two writes: without this, Nagle's algorithm holds
            # the body until the client's delayed ACK of the headers (40 ms on Linux), which a
            # closing connection never waited for.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def run_wsgi(self) -> None:
            _keeping.on = self._bounded()
            try:
                super().run_wsgi()
            finally:
                _keeping.on = False

        def send_header(self, keyword: str, value: str) -> None:
            closing = keyword.lower() == "connection" and value.lower() == "close"
            if closing and getattr(_keeping, "on", False):
                return
            super().send_header(keyword, value)

        def _bounded(self) -> bool:
            headers = self.headers
            if headers is None or headers.get("Transfer-Encoding"):
                return False
            if (headers.get("Connection") or "").lower() == "close":
                return False
            return self.request_version == "HTTP/1.1"

    KeepAlive.__name__ = f"KeepAlive{base.__name__}"
    return KeepAlive


_keeping = threading.local()


class _NoDrainSelector:
    """A selector that sees nothing to read: werkzeug's drain after an answer on a kept
    connection (the next request is not the last one's leftovers)."""

    def register(self, *_: Any) -> None:
        return None

    def select(self, timeout: float | None = None) -> list[Any]:
        return []

    def close(self) -> None:
        return None


class _NoDrainSelectors:
    """werkzeug.serving's `selectors`: the real DefaultSelector except on a kept connection."""

    EVENT_READ = selectors.EVENT_READ

    @staticmethod
    def DefaultSelector() -> Any:  # the name werkzeug calls
        return _NoDrainSelector() if getattr(_keeping, "on", False) else selectors.DefaultSelector()


@contextlib.contextmanager
def moto_clock(moment: dt.datetime) -> Iterator[None]:
    """EBS and RDS snapshots created meanwhile carry `moment` (an aware datetime) as their
    creation time. Only for a server in this process: it sets moto's clock for those models."""
    import moto.ec2.models.elastic_block_store as ebs_models
    import moto.rds.models as rds_models

    naive = moment.replace(tzinfo=None)  # moto keeps naive UTC times
    saved = ebs_models.utcnow, rds_models.utcnow
    ebs_models.utcnow = rds_models.utcnow = lambda: naive
    try:
        yield
    finally:
        ebs_models.utcnow, rds_models.utcnow = saved


# ------------------------------------------------------------ the server, in a process of its own
def serve(
    routes: Callable[[InProcessCloud], Routes] = lambda _: {},
    *,
    aws_answers: bool = True,
    region: str = DEFAULT_REGION,
) -> None:
    """The main of a cloud process: start the in-process cloud with the control `routes` made
    for it, print its endpoint as one JSON line, serve until stdin closes."""
    # Requests the host makes to itself (seeding) are signed for the cloud's region.
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    with InProcessCloud.start(aws_answers=aws_answers, region=region) as cloud:
        cloud.routes.update(routes(cloud))
        sys.stdout.write(json.dumps({"endpoint": cloud.endpoint.url}) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # the parent closes it to stop us


@dataclass
class CloudProcess:
    """A cloud process (`serve`) seen from its parent: its endpoint and its control calls."""

    url: str
    process: subprocess.Popen[str]

    @classmethod
    @contextlib.contextmanager
    def start(
        cls, module: str, environment: Mapping[str, str], cwd: Path | None = None
    ) -> Iterator[CloudProcess]:
        """Spawn `python -m module` with `environment`; stop it (close its stdin) on exit."""
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=cwd,
            env=dict(environment),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdin is not None
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            raise ServerError(
                f"the cloud process {module} did not start (exit {process.returncode})"
            )
        cloud = cls(url=json.loads(line)["endpoint"], process=process)
        try:
            yield cloud
        finally:
            process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def call(self, method: str, name: str, payload: Any = None) -> Any:
        """One control request: `name` under CONTROL_PREFIX, `payload` as JSON."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.url}{CONTROL_PREFIX}{name}", data=data, method=method
        )
        with urllib.request.urlopen(request, timeout=600) as answer:
            return json.loads(answer.read())

    def reset(self) -> None:
        """Empty every moto backend; throttling off; the meter emptied."""
        self.call("POST", "reset")

    def throttle(self, rate_scale: float | None) -> None:
        """Enforce the throttle proxy's LIMITS at `rate_scale` times their rates, or stop (None)."""
        self.call("POST", "throttle", {"rate_scale": rate_scale})

    def take_meter(self) -> dict[str, dict[str, int]]:
        """Requests, throttled requests and errors per service:Action since the last call."""
        result: dict[str, dict[str, int]] = self.call("POST", "meter")
        return result


# ------------------------------------------------------ moto's server without its per-request waste
# Not answers but speed: what moto's server does on every request that AWS's endpoints do not, and
# that costs every client the same. Measured per DeleteSnapshot on the bench (docs/benchmarks.md).


def constant_lookups_once() -> None:
    """Work out once what moto's server works out again for every request, though it never
    changes while the server runs: the names of the response class's methods (`inspect.getmembers`
    over several hundred of them, to find the action's method) and the list of moto's service
    modules (a directory listing and a `stat` per entry, to find the request's backend). Same
    answers, read from a dictionary."""
    import moto.backends as moto_backends
    import moto.core.responses as moto_responses
    from moto.core.utils import method_names_from_class

    if getattr(moto_responses.method_names_from_class, "once", False):
        return
    names: dict[type, list[str]] = {}

    def method_names(clazz: Any) -> list[str]:
        found = names.get(clazz)
        if found is None:
            found = names[clazz] = method_names_from_class(clazz)
        return found

    method_names.once = True  # type: ignore[attr-defined]
    modules = tuple(moto_backends.list_of_moto_modules())
    moto_responses.method_names_from_class = method_names  # type: ignore[assignment]
    moto_backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


# -------------------------------------------------------------------- moto answering as AWS does
def indexed_ec2_tags() -> None:
    """Replace moto's per-resource EC2 tag lookup (a scan of every tag, with a regex per tag)
    by a dictionary read. Same answer: the resource's tags, with key, value and resource type."""
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    def get_tags(self: Any) -> list[dict[str, str]]:
        resource_id = getattr(self, "id", None)
        tags = self.ec2_backend.tags.get(resource_id) if resource_id else None
        if not tags:
            return []
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [
            {"resource_id": resource_id, "key": key, "value": value, "resource_type": kind}
            for key, value in tags.items()
        ]

    TaggedEC2Resource.get_tags = get_tags  # type: ignore[method-assign]


def aws_pages() -> None:
    """Page snapshot listings as AWS does; moto answers every item at once, whatever the page
    size asked. RDS DescribeDBSnapshots and DescribeDBClusterSnapshots: MaxRecords, default 100.
    EC2 DescribeSnapshots: MaxResults when given, otherwise everything in one answer.

    Without this a client that asks for pages of 100 (as AWS requires) gets all 1,000 RDS
    snapshots eleven times over, which AWS would never send; a client that asks for no page size
    gets one answer either way."""
    from moto.core.responses import ActionResult, PaginatedResult
    from moto.core.utils import get_pagination_model
    from moto.ec2.responses.elastic_block_store import ElasticBlockStore
    from moto.rds.responses import RDSResponse

    if getattr(RDSResponse.describe_db_snapshots, "aws_paged", False):
        return  # applied already in this process: wrapping twice would page twice
    # moto's paginator names the next page by an attribute of its first item.
    get_pagination_model("ec2")["DescribeSnapshots"].update(
        limit_default=10**9, unique_attribute="id"
    )
    for operation in ("DescribeDBSnapshots", "DescribeDBClusterSnapshots"):
        get_pagination_model("rds")[operation].update(limit_default=100, unique_attribute="arn")

    def paged(method: Any) -> Any:
        def answer(self: Any) -> ActionResult:
            return PaginatedResult(method(self).result)

        answer.aws_paged = True  # type: ignore[attr-defined]
        return answer

    RDSResponse.describe_db_snapshots = paged(RDSResponse.describe_db_snapshots)  # type: ignore[method-assign]
    RDSResponse.describe_db_cluster_snapshots = paged(  # type: ignore[method-assign]
        RDSResponse.describe_db_cluster_snapshots
    )
    ElasticBlockStore.describe_snapshots = paged(ElasticBlockStore.describe_snapshots)  # type: ignore[method-assign]


def scalable_target_pages() -> None:
    """Page DescribeScalableTargets with a token that moves on. moto's next token is the index
    of the last item *within the page* ("49" for every page of 50), so a client listing more
    than 100 targets gets page two forever (botocore stops: "the same next token was received
    twice"). AWS's token leads to the next page; here it is the index of the page's last item
    in the whole list, which moto's own `start = token + 1` then reads correctly."""
    from moto.applicationautoscaling.responses import (
        ApplicationAutoScalingResponse,
        _build_target,
    )

    def describe_scalable_targets(self: Any) -> str:
        self._validate_params()
        targets = self.applicationautoscaling_backend.describe_scalable_targets(
            self._get_param("ServiceNamespace"),
            self._get_param("ResourceIds"),
            self._get_param("ScalableDimension"),
        )
        max_results = self._get_int_param("MaxResults") or 50
        marker = self._get_param("NextToken")
        start = int(marker) + 1 if marker else 0
        page = targets[start : start + max_results]
        next_token = str(start + max_results - 1) if len(targets) > start + max_results else None
        return json.dumps(
            {"ScalableTargets": [_build_target(t) for t in page], "NextToken": next_token}
        )

    ApplicationAutoScalingResponse.describe_scalable_targets = describe_scalable_targets  # type: ignore[method-assign]


if __name__ == "__main__":
    serve(aws_answers=True)  # the measuring cloud with only its own control endpoints
