"""plan-schedule: the scheduler's next days of starts and stops, per resource. Read-only.

    scripts/plan-schedule [--policy policy/nightshift.yaml] [--days 7] [--from 2026-11-20T18:00Z]
                          [--state-table TABLE] [--json]

It finds the resources exactly as the scheduler does (one Tagging API sweep,
DescribeAutoScalingGroups and batched describes), with the credentials and region of the
environment (AWS_PROFILE, AWS_REGION), or the local cloud when AWS_ENDPOINT_URL is set (in its
region, with its fake credentials unless you set others). It calls no API that changes anything;
progress goes to stderr. With --state-table (the stack's StateTableName output) it also
shows what the next scheduler run would do now, from the parked records and the last run.

A policy with `targets` (hub and spoke, docs/organization.md) is planned per account and Region:
each target through the spoke role the scheduler assumes there (nightshift-spoke-scheduler-
<--environment>), or the role `--role-name` names (a read-only role of your own), with your
credentials as the hub; a target that cannot be read is said so and the others are planned.
Exit status: 0, or 2 when the policy or AWS cannot be read (or any target could not be).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple, TextIO

from botocore.exceptions import BotoCoreError

from localcloud.cli import prepare_aws_environment
from localcloud.errors import LocalCloudError
from nightshift.adapters.parking import ParkingStore, TargetParkingStore
from nightshift.adapters.scheduled_resources import ScheduledResources
from nightshift.adapters.scheduler_clients import SchedulerClients
from nightshift.adapters.scheduler_targets import scheduler_expansion
from nightshift.adapters.target_sessions import TargetSessions
from nightshift.errors import NightshiftError
from nightshift.fanout import WorkItem, work_targets
from nightshift.policy import Policy, load_policy
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
        if loaded.targets is not None:
            return _plan_targets(args, loaded, start, out, err)
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
    parser.add_argument(
        "--environment",
        default="staging",
        help="the hub's Environment: names the spoke roles of a policy with targets",
    )
    parser.add_argument(
        "--role-name", help="with targets: assume this role in each account, not the spoke role"
    )
    return parser


class TargetPlan(NamedTuple):  # not a dataclass: the tests load this file by path
    resources: tuple[ScheduledResource, ...]
    week: tuple[PlannedAction, ...]
    now: dict[str, Decision]


def _plan_targets(
    args: argparse.Namespace, loaded: Policy, start: dt.datetime, out: TextIO, err: TextIO
) -> int:
    """The plan of each account x Region of the policy's targets, one section each."""
    import boto3

    targets = loaded.targets
    assert targets is not None
    policy = SchedulerPolicy.from_policy(loaded)
    session = boto3.Session()
    hub_account = session.client("sts").get_caller_identity()["Account"]
    hub_region = session.region_name or ""
    expansion = scheduler_expansion(
        targets, hub_account=hub_account, hub_region=hub_region, environment=args.environment
    )
    items = expansion.items
    if args.role_name:
        items = tuple(
            replace(i, role_arn=f"arn:aws:iam::{i.account}:role/{args.role_name}") for i in items
        )
    sessions = TargetSessions(session_name="nightshift-plan-schedule")
    hub = SchedulerClients.create(session) if args.state_table else None

    def plan_one(item: WorkItem) -> TargetPlan:
        made = SchedulerClients.create(sessions.session(item))
        resources = tuple(ScheduledResources(made).find())
        now: dict[str, Decision] = {}
        if hub is not None:
            parking = TargetParkingStore(args.state_table, item.account, item.region, hub.dynamodb)
            plan = plan_run(
                resources, parking.parked(), policy, loaded.protect, start, parking.last_run()
            )
            now = {decision.arn: decision for decision in plan.decisions}
        week = plan_week(resources, policy, start, days=args.days, protect=loaded.protect)
        return TargetPlan(resources, tuple(week), now)

    run = work_targets(items, plan_one, targets.max_concurrency)
    print(f"plan-schedule: {run.summary}", file=err, flush=True)
    for line in expansion.excluded:
        print(f"left out: {line}", file=out)
    if args.json:
        json.dump(
            {
                result.item.label: (
                    _as_json(result.value.week, result.value.now)
                    if result.value is not None
                    else {"error": result.error}
                )
                for result in run.results
            },
            out,
            indent=2,
        )
        out.write("\n")
    for result in run.results if not args.json else ():
        print(f"\n== {result.item.label} ==", file=out)
        if result.value is None:
            print(f"  not planned: {result.error}", file=out)
            continue
        _print_plan(
            result.value.week, result.value.now, result.value.resources, start, args.days, out
        )
    return 2 if run.failed else 0


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
