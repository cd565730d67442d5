"""plan-schedule: the scheduler's next days of starts and stops, per resource. Read-only.

    scripts/plan-schedule [--policy policy/nightshift.yaml] [--days 7] [--from 2026-11-20T18:00Z]
                          [--state-table TABLE] [--json]

It finds the resources exactly as the scheduler does (one Tagging API sweep,
DescribeAutoScalingGroups and batched describes), with the credentials and region of the
environment (AWS_PROFILE, AWS_REGION), or the local cloud when AWS_ENDPOINT_URL is set (in its
region, with its fake credentials unless you set others). It calls no API that changes anything;
progress goes to stderr. With --state-table (the stack's StateTableName output) it also
shows what the next scheduler run would do now, from the parked records and the last run.
Exit status: 0, or 2 when the policy or AWS cannot be read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from botocore.exceptions import BotoCoreError

from localcloud.cli import prepare_aws_environment
from localcloud.errors import LocalCloudError
from nightshift.adapters.parking import ParkingStore
from nightshift.adapters.scheduled_resources import ScheduledResources
from nightshift.adapters.scheduler_clients import SchedulerClients
from nightshift.errors import NightshiftError
from nightshift.policy import load_policy
from nightshift.schedule import ResourceKind, ScheduledResource, SchedulerPolicy
from nightshift.schedule.plan import Decision, plan_run
from nightshift_tools.week import PlannedAction, plan_week

DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "policy" / "nightshift.yaml"


def display_name(resource: ScheduledResource) -> str:
    """`cluster/service` for an ECS service, the short name for everything else."""
    if resource.kind is ResourceKind.ECS_SERVICE:
        return "/".join(resource.arn.split("/")[-2:])
    return resource.name


def main(
    argv: Sequence[str] | None = None,
    clients: SchedulerClients | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    args = _parser().parse_args(argv)
    start = args.start or dt.datetime.now(dt.UTC)  # a command run by people: now is now
    try:
        if clients is None:
            region = prepare_aws_environment(os.environ)
            print(f"plan-schedule: finding tagged resources in {region}", file=err, flush=True)
        loaded = load_policy(args.policy)
        policy = SchedulerPolicy.from_policy(loaded)
        made = clients or SchedulerClients.create()
        started = time.monotonic()
        resources = ScheduledResources(made).find()
        print(
            f"plan-schedule: {len(resources)} resources in {time.monotonic() - started:.1f} s",
            file=err,
            flush=True,
        )
        now: dict[str, Decision] = {}
        if args.state_table:
            parking = ParkingStore(args.state_table, made.dynamodb)
            plan = plan_run(
                resources, parking.parked(), policy, loaded.protect, start, parking.last_run()
            )
            now = {decision.arn: decision for decision in plan.decisions}
    except (NightshiftError, BotoCoreError, LocalCloudError) as exc:
        print(f"plan-schedule: {exc}", file=err)
        return 2
    week = plan_week(resources, policy, start, days=args.days, protect=loaded.protect)
    if args.json:
        json.dump(_as_json(week, now), out, indent=2)
        out.write("\n")
    else:
        _print_plan(week, now, resources, start, args.days, out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plan-schedule",
        description="Print the scheduler's next starts and stops per resource (read-only).",
    )
    parser.add_argument("--policy", type=Path, default=DEFAULT_POLICY, help="policy file")
    parser.add_argument("--days", type=int, default=7, help="how many days ahead (default 7)")
    parser.add_argument(
        "--from",
        dest="start",
        type=_instant,
        help="start of the plan, ISO 8601 with an offset (default: now)",
    )
    parser.add_argument(
        "--state-table", help="the state table: also show what the next run would do now"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser


def _instant(text: str) -> dt.datetime:
    at = dt.datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs an offset, e.g. {text}Z")
    return at.astimezone(dt.UTC)


def _print_plan(
    week: Sequence[PlannedAction],
    now: dict[str, Decision],
    resources: Sequence[ScheduledResource],
    start: dt.datetime,
    days: int,
    out: TextIO,
) -> None:
    print(
        f"Scheduled starts and stops for {days} days from {start:%Y-%m-%d %H:%M} UTC "
        f"({len(resources)} resources tagged nightshift:schedule)",
        file=out,
    )
    by_resource: dict[str, list[PlannedAction]] = {}
    for action in week:
        by_resource.setdefault(action.resource.arn, []).append(action)
    for resource in sorted(resources, key=lambda r: (r.kind.value, display_name(r))):
        actions = by_resource.get(resource.arn, [])
        schedule = resource.schedule_name or "-"
        zone = next((a.timezone for a in actions if a.timezone), None)
        print(f"\n{resource.kind.value} {display_name(resource)}", end="", file=out)
        print(f" ({schedule}{', ' + zone if zone else ''})", file=out)
        decision = now.get(resource.arn)
        if decision is not None:
            print(f"  next run: {decision.action.value}: {decision.reason}", file=out)
        if not actions:
            print("  no start or stop in this window", file=out)
        for action in actions:
            saves = f" (saves {action.hours_saved:g} h)" if action.hours_saved else ""
            when = action.local if action.action.value in ("start", "stop") else "-"
            print(f"  {when:<22} {action.action.value:<6} {action.reason}{saves}", file=out)


def _as_json(week: Sequence[PlannedAction], now: dict[str, Decision]) -> dict[str, object]:
    return {
        "planned": [
            {
                "resource": action.resource.arn,
                "kind": action.resource.kind.value,
                "at": action.at.isoformat(),
                "local": action.local,
                "action": action.action.value,
                "reason": action.reason,
                "schedule": action.schedule,
                "hours_saved": action.hours_saved,
            }
            for action in week
        ],
        "next_run": {
            arn: {"action": d.action.value, "reason": d.reason} for arn, d in sorted(now.items())
        },
    }


if __name__ == "__main__":
    sys.exit(main())
