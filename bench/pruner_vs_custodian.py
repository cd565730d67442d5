"""Pruner vs Cloud Custodian: the same snapshots, the same rule, the same moto server.

    .venv/bin/python -m bench.pruner_vs_custodian [--repeat 3] [--rate-scale 10]
        [--ebs 5000 --rds 1000]

The rule: among snapshots tagged Environment=staging, delete those older than 30 days
(bench/policies/pruner.yaml for Nightshift, bench/c7n/pruner.yml for Custodian). The fleet:
5,000 EBS snapshots of 50 volumes and 1,000 RDS snapshots of 10 instances, one a day for 100 days;
a tenth of each is tagged production and must survive (bench/fleets.py). Every run starts from a
freshly seeded account. The tools run alternately (A B, B A, A B ...), `--repeat` times each, in
two scenarios:

1. unthrottled: the proxy passes everything through. Nightshift's pacers are lifted (rates x1000):
   moto never throttles, and the point here is the cost of the work, not of the pacing.
2. throttled: the proxy enforces AWS's buckets (EC2 DeleteSnapshot 100 + 5/s, RDS 300 + 12/s
   shared) with refill rates multiplied by `--rate-scale` so a run takes seconds, not the
   ~10 minutes the documented rates imply for 3,195 EBS deletions. Nightshift's pacers get the
   same factor (they model the same buckets); Custodian needs no setting.

The floor of a throttled run is the time the deletions alone need at those rates: past the
burst, (deletions - burst) / rate, for the slower of the two buckets. A tool that lists before it
deletes (both do) cannot end before its listing plus those deletions: after each throttled round
the floor client (bench/delete_floor.py) makes the pruner's Describe calls on a freshly seeded
account, deleting nothing, and the report reads the runs against that sum too.

The floor of an unthrottled run is the server's: one moto process answers every request under one
interpreter lock, whatever the client. It is measured, not computed: after each round of the
unthrottled scenario a minimal client (bench/delete_floor.py: plain boto3, FLOOR_THREADS
threads, the ids handed to it, nothing listed) makes the same deletions on a freshly seeded
account; the first round also runs it on 1, 2 and 4 threads, to show how far threads help here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import emit_results
from bench.cloud import BenchCloud
from bench.fleets import PRODUCTION, STAGING, SnapshotFleet
from bench.tools import (
    CUSTODIAN,
    FLOOR,
    LISTING,
    NIGHTSHIFT,
    ROOT,
    ToolRun,
    run_custodian,
    run_floor,
    run_nightshift,
)
from localcloud.throttle_proxy import LIMITS

NIGHTSHIFT_POLICY = ROOT / "bench" / "policies" / "pruner.yaml"
CUSTODIAN_POLICY = ROOT / "bench" / "c7n" / "pruner.yml"
UNPACED = 1000.0  # pacer rate factor for the unthrottled scenario: pacing never binds
FLOOR_THREADS = 8  # the pruner's DELETE_WORKERS
FLOOR_SWEEP = (1, 2, 4)  # the floor client's other thread counts, in the first round only
PRICES = {
    "NIGHTSHIFT_PRUNER_PRICE_EBS_SNAPSHOT": "0.05",
    "NIGHTSHIFT_PRUNER_PRICE_RDS_SNAPSHOT": "0.095",
    "NIGHTSHIFT_PRUNER_PRICE_AURORA_SNAPSHOT": "0.021",
}


@dataclass(frozen=True)
class Scenario:
    name: str
    rate_scale: float | None  # None: pass-through

    @property
    def pacer_rate_scale(self) -> float:
        return UNPACED if self.rate_scale is None else self.rate_scale


def floor_seconds(fleet: SnapshotFleet, rate_scale: float) -> dict[str, float]:
    """Seconds the expected deletions need at the (scaled) documented rates, per bucket.

    >>> floor_seconds(SnapshotFleet(), 1.0)
    {'ec2:DeleteSnapshot': 619.0, 'rds:*': 28.25}
    """
    deletions = fleet.expected_deletions()
    counts = {"ec2:DeleteSnapshot": deletions["ebs"], "rds:*": deletions["rds"]}
    return {
        limit.name: max(0.0, counts[limit.name] - limit.burst) / (limit.rate * rate_scale)
        for limit in LIMITS
    }


def one_run(
    cloud: BenchCloud,
    tool: str,
    scenario: Scenario,
    fleet: SnapshotFleet,
    label: str,
    *,
    threads: int = FLOOR_THREADS,
) -> ToolRun:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cloud.reset()
    seeded = cloud.seed_snapshots(fleet, now)
    nightshift = cloud.create_nightshift()
    cloud.throttle(scenario.rate_scale)
    if tool == NIGHTSHIFT:
        run = run_nightshift(
            cloud,
            label,
            "pruner",
            {"time": now.isoformat()},
            {
                "NIGHTSHIFT_POLICY_FILE": str(NIGHTSHIFT_POLICY),
                "NIGHTSHIFT_STATE_TABLE": nightshift["table"],
                "NIGHTSHIFT_OPS_TOPIC_ARN": nightshift["topic"],
                "NIGHTSHIFT_PRUNER_DRY_RUN": "false",
                **PRICES,
            },
            pacer_rate_scale=scenario.pacer_rate_scale,
        )
        report = run.outcome.pop("report") or {}
        run.outcome["report_totals"] = report.get("totals", {})
        run.outcome["report_errors"] = report.get("errors", [])
    elif tool == FLOOR:
        doomed = cloud.staging_older_than(now, fleet.older_than_days)
        run = run_floor(cloud, label, doomed["ebs"], doomed["rds"], threads=threads)
    elif tool == LISTING:
        run = run_floor(cloud, label, [], [], threads=threads, listing=True)
    else:
        run = run_custodian(cloud, label, CUSTODIAN_POLICY)
    cloud.throttle(None)
    left = cloud.snapshot_inventory()
    run.outcome["deleted"] = {
        kind: seeded.get(f"{kind}:{STAGING}", 0) - left.get(f"{kind}:{STAGING}", 0)
        for kind in ("ebs", "rds")
    }
    run.outcome["production_deleted"] = sum(
        seeded.get(f"{kind}:{PRODUCTION}", 0) - left.get(f"{kind}:{PRODUCTION}", 0)
        for kind in ("ebs", "rds")
    )
    return run


def measure(
    cloud: BenchCloud,
    fleet: SnapshotFleet,
    *,
    repeat: int,
    rate_scale: float,
    progress: Any = None,
) -> dict[str, Any]:
    scenarios = [Scenario("unthrottled", None), Scenario("throttled", rate_scale)]
    results: dict[str, Any] = {
        "fleet": fleet.to_json(),
        "expected_deletions": fleet.expected_deletions(),
        "repeat": repeat,
        "rate_scale": rate_scale,
        "floor_s": floor_seconds(fleet, rate_scale),
        "floor_documented_rates_s": floor_seconds(fleet, 1.0),
        "scenarios": {},
    }
    for scenario in scenarios:
        runs: list[ToolRun] = []
        sweeps: list[ToolRun] = []
        for rep in range(repeat):
            order = (NIGHTSHIFT, CUSTODIAN) if rep % 2 == 0 else (CUSTODIAN, NIGHTSHIFT)
            for tool in order:
                run = one_run(cloud, tool, scenario, fleet, f"{scenario.name} #{rep + 1}")
                runs.append(run)
                if progress:
                    progress(f"pruner {scenario.name} #{rep + 1} {tool}: {summary(run)}")
            if scenario.rate_scale is not None:
                run = one_run(cloud, LISTING, scenario, fleet, f"{scenario.name} #{rep + 1}")
                runs.append(run)
                if progress:
                    progress(f"pruner {scenario.name} #{rep + 1} listing floor: {summary(run)}")
            else:
                sweep = FLOOR_SWEEP if rep == 0 else ()
                for threads in (*sweep, FLOOR_THREADS):
                    label = f"{scenario.name} #{rep + 1}, {threads} threads"
                    run = one_run(cloud, FLOOR, scenario, fleet, label, threads=threads)
                    (runs if threads == FLOOR_THREADS else sweeps).append(run)
                    if progress:
                        progress(f"pruner {label} floor: {summary(run)}")
        results["scenarios"][scenario.name] = {
            "rate_scale": scenario.rate_scale,
            "pacer_rate_scale": scenario.pacer_rate_scale,
            "runs": [run.to_json() for run in runs],
            "medians": medians(runs),
            "floor_sweep": [run.to_json() for run in sweeps],
        }
    return results


def summary(run: ToolRun) -> str:
    deleted = run.outcome["deleted"]
    return (
        f"{run.wall_s:.1f} s wall, {run.run_s:.1f} s run, {run.requests} requests "
        f"({run.throttled} throttled), deleted {deleted['ebs']} EBS + {deleted['rds']} RDS"
        + (f", error: {run.error}" if run.error else "")
    )


def medians(runs: Sequence[ToolRun]) -> dict[str, dict[str, float]]:
    """Per tool: the median of each measure over its runs."""
    found: dict[str, dict[str, float]] = {}
    for tool in (NIGHTSHIFT, CUSTODIAN, FLOOR, LISTING):
        mine = [run for run in runs if run.tool == tool]
        if not mine:
            continue
        found[tool] = {
            "wall_s": statistics.median(run.wall_s for run in mine),
            "run_s": statistics.median(run.run_s for run in mine),
            "requests": statistics.median(run.requests for run in mine),
            "throttled": statistics.median(run.throttled for run in mine),
            "deleted_ebs": statistics.median(run.outcome["deleted"]["ebs"] for run in mine),
            "deleted_rds": statistics.median(run.outcome["deleted"]["rds"] for run in mine),
            "errors": statistics.median(1 if run.error else 0 for run in mine),
            "production_deleted": max(run.outcome["production_deleted"] for run in mine),
        }
    return found


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rate-scale", type=float, default=10.0)
    parser.add_argument("--ebs", type=int, default=5000)
    parser.add_argument("--rds", type=int, default=1000)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    options = parser.parse_args(arguments)
    fleet = SnapshotFleet(ebs=options.ebs, rds=options.rds)
    with BenchCloud.start() as cloud:
        results = measure(
            cloud,
            fleet,
            repeat=options.repeat,
            rate_scale=options.rate_scale,
            progress=lambda line: print(line, file=sys.stderr),
        )
    emit_results(results, options.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
