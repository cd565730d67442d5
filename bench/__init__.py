"""Benchmarks (issue 9): speed, API cost and cold start, side by side with Cloud Custodian.

Run them all with `make bench` (or `.venv/bin/python -m bench.run`); the results land in
docs/benchmarks.md with charts in docs/img/benchmarks/. Benchmarks are not tests: nothing here
asserts a time, and `make test` does not run them.

- run.py: the orchestrator; stores each benchmark's JSON in .bench/results/, then report.py
  renders the page and charts.py the PNGs.
- cloud.py: the bench cloud, the local cloud's in-process mode for measurement
  (localcloud.inprocess: moto behind localcloud.throttle_proxy, which counts every request and
  enforces AWS's token buckets on demand) in a process of its own, plus the bench's seeding;
  fleets.py: what is seeded into it (the scheduled fleet by the local cloud's seeder,
  localcloud.fleet.Fleet).
- tools.py: runs one tool once in its own process: Nightshift's handler through invoke.py,
  Cloud Custodian through c7n/launch.py in .bench/c7n-venv.
- pruner_vs_custodian.py, scheduler_vs_custodian.py, cold_start.py, canary.py: the five
  measurements of the issue; policies/ and c7n/ hold the policies both tools ran.
- delete_floor.py: the server floor of the pruner comparison, the same deletions by plain boto3
  on a few threads (tools.run_floor runs it).
- pruner_scale.py: a separate study of one pruner invocation against the Lambda budget at the
  documented rates (docs/pruner.md, "Scale"), on the same local cloud in its own process; with
  `--endpoint`, the same runs against a cloud seeded by its caller.
- scale.py (issue 17): the scheduler up to 10,000 resources and the pruner up to 50,000 snapshots
  (through pruner_scale.py), one round per size; notifier_burst.py: 1,000 alarms published at
  once, through the queue as template.yaml configures it, to a local webhook.
- organization.py (issue 14): the scheduler as a hub over 50 member accounts x 2 Regions x 100
  resources: steady state, full stop, and the full stop with one account's spoke role missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def emit_results(results: Any, out: Path | None) -> None:
    """Write one benchmark's results as JSON to `out` (for bench/run.py), or print them."""
    text = json.dumps(results, indent=1)
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        print(text)
