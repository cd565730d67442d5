"""How long, and how many API calls, to plan and prune thousands of snapshots (not a test).

    .venv/bin/python -m bench.pruner_scale [--ebs 5000] [--rds 1000]
                                           [--rate-scale 1] [--sleep simulated|real]
    .venv/bin/python -m bench.pruner_scale --endpoint URL --table T --topic ARN \
        --policy FILE --time ISO --out runs.json      # against a cloud seeded by the caller

Starts the local cloud's in-process mode (localcloud.inprocess, with moto's own answers) on a
free loopback port, creates `--ebs` EBS snapshots (50 volumes, one snapshot a day) and `--rds`
RDS snapshots (10 instances, one a day), then runs the pruner's handler against it as Lambda
would, with a 900 s budget: once as a dry run (plan only), then for real, run after run (each
resuming the cursor), until nothing is deferred. Every HTTP request the handler's clients send is
counted with a botocore `before-send` hook.

Pacing: at the documented rates (EC2 DeleteSnapshot 5/s, RDS 12/s) deleting ~5,000 snapshots
waits about 15 minutes whatever the endpoint. `--sleep simulated` (the default) adds those
waits to the Lambda clock the deadline is measured on instead of sleeping them, so the runs make
the same calls in the same order, against the same deadline, in about two minutes.
`--rate-scale` multiplies both refill rates (bursts stay as documented); with `--sleep real`
the waits are slept. Results and their reading: docs/pruner.md, "Scale".

With `--endpoint` nothing is started or created: the runs go to a cloud the caller seeded (the
Scale benchmark of `make bench`, bench/scale.py, seeds its bench cloud up to 50,000 snapshots),
with the caller's table, topic and policy, and the runs are written as JSON to `--out`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from localcloud.declared import FAKE_CREDENTIALS, create_state_table, function_variables
from localcloud.inprocess import InProcessCloud, moto_clock

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-central-1"
TABLE = "nightshift-state"
EVENT_TIME = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
BUDGET_SECONDS = 900  # the template's Timeout for PrunerFunction
POLICY = """
version: 1
protect: {tag: Environment, values: [production, prod]}
retention:
  - name: fleet
    resources: [rds-snapshot, ebs-snapshot]
    match: {tags: {Environment: staging}}
    keep: {last: 3, daily: 7, weekly: 4, monthly: 3}
pruner:
  max_delete_share: 0.95
"""
STAGING = [{"Key": "Environment", "Value": "staging"}]


@dataclass
class Run:
    """One invocation: its Lambda time (real + simulated waits), what it called, its report."""

    label: str
    lambda_seconds: float
    waited: float
    planning: float
    calls: Counter[str]
    seconds: Counter[str]
    report: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        totals = self.report["totals"]
        return {
            "label": self.label,
            "lambda_s": self.lambda_seconds,
            "waited_s": self.waited,
            "real_s": self.lambda_seconds - self.waited,
            "planning_s": self.planning,
            "listing_s": sum(
                seconds for operation, seconds in self.seconds.items() if ":Describe" in operation
            ),
            "requests": sum(self.calls.values()),
            "calls": dict(self.calls),
            "deleted": int(totals["deleted"]),
            "deferred": int(totals["deferred"]),
            "snapshots": int(totals["snapshots"]),
            "delete_planned": int(totals["delete_planned"]),
            "errors": list(self.report.get("errors", ())),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ebs", type=int, default=5000, help="EBS snapshots (default 5000)")
    parser.add_argument("--rds", type=int, default=1000, help="RDS snapshots (default 1000)")
    parser.add_argument(
        "--rate-scale", type=float, default=1.0, help="multiply the documented refill rates"
    )
    parser.add_argument(
        "--sleep",
        choices=["simulated", "real"],
        default="simulated",
        help="simulated: pacing waits count against the deadline without blocking (default)",
    )
    parser.add_argument("--budget", type=float, default=BUDGET_SECONDS, help="seconds per run")
    parser.add_argument("--max-runs", type=int, default=9, help="prune runs at most")
    parser.add_argument("--no-dry-run", action="store_true", help="prune at once, no plan first")
    seeded = parser.add_argument_group("against a cloud the caller seeded")
    seeded.add_argument("--endpoint", help="its URL: start and create nothing")
    seeded.add_argument("--table", default=TABLE)
    seeded.add_argument("--topic", help="the ops topic ARN")
    seeded.add_argument("--policy", type=Path, help="the policy file")
    seeded.add_argument("--time", help="the event's time (ISO 8601)")
    seeded.add_argument("--out", type=Path, help="write the runs as JSON here")
    arguments = parser.parse_args()
    if arguments.endpoint:
        return run_seeded(arguments)

    scratch = Path(tempfile.gettempdir()) / "nightshift-pruner-bench"
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "policy.yaml").write_text(POLICY, encoding="utf-8")
    os.environ.update({"AWS_DEFAULT_REGION": REGION, **FAKE_CREDENTIALS})
    import boto3

    # The local cloud's in-process mode, with moto answering as it comes (aws_answers=False):
    # the figures in docs/pruner.md, "Scale", were measured on moto's own paging. In this
    # process, so that moto's clock can be set while the snapshots are made (moto_clock).
    with InProcessCloud.start(aws_answers=False, region=REGION) as cloud:
        os.environ["AWS_ENDPOINT_URL"] = cloud.endpoint.url
        boto3.setup_default_session()
        started = time.monotonic()
        topic = build_account(boto3, arguments.ebs, arguments.rds)
        os.environ.update(
            function_variables(
                service="pruner",
                policy_file=scratch / "policy.yaml",
                table=TABLE,
                topic_arn=topic,
                environment="bench",
                region=REGION,
                extra={"POWERTOOLS_LOG_LEVEL": "ERROR", "NIGHTSHIFT_PRUNER_DRY_RUN": "false"},
            )
        )
        print(
            f"created {arguments.ebs} EBS and {arguments.rds} RDS snapshots in"
            f" {time.monotonic() - started:.0f} s (moto server {cloud.endpoint.url})",
            file=sys.stderr,
        )
        simulated = arguments.sleep == "simulated"
        runs = measure(
            boto3, arguments.rate_scale, arguments.budget, simulated, max_runs=arguments.max_runs
        )
    print_table(runs, arguments.rate_scale, simulated)
    return 0


def run_seeded(arguments: argparse.Namespace) -> int:
    """The runs against `--endpoint`, seeded by the caller; the runs as JSON to `--out`."""
    import json

    os.environ.update({"AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": arguments.endpoint})
    os.environ.update(
        function_variables(
            service="pruner",
            policy_file=arguments.policy,
            table=arguments.table,
            topic_arn=arguments.topic,
            environment="bench",
            region=REGION,
            extra={"POWERTOOLS_LOG_LEVEL": "ERROR", "NIGHTSHIFT_PRUNER_DRY_RUN": "false"},
        )
    )
    import boto3

    boto3.setup_default_session()
    simulated = arguments.sleep == "simulated"
    event_time = datetime.fromisoformat(arguments.time) if arguments.time else EVENT_TIME
    runs = measure(
        boto3,
        arguments.rate_scale,
        arguments.budget,
        simulated,
        event_time=event_time,
        max_runs=arguments.max_runs,
        dry_run_first=not arguments.no_dry_run,
    )
    text = json.dumps([run.to_json() for run in runs], indent=1)
    if arguments.out:
        arguments.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


def build_account(boto3: ModuleType, ebs: int, rds: int) -> str:
    """Volumes and instances with one snapshot a day, oldest first; returns the ops topic ARN."""
    ec2, rds_client = boto3.client("ec2"), boto3.client("rds")
    volumes = [
        ec2.create_volume(Size=100, AvailabilityZone=f"{REGION}a")["VolumeId"] for _ in range(50)
    ]
    instances = [f"db-{n:02d}" for n in range(10)]
    for instance in instances:
        rds_client.create_db_instance(
            DBInstanceIdentifier=instance,
            Engine="postgres",
            DBInstanceClass="db.t4g.micro",
            AllocatedStorage=50,
            MasterUsername="app",
            MasterUserPassword="correct-horse-battery",
            BackupRetentionPeriod=0,
        )
    ebs_days, rds_days = -(-ebs // len(volumes)), -(-rds // len(instances))
    with ThreadPoolExecutor(max_workers=8) as pool:
        for day in range(max(ebs_days, rds_days), 0, -1):
            work = []
            if day <= ebs_days:
                work += [(ec2_snapshot, ec2, volume) for volume in volumes]
            if day <= rds_days:
                work += [(rds_snapshot, rds_client, instance, day) for instance in instances]
            with moto_clock(EVENT_TIME - timedelta(days=day, hours=1)):
                list(pool.map(lambda job: job[0](*job[1:]), work))
    create_state_table(boto3.client("dynamodb"), TABLE)
    return boto3.client("sns").create_topic(Name="nightshift-ops-bench")["TopicArn"]


def ec2_snapshot(ec2: Any, volume: str) -> None:
    ec2.create_snapshot(
        VolumeId=volume, TagSpecifications=[{"ResourceType": "snapshot", "Tags": STAGING}]
    )


def rds_snapshot(rds: Any, instance: str, day: int) -> None:
    rds.create_db_snapshot(
        DBInstanceIdentifier=instance, DBSnapshotIdentifier=f"{instance}-d{day:04d}", Tags=STAGING
    )


class PacingClock:
    """The handler's `time` module, with pacing waits either slept (`real`) or only added up
    (`simulated`): at the documented rates a 5,000-snapshot prune waits about 15 minutes, and
    simulating those waits runs the same calls in the same order, against the same deadline."""

    def __init__(self, simulated: bool) -> None:
        self.simulated = simulated
        self.waited = 0.0

    def sleep(self, seconds: float) -> None:
        self.waited += seconds
        if not self.simulated:
            time.sleep(seconds)

    @staticmethod
    def time() -> float:
        return time.time()


class BenchContext:
    """The Lambda context attributes the handler reads. Remaining time runs down with the real
    clock and with simulated waits, as it would in Lambda with those waits slept."""

    function_name = "nightshift-pruner-bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:bench"
    aws_request_id = "bench-0000"

    def __init__(self, budget_seconds: float, clock: PacingClock) -> None:
        self._clock = clock
        self._started = time.monotonic()
        self._waited_before = clock.waited
        self._budget = budget_seconds

    def elapsed(self) -> float:
        real = time.monotonic() - self._started
        simulated = self._clock.waited - self._waited_before if self._clock.simulated else 0.0
        return real + simulated

    def get_remaining_time_in_millis(self) -> int:
        return int((self._budget - self.elapsed()) * 1000)


@dataclass
class Meter:
    """HTTP requests and seconds per operation, from botocore's before-send / after-call."""

    calls: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)
    # By operation and thread: the pruner's deletions run side by side.
    started: dict[tuple[str, int], float] = field(default_factory=dict)

    def before_send(self, event_name: str, **_: Any) -> None:
        self.calls[operation_of(event_name)] += 1

    def before_call(self, event_name: str, **_: Any) -> None:
        self.started[operation_of(event_name), threading.get_ident()] = time.monotonic()

    def after_call(self, event_name: str, **_: Any) -> None:
        operation = operation_of(event_name)
        started = self.started.pop((operation, threading.get_ident()))
        self.seconds[operation] += time.monotonic() - started


def operation_of(event_name: str) -> str:
    _, service, operation = event_name.split(".")
    return f"{service}:{operation}"


def measure(
    boto3: ModuleType,
    rate_scale: float,
    budget: float,
    simulated: bool,
    *,
    event_time: datetime = EVENT_TIME,
    max_runs: int = 9,
    dry_run_first: bool = True,
) -> list[Run]:
    from botocore.config import Config

    from nightshift import pacing
    from nightshift.adapters import snapshots
    from nightshift.retention import SnapshotKind, service

    # moto answers DescribeSnapshots with every snapshot in one page (AWS: 1000 a page), and
    # takes longer than the adapter's read timeout to render 5,000.
    snapshots.DESCRIBE = snapshots.DESCRIBE.merge(Config(read_timeout=600))
    meter = Meter()
    events = boto3.DEFAULT_SESSION.events
    events.register("before-send", meter.before_send)
    events.register("before-call", meter.before_call)
    events.register("after-call", meter.after_call)
    handler = load_handler()
    clock = PacingClock(simulated)
    handler.time = clock

    def scaled_pacers(*, clock: Any, sleep: Any, rand: Any) -> dict[SnapshotKind, pacing.Pacer]:
        def pacer(limit: pacing.RateLimit) -> pacing.Pacer:
            scaled = replace(limit, rate=limit.rate * rate_scale)
            return pacing.Pacer(scaled, clock=clock, sleep=sleep, rand=rand)

        rds = pacer(pacing.RDS_API)
        return {
            SnapshotKind.EBS: pacer(pacing.EC2_DELETE_SNAPSHOT),
            SnapshotKind.RDS: rds,
            SnapshotKind.AURORA: rds,
        }

    service.pruner_pacers = scaled_pacers  # type: ignore[attr-defined]
    if simulated:
        # Simulated waits add up on one clock, as waits one after another do: one deletion at a
        # time, so the deadline sees the waits Lambda would.
        service.DELETE_WORKERS = 1
    planning = Counter[str]()
    plan_retention = service.plan_retention

    def timed_plan(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return plan_retention(*args, **kwargs)
        finally:
            planning["seconds"] += time.monotonic() - started

    service.plan_retention = timed_plan
    runs = []
    moment = event_time.isoformat()
    events_to_run = [("plan (dry run)", {"time": moment, "dry_run": True})] if dry_run_first else []
    events_to_run += [(f"prune #{n}", {"time": moment}) for n in range(1, max_runs + 1)]
    for label, event in events_to_run:
        meter.calls.clear()
        meter.seconds.clear()
        planning.clear()
        context = BenchContext(budget, clock)
        waited = clock.waited
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools' EMF and log lines
            report = handler.lambda_handler(event, context)
        runs.append(
            Run(
                label=label,
                lambda_seconds=context.elapsed(),
                waited=clock.waited - waited,
                planning=planning["seconds"],
                calls=Counter(meter.calls),
                seconds=Counter(meter.seconds),
                report=report,
            )
        )
        if label.startswith("prune") and not report["totals"]["deferred"]:
            break
    return runs


def load_handler() -> ModuleType:
    """functions/pruner/app.py, imported by path as Lambda imports it (as a top-level module)."""
    spec = importlib.util.spec_from_file_location("pruner_app", ROOT / "functions/pruner/app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def print_table(runs: list[Run], rate_scale: float, simulated: bool) -> None:
    waits = "simulated" if simulated else "slept"
    print(
        f"pacing at {rate_scale:g}x the documented rates (EC2 DeleteSnapshot 5/s burst 100,"
        f" RDS 12/s burst 300); pacing waits {waits}; moto server on loopback\n"
    )
    header = ["run", "Lambda s", "of it waiting", "planning s", "deleted", "deferred", "requests"]
    rows = [
        [
            run.label,
            f"{run.lambda_seconds:.1f}",
            f"{run.waited:.1f}",
            f"{run.planning:.2f}",
            str(int(run.report["totals"]["deleted"])),
            str(int(run.report["totals"]["deferred"])),
            str(sum(run.calls.values())),
        ]
        for run in runs
    ]
    print_rows([header, *rows])
    operations = sorted({operation for run in runs for operation in run.calls})
    header = ["operation", *(f"{run.label} requests" for run in runs), "seconds in moto"]
    rows = [
        [
            operation,
            *(str(run.calls.get(operation, 0)) for run in runs),
            f"{sum(run.seconds.get(operation, 0.0) for run in runs):.1f}",
        ]
        for operation in operations
    ]
    print()
    print_rows([header, *rows])
    first = runs[0].report["totals"]
    savings = first["planned_monthly_savings_usd"]
    print(
        f"\nplan: {int(first['snapshots'])} snapshots, {int(first['delete_planned'])} to delete"
        f" ({first['planned_gib']:.0f} GiB, up to ${savings:.2f}/month)"
    )


def print_rows(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        print("  ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
