"""Scale (issue 17, goal 4): the scheduler at growing fleets up to 10,000 resources and the pruner
up to 50,000 snapshots; wall time, requests and how both grow with size, and whether each fits
its Lambda budget or resumes across runs.

    .venv/bin/python -m bench.scale [--scheduler 1000,3000,10000] [--pruner 5000,15000,50000]

One round at each size (the biggest take minutes each on 2 cores; `make bench` must stay within
its budget). Each size starts from a freshly reset bench cloud (bench/cloud.py); the seeding runs
in the cloud's own process and is timed apart from the runs.

Scheduler: the comparison fleet of bench/fleets.py scaled up (40% ECS services, 100 to a
cluster, each with an Application Auto Scaling target; 20% RDS instances; 40% EC2 instances; all
running, all tagged office-hours). The comparison's policy, with its circuit breaker
(`max_stops`) opened for the fleet's size. A steady-state run at 18:55 Berlin (nothing to do),
then the full stop at 19:05, with the template's Timeout for SchedulerFunction as the Lambda
budget (bench.invoke's context counts it down). What a run does not begin 10 s before its
deadline it defers to the next run: the full stop is then run again 5 minutes later (the
template's default schedule rate), as the next scheduled run, until everything is stopped (or a
run makes no progress).

Pruner: the comparison's fleet shape (bench/fleets.py: a tenth production, the rest staging, the
rule "staging older than 30 days", bench/policies/pruner.yaml), with 35 days of one snapshot a
day per lineage (a pruner that missed five days, or first run on such an account), 5/6 of them
EBS: six days in 35 of the staging snapshots are due, 7,720 at 50,000. bench/pruner_scale.py
then runs the handler against the cloud as Lambda would: prune after prune (no dry run first;
each run lists and plans anew), each with the template's 900 s Timeout and the pacers at AWS's
documented rates, their waits simulated (counted against the deadline, not slept; see that
module), each run resuming the last one's cursor, until nothing is deferred. "Lambda s" is what
the runs would take in Lambda at those rates; "real s" is what they took here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import emit_results
from bench.cloud import BenchCloud
from bench.fleets import PRODUCTION, STAGING, ScheduledFleet, SnapshotFleet
from bench.pruner_vs_custodian import floor_seconds
from bench.scheduler_vs_custodian import FULL_STOP, NIGHTSHIFT_POLICY, STEADY
from bench.tools import ROOT, ToolRun, metered, run_scheduler
from localcloud.declared import template_resource

SCHEDULER_SIZES = (1000, 3000, 10000)
PRUNER_SIZES = (5000, 15000, 50000)
QUICK_SCHEDULER_SIZES = (100, 300)
QUICK_PRUNER_SIZES = (600, 1800)
PRUNER_POLICY = ROOT / "bench" / "policies" / "pruner.yaml"
SNAPSHOT_DAYS = 35  # one snapshot a day per volume or instance
SERVICES_PER_CLUSTER = 100
SCHEDULE_RATE = dt.timedelta(minutes=5)  # template.yaml's SchedulerRate default
MAX_SCHEDULER_RUNS = 6
MAX_PRUNER_RUNS = 30
LAMBDA_LIMIT_S = 900  # Lambda's maximum timeout
MAX_STOPS = re.compile(r"max_stops: (\d+)")


def function_timeout(logical_id: str) -> int:
    """The function's Timeout in template.yaml (its own, else the Globals')."""
    from localcloud.declared import nightshift_template

    own = template_resource(logical_id)["Properties"].get("Timeout")
    return int(own or nightshift_template()["Globals"]["Function"]["Timeout"])


def scheduled_fleet(size: int) -> ScheduledFleet:
    """`size` resources in the comparison fleet's proportions.

    >>> scheduled_fleet(10000)
    ScheduledFleet(ecs_services=4000, rds_instances=2000, ec2_instances=4000, clusters=40, \
desired=2, target=(1, 4))
    """
    ecs, rds = size * 2 // 5, size // 5
    return ScheduledFleet(
        ecs_services=ecs,
        rds_instances=rds,
        ec2_instances=size - ecs - rds,
        clusters=max(1, math.ceil(ecs / SERVICES_PER_CLUSTER)),
    )


def snapshot_fleet(size: int) -> SnapshotFleet:
    """`size` snapshots, 5/6 EBS, one a day for SNAPSHOT_DAYS days per lineage, a tenth of the
    lineages production.

    >>> fleet = snapshot_fleet(50000)
    >>> fleet.ebs, fleet.volumes, fleet.rds, fleet.instances, fleet.expected_deletions()
    (41666, 1191, 8334, 239, {'ebs': 6432, 'rds': 1288})
    """
    ebs = size * 5 // 6
    rds = size - ebs
    volumes, instances = math.ceil(ebs / SNAPSHOT_DAYS), math.ceil(rds / SNAPSHOT_DAYS)
    return SnapshotFleet(
        ebs=ebs,
        rds=rds,
        volumes=volumes,
        instances=instances,
        production_volumes=max(1, volumes // 10),
        production_instances=max(1, instances // 10),
    )


# ------------------------------------------------------------------------------ the scheduler
def stopped(inventory: dict[str, int]) -> int:
    return sum(inventory.get(key, 0) for key in ("ecs:stopped", "rds:stopped", "ec2:stopped"))


def scheduler_policy(size: int, folder: Path) -> Path:
    """The comparison's policy (bench/policies/scheduler.yaml) with its circuit breaker opened
    for `size` resources: `max_stops` (5,000 there, 50 by default) refuses a run that would stop
    more, and a full stop stops the whole fleet."""
    text = NIGHTSHIFT_POLICY.read_text(encoding="utf-8")
    found = MAX_STOPS.search(text)
    if found is None:
        raise ValueError(f"{NIGHTSHIFT_POLICY} sets no max_stops")
    opened = max(size, int(found.group(1)))
    path = folder / f"scheduler-{size}.yaml"
    path.write_text(MAX_STOPS.sub(f"max_stops: {opened}", text, count=1), encoding="utf-8")
    return path


def scheduler_run(
    cloud: BenchCloud,
    label: str,
    moment: dt.datetime,
    nightshift: dict[str, str],
    budget: int,
    policy: Path,
) -> dict[str, Any]:
    run = run_scheduler(cloud, label, moment, nightshift, policy, budget_seconds=budget)
    report = run.outcome.pop("report") or {}
    after = cloud.fleet_inventory()
    return _run_json(run) | {
        "summary": report.get("summary", ""),
        "report_errors": report.get("errors", []),
        "stopped_after": stopped(after),
    }


def _run_json(run: ToolRun) -> dict[str, Any]:
    return {
        "label": run.label,
        "wall_s": run.wall_s,
        "run_s": run.run_s,
        "import_s": run.outcome.get("import_s"),
        "requests": run.requests,
        "by_operation": run.server["requests"],
        "error": run.error,
    }


def scheduler_size(cloud: BenchCloud, size: int, progress: Any) -> dict[str, Any]:
    fleet = scheduled_fleet(size)
    budget = function_timeout("SchedulerFunction")
    cloud.reset()
    started = time.perf_counter()
    cloud.seed_scheduled_fleet(fleet)
    nightshift = cloud.create_nightshift()
    seeding = time.perf_counter() - started
    progress(f"scale scheduler {size:,}: seeded in {seeding:.0f} s")
    with tempfile.TemporaryDirectory(prefix="nightshift-scale-") as scratch:
        policy = scheduler_policy(size, Path(scratch))
        max_stops = int(MAX_STOPS.findall(policy.read_text(encoding="utf-8"))[0])
        steady = scheduler_run(cloud, "steady state", STEADY, nightshift, budget, policy)
        progress(f"scale scheduler {size:,} steady state: {_summary(steady)}")
        full_stop: list[dict[str, Any]] = []
        for n in range(MAX_SCHEDULER_RUNS):
            moment = FULL_STOP + n * SCHEDULE_RATE
            run = scheduler_run(cloud, f"full stop #{n + 1}", moment, nightshift, budget, policy)
            progress(f"scale scheduler {size:,} full stop #{n + 1}: {_summary(run)}")
            before = full_stop[-1]["stopped_after"] if full_stop else 0
            full_stop.append(run)
            if run["stopped_after"] >= fleet.total or run["error"]:
                break
            if run["stopped_after"] == before:
                break  # no progress (refused, or failing): another run would do the same
    return {
        "size": size,
        "fleet": fleet.to_json(),
        "max_stops": max_stops,
        "seeding_s": seeding,
        "budget_s": budget,
        "steady": steady,
        "full_stop": full_stop,
        "all_stopped": full_stop[-1]["stopped_after"] >= fleet.total,
    }


def _summary(run: dict[str, Any]) -> str:
    return (
        f"{run['wall_s']:.1f} s wall, {run['run_s']:.1f} s handler, {run['requests']:,} requests,"
        f" {run['stopped_after']:,} stopped ({run['summary']})"
        + (f", error: {run['error']}" if run["error"] else "")
    )


# ------------------------------------------------------------------------------ the pruner
def pruner_size(cloud: BenchCloud, size: int, progress: Any) -> dict[str, Any]:
    fleet = snapshot_fleet(size)
    budget = function_timeout("PrunerFunction")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cloud.reset()
    started = time.perf_counter()
    seeded = cloud.seed_snapshots(fleet, now)
    nightshift = cloud.create_nightshift()
    seeding = time.perf_counter() - started
    progress(f"scale pruner {size:,}: seeded in {seeding:.0f} s")
    with tempfile.TemporaryDirectory(prefix="nightshift-scale-") as scratch:
        out = Path(scratch, "runs.json")
        command = [
            sys.executable,
            "-m",
            "bench.pruner_scale",
            "--endpoint",
            cloud.endpoint,
            "--table",
            nightshift["table"],
            "--topic",
            nightshift["topic"],
            "--policy",
            str(PRUNER_POLICY),
            "--time",
            now.isoformat(),
            "--budget",
            str(budget),
            "--max-runs",
            str(MAX_PRUNER_RUNS),
            "--no-dry-run",
            "--out",
            str(out),
        ]
        _, wall, server = metered(cloud, command, result=out, what="bench.pruner_scale")
        runs = json.loads(out.read_text(encoding="utf-8"))
    left = cloud.snapshot_inventory()
    deleted = {
        kind: seeded.get(f"{kind}:{STAGING}", 0) - left.get(f"{kind}:{STAGING}", 0)
        for kind in ("ebs", "rds")
    }
    production_deleted = sum(
        seeded.get(f"{kind}:{PRODUCTION}", 0) - left.get(f"{kind}:{PRODUCTION}", 0)
        for kind in ("ebs", "rds")
    )
    prunes = [run for run in runs if run["label"].startswith("prune")]
    result = {
        "size": size,
        "fleet": fleet.to_json(),
        "expected_deletions": fleet.expected_deletions(),
        # The deletions alone at the documented rates, past the bursts: no pruner does better.
        "floor_s": max(floor_seconds(fleet, 1.0).values()),
        "seeding_s": seeding,
        "budget_s": budget,
        "wall_s": wall,
        "server_requests": sum(server["requests"].values()),
        "runs": runs,
        "prune_runs": len(prunes),
        "finished": bool(prunes) and prunes[-1]["deferred"] == 0,
        "deleted": deleted,
        "production_deleted": production_deleted,
    }
    progress(
        f"scale pruner {size:,}: {wall:.0f} s wall, {len(prunes)} prune runs,"
        f" {result['server_requests']:,} requests, deleted {deleted['ebs']:,} EBS +"
        f" {deleted['rds']:,} RDS (expected {result['expected_deletions']})"
    )
    return result


# ------------------------------------------------------------------------------ both
def measure(
    cloud: BenchCloud,
    *,
    scheduler_sizes: Sequence[int],
    pruner_sizes: Sequence[int],
    progress: Any = None,
) -> dict[str, Any]:
    say = progress or (lambda _: None)
    return {
        "scheduler": [scheduler_size(cloud, size, say) for size in scheduler_sizes],
        "pruner": [pruner_size(cloud, size, say) for size in pruner_sizes],
        "snapshot_days": SNAPSHOT_DAYS,
        "schedule_rate_s": SCHEDULE_RATE.total_seconds(),
        "lambda_limit_s": LAMBDA_LIMIT_S,
    }


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scheduler", default=",".join(map(str, SCHEDULER_SIZES)))
    parser.add_argument("--pruner", default=",".join(map(str, PRUNER_SIZES)))
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    options = parser.parse_args(arguments)
    with BenchCloud.start() as cloud:
        results = measure(
            cloud,
            scheduler_sizes=_sizes(options.scheduler),
            pruner_sizes=_sizes(options.pruner),
            progress=lambda line: print(line, file=sys.stderr),
        )
    emit_results(results, options.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
