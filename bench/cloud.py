"""The bench's cloud: a moto server behind the throttle proxy, in a process of its own.

    with BenchCloud.start() as cloud:          # spawns `python -m bench.cloud`
        cloud.reset()
        cloud.seed_snapshots(SnapshotFleet(), now)
        cloud.throttle(rate_scale=20)          # or None: pass everything through
        ... run a tool against cloud.endpoint ...
        meter = cloud.take_meter()              # requests per service:Action since last time

The host runs apart from the tools so that a tool's CPU time and moto's do not share one
interpreter lock; each tool runs in its own process too (bench/tools.py). Control requests go to
`<endpoint>/__bench/...` and are answered by the host itself, never counted.

moto is made to answer as AWS does where the comparison depends on it (each function below
says why): EC2 tags are looked up in a dictionary (`indexed_ec2_tags`; moto scans every tag in
the account per resource, 12 s to list 5,000 tagged snapshots), snapshot listings are paged as
AWS pages them (`aws_pages`), and DescribeScalableTargets' next token moves on
(`scalable_target_pages`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fleets import (
    ACCOUNT,
    REGION,
    ScheduledFleet,
    SnapshotFleet,
    fleet_inventory,
    seed_scheduled_fleet,
    seed_snapshots,
    snapshot_inventory,
)
from bench.throttle_proxy import CONTROL_PREFIX, ThrottleProxy
from localcloud.fleet import Fleet
from localcloud.server import Endpoint

ROOT = Path(__file__).resolve().parent.parent
# Credentials and settings every process talking to the bench cloud uses.
AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
MOTO_ENVIRONMENT = {
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    "MOTO_RDS_SNAPSHOT_LIMIT": "100000",
    "MOTO_ALLOW_NONEXISTENT_REGION": "false",
}


# ------------------------------------------------------------------------------ the parent side
@dataclass
class BenchCloud:
    """The running host: its endpoint and the control calls."""

    endpoint: str
    process: subprocess.Popen[str]

    @classmethod
    @contextmanager
    def start(cls) -> Iterator[BenchCloud]:
        env = {**os.environ, **AWS_ENVIRONMENT, **MOTO_ENVIRONMENT}
        env.pop("AWS_ENDPOINT_URL", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.cloud"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdin is not None
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            raise RuntimeError(f"the bench cloud did not start (exit {process.returncode})")
        cloud = cls(endpoint=json.loads(line)["endpoint"], process=process)
        try:
            yield cloud
        finally:
            process.stdin.close()  # the host stops when its stdin closes
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _call(self, method: str, name: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.endpoint}{CONTROL_PREFIX}{name}", data=data, method=method
        )
        with urllib.request.urlopen(request, timeout=600) as answer:
            return json.loads(answer.read())

    def reset(self) -> None:
        """Empty every moto backend; throttling off; the meter emptied."""
        self._call("POST", "reset")

    def seed_snapshots(self, fleet: SnapshotFleet, now: dt.datetime) -> dict[str, int]:
        return self._call("POST", "seed/snapshots", {"fleet": fleet.to_json(), "now": _iso(now)})

    def seed_scheduled_fleet(self, fleet: ScheduledFleet) -> dict[str, int]:
        return self._call("POST", "seed/fleet", {"fleet": fleet.to_json()})

    def create_nightshift(self) -> dict[str, str]:
        """The state table and ops topic the template creates: {"table": ..., "topic": ...}."""
        return self._call("POST", "seed/nightshift")

    def throttle(self, rate_scale: float | None) -> None:
        self._call("POST", "throttle", {"rate_scale": rate_scale})

    def take_meter(self) -> dict[str, dict[str, int]]:
        return self._call("POST", "meter")

    def snapshot_inventory(self) -> dict[str, int]:
        return self._call("GET", "inventory/snapshots")

    def fleet_inventory(self) -> dict[str, int]:
        return self._call("GET", "inventory/fleet")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


# ------------------------------------------------------------------------------ the host side
NIGHTSHIFT_TABLE = "nightshift-state"
NIGHTSHIFT_TOPIC = "nightshift-ops"


class Host:
    """Answers the control requests (everything under /__bench/)."""

    def __init__(self, proxy: ThrottleProxy, endpoint: str) -> None:
        self.proxy = proxy
        # The host seeds through its own endpoint, with the local cloud's clients and seeder.
        self.endpoint = Endpoint(endpoint, REGION)

    def __call__(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        name = path.removeprefix(CONTROL_PREFIX)
        payload = json.loads(body) if body else {}
        routes = {
            ("POST", "reset"): self.reset,
            ("POST", "throttle"): lambda p: self.proxy.throttle(p.get("rate_scale")),
            ("POST", "meter"): lambda _: self.proxy.take_meter().to_json(),
            ("POST", "seed/snapshots"): self.seed_snapshots,
            ("POST", "seed/fleet"): self.seed_fleet,
            ("POST", "seed/nightshift"): self.create_nightshift,
            ("GET", "inventory/snapshots"): lambda _: snapshot_inventory(),
            ("GET", "inventory/fleet"): lambda _: fleet_inventory(),
        }
        route = routes.get((method, name))
        if route is None:
            return 404, json.dumps({"error": f"no {method} {name}"}).encode()
        try:
            answer = route(payload)
        except Exception as exc:  # a seeding bug must reach the orchestrator, not kill the host
            logging.getLogger("bench.cloud").exception("control request failed")
            return 400, json.dumps({"error": repr(exc)}).encode()
        return 200, json.dumps(answer if answer is not None else {}).encode()

    def reset(self, _: Any) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.proxy.throttle(None)
        self.proxy.take_meter()

    def seed_snapshots(self, payload: dict[str, Any]) -> dict[str, int]:
        fleet = SnapshotFleet(**payload["fleet"])
        counts = seed_snapshots(fleet, dt.datetime.fromisoformat(payload["now"]), self.endpoint)
        self.proxy.take_meter()  # seeding is not what is measured
        return counts

    def seed_fleet(self, payload: dict[str, Any]) -> dict[str, int]:
        fleet = payload["fleet"]
        counts = seed_scheduled_fleet(
            ScheduledFleet(**{**fleet, "target": tuple(fleet["target"])}), Fleet(self.endpoint)
        )
        self.proxy.take_meter()
        return counts

    def create_nightshift(self, _: Any) -> dict[str, str]:
        # As template.yaml's StateTable (pk/sk strings) and OpsTopic.
        self.endpoint.client("dynamodb").create_table(
            TableName=NIGHTSHIFT_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        topic = self.endpoint.client("sns").create_topic(Name=NIGHTSHIFT_TOPIC)["TopicArn"]
        self.proxy.take_meter()
        return {"table": NIGHTSHIFT_TABLE, "topic": topic}


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

    # moto's paginator names the next page by an attribute of its first item.
    get_pagination_model("ec2")["DescribeSnapshots"].update(
        limit_default=10**9, unique_attribute="id"
    )
    for operation in ("DescribeDBSnapshots", "DescribeDBClusterSnapshots"):
        get_pagination_model("rds")[operation].update(limit_default=100, unique_attribute="arn")

    def paged(method: Any) -> Any:
        def answer(self: Any) -> ActionResult:
            return PaginatedResult(method(self).result)

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
    import json as json_module

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
        return json_module.dumps(
            {"ScalableTargets": [_build_target(t) for t in page], "NextToken": next_token}
        )

    ApplicationAutoScalingResponse.describe_scalable_targets = describe_scalable_targets  # type: ignore[method-assign]


def serve() -> None:
    """Start moto behind the proxy on a free loopback port, print the endpoint as one JSON line,
    serve until stdin closes."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    indexed_ec2_tags()
    aws_pages()
    scalable_target_pages()
    host_box: list[Host] = []

    def control(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        return host_box[0](method, path, body)

    proxy = ThrottleProxy(DomainDispatcherApplication(create_backend_app), control)
    server = make_server("127.0.0.1", 0, proxy, threaded=True, request_handler=MotoRequestHandler)
    endpoint = f"http://127.0.0.1:{server.server_port}"
    host_box.append(Host(proxy, endpoint))
    # Requests the host makes to itself while seeding are signed for the account's region.
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)

    def stop_when_parent_leaves() -> None:
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=stop_when_parent_leaves, daemon=True).start()
    sys.stdout.write(json.dumps({"endpoint": endpoint, "account": ACCOUNT}) + "\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    serve()
