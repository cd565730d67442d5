"""Write docs/benchmarks.md from the stored results: the numbers, the charts beside them, and
the method next to the numbers (machine, repetitions, what was and was not measured).

    .venv/bin/python -m bench.report     # from .bench/results/*.json, without running anything

The page is generated: edit this file, not the page.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import charts
from bench.organization import AT_SCALE, REQUEST_LATENCY_S, at_scale
from nightshift.retention.service import DELETE_WORKERS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".bench" / "results"
PAGE = ROOT / "docs" / "benchmarks.md"
IMAGES = ROOT / "docs" / "img" / "benchmarks"
NS, C7N, FLOOR, LISTING = "nightshift", "custodian", "floor", "listing"


# ---------------------------------------------------------------------------- formatting
def table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str = "") -> str:
    """A Markdown table; `align` has one letter per column (l or r), right by default after
    the first column."""
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def count(value: float) -> str:
    return f"{value:,.0f}"


def plural(number: int, noun: str) -> str:
    """>>> plural(1, "run"), plural(3, "run")
    ('1 run', '3 runs')
    """
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def times(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def median_run(runs: Sequence[Mapping[str, Any]], tool: str, label: str) -> Mapping[str, Any]:
    """The run of `tool` in scenario `label` whose wall time is the median (the lower middle)."""
    mine = sorted(
        (run for run in runs if run["tool"] == tool and run["label"].startswith(label)),
        key=lambda run: run["wall_s"],
    )
    return mine[(len(mine) - 1) // 2]


def operations_table(nightshift: Mapping[str, Any], custodian: Mapping[str, Any]) -> str:
    """Requests per operation as the server counted them, throttled answers in brackets."""
    names = sorted(set(nightshift["server"]["requests"]) | set(custodian["server"]["requests"]))

    def cell(run: Mapping[str, Any], name: str) -> str:
        requests = run["server"]["requests"].get(name, 0)
        throttled = run["server"]["throttled"].get(name, 0)
        if not requests:
            return "-"
        return f"{requests:,}" + (f" ({throttled:,} throttled)" if throttled else "")

    rows = [[f"`{name}`", cell(nightshift, name), cell(custodian, name)] for name in names]
    rows.append(["**total**", f"**{nightshift['requests']:,}**", f"**{custodian['requests']:,}**"])
    return table(["operation", "Nightshift", "Cloud Custodian"], rows)


def crosscheck(found: Mapping[str, Any]) -> str:
    """How far each tool's own request count is from the server's, over every run."""
    gaps: dict[str, list[int]] = {NS: [], C7N: []}
    for key in ("pruner", "scheduler"):
        if key not in found:
            continue
        results = found[key]
        scenarios = results["scenarios"].values() if key == "pruner" else [results]
        for scenario in scenarios:
            for run in scenario["runs"]:
                if run["tool"] in gaps:  # the floor client counts no requests of its own
                    gaps[run["tool"]].append(run["requests"] - run["client_requests"])
    if not gaps[NS]:
        return ""
    ns = (
        "the same as the server's in every run"
        if not any(gaps[NS])
        else (f"off by {min(gaps[NS])} to {max(gaps[NS])} requests")
    )
    return (
        f"Cross-check: Nightshift's own count (botocore `before-send`) is {ns}; Custodian's "
        f"`api-stats` is {min(gaps[C7N])} to {max(gaps[C7N])} below the server's (it counts "
        "calls, not the retries botocore makes inside a call, nor its `sts:GetCallerIdentity`)."
    )


def exactness(results: Mapping[str, Any]) -> str:
    """Whether every run deleted exactly the expected snapshots and no production one."""
    expected = results["expected_deletions"]
    wrong = [
        f"{run['tool']} {run['label']}"
        for scenario in results["scenarios"].values()
        for run in scenario["runs"]
        if run["tool"] != LISTING  # lists, deletes nothing
        and (run["outcome"]["deleted"] != expected or run["outcome"]["production_deleted"])
    ]
    if not wrong:
        return (
            "Every run of both tools deleted exactly the expected snapshots and no production one."
        )
    return f"These runs did not delete exactly the expected snapshots: {', '.join(wrong)}."


def retried(scenario: Mapping[str, Any]) -> str:
    failed = [
        f"{run['tool']} {run['label']}"
        for scenario_run in [scenario]
        for run in scenario_run["runs"]
        if run["error"]
    ]
    if not failed:
        return "No run failed: every throttled request was retried until it passed."
    return f"Runs that reported errors: {', '.join(failed)}."


# ---------------------------------------------------------------------------- sections
def machine_section(machine: Mapping[str, Any]) -> str:
    m = machine
    facts = [
        [
            "run",
            (
                f"{m['started']} to {m['finished']} UTC ({m['minutes']:.1f} min), "
                f"commit `{m['commit']}`"
            ),
        ],
        ["command", f"`{m['command']}`"],
        ["machine", f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']:.0f} GiB, {m['system']}"],
        [
            "load",
            (
                f"load average {m['load_start']} at the start, {m['load_end']} at the end "
                "(1, 5, 15 min): the cores are shared with other work, so expect some noise; the "
                "medians and the alternating order are there for that"
            ),
        ],
        [
            "Python",
            (
                f"{m['python']} for Nightshift, its handlers and moto; Cloud Custodian in "
                "its own virtual environment (`.bench/c7n-venv`, same interpreter)"
            ),
        ],
        ["versions", ", ".join(f"{name} {value}" for name, value in m["versions"].items())],
    ]
    return f"""## Machine and method

{table(["", ""], facts, "ll")}

How every comparison runs:

- **One moto server**, the local cloud's in-process mode for measurement
  (`localcloud.inprocess`), run in a process of its own (`python -m bench.cloud`, which adds the
  bench's seeding), behind the **throttle proxy** (`localcloud.throttle_proxy`), a WSGI layer in
  the same process. The proxy counts every
  request by service and action (from the SigV4 credential scope and the `Action` or
  `X-Amz-Target`), and, when asked, enforces AWS's token buckets and answers as AWS does
  (`RequestLimitExceeded`, HTTP 503, for EC2; `Throttling` "Rate exceeded", HTTP 400, for RDS).
  It is in pass-through mode for the unthrottled runs, so **both tools are counted the same
  way, at the server**. The tools' own counts (botocore hooks in Nightshift's process,
  Custodian's `api-stats`) are kept in the results as a cross-check.
- **Each tool in its own process**, so its CPU time does not share an interpreter lock with
  moto's: Nightshift's real handler (`functions/<name>/app.py`, imported by path as Lambda does,
  called once with a Lambda-like context; `bench/invoke.py`), Cloud Custodian's `custodian run`
  (`bench/c7n/launch.py` under `.bench/c7n-venv`).
- **Wall time** is the process, from spawn to exit, as a scheduler or cron job pays it
  (interpreter start and imports included). **Run time** is the work alone: the handler call, or
  the sum of Custodian's policy execution durations (its `metadata.json`).
- **Every run starts from a freshly seeded account** (moto reset, fleet created in the host,
  counters emptied); the tools run **alternately** (A B, B A, A B); tables show **medians**.
- moto is not AWS. Four things were changed in the bench's moto, each so that it answers as AWS does
  (`localcloud.inprocess`, `aws_answers=True`): EC2 tag lookups are a dictionary read (moto scans
  every tag of the account per resource, 12 s to list 5,000 tagged snapshots); DescribeDBSnapshots
  and DescribeDBClusterSnapshots return pages of `MaxRecords` (default 100), and DescribeSnapshots
  pages of `MaxResults` when asked (moto returned everything at once, so a client paging at 100 as
  AWS requires got the whole list eleven times); DescribeScalableTargets' next token moves on
  (moto's repeats itself after the second page, which broke Custodian's ECS resize beyond 100
  targets); the seeder (`localcloud.fleet`) registers scalable targets with their
  `SuspendedState` (AWS always returns it; Custodian's resize reads it).
- moto's server is made cheaper where it wasted time on every request, the same for every client
  (`localcloud.inprocess.constant_lookups_once`): it listed the methods of the service's response
  class (`inspect.getmembers`, several hundred) and scanned its own package directory to find the
  request's backend, on every request; both are now worked out once. The answers are the same.
  It still opens a connection and a thread per request (werkzeug's development server closes
  every connection) and runs every request under one interpreter lock: that is the bench's own
  limit, measured as the **server floor** in section 1.
- Not measured: network latency (moto answers on loopback in milliseconds, AWS in tens to
  hundreds), Lambda's own init (runtime bootstrap, extensions), cost in money, memory of the
  tools' runs. Timing assertions are never part of `make test`.
"""


def decision_floor(results: Mapping[str, Any]) -> str:
    """The throttled scenario against a run that lists before it deletes: the measured listing
    (the floor client's) plus the deletions at the scaled rates."""
    throttled = results["scenarios"]["throttled"]
    medians = throttled["medians"]
    if LISTING not in medians:
        return "(This run measured no listing floor.)"
    listing = medians[LISTING]["run_s"]
    calls = next(run["client_requests"] for run in throttled["runs"] if run["tool"] == LISTING)
    deletions = max(results["floor_s"].values())
    deletions_real = max(results["floor_documented_rates_s"].values())
    floor = listing + deletions
    ns, c7n = medians[NS]["run_s"], medians[C7N]["run_s"]
    rows = [
        ["floor: deletions at the rates (computed)", seconds(deletions), "", times(1)],
        ["floor: plain boto3, listing only (measured)", seconds(listing), "", ""],
        ["listing + deletions", seconds(floor), times(1), times(floor / deletions)],
        ["Nightshift pruner (run)", seconds(ns), times(ns / floor), times(ns / deletions)],
        ["Cloud Custodian (run)", seconds(c7n), times(c7n / floor), times(c7n / deletions)],
    ]
    return f"""**The floor of a run that decides first.** Neither tool deletes before its listing
ends: a snapshot's lineage (which of a volume's snapshots retention keeps) is known only when every
page is in, and Nightshift's circuit breaker judges the whole plan. After each round the floor
client (`bench/delete_floor.py`, plain boto3) made the Describe calls the pruner makes, one after
another on a freshly seeded account through the same proxy, and did nothing with the answers:
{calls} calls in **{seconds(listing)}** (median). No tool that lists first can end before that
listing plus the deletions at the rates:

{table(["", "seconds (median)", "vs listing + deletions", "vs deletions"], rows)}

The listing is a fixed cost, the deletions grow with the rates' factor: at AWS's own rates the
deletions need {seconds(deletions_real)} and a listing this long
would be {listing / deletions_real:.1%} of it."""


def server_floor(results: Mapping[str, Any]) -> str:
    """The unthrottled scenario against what the one moto process can answer at all."""
    unthrottled = results["scenarios"]["unthrottled"]
    medians = unthrottled["medians"]
    if FLOOR not in medians:
        return "(This run measured no server floor.)"
    floor = medians[FLOOR]["run_s"]
    floors = [run for run in unthrottled["runs"] if run["tool"] == FLOOR]
    deletions = floors[0]["client_requests"]
    threads = floors[0]["outcome"]["threads"]
    cpu_ms = statistics.median(run["outcome"]["cpu_s"] for run in floors) / deletions * 1000
    sweep = sorted(
        [*unthrottled.get("floor_sweep", ()), floors[0]], key=lambda run: run["outcome"]["threads"]
    )
    by_threads = ", ".join(f"{run['outcome']['threads']}: {seconds(run['run_s'])}" for run in sweep)
    fewest, most = sweep[0]["outcome"]["threads"], sweep[-1]["outcome"]["threads"]
    gain = sweep[-1]["run_s"] / sweep[0]["run_s"]
    ns, c7n = medians[NS]["run_s"], medians[C7N]["run_s"]
    rows = [
        [f"floor: plain boto3, {threads} threads, deletions only", seconds(floor), "1.00x"],
        ["Nightshift pruner (run)", seconds(ns), times(ns / floor)],
        ["Cloud Custodian (run)", seconds(c7n), times(c7n / floor)],
    ]
    half = c7n / 2
    reach = f"Twice Custodian's speed would be a run of {seconds(half)}, " + (
        f"below what this server needs for the deletions alone ({seconds(floor)}): "
        "out of reach on one moto process, whatever the client."
        if half < floor
        else f"above the server floor ({seconds(floor)}): within the server's reach."
    )
    return f"""**The server floor.** The bench's moto is one process: every request, whoever sends
it, is answered under one interpreter lock, so there is a rate no client can pass. After each round
a minimal client (`bench/delete_floor.py`: plain boto3, {threads} threads, the ids of the
{deletions:,} snapshots handed to it, nothing listed, nothing reported) made the same deletions on a
freshly seeded account: **{seconds(floor)}** (median), {deletions / floor:,.0f} deletions a second.
By thread count (first round): {by_threads}. With {most} threads the deletions take
{times(gain)} the time they take with {fewest}. The client itself spent
{cpu_ms:.1f} ms of CPU per deletion (boto3 building, signing and parsing each call). Each tool's
run time against the floor (a run also lists the snapshots, which the floor does not):

{table(["client", "run (median)", "vs floor"], rows)}

{reach}"""


def pruner_sections(results: Mapping[str, Any]) -> str:
    fleet = results["fleet"]
    expected = results["expected_deletions"]
    scale = results["rate_scale"]
    unthrottled = results["scenarios"]["unthrottled"]
    throttled = results["scenarios"]["throttled"]
    floor = results["floor_s"]
    floor_real = results["floor_documented_rates_s"]
    slowest = max(floor.values())
    slowest_real = max(floor_real.values())

    def rows(scenario: Mapping[str, Any], with_floor: bool) -> list[list[str]]:
        found = []
        for tool, name in ((NS, "Nightshift pruner"), (C7N, "Cloud Custodian")):
            m = scenario["medians"][tool]
            row = [name, seconds(m["wall_s"]), seconds(m["run_s"])]
            if with_floor:
                row.append(times(m["run_s"] / slowest) if slowest else "n/a")
            row += [
                count(m["requests"]),
                count(m["throttled"]) if with_floor else None,
                f"{m['deleted_ebs']:,.0f} + {m['deleted_rds']:,.0f}",
                f"{m['errors']:.0f}",
                f"{m['production_deleted']:.0f}",
            ]
            found.append([cell for cell in row if cell is not None])
        return found

    def ratio_line(scenario: Mapping[str, Any]) -> str:
        ns, c7n = scenario["medians"][NS], scenario["medians"][C7N]
        return (
            f"Ratio Nightshift / Custodian: wall time **{times(ns['wall_s'] / c7n['wall_s'])}**, "
            f"run time **{times(ns['run_s'] / c7n['run_s'])}**, API requests "
            f"**{times(ns['requests'] / c7n['requests'])}** (below 1: Nightshift needs less)."
        )

    header_plain = [
        "tool",
        "wall (median)",
        "run (median)",
        "API requests",
        "deleted EBS + RDS",
        "failed runs",
        "production deleted",
    ]
    header_throttled = [
        "tool",
        "wall (median)",
        "run (median)",
        "run / floor",
        "API requests",
        "throttled",
        "deleted EBS + RDS",
        "failed runs",
        "production deleted",
    ]
    runs_plain, runs_throttled = unthrottled["runs"], throttled["runs"]
    ns_plain = median_run(runs_plain, NS, "unthrottled")
    c7n_plain = median_run(runs_plain, C7N, "unthrottled")
    ns_throttled = median_run(runs_throttled, NS, "throttled")
    c7n_throttled = median_run(runs_throttled, C7N, "throttled")
    ns_codes = ns_throttled["outcome"].get("client_error_codes") or {}
    per_request = ns_plain["run_s"] / ns_plain["requests"] * 1000
    interval = 1000 / (5 * scale)
    throttles = [throttled["medians"][NS]["throttled"], throttled["medians"][C7N]["throttled"]]
    return f"""## 1. Pruner vs Cloud Custodian

The same account for both, seeded afresh before every run (`bench/fleets.py`):
{fleet["ebs"]:,} EBS snapshots of {fleet["volumes"]} volumes and {fleet["rds"]:,} RDS snapshots
of {fleet["instances"]} PostgreSQL instances, one a day per volume or instance for
{fleet["ebs"] // fleet["volumes"]} days; {fleet["production_volumes"]} volumes and
{fleet["production_instances"]} instance are tagged `Environment=production`, the rest `staging`.
The rule: **among the snapshots tagged for staging, delete those older than
{fleet["older_than_days"]} days**, which is {expected["ebs"]:,} EBS and {expected["rds"]:,} RDS
snapshots. Nightshift: [`bench/policies/pruner.yaml`](../bench/policies/pruner.yaml)
(`max_age_days: 30`, `keep: daily 30`, the circuit breaker opened); Cloud Custodian:
[`bench/c7n/pruner.yml`](../bench/c7n/pruner.yml) (`tag:Environment: staging`, `age > 30 days`,
`delete`). {results["repeat"]} runs of each tool, alternating, on moto in pass-through mode.
Nightshift's pacers are lifted for this scenario (rates x1000): moto never throttles, and this
scenario measures the work, the next one the pacing.

![Pruner vs Cloud Custodian](img/benchmarks/pruner.png)

{table(header_plain, rows(unthrottled, False))}

{ratio_line(unthrottled)}

Requests per operation (the median run of each tool, counted at the server):

{operations_table(ns_plain, c7n_plain)}

{exactness(results)} Nightshift lists more
(Aurora cluster snapshots, AWS Backup's RDS snapshots, snapshot locks, and the AMIs for the
"in use" guard; Custodian lists the AMIs too) and keeps its cursor and report (DynamoDB
`GetItem`/`PutItem`, SNS `Publish`). The time goes into the deletions
({per_request:.1f} ms of Nightshift's run per request): Nightshift deletes on
{DELETE_WORKERS} threads, Custodian's `delete` on 2 for EBS and 3 for RDS.

{server_floor(results)}

Against AWS the rate limits decide, which is the next scenario.

## 2. The same under AWS's throttling

The proxy enforces AWS's documented token buckets: **EC2 DeleteSnapshot, burst 100, 5 a second;
RDS, burst 300, 12 a second, shared by every RDS action** (Describe included). A refused request
takes no token. At those rates the {expected["ebs"]:,} EBS deletions alone need
{seconds(slowest_real)} ({slowest_real / 60:.1f} min) past the burst, too long to repeat here,
so **the refill rates are multiplied by {scale:g}** (bursts unchanged):
{5 * scale:g} EBS deletions and {12 * scale:g} RDS calls a second. The **floor** of a run is then
{seconds(slowest)}: the {expected["ebs"]:,} EBS deletions past the burst of 100 at
{5 * scale:g} a second (the RDS bucket needs {seconds(floor["rds:*"])}, in parallel).
Nightshift's pacers are given the same factor (they model the same buckets); Custodian needs no
setting. A factor of {scale:g} keeps the token interval ({interval:.0f} ms) above the time one
request takes here ({per_request:.0f} ms), as AWS's 200 ms interval is above its own answer time.

{table(header_throttled, rows(throttled, True))}

{ratio_line(throttled)}

{decision_floor(results)}

Requests per operation (the median run of each tool):

{operations_table(ns_throttled, c7n_throttled)}

Throttling errors each tool saw (median): Nightshift {count(throttles[0])}, Cloud Custodian
{count(throttles[1])}. {retried(throttled)}
Custodian does not know the rates: it finds them by hitting them, and retries with botocore's
legacy mode (5 attempts, random exponential back-off) and, for EBS, with its own retry (up to 8
attempts, from 1 s doubling). Nightshift's pacer waits *before* each call, at exactly the
documented rate; AWS (and the proxy) count a request when it *arrives*. A trace of the pacer
alone (made while building this bench) showed that replaying its send times through the proxy's
bucket refuses none of them: it is the arrivals, bunched by the server's own queueing, that find
an empty bucket now and then
({", ".join(f"`{k}`: {v}" for k, v in ns_codes.items()) or "none"} in the median run).
In the run measured here those were retried by botocore inside the adapter, unseen by the
pacer: the paced clients said `retries: {{max_attempts: 1}}`, which in botocore means one
*retry*. They now say `total_max_attempts: 1` (one try; the pacer sees every throttle and
backs off), a fix this benchmark found; numbers from a run before it show the old behaviour.

At AWS's real rates the same deletions take at least {slowest_real / 60:.1f} minutes whoever
sends them; the Lambda budget is 15 minutes, and the pruner stops before it and resumes from its
cursor (docs/pruner.md, "Scale").
"""


def scheduler_section(results: Mapping[str, Any]) -> str:
    fleet = results["fleet"]
    total = fleet["ecs_services"] + fleet["rds_instances"] + fleet["ec2_instances"]
    medians = results["medians"]
    rows = []
    for name in medians:
        for tool, label in ((NS, "Nightshift scheduler"), (C7N, "Cloud Custodian offhours")):
            m = medians[name][tool]
            rows.append(
                [
                    name,
                    label,
                    seconds(m["wall_s"]),
                    seconds(m["run_s"]),
                    count(m["requests"]),
                    f"{m['stopped']:,.0f} / {total:,}",
                    f"{m['errors']:.0f}",
                ]
            )
    steady, stop = medians["steady state"], medians["full stop"]
    ns_stop = median_run(results["runs"], NS, "full stop")
    c7n_stop = median_run(results["runs"], C7N, "full stop")
    ns_steady = median_run(results["runs"], NS, "steady state")
    c7n_steady = median_run(results["runs"], C7N, "steady state")
    per_day_ns = steady[NS]["requests"] * 288
    header = ["run", "tool", "wall (median)", "run (median)", "API requests", "stopped after"]
    header.append("failed runs")

    def ratio(medians: Mapping[str, Any], measure: str) -> str:
        return times(medians[NS][measure] / medians[C7N][measure])

    per_day_c7n = steady[C7N]["requests"] * 24
    return f"""## 3. Scheduler vs Cloud Custodian offhours

{total:,} resources, all running and tagged for both tools: {fleet["ecs_services"]} ECS
services in {fleet["clusters"]} clusters (desired {fleet["desired"]}, each with an Application
Auto Scaling target {fleet["target"][0]}-{fleet["target"][1]}), {fleet["rds_instances"]} RDS
PostgreSQL instances, {fleet["ec2_instances"]} EC2 instances. Office hours 07:00-19:00 Monday to
Friday, Europe/Berlin: Nightshift's
[`bench/policies/scheduler.yaml`](../bench/policies/scheduler.yaml), Custodian's documented
offhours pattern in [`bench/c7n/offhours.yml`](../bench/c7n/offhours.yml)
(stop and start policies for `ec2`, `rds` and `ecs-service`; ECS services resized to 0 through
their scalable target, the previous size saved in a tag). Each tool gets a fresh account and runs
twice on Friday 2026-11-20: **steady state** at 18:55 Berlin (everything runs, as it should) and
**full stop** at 19:05 (everything must stop). Nightshift reads the instant from its event;
Custodian's offhours filters read a clock set to the same instant (`bench/c7n/launch.py`).
{results["repeat"]} rounds, alternating.

![Scheduler vs Cloud Custodian](img/benchmarks/scheduler.png)

{table(header, rows, "llrrrrr")}

Ratio Nightshift / Custodian: steady state requests **{ratio(steady, "requests")}**,
wall **{ratio(steady, "wall_s")}**; full stop requests **{ratio(stop, "requests")}**,
wall **{ratio(stop, "wall_s")}**.

Steady state, requests per operation:

{operations_table(ns_steady, c7n_steady)}

Full stop, requests per operation:

{operations_table(ns_stop, c7n_stop)}

Reading these numbers:

- **Cadence.** Custodian's `offhour` filter matches only during the hour of the transition, so
  it is run hourly (a missed hour means no stop that day). Nightshift is a reconciler run every
  5 minutes. A day of steady state therefore costs about {count(per_day_ns)} requests for
  Nightshift (288 runs) and {count(per_day_c7n)} for Custodian (24 runs), for this fleet.
- **What a stop writes.** Nightshift, per resource, writes a parked record to DynamoDB before
  it stops it (exact restore, and it notices a change made while parked); for an ECS service it
  also parks the scalable target's min and max (one `RegisterScalableTarget`) and sets the
  desired count. Custodian, per ECS service, suspends scaling and lowers the minimum (two
  `RegisterScalableTarget`), sets the desired count and saves the previous size in a tag
  (`TagResource`); it stops EC2 and RDS without keeping a record.
- **Batching.** Both stop EC2 instances with few `StopInstances` calls (the API takes many
  ids): Custodian with one for all, Nightshift with one per batch of 25 resources, between the
  two `BatchWriteItem` of that batch's parked records. RDS has no batch call: both stop
  instances one by one.
- **What a steady-state run must read.** Every Nightshift run reads which resources carry the
  schedule tags (the Resource Groups Tagging API, 100 resources a page; Auto Scaling groups,
  which that API does not return, with `DescribeAutoScalingGroups`), the parked records (one
  DynamoDB `Query`) and the last run's time (`GetItem`), and writes its own (`PutItem`): tags,
  overrides and records change between runs, and a crash may have left a stop or start half
  done. It describes a resource (state, capacity) only when its decision depends on it: wanted
  stopped, parked, or an RDS or EC2 instance that a stopped one would be started under
  `enforce`, an override or a crossed boundary. A resource running as it should during office
  hours is not described. This steady-state run is Nightshift's first in a fresh account (no
  last run, so it starts any stopped database or instance, and reads theirs); every later run
  of the day reads neither (docs/scheduler.md, "Discovery and its cost").
- **Listing.** Nightshift finds its resources with the Resource Groups Tagging API (tagged ones
  only) and describes only those it may act on; Custodian describes every resource of each type
  and filters locally. Here every resource is tagged; in an account where most are not,
  Custodian's listing grows with the whole account and Nightshift's with the tagged part.
"""


def growth(sizes: Sequence[float], values: Sequence[float]) -> str:
    """The exponent k of value ~ size^k between the smallest and the biggest size.

    >>> growth([1000, 10000], [2.0, 20.0]), growth([1000, 10000], [5.0, 5.0])
    ('1.00', '0.00')
    """
    if len(sizes) < 2 or min(values[0], values[-1]) <= 0:
        return "n/a"
    return f"{math.log(values[-1] / values[0]) / math.log(sizes[-1] / sizes[0]):.2f}"


def scale_section(results: Mapping[str, Any]) -> str:
    scheduler, pruner = results["scheduler"], results["pruner"]
    parts = [
        "## 6. Scale",
        "",
        (
            "How the scheduler and the pruner grow with the size of the account, and whether one"
            " invocation still does the work within its Lambda budget or the next run resumes"
            " it. **One round per size** (the biggest sizes take minutes on two cores, and"
            " `make bench` has a budget), so these are single measurements, not medians. Each size"
            " starts from a freshly reset bench cloud; the seeding runs in the cloud's own process"
            " and is timed apart from the runs (it is not part of any run's time or requests)."
            " Code: [`bench/scale.py`](../bench/scale.py)."
        ),
        "",
        "![Scale: seconds and requests against size](img/benchmarks/scale.png)",
        "",
    ]
    if scheduler:
        budget = scheduler[0]["budget_s"]
        rate = results["schedule_rate_s"] / 60
        rows = []
        for size in scheduler:
            stops = size["full_stop"]
            runs = len(stops)
            over = [run["label"] for run in [size["steady"], *stops] if run["run_s"] > budget]
            if over:  # the handler is not stopped at the deadline here; Lambda would stop it
                fits = f"**no**: {', '.join(over)} ran past it"
            elif runs == 1 and size["all_stopped"]:
                fits = "yes, one run"
            else:
                errors = stops[-1].get("report_errors") or []
                fits = f"no: {plural(runs, 'run')}, {rate:g} min apart" + (
                    ""
                    if size["all_stopped"]
                    else ", still not all stopped" + (f" ({errors[0]})" if errors else "")
                )
            rows.append(
                [
                    f"{size['size']:,}",
                    seconds(size["seeding_s"]),
                    seconds(size["steady"]["run_s"]),
                    count(size["steady"]["requests"]),
                    seconds(sum(run["run_s"] for run in stops)),
                    count(sum(run["requests"] for run in stops)),
                    f"{stops[-1]['stopped_after']:,} / {size['size']:,}",
                    fits,
                ]
            )
        sizes = [size["size"] for size in scheduler]
        steady_s = [size["steady"]["run_s"] for size in scheduler]
        stop_s = [sum(run["run_s"] for run in size["full_stop"]) for size in scheduler]
        steady_req = [size["steady"]["requests"] for size in scheduler]
        stop_req = [sum(run["requests"] for run in size["full_stop"]) for size in scheduler]
        biggest = scheduler[-1]
        fleet = biggest["fleet"]
        per_resource = stop_req[-1] / biggest["size"]
        parts += [
            "### Scheduler",
            "",
            (
                "The comparison's fleet (section 3) scaled up: 40% ECS services (100 to a"
                " cluster, each with an Application Auto Scaling target), 20% RDS instances, 40%"
                f" EC2 instances, all running and tagged office-hours; at {biggest['size']:,}:"
                f" {fleet['ecs_services']:,} services in {fleet['clusters']} clusters,"
                f" {fleet['rds_instances']:,} RDS and {fleet['ec2_instances']:,} EC2 instances."
                " The comparison's policy, with the circuit breaker opened for the fleet"
                f" (`max_stops: {biggest.get('max_stops', biggest['size']):,}`; the default, 50,"
                " refuses a run that would stop more, and a full stop stops everything)."
                " A steady-state run at 18:55 Berlin, then the full stop at 19:05, each with"
                f" SchedulerFunction's Timeout from template.yaml, **{budget} s**, as its"
                " deadline (Lambda's own limit is 15 minutes). A run does not begin a batch of"
                " stops less than 10 s before its deadline; what it defers, the next scheduled run"
                f" ({rate:g} minutes later, the template's default rate) does, so the full stop"
                " is run again until everything is stopped. Handler time is the `lambda_handler`"
                " call (the import is apart); requests are counted by the server. The reading of"
                " a run is not cut short at the deadline: a run that took longer than the Timeout"
                " here would have been ended by Lambda, and is marked so."
            ),
            "",
            table(
                [
                    "resources",
                    "seeding",
                    "steady state: handler",
                    "requests",
                    "full stop: handler (all runs)",
                    "requests",
                    "stopped",
                    f"within the {budget} s Timeout",
                ],
                rows,
                "rrrrrrrl",
            ),
            "",
            (
                f"Growth from {sizes[0]:,} to {sizes[-1]:,} resources (exponent k of size^k;"
                " 1 is linear): steady state handler time"
                f" k = {growth(sizes, steady_s)}, requests k = {growth(sizes, steady_req)};"
                f" full stop handler time k = {growth(sizes, stop_s)}, requests"
                f" k = {growth(sizes, stop_req)} ({per_resource:.2f} requests per resource at"
                f" {sizes[-1]:,})."
            ),
            "",
        ]
    if pruner:
        budget = pruner[0]["budget_s"]
        rows = []
        for size in pruner:
            prunes = [run for run in size["runs"] if run["label"].startswith("prune")]
            expected = size["expected_deletions"]
            exact = size["deleted"] == expected and not size["production_deleted"]
            rows.append(
                [
                    f"{size['size']:,}",
                    seconds(size["seeding_s"]),
                    count(expected["ebs"] + expected["rds"]),
                    str(len(prunes))
                    + ("" if size["finished"] else " (unfinished)")
                    + (
                        " (**over the Timeout**)"
                        if any(run["lambda_s"] > budget for run in prunes)
                        else ""
                    ),
                    seconds(sum(run["lambda_s"] for run in prunes)),
                    seconds(sum(run["real_s"] for run in prunes)),
                    seconds(sum(run["listing_s"] for run in prunes)),
                    count(sum(run["requests"] for run in prunes)),
                    "yes" if exact else "**no**",
                ]
            )
        sizes = [size["size"] for size in pruner]
        real = [sum(run["real_s"] for run in size["runs"]) for size in pruner]
        requests = [sum(run["requests"] for run in size["runs"]) for size in pruner]
        biggest = pruner[-1]
        first = biggest["runs"][0]
        listing = {
            operation: calls
            for operation, calls in first["calls"].items()
            if ":Describe" in operation
        }
        parts += [
            "### Pruner",
            "",
            (
                "The comparison's snapshots (section 1: a tenth production, the rest staging, the"
                " rule *staging older than 30 days*) with"
                f" {results['snapshot_days']} days of one snapshot a day per volume or instance,"
                " 5/6 of them EBS: six days in 35 of the staging snapshots are due (a pruner that"
                " missed five days, or its first run on such an account). The handler runs as"
                " Lambda would ([`bench/pruner_scale.py`](../bench/pruner_scale.py)), prune"
                f" after prune, each with PrunerFunction's Timeout, **{budget} s**, and the pacers"
                " at AWS's documented rates (EC2 `DeleteSnapshot` 5 a second after a burst of"
                " 100, RDS 12 after 300). Their waits are simulated: they count against the"
                " deadline without being slept, so each run makes the calls a Lambda would make in"
                " the same order against the same deadline. Each run lists and plans anew and"
                " resumes the cursor of the last; deletions go one at a time here (simulated"
                " waits add up on one clock). *Lambda time* is what the runs would take in"
                " Lambda at those rates (real time here plus the simulated waits); *real* is what"
                " they took against moto, of it *listing* the `Describe*` calls."
            ),
            "",
            table(
                [
                    "snapshots",
                    "seeding",
                    "due",
                    f"runs of {budget} s",
                    "Lambda time (all runs)",
                    "real",
                    "of it listing",
                    "requests",
                    "deleted exactly the due ones",
                ],
                rows,
                "rrrrrrrrl",
            ),
            "",
            (
                f"Growth from {sizes[0]:,} to {sizes[-1]:,} snapshots: real time"
                f" k = {growth(sizes, real)}, requests k = {growth(sizes, requests)}. Requests"
                " are one per deletion plus the listing, each run:"
                f" at {biggest['size']:,} one run lists with "
                + ", ".join(f"{calls} `{operation}`" for operation, calls in listing.items())
                + " (pages of 1,000 EBS and 100 RDS snapshots, as AWS pages them). The number of"
                " runs is set by EC2's 5 deletions a second: one 900 s run deletes at most about"
                " 4,500 EBS snapshots, whatever the machine; the cursor carries the rest to the"
                " next run. Listing time is moto's (it filters every snapshot for every page);"
                " AWS's would differ."
            ),
            "",
        ]
    return "\n".join(parts)


def notifier_burst_section(results: Mapping[str, Any]) -> str:
    setup = results["deployment"]
    latency = results["latency_s"]
    messages = results["messages"]
    rows = [
        [
            f"{messages:,}",
            f"{results['delivered']:,}",
            seconds(latency["p50"]),
            seconds(latency["p90"]),
            seconds(latency["p99"]),
            seconds(latency["max"]),
            seconds(results["total_s"]),
            seconds(results["publish_s"]),
        ]
    ]
    requests = results["requests"]
    who = {"sns": "publisher (CloudWatch)", "sqs": "Lambda's SQS poller"}
    operations = [
        [f"`{name}`", who.get(name.split(":")[0], "the notifier"), count(value)]
        for name, value in sorted(requests.items())
    ]
    per_batch = results["handler_s_median"]
    rounds = math.ceil(results["invocations"] / setup["concurrency"])
    imports = results["cold_start_import_s"]
    problems = []
    if results["delivered"] != messages:
        problems.append(f"only {results['delivered']:,} of {messages:,} reached the webhook")
    if results["duplicates"]:
        problems.append(f"{results['duplicates']} duplicate webhook posts")
    if results["dead_lettered"] or results["failed_items"] or results["errors"]:
        problems.append(
            f"{results['failed_items']} failed items, {len(results['errors'])} crashed"
            f" invocations, {results['dead_lettered']} messages in the dead-letter queue"
        )
    outcome = (
        "Every alarm reached the webhook exactly once; no item failed and nothing went to the"
        " dead-letter queue."
        if not problems
        else "Problems: " + "; ".join(problems) + "."
    )
    return f"""## 7. Notifier burst

{messages:,} CloudWatch alarm notifications (metric alarms going OK to ALARM, each a different
alarm, in the shape of the real notification in
[`events/notifier/cloudwatch-alarm-metric.json`](../events/notifier/cloudwatch-alarm-metric.json))
published at once to the ops topic by {results["publishers"]} threads, one `Publish` each, and
followed to a local webhook receiver standing in for Slack. The path is the deployed one, with
template.yaml's numbers: the topic delivers to `NotifierQueue` with the SNS envelope (raw delivery
{"on" if setup["raw_delivery"] else "off"}; visibility timeout {setup["visibility_timeout_s"]} s,
dead-letter queue after {setup["max_receive_count"]} receives), and the SQS event source mapping
hands the notifier **batches of up to {setup["batch_size"]}**, waiting up to
**{setup["batching_window_s"]:g} s** to fill one, with **at most {setup["concurrency"]} invocations
at a time** (`ReservedConcurrentExecutions`); partial batch responses
({"on" if setup["reports_item_failures"] else "off"}) decide what is deleted. moto's SNS delivers
to the queue; Lambda's side is played by {setup["concurrency"]} worker processes, one per unit of
concurrency, each a warm execution environment that imported the real handler once (import
{min(imports):.2f}-{max(imports):.2f} s, not counted below) and then polls as the event source
mapping does, invokes `lambda_handler` with Lambda's SQS event and deletes what succeeded. The
handler does its real work: the webhook URL from Secrets Manager, the delivery ledger and the
alarm memory in DynamoDB, the POST. Not the local cloud's runtime emulator: it starts a process
per invocation (a cold start each) where Lambda keeps environments warm, and would measure
{results["invocations"]} cold starts on two cores instead. Code:
[`bench/notifier_burst.py`](../bench/notifier_burst.py).

Time of a message: from just before its `Publish` to the receiver's record of the webhook POST.

{table(["alarms", "delivered", "p50", "p90", "p99", "max", "total", "of it publishing"], rows)}

{outcome} {results["invocations"]} invocations, {results["batch_size_mean"]:.1f} messages each on
average; the handler took {seconds(per_batch)} per batch (median), so {setup["concurrency"]}
environments need about {rounds} rounds of that: the tail latency is set by the concurrency and
by the handler's time per message (each message costs a ledger read and write, an alarm-memory
read and write and a POST, one message after another within a batch), not by the queue.

Requests the server counted during the burst:

{table(["operation", "made by", "requests"], operations, "llr")}

Not measured here: network latency to AWS and to Slack or Teams (everything is on loopback);
Slack's rate limits (about one message a second per channel, with short bursts tolerated: 1,000
alarms to one channel would meet HTTP 429s, which the notifier retries in place when Retry-After is
short and otherwise leaves to SQS); how fast Lambda's pollers scale up and SNS's delivery delay
in AWS (moto delivers to the queue within the `Publish` call); the topic's KMS key and the queue's
encryption (not set up here); cold starts (the environments were warm; see section 4).
"""


def organization_section(results: Mapping[str, Any]) -> str:
    fleet = results["fleet"]
    per = fleet["per_target"]
    targets, bound, budget = results["targets"], results["concurrency"], results["budget_s"]
    regions = fleet["regions"]

    def run_row(name: str, runs: Sequence[Mapping[str, Any]]) -> list[str]:
        handler = sum(run["run_s"] for run in runs)
        per_target = runs[0]["target_requests"]
        within = all(run["run_s"] <= budget for run in runs)
        return [
            name,
            seconds(sum(run["wall_s"] for run in runs)),
            seconds(handler),
            count(sum(run["requests"] for run in runs)),
            count(sum(run["hub_requests"] for run in runs)),
            f"{per_target['median']:g} ({per_target['min']:,}-{per_target['max']:,})",
            f"{runs[-1]['stopped_after']:,} / {results['resources']:,}",
            f"{plural(len(runs), 'run')}, {'yes' if within else 'no'}",
        ]

    failing = results["one_failing"]
    held = results["isolation"]
    rows = [
        run_row("steady state (18:55)", [results["steady"]]),
        run_row("full stop (19:05)", results["full_stop"]),
        run_row("full stop, one account without its spoke role", failing),
    ]
    first_error = failing[0]["report_errors"][0] if failing[0]["report_errors"] else ""
    left = results["resources"] - results["full_stop"][-1]["stopped_after"]
    starved = (
        f"**The full stop did not finish: {left:,} resources were still running** when a run"
        " stopped no more. Every run works the targets in the policy's order and lists each anew,"
        " done or not, so once listing them all takes longer than the Timeout, the"
        " last targets are reached too late in every run (docs/organization.md).\n\n"
        if left
        else ""
    )
    late = len(held.get("unfinished", ()))
    unfinished = (
        f" ({late} more were worked without error but had not stopped everything when the"
        " runs stopped making progress: begun too near the deadline, they deferred their stops)"
        if late
        else ""
    )
    estimates = at_scale(dict(results))
    arithmetic = [
        [
            name,
            seconds(estimate.per_target_s),
            str(estimate.concurrency),
            seconds(estimate.run_s),
            "yes" if estimate.within_timeout else "no",
            "yes" if estimate.within_interval else "no",
            "yes" if estimate.within_lambda else "no",
            f"{estimate.most_targets_in_timeout:,}",
        ]
        for name, estimate in estimates
    ]
    scale_targets = AT_SCALE[0] * AT_SCALE[1]
    handler_s = sum(run["run_s"] for run in results["full_stop"])
    shipped = estimates[1][1]
    verdict = (
        f"At the shipped bound one invocation works at most {shipped.most_targets_in_timeout:,}"
        f" targets within the Timeout, not {scale_targets:,}: beyond that the next engine (SQS"
        " to the same function, decision 21 in"
        " [organization.md](organization.md#the-arithmetic-500-accounts-x-3-regions)) takes over."
        if not shipped.within_timeout
        else f"At the shipped bound one invocation works the {scale_targets:,} targets within"
        " the Timeout."
    )
    runs_table = table(
        [
            "run",
            "wall",
            "handler",
            "requests",
            "of them hub",
            "per target",
            "stopped",
            "runs, within the Timeout",
        ],
        rows,
        "lrrrrrrl",
    )
    arithmetic_table = table(
        [
            "one invocation",
            "per target",
            "at a time",
            "one run",
            "within the Timeout",
            "within 5 min",
            "within 15 min",
            "targets within the Timeout",
        ],
        arithmetic,
        "lrrrlllr",
    )
    return f"""## 8. Organization: one hub, {fleet["accounts"]} accounts x {len(regions)} Regions

The scheduler as a hub (issue 14, [organization.md](organization.md)): {fleet["accounts"]} member
accounts x {len(regions)} Regions ({", ".join(regions)}) = **{targets} targets**, each with
{resources_per_target(results)} resources in the comparison
fleet's mix ({per["ecs_services"]} ECS services with scalable targets, {per["rds_instances"]} RDS
instances, {per["ec2_instances"]} EC2 instances, all running, tagged office-hours):
{results["resources"]:,} resources. The member accounts are moto accounts reached with the
credentials of a role assumed in each, as AWS keeps accounts apart; each has the scheduler's
spoke role. The policy is section 3's with `targets` listing every account and both Regions, the
fan-out bound **`max_concurrency: {bound}`** (the shipped default; the schema allows up to 64).
The built handler runs once per scheduled run as in sections 3 and 6 (its own process,
SchedulerFunction's {budget} s Timeout as the deadline; a target begun too near the deadline
defers its stops to the next run, 5 minutes later). Seeding, in the cloud's process through its
own endpoint: {seconds(results["seeding_s"])} (not part of any run). One round, not a median.
Requests are counted by the server, in all and per account and Region (by the credentials that
signed each request and the Region of its signature); *hub* is the hub's own share (AssumeRole,
the state table, the ops topic); *per target* is the median (min-max) of a target's own requests
in the first run. Code: [`bench/organization.py`](../bench/organization.py).

{runs_table}

{starved}**Isolation.** For the last row the cloud was seeded afresh without the spoke role in
account {", ".join(held["missing_role_in"])}; AssumeRole there was refused with AccessDenied, as AWS
refuses a role that does not exist (moto alone hands out credentials for any role; the bench
cloud looks the role up first). A role is per account, so both of its Regions failed:
**{len(held["failed"])} targets failed, {held["finished"]} of the others stopped every
resource**{unfinished}, the failed ones none, and the report named each failed target once
(`{first_error[:160]}...`). The bench checks this and fails if it does not hold.

**The arithmetic for {AT_SCALE[0]} accounts x {AT_SCALE[1]} Regions ({scale_targets:,}
targets)**, against the {results["schedule_rate_s"] / 60:g}-minute schedule, the {budget} s
Timeout and Lambda's {results["lambda_limit_s"] / 60:g} minutes. Here the full stop took
{seconds(handler_s)} of handler time for {targets} targets, {seconds(handler_s / targets)} a
target: the work is CPU (a boto3 session and its clients per target, moto answering on the same
2 cores), so the bound does not shorten it here, and {scale_targets:,} targets would take
{scale_targets // targets}x as long. In AWS a target's time is mostly waiting on its requests:
{runs_median(results)} requests for its full stop (median), at an assumed
{REQUEST_LATENCY_S * 1000:.0f} ms each, one after another (not measured: AWS's latency), and
the bound overlaps the targets in waves (*targets within the Timeout*: before the last 10 s, in
which the scheduler begins nothing):

{arithmetic_table}

{verdict} Not
measured: AWS's latency and rate limits (per account, so targets in different accounts do not
slow each other), Lambda's CPU share at the function's memory size.
"""


def resources_per_target(results: Mapping[str, Any]) -> int:
    per = results["fleet"]["per_target"]
    return int(per["ecs_services"] + per["rds_instances"] + per["ec2_instances"])


def runs_median(results: Mapping[str, Any]) -> str:
    return f"{results['full_stop'][0]['target_requests']['median']:g}"


def data_classes_paragraph(results: Mapping[str, Any]) -> str:
    """What building its data classes costs each subject at import, against the bare handler's
    whole import (both precompiled); empty for results from before it was measured."""
    building = results.get("data_classes")
    if not building:
        return ""
    modes = list(results["modes"])
    compiled = results["modes"][modes[-1]]
    bare = compiled[results["floors"][0]]["import_s"]
    rows = [
        [
            f"`{name}`" if " " not in name else name,
            f"{found['own']:.0f}",
            f"{found['own_s'] * 1000:.0f} ms",
            times(found["own_s"] / bare),
            f"{found['libraries']:.0f} in {found['libraries_s'] * 1000:.0f} ms",
            times(compiled[name]["vs_bare"]),
            times((compiled[name]["import_s"] - found["own_s"]) / bare),
        ]
        for name, found in building.items()
        if found["own"] or name not in results["floors"]
    ]
    header = [
        "handler",
        "its data classes",
        "building them",
        "of bare's import",
        "the libraries'",
        "import vs bare",
        "less building its own",
    ]
    return f"""
What building the data classes costs. STYLE.md makes every decision a frozen data class, and
Python writes and compiles each one's methods (`__init__`, `__repr__`, `__eq__`, `__hash__`, and
`__setattr__` and `__delattr__` that refuse changes) when the class is built, at import. So each
handler pays for its model at every cold start. Timed in {results.get("data_class_runs", "")}
fresh interpreters per handler with `dataclasses.dataclass` wrapped (precompiled, medians; the
import figures are this section's precompiled medians, and the last column subtracts the one
from the other, an estimate from two sets of runs):

{table(header, rows)}
"""


def cold_start_section(results: Mapping[str, Any]) -> str:
    modes = list(results["modes"])
    subjects = list(results["modes"][modes[0]])
    own_floor = results.get("own_floor", {})
    rows = []
    for name in subjects:
        built, compiled = results["modes"][modes[0]][name], results["modes"][modes[1]][name]
        row = [
            f"`{name}`" if " " not in name else name,
            f"{built['import_s'] * 1000:.0f} ms",
            times(built["vs_bare"]),
            f"{compiled['import_s'] * 1000:.0f} ms",
            times(compiled["vs_bare"]),
            f"{built['max_rss_mib']:.0f} MiB",
            "" if built.get("policy_s") is None else f"{built['policy_s'] * 1000:.0f} ms",
        ]
        if own_floor:
            row.append(
                ""
                if built.get("vs_own_floor") is None
                else f"{times(built['vs_own_floor'])} / {times(compiled['vs_own_floor'])}"
            )
        rows.append(row)
    packages = []
    for name, found in results["by_package"].items():
        top = list(found.items())[:5]
        packages.append(
            [name, ", ".join(f"{package} {value * 1000:.0f}" for package, value in top)]
        )
    building = data_classes_paragraph(results)
    layer = results["layer"]
    unzipped, zipped = layer["unzipped_bytes"] / 2**20, layer["zipped_bytes"] / 2**20
    header = ["handler", "import, as built", "vs bare", "import, precompiled", "vs bare"]
    header += ["peak RSS", "then the policy, as built"]
    if own_floor:
        header.append("vs its own floor (as built / precompiled)")
    second_floors = "".join(
        f"""
**A floor of its own for the {name}.** The {name} {found["why"]}. {found.get("made_of", "")}
So the table also measures `{found["floor"]}`: a bare handler that imports what its name says
(from the layer, as the functions do) and nothing else. Against it the {name} is
{times(results["modes"][modes[0]][name]["vs_own_floor"])} as built and
{times(results["modes"][modes[1]][name]["vs_own_floor"])} precompiled (the last column).
"""
        for name, found in own_floor.items()
    )
    largest = ", ".join(f"{name} {size / 2**20:.1f}" for name, size in layer["largest"].items())
    source = (
        "the output of `sam build` (`.aws-sam/build`)"
        if results["built"]
        else "the sources (no `sam build` output was found)"
    )
    return f"""## 4. Cold start

Import time of each handler module under Python {results["python"]}, against a bare handler that
only imports boto3, the floor every Python function pays. Each sample is a fresh interpreter
without site-packages whose `sys.path` is Lambda's: the function's folder, the layer's `python/`
folder, then the runtime's boto3 (`.bench/lambda-runtime`, boto3 and its dependencies installed
precompiled from `bench/requirements-lambda-runtime.txt`), timing `import app`, then, in the same
interpreter, the policy part of the handler's first run (loading the policy layer's
`nightshift.yaml`, the last column). Artifacts: {source}, copied to a scratch folder.
{results["repeat"]} samples per handler and mode, round robin over both, medians. Interpreter
start-up alone (`python -I -S -c pass`) is {results["interpreter_startup_s"] * 1000:.0f} ms and
is not included.

Two ways of shipping: **as built** (exactly what `sam build` ships: the layer's Makefile compiles
its bytecode, since /opt is read-only and cannot cache it; the functions' folders are sources, so
`app.py` is compiled at each cold start) and **precompiled** (every file with its `__pycache__`).

![Cold start](img/benchmarks/cold_start.png)

{table(header, rows)}
{second_floors}
What no handler imports, because its first run does not use it (`tests/unit/test_cold_start.py`
keeps the list and the reasons): the X-Ray SDK when tracing is off; PyYAML, since the policy is
shipped as JSON (the policy layer's build and `scripts/publish-policy` convert the checked YAML;
docs/decisions.md 16); Powertools' event data classes and asyncio, except in the notifier, whose
`BatchProcessor` imports both (its floor while it uses Powertools' batch utility), and in the
actions function, whose function URL resolver's package imports both (its floor); Powertools
Parameters, loaded at the first read of a secret (a canary check's header, a notifier's webhook)
or of a policy parameter; the scheduler's price table (`nightshift.pricing`), loaded only by a run
that starts or stops something; the scheduler's planner, in the canary (which reads
schedules and plans nothing); the canary's run and checks, in redeploy (which reads the canary's
last state only for a held push); the policy, the AWS adapters, the status page and the canary's
and redeploy's code, in the actions function (a link needs none of them: acting and the status
page import theirs at the first request that needs them); hub and spoke (the fan-out, the spoke
roles' sessions and the scheduler's target queue), in the scheduler, pruner and redeploy, which
import it at the first run of a policy with `targets`; the action links' signing, in redeploy,
which signs a link for a held push only; the held redeploys' model and the deployment
outcomes', in redeploy, which imports them at the first held push and the first deployment
event. The policy's schema is
compiled to Python when the layer is built, so loading the policy at the first run reads no
schema file and generates no code: the last column is that load, JSON parsing and validation.

Where the time goes (one `-X importtime` run per handler, precompiled; self time per top-level
package, and per subpackage of `nightshift`, ms):

{table(["handler", "largest importers, ms"], packages, "ll")}
{building}
The built layer: **{unzipped:.1f} MiB unzipped, {zipped:.1f} MiB zipped**
(Lambda allows 250 MiB unzipped for a function and its layers, 50 MiB zipped for a direct
upload). Largest packages (MiB): {largest}.

Not measured here: Lambda's init phase around the import (runtime bootstrap, extensions), the
rest of the first run (the first client's endpoint resolution and the calls), and arm64:
this machine is {results["arch"]}, Lambda runs the functions on Graviton (arm64).
"""


def canary_section(results: Mapping[str, Any]) -> str:
    medians = results["median_s"]
    floors = {
        "concurrent, as deployed (32 threads)": 2 * results["answer_delay_s"],
        "concurrent, one thread per check": results["floor_concurrent_s"],
        "one probe after another": results["floor_sequential_s"],
    }
    rows = [
        [
            mode,
            seconds(value),
            seconds(floors.get(mode, results["floor_concurrent_s"])),
            times(medians["one probe after another"] / value),
        ]
        for mode, value in medians.items()
    ]
    return f"""## 5. Canary: concurrent vs sequential probes

{results["endpoints"]} endpoints answering in {results["answer_delay_s"] * 1000:.0f} ms each: one
local threaded HTTP server (the local cloud's `localcloud.health_server`) serving the seeds'
healthy `/health` body after the pause, on {results["endpoints"]} paths. The probe engine the canary
handler calls (`nightshift.adapters.http_probe.probe_all`), with its conditions (`[STATUS] == 200`,
`[BODY].status == healthy`), in three modes: as deployed (one thread per check, at most
{results["max_workers_deployed"]}: the policy's cap on checks, so 50 checks take two waves), one
thread per check (a single wave), and one probe after another. {results["repeat"]} runs per
mode after a warm-up, in turn; medians.

![Canary](img/benchmarks/canary.png)

{table(["mode", "wall (median)", "floor", "speed-up vs sequential"], rows)}

The floor is the answers' own time: one wave is one answer (0.2 s), two waves two, fifty probes
in a row fifty. Not measured: TLS handshakes, DNS, and real networks' latency spread (the run
takes about its slowest endpoint).
"""


def _throttled_floors(results: Mapping[str, Any]) -> str:
    """The throttled run against the deletions at the rates, and against the listing plus the
    deletions (section 2)."""
    m = results["scenarios"]["throttled"]["medians"]
    deletions = max(results["floor_s"].values())
    floor = m[LISTING]["run_s"] + deletions
    return (
        f"; run {times(m[NS]['run_s'] / deletions)} the rate floor ({seconds(deletions)}), "
        f"{times(m[NS]['run_s'] / floor)} listing + deletions ({seconds(floor)}), Custodian "
        f"{times(m[C7N]['run_s'] / floor)}"
    )


def summary_section(found: Mapping[str, Any]) -> str:
    rows = []
    if "pruner" in found:
        results = found["pruner"]
        for scenario in ("unthrottled", "throttled"):
            m = results["scenarios"][scenario]["medians"]
            rows.append(
                [
                    f"1-2. pruner, {scenario}"
                    + (f" (rates x{results['rate_scale']:g})" if scenario == "throttled" else ""),
                    f"{seconds(m[NS]['wall_s'])}, {count(m[NS]['requests'])} req",
                    f"Custodian {seconds(m[C7N]['wall_s'])}, {count(m[C7N]['requests'])} req",
                    (
                        f"{times(m[NS]['wall_s'] / m[C7N]['wall_s'])} time, "
                        f"{times(m[NS]['requests'] / m[C7N]['requests'])} requests"
                    )
                    + (
                        f"; run {times(m[NS]['run_s'] / m[FLOOR]['run_s'])} the server floor "
                        f"({seconds(m[FLOOR]['run_s'])}), Custodian "
                        f"{times(m[C7N]['run_s'] / m[FLOOR]['run_s'])}"
                        if FLOOR in m
                        else ""
                    )
                    + (_throttled_floors(results) if LISTING in m else ""),
                ]
            )
    if "scheduler" in found:
        for name, m in found["scheduler"]["medians"].items():
            rows.append(
                [
                    f"3. scheduler, {name}",
                    f"{seconds(m[NS]['wall_s'])}, {count(m[NS]['requests'])} req",
                    f"Custodian {seconds(m[C7N]['wall_s'])}, {count(m[C7N]['requests'])} req",
                    (
                        f"{times(m[NS]['wall_s'] / m[C7N]['wall_s'])} time, "
                        f"{times(m[NS]['requests'] / m[C7N]['requests'])} requests"
                    ),
                ]
            )
    if "cold_start" in found:
        results = found["cold_start"]
        built = results["modes"][next(iter(results["modes"]))]
        floors = results.get("floors") or [name for name in built if " " in name]
        handlers = {name: v for name, v in built.items() if name not in floors}
        slowest = max(handlers, key=lambda name: handlers[name]["import_s"])
        bare = built[floors[0]]
        own = "".join(
            f"; {name} {times(handlers[name]['vs_own_floor'])} its own floor"
            for name in results.get("own_floor", {})
        )
        own += " (section 4)" if own else ""
        rows.append(
            [
                "4. cold start (import, as built)",
                (
                    f"{min(v['import_s'] for v in handlers.values()) * 1000:.0f}-"
                    f"{handlers[slowest]['import_s'] * 1000:.0f} ms"
                ),
                f"bare boto3 handler: {bare['import_s'] * 1000:.0f} ms",
                (
                    f"{times(min(v['vs_bare'] for v in handlers.values()))}-"
                    f"{times(handlers[slowest]['vs_bare'])} the floor{own}"
                ),
            ]
        )
    if "canary" in found:
        results = found["canary"]
        medians = results["median_s"]
        rows.append(
            [
                "5. canary, 50 x 200 ms",
                f"{seconds(medians['concurrent, as deployed (32 threads)'])} concurrent",
                f"{seconds(medians['one probe after another'])} sequential",
                f"{times(results['speedup_deployed'])} faster",
            ]
        )
    if "scale" in found:
        results = found["scale"]
        if results["scheduler"]:
            biggest = results["scheduler"][-1]
            stops = biggest["full_stop"]
            handler = sum(run["run_s"] for run in stops)
            rows.append(
                [
                    f"6. scheduler full stop, {biggest['size']:,} resources (1 round)",
                    (
                        f"{seconds(handler)}, {count(sum(run['requests'] for run in stops))} req,"
                        f" {plural(len(stops), 'run')}"
                    ),
                    f"its Timeout, {biggest['budget_s']} s",
                    f"{times(max(run['run_s'] for run in stops) / biggest['budget_s'])} of it",
                ]
            )
        if results["pruner"]:
            biggest = results["pruner"][-1]
            prunes = [run for run in biggest["runs"] if run["label"].startswith("prune")]
            lambda_s = sum(run["lambda_s"] for run in prunes)
            rows.append(
                [
                    f"6. pruner, {biggest['size']:,} snapshots (1 round)",
                    (
                        f"{plural(len(prunes), 'run')} of {biggest['budget_s']} s,"
                        f" {seconds(lambda_s)}"
                        f" in Lambda, {count(sum(run['requests'] for run in prunes))} req"
                    ),
                    f"floor at AWS's rates {seconds(biggest['floor_s'])}",
                    f"{times(lambda_s / biggest['floor_s'])} the floor"
                    if biggest["floor_s"]
                    else "n/a",
                ]
            )
    if "notifier_burst" in found:
        results = found["notifier_burst"]
        setup, latency = results["deployment"], results["latency_s"]
        rows.append(
            [
                f"7. notifier burst, {results['messages']:,} alarms",
                f"p50 {seconds(latency['p50'])}, p90 {seconds(latency['p90'])}",
                (
                    f"all delivered in {seconds(results['total_s'])} (batch"
                    f" {setup['batch_size']}, concurrency {setup['concurrency']})"
                ),
                "-",
            ]
        )
    if "organization" in found:
        results = found["organization"]
        stops = results["full_stop"]
        handler = sum(run["run_s"] for run in stops)
        held = results["isolation"]
        rows.append(
            [
                (
                    f"8. organization full stop, {results['targets']} targets x"
                    f" {resources_per_target(results)} resources (1 round)"
                ),
                (
                    f"{seconds(handler)}, {count(sum(run['requests'] for run in stops))} req,"
                    f" {plural(len(stops), 'run')}; one account's role missing:"
                    f" {len(held['failed'])} targets failed, {held['finished']} finished"
                    + (f", {len(held['unfinished'])} deferred" if held.get("unfinished") else "")
                ),
                f"its Timeout, {results['budget_s']} s",
                f"{times(max(run['run_s'] for run in stops) / results['budget_s'])} of it",
            ]
        )
    return table(["benchmark", "Nightshift", "compared with", "ratio (Nightshift / other)"], rows)


def render(found: Mapping[str, Any]) -> str:
    parts = [
        "# Benchmarks",
        "",
        (
            "<!-- Generated by `make bench` (bench/run.py, bench/report.py) from the run's"
            " results; edit bench/report.py, not this page. -->"
        ),
        "",
        (
            "Speed, API cost and cold start of Nightshift's functions, side by side with"
            " what a user would pick instead: Cloud Custodian (c7n) for pruning snapshots"
            " and for office-hours schedules. Everything here was measured by one"
            " `make bench` run on the machine described below; the code is in"
            " [`bench/`](../bench/)."
        ),
        "",
        summary_section(found),
        "",
    ]
    if "machine" in found:
        parts.append(machine_section(found["machine"]))
        parts.append(crosscheck(found) + "\n")
    for key, section in (
        ("pruner", pruner_sections),
        ("scheduler", scheduler_section),
        ("cold_start", cold_start_section),
        ("canary", canary_section),
        ("scale", scale_section),
        ("notifier_burst", notifier_burst_section),
        ("organization", organization_section),
    ):
        if key in found:
            parts.append(section(found[key]))
        else:
            parts.append(f"## {key.replace('_', ' ')}\n\nNot run in this `make bench`.\n")
    parts.append(REPRODUCE)
    return "\n".join(parts)


REPRODUCE = """## Reproduce

```sh
make bench                                   # everything, about 20 minutes on 2 cores
.venv/bin/python -m bench.run --only canary,cold-start
.venv/bin/python -m bench.run --only scale,notifier-burst   # sections 6 and 7
.venv/bin/python -m bench.run --only organization           # section 8
.venv/bin/python -m bench.run --quick        # small fleets, one round: a smoke test
.venv/bin/python -m bench.run --only pruner --rate-scale 1 --repeat 1   # AWS's real rates, ~30 min
.venv/bin/python -m bench.report             # rewrite this page from .bench/results
```

`make bench` creates Cloud Custodian's virtual environment (`.bench/c7n-venv`, pinned in
`bench/requirements-c7n.txt`), the Lambda-runtime stand-in (`.bench/lambda-runtime`), installs
matplotlib into `.venv` (`bench/requirements.txt`), builds the functions (`sam build`), runs
`python -m bench.run`, and rewrites this page and the charts in `docs/img/benchmarks/`.
`bench/pruner_scale.py` is a separate study of one pruner invocation against the Lambda budget
at the documented rates (docs/pruner.md, "Scale"), on the same local cloud in its own process
with moto's own answers.
"""


def load(results: Path = RESULTS) -> dict[str, Any]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(results.glob("*.json"))
    }


def write(found: Mapping[str, Any], page: Path = PAGE, images: Path = IMAGES) -> Path:
    drawers = {
        "pruner": charts.pruner,
        "scheduler": charts.scheduler,
        "cold_start": charts.cold_start,
        "canary": charts.canary,
        "scale": charts.scale,
    }
    for key, draw in drawers.items():
        if key in found:
            draw(found[key], images / f"{key}.png")
    page.write_text(render(found), encoding="utf-8")
    return page


def main() -> int:
    found = load()
    if not found:
        print(f"no results in {RESULTS}; run `python -m bench.run` first", file=sys.stderr)
        return 1
    print(write(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
