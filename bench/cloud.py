"""The bench's cloud: the local cloud's in-process mode for measurement (localcloud.inprocess: moto
behind the throttle proxy, answering as AWS does), in a process of its own, with the bench's
seeding added to its control endpoints.

    with BenchCloud.start() as cloud:          # spawns `python -m bench.cloud`
        cloud.reset()
        cloud.seed_snapshots(SnapshotFleet(), now)
        cloud.throttle(rate_scale=20)          # or None: pass everything through
        ... run a tool against cloud.endpoint ...
        meter = cloud.take_meter()              # requests per service:Action since last time

The cloud runs apart from the tools so that a tool's CPU time and moto's do not share one
interpreter lock; each tool runs in its own process too (bench/tools.py). The seeding runs in
the cloud's process, where moto's backends are at hand (bench/fleets.py).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fleets import (
    REGION,
    OrganizationFleet,
    ScheduledFleet,
    SnapshotFleet,
    fleet_inventory,
    organization_inventory,
    refuse_missing_spoke_roles,
    seed_organization,
    seed_scheduled_fleet,
    seed_snapshots,
    snapshot_inventory,
    staging_older_than,
)
from localcloud.fleet import Fleet
from localcloud.inprocess import CloudProcess, InProcessCloud, Routes, serve
from localcloud.throttle_proxy import CREDENTIAL_SCOPE

ROOT = Path(__file__).resolve().parent.parent
# Credentials and settings every process talking to the bench cloud uses.
AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
NIGHTSHIFT_TABLE = "nightshift-state"
NIGHTSHIFT_TOPIC = "nightshift-ops"


# ------------------------------------------------------------------------------ the parent side
@dataclass
class BenchCloud:
    """The running cloud process: its endpoint and the control calls."""

    process: CloudProcess

    @classmethod
    @contextmanager
    def start(cls) -> Iterator[BenchCloud]:
        env = {**os.environ, **AWS_ENVIRONMENT}
        env.pop("AWS_ENDPOINT_URL", None)
        with CloudProcess.start("bench.cloud", env, cwd=ROOT) as process:
            yield cls(process)

    @property
    def endpoint(self) -> str:
        return self.process.url

    def reset(self) -> None:
        """Empty every moto backend; throttling off; the meter emptied."""
        self.process.reset()

    def throttle(self, rate_scale: float | None) -> None:
        self.process.throttle(rate_scale)

    def take_meter(self) -> dict[str, dict[str, int]]:
        return self.process.take_meter()

    def seed_snapshots(self, fleet: SnapshotFleet, now: dt.datetime) -> dict[str, int]:
        payload = {"fleet": fleet.to_json(), "now": now.astimezone(dt.UTC).isoformat()}
        result: dict[str, int] = self.process.call("POST", "seed/snapshots", payload)
        return result

    def seed_scheduled_fleet(self, fleet: ScheduledFleet) -> dict[str, int]:
        result: dict[str, int] = self.process.call("POST", "seed/fleet", {"fleet": fleet.to_json()})
        return result

    def create_nightshift(self) -> dict[str, str]:
        """The state table and ops topic the template creates: {"table": ..., "topic": ...}."""
        result: dict[str, str] = self.process.call("POST", "seed/nightshift")
        return result

    def snapshot_inventory(self) -> dict[str, int]:
        result: dict[str, int] = self.process.call("GET", "inventory/snapshots")
        return result

    def staging_older_than(self, now: dt.datetime, days: int) -> dict[str, list[str]]:
        """The ids the pruner rule deletes ({"ebs": [...], "rds": [...]}), read from moto."""
        payload = {"now": now.astimezone(dt.UTC).isoformat(), "days": days}
        result: dict[str, list[str]] = self.process.call("POST", "expected/snapshots", payload)
        return result

    def fleet_inventory(self) -> dict[str, int]:
        result: dict[str, int] = self.process.call("GET", "inventory/fleet")
        return result

    def seed_organization(self, fleet: OrganizationFleet) -> dict[str, int]:
        """The member accounts, their spoke roles and fleets (bench/fleets.py), one account a
        call; from then on the meter also counts requests per account and Region (`scopes`:
        "<account> <region>"), and AssumeRole on a missing spoke role is refused as AWS
        refuses it. Returns the resources made, by kind."""
        made: Counter[str] = Counter()
        for account in fleet.account_ids():
            payload = {"fleet": fleet.to_json(), "account": account}
            made.update(self.process.call("POST", "seed/organization", payload))
        return dict(made)

    def organization_inventory(self, fleet: OrganizationFleet) -> dict[str, int]:
        result: dict[str, int] = self.process.call(
            "POST", "inventory/organization", {"fleet": fleet.to_json()}
        )
        return result


# ------------------------------------------------------------------------------ the cloud side
def bench_routes(cloud: InProcessCloud) -> Routes:
    """The bench's control endpoints; each empties the meter after seeding (seeding is not what
    is measured)."""

    def measured_apart(seed: Any) -> Any:
        def route(payload: Any) -> Any:
            answer = seed(payload)
            cloud.proxy.take_meter()
            return answer

        return route

    return {
        ("POST", "seed/snapshots"): measured_apart(
            lambda p: seed_snapshots(
                SnapshotFleet(**p["fleet"]), dt.datetime.fromisoformat(p["now"]), cloud.endpoint
            )
        ),
        ("POST", "seed/fleet"): measured_apart(
            lambda p: seed_scheduled_fleet(
                ScheduledFleet(**{**p["fleet"], "target": tuple(p["fleet"]["target"])}),
                Fleet(cloud.endpoint),
            )
        ),
        ("POST", "seed/organization"): measured_apart(lambda p: seed_members(cloud, p)),
        ("POST", "inventory/organization"): lambda p: organization_inventory(
            OrganizationFleet.from_json(p["fleet"])
        ),
        ("POST", "seed/nightshift"): measured_apart(lambda _: create_nightshift(cloud)),
        ("GET", "inventory/snapshots"): lambda _: snapshot_inventory(),
        ("POST", "expected/snapshots"): lambda p: staging_older_than(
            dt.datetime.fromisoformat(p["now"]), int(p["days"])
        ),
        ("GET", "inventory/fleet"): lambda _: fleet_inventory(),
    }


def seed_members(cloud: InProcessCloud, payload: Any) -> dict[str, int]:
    refuse_missing_spoke_roles()
    cloud.proxy.scope_of = account_and_region
    fleet = OrganizationFleet.from_json(payload["fleet"])
    return seed_organization(fleet, payload["account"], cloud.endpoint)


def account_and_region(environ: Any) -> str | None:
    """ "<account> <region>" of a signed request: the account moto serves it in (the one whose
    credentials signed it), the Region of its credential scope."""
    from moto.iam.models import get_account_id_from

    header = environ.get("HTTP_AUTHORIZATION", "")
    scope = CREDENTIAL_SCOPE.search(header)
    if scope is None:
        return None
    key = header.split("Credential=", 1)[1].split("/", 1)[0]
    region = header.split("Credential=", 1)[1].split("/")[2]
    return f"{get_account_id_from(key)} {region}"


def create_nightshift(cloud: InProcessCloud) -> dict[str, str]:
    # As template.yaml's StateTable (pk/sk strings) and OpsTopic.
    cloud.endpoint.client("dynamodb").create_table(
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
    topic = cloud.endpoint.client("sns").create_topic(Name=NIGHTSHIFT_TOPIC)["TopicArn"]
    return {"table": NIGHTSHIFT_TABLE, "topic": topic}


if __name__ == "__main__":
    serve(bench_routes, aws_answers=True, region=REGION)
