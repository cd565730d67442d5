"""Scheduler vs Cloud Custodian offhours: 1,000 tagged resources, a steady-state run and a
full evening stop.

    .venv/bin/python -m bench.scheduler_vs_custodian [--repeat 3] [--ecs 400 --rds 200 --ec2 400]

The fleet (bench/fleets.py): 400 ECS services in 4 clusters, each with an Application Auto
Scaling target, 200 RDS PostgreSQL instances and 400 EC2 instances, all running, all tagged for
both tools. The schedules: office hours 07:00-19:00 Monday to Friday, Europe/Berlin
(bench/policies/scheduler.yaml; bench/c7n/offhours.yml).

Each tool, on its own freshly seeded account, runs twice on Friday 2026-11-20:
1. steady state at 18:55 Berlin: everything is running, as it should; nothing to do;
2. full stop at 19:05 Berlin: every resource must stop.
Nightshift reads the instant from its event; Custodian's offhours filters read a clock that the
launcher sets to the same instant (bench/c7n/launch.py). Custodian runs its six policies (stop and
start for each resource type), as an hourly `custodian run` does; Nightshift runs its handler
once, as its 5-minute schedule does. The tools run alternately, `--repeat` times each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import emit_results
from bench.cloud import BenchCloud
from bench.fleets import ScheduledFleet
from bench.tools import CUSTODIAN, NIGHTSHIFT, ROOT, ToolRun, run_custodian, run_scheduler

NIGHTSHIFT_POLICY = ROOT / "bench" / "policies" / "scheduler.yaml"
CUSTODIAN_POLICY = ROOT / "bench" / "c7n" / "offhours.yml"
# Friday 2026-11-20, CET (UTC+1): 18:55 and 19:05 in Berlin.
STEADY = dt.datetime(2026, 11, 20, 17, 55, tzinfo=dt.UTC)
FULL_STOP = dt.datetime(2026, 11, 20, 18, 5, tzinfo=dt.UTC)
RUNS = {"steady state": STEADY, "full stop": FULL_STOP}


def tool_runs(cloud: BenchCloud, tool: str, fleet: ScheduledFleet, rep: int) -> list[ToolRun]:
    """Seed the fleet, then the steady-state run and the full stop of one tool."""
    cloud.reset()
    cloud.seed_scheduled_fleet(fleet)
    nightshift = cloud.create_nightshift()
    runs = []
    for name, moment in RUNS.items():
        label = f"{name} #{rep + 1}"
        if tool == NIGHTSHIFT:
            run = run_scheduler(cloud, label, moment, nightshift, NIGHTSHIFT_POLICY)
            report = run.outcome.pop("report") or {}
            run.outcome["report_totals"] = report.get("totals", {})
            run.outcome["report_errors"] = report.get("errors", [])
        else:
            run = run_custodian(cloud, label, CUSTODIAN_POLICY, now=moment)
        run.outcome["after"] = cloud.fleet_inventory()
        runs.append(run)
    return runs


def measure(
    cloud: BenchCloud, fleet: ScheduledFleet, *, repeat: int, progress: Any = None
) -> dict[str, Any]:
    runs: list[ToolRun] = []
    for rep in range(repeat):
        order = (NIGHTSHIFT, CUSTODIAN) if rep % 2 == 0 else (CUSTODIAN, NIGHTSHIFT)
        for tool in order:
            for run in tool_runs(cloud, tool, fleet, rep):
                runs.append(run)
                if progress:
                    progress(f"scheduler {run.label} {tool}: {summary(run)}")
    return {
        "fleet": fleet.to_json(),
        "repeat": repeat,
        "times": {name: moment.isoformat() for name, moment in RUNS.items()},
        "runs": [run.to_json() for run in runs],
        "medians": {name: medians([r for r in runs if r.label.startswith(name)]) for name in RUNS},
    }


def stopped(run: ToolRun) -> int:
    after = run.outcome["after"]
    return sum(after.get(key, 0) for key in ("ecs:stopped", "rds:stopped", "ec2:stopped"))


def summary(run: ToolRun) -> str:
    return (
        f"{run.wall_s:.1f} s wall, {run.run_s:.1f} s run, {run.requests} requests, "
        f"{stopped(run)} stopped" + (f", error: {run.error}" if run.error else "")
    )


def medians(runs: Sequence[ToolRun]) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for tool in (NIGHTSHIFT, CUSTODIAN):
        mine = [run for run in runs if run.tool == tool]
        if mine:
            found[tool] = {
                "wall_s": statistics.median(run.wall_s for run in mine),
                "run_s": statistics.median(run.run_s for run in mine),
                "requests": statistics.median(run.requests for run in mine),
                "stopped": statistics.median(stopped(run) for run in mine),
                "errors": statistics.median(1 if run.error else 0 for run in mine),
            }
    return found


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ecs", type=int, default=400)
    parser.add_argument("--rds", type=int, default=200)
    parser.add_argument("--ec2", type=int, default=400)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    options = parser.parse_args(arguments)
    fleet = ScheduledFleet(
        ecs_services=options.ecs, rds_instances=options.rds, ec2_instances=options.ec2
    )
    with BenchCloud.start() as cloud:
        results = measure(
            cloud, fleet, repeat=options.repeat, progress=lambda line: print(line, file=sys.stderr)
        )
    emit_results(results, options.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
