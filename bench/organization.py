"""Organization (issue 14, item 7): the scheduler as a hub working 50 member accounts x 2 Regions
x 100 resources, its steady state and its full stop, and the same full stop with one member
account's spoke role missing.

    .venv/bin/python -m bench.organization [--accounts 50] [--per-target 100] [--concurrency 8]

The bench cloud (bench/cloud.py) holds the hub (moto's default account: the state table, the ops
topic) and the member accounts, kept apart by the credentials of a role assumed in each, as AWS
keeps them; each member account has the scheduler's spoke role (`nightshift-spoke-scheduler-
bench`) and, in eu-central-1 and in eu-west-1, the comparison fleet's mix at 100 resources (40
ECS services in one cluster, each with an Application Auto Scaling target, 20 RDS instances, 40
EC2 instances; all running, tagged office-hours; bench/fleets.py). The seeding goes through the
cloud's own endpoint, in its process, timed apart from the runs; it is not part of any run.

The policy is the comparison's (bench/policies/scheduler.yaml) with `targets`: every member
account, both Regions, `max_concurrency` as given (the default, 8, unless told). The scheduler
handler runs as the other scheduler benches run it (bench.invoke, one process, the template's
Timeout as its deadline): steady state at 18:55 Berlin, then the full stop at 19:05. Then the
cloud is reset and seeded again without the spoke role in the first member account, and the full
stop is run once more: AssumeRole there is refused with AccessDenied (as AWS refuses a role that
does not exist; moto alone would hand out credentials), so that account's two targets (its
Regions share the role) fail, and the bench checks that every other target stopped all its
resources, the failed ones none, and that the report names each failed target once.

Requests are counted by the server, in all and per account and Region (the account whose
credentials signed the request, the Region of its signature): the hub's own calls (state table,
ops topic, AssumeRole) are apart from the targets'.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import emit_results
from bench.cloud import BenchCloud
from bench.fleets import ACCOUNT, REGION, OrganizationFleet
from bench.scale import LAMBDA_LIMIT_S, SCHEDULE_RATE, function_timeout, scheduled_fleet
from bench.scheduler_vs_custodian import FULL_STOP, NIGHTSHIFT_POLICY, STEADY
from bench.tools import run_scheduler
from nightshift.schedule.service import DEADLINE_RESERVE_MS

ACCOUNTS = 50
PER_TARGET = 100
QUICK_ACCOUNTS = 5
QUICK_PER_TARGET = 20
DEFAULT_CONCURRENCY = 8  # targets.max_concurrency's default (nightshift.policy.model)
HIGHEST_CONCURRENCY = 64  # the policy schema's maximum
AT_SCALE = (500, 3)  # issue 14's question: 500 accounts x 3 Regions
REQUEST_LATENCY_S = 0.1  # assumed, not measured: the slow end of an AWS API call's latency
HUB = f"{ACCOUNT} {REGION}"
MAX_RUNS = 6  # scheduled runs of one full stop (scale.py stops at as many)


def organization_fleet(accounts: int, per_target: int, without_role: int = 0) -> OrganizationFleet:
    """`accounts` member accounts with `per_target` resources in each of two Regions; the first
    `without_role` accounts have no spoke role."""
    fleet = OrganizationFleet(accounts=accounts, per_target=scheduled_fleet(per_target))
    return OrganizationFleet(
        accounts=accounts,
        per_target=fleet.per_target,
        without_role=tuple(fleet.account_ids()[:without_role]),
    )


def organization_policy(fleet: OrganizationFleet, concurrency: int, folder: Path) -> Path:
    """The comparison's policy with `targets`: every member account, every Region of the fleet."""
    regions = ", ".join(fleet.regions)
    lines = [f"  max_concurrency: {concurrency}", "  accounts:"] + [
        f'    - {{account: "{account}", regions: [{regions}]}}' for account in fleet.account_ids()
    ]
    text = NIGHTSHIFT_POLICY.read_text(encoding="utf-8") + "targets:\n" + "\n".join(lines) + "\n"
    path = folder / "organization.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ pure parts
@dataclass(frozen=True)
class Isolation:
    """What a run with failing targets came to: the targets that failed and those that finished."""

    failed: tuple[str, ...]  # "<account> <region>" of each target the report says failed
    finished: int  # targets whose every resource is stopped
    problems: tuple[str, ...]  # what does not hold; empty: isolation held
    unfinished: tuple[str, ...] = ()  # worked, no error, but not every resource stopped yet


def isolation(
    fleet: OrganizationFleet, inventory: dict[str, int], errors: Sequence[str]
) -> Isolation:
    """Did the run with `fleet.without_role` isolate those accounts' targets? The failed ones
    stopped nothing, the report names each of them once, as not worked, and no other target;
    every other target stopped all its resources, or is counted `unfinished` (begun too near
    the deadline, it deferred its stops: that is the deadline, not the failure) (pure).

    >>> fleet = OrganizationFleet(accounts=2, regions=("r1",), without_role=("210000000000",))
    >>> inventory = {"stopped 210000000000 r1": 0, "stopped 210000000001 r1": 100}
    >>> isolation(fleet, inventory, ["210000000000 r1: not worked: AwsError: AccessDenied"])
    Isolation(failed=('210000000000 r1',), finished=1, problems=(), unfinished=())
    >>> isolation(fleet, inventory, []).problems
    ('210000000000 r1: the report does not name it as failed',)
    """
    per_target = fleet.per_target.total
    problems: list[str] = []
    failed: list[str] = []
    unfinished: list[str] = []
    finished = 0
    for account, region in fleet.targets():
        target = f"{account} {region}"
        stopped = inventory.get(f"stopped {target}", 0)
        named = [line for line in errors if line.startswith(f"{target}: not worked:")]
        if account in fleet.without_role:
            if len(named) != 1:
                problems.append(f"{target}: the report does not name it as failed")
            else:
                failed.append(target)
            if stopped:
                problems.append(f"{target}: {stopped} stopped without its role")
        elif stopped == per_target:
            finished += 1
        else:
            unfinished.append(target)
    others = [line for line in errors if not any(line.startswith(f"{t}:") for t in failed)]
    problems.extend(f"unexpected error: {line}" for line in others)
    return Isolation(tuple(failed), finished, tuple(problems), tuple(unfinished))


@dataclass(frozen=True)
class FanOutEstimate:
    """One run of `targets` targets at `concurrency` at a time, each `per_target_s` long."""

    targets: int
    concurrency: int
    per_target_s: float
    run_s: float
    within_timeout: bool
    within_interval: bool
    within_lambda: bool
    most_targets_in_timeout: int


def fan_out_estimate(
    targets: int,
    concurrency: int,
    per_target_s: float,
    *,
    timeout_s: float,
    interval_s: float = SCHEDULE_RATE.total_seconds(),
    lambda_limit_s: float = LAMBDA_LIMIT_S,
    reserve_s: float = DEADLINE_RESERVE_MS / 1000,
) -> FanOutEstimate:
    """How long one invocation takes to work `targets` at `concurrency` at a time: waves of
    `concurrency` targets, each wave as long as one target; and how many targets it works
    before the scheduler stops beginning work, `reserve_s` before the deadline (pure).

    >>> estimate = fan_out_estimate(1500, 8, 2.0, timeout_s=120)
    >>> estimate.run_s, estimate.within_timeout, estimate.within_lambda
    (376.0, False, True)
    >>> estimate.most_targets_in_timeout
    440
    """
    waves = math.ceil(targets / concurrency)
    run_s = round(waves * per_target_s, 3)
    return FanOutEstimate(
        targets=targets,
        concurrency=concurrency,
        per_target_s=per_target_s,
        run_s=run_s,
        within_timeout=run_s <= timeout_s,
        within_interval=run_s <= interval_s,
        within_lambda=run_s <= lambda_limit_s,
        most_targets_in_timeout=int((timeout_s - reserve_s) // per_target_s) * concurrency,
    )


def at_scale(results: dict[str, Any]) -> list[tuple[str, FanOutEstimate]]:
    """AT_SCALE's targets worked by one invocation, from a run's results (pure):

    - as measured here: the full stop's handler time per target, one after another (the work
      here is CPU on a shared 2-core machine, so more threads do not shorten it);
    - in AWS, where a target's time is waiting on its requests: the full stop's requests per
      target (median), one after another at REQUEST_LATENCY_S each, at the shipped bound and
      at the schema's highest.

    >>> results = {"targets": 100, "concurrency": 8, "budget_s": 120, "full_stop": [
    ...     {"run_s": 150.0, "target_requests": {"median": 112}}]}
    >>> [(name, e.run_s, e.within_timeout) for name, e in at_scale(results)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('as measured here', 2250.0, False),
     ('in AWS at 100 ms a request, 8 at a time', 2105.6, False),
     ('in AWS at 100 ms a request, 64 at a time', 268.8, False)]
    """
    targets = AT_SCALE[0] * AT_SCALE[1]
    budget = float(results["budget_s"])
    handler_s = sum(run["run_s"] for run in results["full_stop"])
    requests = float(results["full_stop"][0]["target_requests"]["median"])
    aws_s = round(requests * REQUEST_LATENCY_S, 3)
    latency = f"{REQUEST_LATENCY_S * 1000:.0f} ms"
    return [
        (
            "as measured here",
            fan_out_estimate(targets, 1, handler_s / results["targets"], timeout_s=budget),
        ),
        *(
            (
                f"in AWS at {latency} a request, {bound} at a time",
                fan_out_estimate(targets, bound, aws_s, timeout_s=budget),
            )
            for bound in (results["concurrency"], HIGHEST_CONCURRENCY)
        ),
    ]


# ------------------------------------------------------------------------------ the runs
def scheduler_run(
    cloud: BenchCloud,
    fleet: OrganizationFleet,
    label: str,
    moment: Any,
    nightshift: dict[str, str],
    policy: Path,
    budget: int,
) -> dict[str, Any]:
    run = run_scheduler(cloud, label, moment, nightshift, policy, budget_seconds=budget)
    report = run.outcome.pop("report") or {}
    inventory = cloud.organization_inventory(fleet)
    scopes = run.server.get("scopes", {})
    targets = {f"{account} {region}" for account, region in fleet.targets()}
    per_target = [  # the targets that could work: a failed one made none
        scopes.get(f"{account} {region}", 0)
        for account, region in fleet.targets()
        if account not in fleet.without_role
    ]
    return {
        "label": label,
        "wall_s": run.wall_s,
        "run_s": run.run_s,
        "import_s": run.outcome.get("import_s"),
        "requests": run.requests,
        "hub_requests": scopes.get(HUB, 0),
        "target_requests": {
            "median": statistics.median(per_target),
            "min": min(per_target),
            "max": max(per_target),
            "sum": sum(per_target),
        },
        "other_requests": sum(v for k, v in scopes.items() if k not in targets and k != HUB),
        "by_operation": run.server["requests"],
        "errors_answered": run.server["errors"],
        "error": run.error,
        "summary_head": str(report.get("summary", "")).split(";", 1)[0],
        "report_errors": report.get("errors", []),
        "stopped_after": sum(
            inventory.get(key, 0) for key in ("ecs:stopped", "rds:stopped", "ec2:stopped")
        ),
        "inventory": inventory,
    }


def seeded(cloud: BenchCloud, fleet: OrganizationFleet) -> tuple[dict[str, str], float]:
    cloud.reset()
    started = time.perf_counter()
    cloud.seed_organization(fleet)
    nightshift = cloud.create_nightshift()
    return nightshift, time.perf_counter() - started


def full_stop(
    cloud: BenchCloud,
    fleet: OrganizationFleet,
    label: str,
    nightshift: dict[str, str],
    policy: Path,
    budget: int,
    say: Any,
) -> list[dict[str, Any]]:
    """The full stop at 19:05, then, as scale.py does, the next scheduled runs (5 minutes
    apart) while a run deferred work (targets begun too near the deadline defer their stops)."""
    stoppable = fleet.total - len(fleet.without_role) * len(fleet.regions) * (
        fleet.per_target.total
    )
    runs: list[dict[str, Any]] = []
    for n in range(MAX_RUNS):
        moment = FULL_STOP + n * SCHEDULE_RATE
        run = scheduler_run(cloud, fleet, f"{label} #{n + 1}", moment, nightshift, policy, budget)
        say(f"organization {label} #{n + 1}: {_summary(run)}")
        before = runs[-1]["stopped_after"] if runs else 0
        runs.append(run)
        if run["stopped_after"] >= stoppable or run["error"] or run["stopped_after"] == before:
            break
    return runs


def measure(
    cloud: BenchCloud,
    *,
    accounts: int = ACCOUNTS,
    per_target: int = PER_TARGET,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Any = None,
) -> dict[str, Any]:
    say = progress or (lambda _: None)
    budget = function_timeout("SchedulerFunction")
    fleet = organization_fleet(accounts, per_target)
    failing = organization_fleet(accounts, per_target, without_role=1)
    with tempfile.TemporaryDirectory(prefix="nightshift-organization-") as scratch:
        policy = organization_policy(fleet, concurrency, Path(scratch))
        nightshift, seeding = seeded(cloud, fleet)
        say(
            f"organization {len(fleet.targets())} targets x {per_target}: seeded in {seeding:.0f} s"
        )
        steady = scheduler_run(cloud, fleet, "steady state", STEADY, nightshift, policy, budget)
        say(f"organization steady state: {_summary(steady)}")
        full = full_stop(cloud, fleet, "full stop", nightshift, policy, budget, say)
        nightshift, reseeding = seeded(cloud, failing)
        failed = full_stop(
            cloud,
            failing,
            "full stop, one account without its role",
            nightshift,
            policy,
            budget,
            say,
        )
    # Isolation: the first run names the failed targets and nothing else; at the end every
    # other target is stopped, the failed ones are not. Every later run says the same.
    held = isolation(failing, failed[-1]["inventory"], failed[0]["report_errors"])
    later = [
        line
        for run in failed[1:]
        for line in run["report_errors"]
        if not any(line.startswith(f"{target}: not worked:") for target in held.failed)
    ]
    problems = [*held.problems, *(f"unexpected error: {line}" for line in later)]
    if problems:  # the bench's claim is isolation: a run that breaks it is no result
        raise RuntimeError("isolation did not hold: " + "; ".join(problems[:10]))
    return {
        "fleet": fleet.to_json(),
        "targets": len(fleet.targets()),
        "resources": fleet.total,
        "concurrency": concurrency,
        "budget_s": budget,
        "seeding_s": seeding,
        "reseeding_s": reseeding,
        "steady": steady,
        "full_stop": full,
        "one_failing": failed,
        "isolation": {
            "missing_role_in": list(failing.without_role),
            "failed": list(held.failed),
            "finished": held.finished,
            "unfinished": list(held.unfinished),
        },
        "schedule_rate_s": SCHEDULE_RATE.total_seconds(),
        "lambda_limit_s": LAMBDA_LIMIT_S,
    }


def _summary(run: dict[str, Any]) -> str:
    per = run["target_requests"]
    return (
        f"{run['wall_s']:.1f} s wall, {run['run_s']:.1f} s handler, {run['requests']:,} requests"
        f" (hub {run['hub_requests']}, per target median {per['median']}), "
        f"{run['stopped_after']:,} stopped ({run['summary_head']})"
        + (f", error: {run['error']}" if run["error"] else "")
    )


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    parser.add_argument("--per-target", type=int, default=PER_TARGET)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    options = parser.parse_args(arguments)
    with BenchCloud.start() as cloud:
        results = measure(
            cloud,
            accounts=options.accounts,
            per_target=options.per_target,
            concurrency=options.concurrency,
            progress=lambda line: print(line, file=sys.stderr),
        )
    emit_results(results, options.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
