"""Run the benchmarks and write docs/benchmarks.md with their numbers and charts.

    .venv/bin/python -m bench.run                      # all of them, the sizes of issues 9 and 17
    .venv/bin/python -m bench.run --only canary,cold-start
    .venv/bin/python -m bench.run --quick              # small fleets, one round, into .bench/quick

Order: cold start and canary first (short, quiet), then pruner vs Cloud Custodian, scheduler
vs Cloud Custodian, scale (bench/scale.py), the notifier burst (bench/notifier_burst.py) and
the organization (bench/organization.py: the scheduler as a hub over 50 accounts x 2 Regions) on
one bench cloud (bench/cloud.py), each starting from a reset account. Each benchmark's results
are stored as JSON in .bench/results/ (the latest run of each); the page and the charts are then
rendered from everything stored there (bench/report.py). Benchmarks are not tests: nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import notifier_burst, organization, report, scale
from bench.fleets import ScheduledFleet, SnapshotFleet
from bench.tools import C7N_PYTHON

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = (
    "cold-start",
    "canary",
    "pruner",
    "scheduler",
    "scale",
    "notifier-burst",
    "organization",
)
ON_THE_CLOUD = {"pruner", "scheduler", "scale", "notifier-burst", "organization"}
QUICK = ROOT / ".bench" / "quick"


def log(line: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
    print(f"[bench {stamp}] {line}", file=sys.stderr, flush=True)


def machine_info() -> dict[str, Any]:
    cpu = "unknown CPU"
    memory_kib = 0
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory_kib = int(line.split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    custodian = (
        subprocess.run(
            [str(C7N_PYTHON), "-c", "from c7n.version import version; print(version)"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if C7N_PYTHON.exists()  # --only without the comparisons needs no Custodian
        else ""
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_kib / 2**20,
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "commit": commit or "unknown",
        "versions": {
            name: version(name)
            for name in ("moto", "boto3", "botocore", "aws-lambda-powertools", "matplotlib")
        }
        | {"c7n": custodian or "not installed"},
    }


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated: {','.join(BENCHMARKS)}"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each tool comparison")
    parser.add_argument(
        "--rate-scale", type=float, default=10.0, help="throttled pruner: refill rate factor"
    )
    parser.add_argument("--cold-start-repeat", type=int, default=15)
    parser.add_argument("--canary-repeat", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="small fleets, one round; results in .bench/quick"
    )
    options = parser.parse_args(arguments)
    selected = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = sorted(set(selected) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    snapshots, fleet = SnapshotFleet(), ScheduledFleet()
    scheduler_sizes: Sequence[int] = scale.SCHEDULER_SIZES
    pruner_sizes: Sequence[int] = scale.PRUNER_SIZES
    burst = notifier_burst.MESSAGES
    accounts, per_target = organization.ACCOUNTS, organization.PER_TARGET
    results_dir, page, images = report.RESULTS, report.PAGE, report.IMAGES
    if options.quick:
        snapshots = SnapshotFleet(ebs=600, rds=120, volumes=10, instances=2, production_volumes=1)
        fleet = ScheduledFleet(ecs_services=40, rds_instances=20, ec2_instances=40, clusters=2)
        options.repeat, options.cold_start_repeat, options.canary_repeat = 1, 3, 2
        scheduler_sizes, pruner_sizes = scale.QUICK_SCHEDULER_SIZES, scale.QUICK_PRUNER_SIZES
        burst = notifier_burst.QUICK_MESSAGES
        accounts, per_target = organization.QUICK_ACCOUNTS, organization.QUICK_PER_TARGET
        results_dir, page, images = QUICK / "results", QUICK / "benchmarks.md", QUICK / "img"
    if {"pruner", "scheduler"} & set(selected) and not C7N_PYTHON.exists():
        parser.error(
            f"no Cloud Custodian at {C7N_PYTHON.parent.parent}: "
            "python3.13 -m venv .bench/c7n-venv && "
            ".bench/c7n-venv/bin/pip install -r bench/requirements-c7n.txt (make bench does this)"
        )
    results_dir.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    load_start = load_average()
    clock = time.monotonic()

    def store(name: str, results: dict[str, Any]) -> None:
        path = results_dir / f"{name}.json"
        path.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
        log(f"{name}: results in {path.relative_to(ROOT)}")

    if "cold-start" in selected:
        from bench import cold_start

        store("cold_start", cold_start.measure(options.cold_start_repeat, progress=log))
    if "canary" in selected:
        from bench import canary

        store("canary", canary.measure(options.canary_repeat, progress=log))
    if ON_THE_CLOUD & set(selected):
        from bench import pruner_vs_custodian, scheduler_vs_custodian
        from bench.cloud import BenchCloud

        with BenchCloud.start() as cloud:
            if "pruner" in selected:
                results = pruner_vs_custodian.measure(
                    cloud,
                    snapshots,
                    repeat=options.repeat,
                    rate_scale=options.rate_scale,
                    progress=log,
                )
                store("pruner", results)
            if "scheduler" in selected:
                results = scheduler_vs_custodian.measure(
                    cloud, fleet, repeat=options.repeat, progress=log
                )
                store("scheduler", results)
            if "scale" in selected:
                results = scale.measure(
                    cloud,
                    scheduler_sizes=scheduler_sizes,
                    pruner_sizes=pruner_sizes,
                    progress=log,
                )
                store("scale", results)
            if "notifier-burst" in selected:
                store("notifier_burst", notifier_burst.measure(cloud, messages=burst, progress=log))
            if "organization" in selected:
                results = organization.measure(
                    cloud, accounts=accounts, per_target=per_target, progress=log
                )
                store("organization", results)
    finished = dt.datetime.now(dt.UTC)
    machine = machine_info() | {
        "started": started.strftime("%Y-%m-%d %H:%M"),
        "finished": finished.strftime("%H:%M"),
        "minutes": (time.monotonic() - clock) / 60,
        "load_start": load_start,
        "load_end": load_average(),
        "command": " ".join(["python -m bench.run", *(arguments or sys.argv[1:])]),
        "benchmarks": selected,
    }
    store("machine", machine)
    written = report.write(report.load(results_dir), page, images)
    log(f"wrote {written.relative_to(ROOT)} in {machine['minutes']:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
