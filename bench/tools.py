"""Run each tool once, in a process of its own, against the bench cloud, and collect one
`ToolRun`: wall time of the process, time of the run itself, the requests the server counted,
the tool's own account of its calls, and what it says it did.

- Nightshift: `python -m bench.invoke` (our .venv) imports `functions/<name>/app.py` and calls
  its `lambda_handler` once.
- Cloud Custodian: `bench/c7n/launch.py` under `.bench/c7n-venv` runs `custodian run` with a
  fresh output directory and cache file (a cron job running `custodian run` each hour gets a
  fresh cache too: its 15-minute period has lapsed).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.cloud import AWS_ENVIRONMENT, BenchCloud
from bench.fleets import REGION

ROOT = Path(__file__).resolve().parent.parent
C7N_VENV = ROOT / ".bench" / "c7n-venv"
C7N_PYTHON = C7N_VENV / "bin" / "python"
C7N_LAUNCHER = ROOT / "bench" / "c7n" / "launch.py"
NIGHTSHIFT = "nightshift"
CUSTODIAN = "custodian"
FLOOR = "floor"
LISTING = "listing"  # the floor client listing what the pruner lists, deleting nothing
# What every Nightshift function reads (template.yaml's Globals), set for the bench.
POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_METRICS_NAMESPACE": "Nightshift",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "NIGHTSHIFT_ENVIRONMENT": "bench",
}


@dataclass
class ToolRun:
    """One run of one tool."""

    tool: str
    label: str
    wall_s: float  # the process, from spawn to exit: what a cron job or a Lambda pays end to end
    run_s: float  # the work itself: the handler call, or Custodian's policy executions
    server: dict[str, dict[str, int]]  # the throttle proxy's meter: requests/throttled/errors
    client_requests: int  # the tool's own count: botocore hooks, or Custodian's api-stats
    outcome: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def requests(self) -> int:
        return sum(self.server["requests"].values())

    @property
    def throttled(self) -> int:
        return sum(self.server["throttled"].values())

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "requests": self.requests, "throttled": self.throttled}


def run_nightshift(
    cloud: BenchCloud,
    label: str,
    function: str,
    event: dict[str, Any],
    environment: dict[str, str],
    *,
    pacer_rate_scale: float | None = None,
    budget_seconds: float = 900,
) -> ToolRun:
    with tempfile.TemporaryDirectory(prefix="nightshift-bench-") as scratch:
        request, result = Path(scratch, "request.json"), Path(scratch, "result.json")
        request.write_text(
            json.dumps(
                {
                    "function": function,
                    "event": event,
                    "environment": {
                        **POWERTOOLS_ENVIRONMENT,
                        "POWERTOOLS_SERVICE_NAME": function,
                        **environment,
                    },
                    "pacer_rate_scale": pacer_rate_scale,
                    "budget_seconds": budget_seconds,
                }
            ),
            encoding="utf-8",
        )
        _, wall, server = metered(
            cloud,
            [sys.executable, "-m", "bench.invoke", str(request), str(result)],
            result=result,
            what=f"bench.invoke {function}",
        )
        measured = json.loads(result.read_text(encoding="utf-8"))
    return ToolRun(
        tool=NIGHTSHIFT,
        label=label,
        wall_s=wall,
        run_s=measured["handler_s"],
        server=server,
        client_requests=sum(measured["requests"].values()),
        outcome={
            "import_s": measured["import_s"],
            "client_error_codes": measured["error_codes"],
            "report": measured["report"],
        },
        error=measured["error"],
    )


def run_scheduler(
    cloud: BenchCloud,
    label: str,
    moment: dt.datetime,
    nightshift: dict[str, str],
    policy: Path,
    *,
    budget_seconds: float = 900,
) -> ToolRun:
    """The scheduler's run at `moment` (its EventBridge event's `time`) with `policy`, against
    the Nightshift resources `nightshift` (`BenchCloud.create_nightshift`)."""
    return run_nightshift(
        cloud,
        label,
        "scheduler",
        {"time": moment.isoformat().replace("+00:00", "Z")},
        {
            "NIGHTSHIFT_POLICY_FILE": str(policy),
            "NIGHTSHIFT_STATE_TABLE": nightshift["table"],
            "NIGHTSHIFT_OPS_TOPIC_ARN": nightshift["topic"],
        },
        budget_seconds=budget_seconds,
    )


def run_floor(
    cloud: BenchCloud,
    label: str,
    ebs: list[str],
    rds: list[str],
    *,
    threads: int,
    listing: bool = False,
) -> ToolRun:
    """The server's floor: the same deletions by plain boto3 on `threads` threads
    (bench/delete_floor.py), nothing listed, nothing reported; its run time is the deletions
    alone. With `listing`, the client lists what the pruner lists first (LISTING: no ids, so
    its run time is that listing alone)."""
    with tempfile.TemporaryDirectory(prefix="floor-bench-") as scratch:
        request, result = Path(scratch, "request.json"), Path(scratch, "result.json")
        asked = {"ebs": ebs, "rds": rds, "threads": threads, "list": listing}
        request.write_text(json.dumps(asked), "utf-8")
        _, wall, server = metered(
            cloud,
            [sys.executable, "-m", "bench.delete_floor", str(request), str(result)],
            result=result,
            what="bench.delete_floor",
        )
        measured = json.loads(result.read_text(encoding="utf-8"))
    return ToolRun(
        tool=LISTING if listing else FLOOR,
        label=label,
        wall_s=wall,
        run_s=measured["list_s"] + measured["delete_s"],
        server=server,
        client_requests=measured["list_calls"] + measured["deletions"],
        outcome={
            "threads": threads,
            "list_s": measured["list_s"],
            "cpu_s": measured["cpu_s"],
            "client_error_codes": measured["error_codes"],
        },
        error=f"errors: {measured['error_codes']}" if measured["error_codes"] else None,
    )


def run_custodian(
    cloud: BenchCloud, label: str, policy: Path, *, now: dt.datetime | None = None
) -> ToolRun:
    with tempfile.TemporaryDirectory(prefix="custodian-bench-") as scratch:
        output = Path(scratch, "output")
        command = [str(C7N_PYTHON), str(C7N_LAUNCHER)]
        if now is not None:
            command += ["--now", now.isoformat()]
        command += [
            "run",
            "--output-dir",
            str(output),
            "--cache",
            str(Path(scratch, "cache.pkl")),
            "--region",
            REGION,
            str(policy),
        ]
        process, wall, server = metered(cloud, command)
        policies = _custodian_outputs(output)
    errors = [line for line in process.stderr.splitlines() if ":ERROR " in line]
    return ToolRun(
        tool=CUSTODIAN,
        label=label,
        wall_s=wall,
        run_s=sum(item["duration_s"] for item in policies.values()),
        server=server,
        client_requests=sum(item["api_calls"] for item in policies.values()),
        outcome={"policies": policies, "exit_code": process.returncode, "log_errors": errors},
        error=None if process.returncode == 0 and not errors else _first(errors, process),
    )


def metered(
    cloud: BenchCloud, command: list[str], *, result: Path | None = None, what: str = ""
) -> tuple[subprocess.CompletedProcess[str], float, dict[str, dict[str, int]]]:
    """Run one tool's process against the bench cloud: its answer, its wall time (spawn to exit)
    and the server's count of its requests. With `result`, a process that failed or wrote no
    result is an error (`what` names it); without, the caller judges the process."""
    cloud.take_meter()
    started = time.perf_counter()
    process = subprocess.run(
        command,
        cwd=ROOT,
        env=_tool_environment(cloud),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    server = cloud.take_meter()
    if result is not None and (process.returncode != 0 or not result.exists()):
        raise RuntimeError(f"{what} failed:\n{process.stderr[-3000:]}")
    return process, wall, server


def _custodian_outputs(output: Path) -> dict[str, dict[str, Any]]:
    """Per policy: resources matched, execution seconds, Custodian's own API call count."""
    found = {}
    for metadata_file in sorted(output.glob("*/metadata.json")):
        metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
        metrics = {item["MetricName"]: item["Value"] for item in metadata.get("metrics", ())}
        found[metadata_file.parent.name] = {
            "resources": int(metrics.get("ResourceCount", 0)),
            "duration_s": float(metadata["execution"]["duration"]),
            "api_calls": sum(metadata.get("api-stats", {}).values()),
        }
    return found


def _first(errors: list[str], process: subprocess.CompletedProcess[str]) -> str:
    if errors:
        return f"{len(errors)} error lines; first: {errors[0][:300]}"
    return f"exit {process.returncode}: {process.stderr[-300:]}"


def _tool_environment(cloud: BenchCloud) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "NIGHTSHIFT_"))
    }
    return {**env, **AWS_ENVIRONMENT, "AWS_ENDPOINT_URL": cloud.endpoint}
