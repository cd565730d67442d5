"""The scheduler under faults: every call of the evening stop and of the morning start (databases,
then compute), each failed or interrupted in every way, then the next scheduled runs fault-free.

The core stack is the functional tier's (`tests/functional/test_scheduler.py`): ECS `api` with a
scalable target 2/2/6, `prod-api` tagged production, RDS `todoapp-db`,
Aurora `todoapp-aurora`, EC2 `bastion` and the Auto Scaling group `workers` 1/2/4, all on
office-hours (Berlin, 07:30-19:00 on weekdays), from Friday evening to Monday morning.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import (
    SEEDS,
    Ledger,
    assert_clean_and_documented,
    faulty_cloud,
    ledger,
    new_process,
    random_plan,
    run_armed,
    targeted_plans,
)
from tests.functional.test_scheduler import ACCOUNT, REGION, SCHEDULE, TABLE, TOPIC, Cloud
from tests.functional.test_scheduler import write_policy as write_scheduler_policy
from tests.support.faults import Call, FaultInjector, FaultKind, ProcessCrash
from tests.support.nightshift import function_environment

# Friday 19:00 (stop), its retry, Monday 07:30 (databases start), 07:35 (compute starts), then
# the runs every 5 minutes after.
TIMELINE = (
    "2026-11-20T18:00:00Z",
    "2026-11-20T18:05:00Z",
    "2026-11-23T06:30:00Z",
    "2026-11-23T06:35:00Z",
    "2026-11-23T06:40:00Z",
    "2026-11-23T06:45:00Z",
    "2026-11-23T06:50:00Z",
)
STOP_RUN, START_RUN = 0, 3  # targeted: the stop, the compute's start (databases: random)
RANDOM_FAULTED_RUNS = (0, 1, 2, 3)  # two or three faults in each of these consecutive runs
TARGETED_LENGTH = 5  # runs per targeted replay: enough to converge after a fault in run 3
PROTECTED = "prod-api"
# Writes whose bodies name every resource in passing (records, reports), not writes *to* it.
BOOKKEEPING = ("dynamodb", "sns")

Fleet = dict[str, Any]


def build(cloud: Cloud) -> str:
    """The core stack; returns the bastion's instance id."""
    cloud.cluster("todoapp")
    cloud.service("todoapp", "api", 2, target=(2, 6), **SCHEDULE)
    cloud.service("todoapp", PROTECTED, 3, target=(3, 9), **SCHEDULE, Environment="production")
    cloud.database("todoapp-db", **SCHEDULE)
    cloud.aurora("todoapp-aurora", members=1, **SCHEDULE)
    bastion = cloud.instance("bastion", **SCHEDULE)
    cloud.group("workers", 1, 2, 4, propagate=False, **SCHEDULE)
    return bastion


def fleet(cloud: Cloud, bastion: str) -> Fleet:
    """Every resource's state, keyed by the last part of its ARN (the bastion by its name)."""
    return {
        "api": cloud.service_capacity("todoapp", "api"),
        PROTECTED: cloud.service_capacity("todoapp", PROTECTED),
        "todoapp-db": cloud.db_status("todoapp-db"),
        "todoapp-aurora": cloud.cluster_status("todoapp-aurora"),
        "bastion": cloud.instance_state(bastion),
        "workers": cloud.group_capacity("workers"),
    }


def short_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def recorded_state(item: dict[str, Any]) -> Any:
    """What the resource is once restored, per its parked record, in `fleet`'s shape."""
    kind = item["kind"]["S"]
    if kind in ("rds-instance", "aurora-cluster"):
        return "available"
    if kind == "ec2-instance":
        return "running"
    stored = item["capacity"]["M"]

    def number(key: str) -> int | None:
        value = stored[key]
        return None if "NULL" in value else int(value["N"])

    if kind == "ecs-service":
        return (number("desired"), number("minimum"), number("maximum"))
    return (number("minimum"), number("desired"), number("maximum"))


def zeros(state: Any) -> Any:
    """A capacity's parked form (desired, min and max at 0 where present)."""
    if isinstance(state, tuple):
        return tuple(None if value is None else 0 for value in state)
    return {"available": "stopped", "running": "stopped"}[state]


def waits_for_databases(result: dict[str, Any] | None) -> bool:
    return result is not None and any(
        "waits for the databases" in item["reason"] for item in result["items"]
    )


class World:
    """One account replayed weekend after weekend: each replay is the next week's Friday
    evening to Monday morning, with its faults, checked after every run. Since the cycle must
    leave every resource exactly as it was, each weekend starts where the last one ended (and a
    violation would show again in the weekends after it)."""

    def __init__(self, book: Ledger, injector: FaultInjector, cloud: Cloud) -> None:
        self.book = book
        self.injector = injector
        self.cloud = cloud
        self.week = 0
        cloud.create_nightshift()
        self.bastion = build(cloud)
        self.initial = self.fleet()
        self.records = cloud.parked()

    def fleet(self) -> Fleet:
        return fleet(self.cloud, self.bastion)

    def name(self, arn: str) -> str:
        name = short_name(arn)
        return "bastion" if name == self.bastion else name

    def weekend(self, faults: dict[int, dict[int, FaultKind]], length: int) -> dict[int, int]:
        """Play the timeline's first `length` runs of the next week with `faults` (by run,
        then call number); returns the number of calls of each run."""
        shift = dt.timedelta(weeks=self.week)
        self.week += 1
        pending = False  # a faulted run whose aftermath is not checked yet
        counts = {}
        for index, text in enumerate(TIMELINE[:length]):
            at = (dt.datetime.fromisoformat(text) + shift).isoformat()
            plan = faults.get(index, {})
            result, calls = self.run(at, plan)
            counts[index] = len(calls)
            # The first fault-free run free to act: compute waits while its databases start.
            if pending and not plan and not waits_for_databases(result):
                self.check_settled(at)
            pending = bool(plan) or (pending and waits_for_databases(result))
        self.check_converged()
        return counts

    def run(self, at: str, plan: dict[int, FaultKind]) -> tuple[Any, list[Call]]:
        before = self.records
        result, ended, calls = run_armed(self.book, self.injector, plan, lambda: self.cloud.run(at))
        if isinstance(ended, ProcessCrash):
            new_process(self.cloud.handler(), keep=("clients",))
        self.records = self.cloud.parked()
        self._check_run(at, before, calls)
        return result, calls

    def _check_run(self, at: str, before: dict[str, Any], calls: list[Call]) -> None:
        touched = [
            call.name
            for call in calls
            if call.writes and call.service not in BOOKKEEPING and PROTECTED in call.body
        ]
        self.book.check(
            "no write to a protected resource",
            not touched,
            lambda: f"run {at} wrote {touched} for {PROTECTED}",
        )
        deleted = set(before) - set(self.records)
        now = self.fleet() if deleted else {}
        for arn in deleted:
            name, expected = self.name(arn), recorded_state(before[arn])
            self.book.check(
                "a parked record is deleted only once its resource is restored",
                now[name] == expected,
                lambda name=name, expected=expected: (
                    f"run {at} deleted the record of {name} while it is {now[name]}, "
                    f"parked as {expected} ({self.injector.injected})"
                ),
            )

    def check_settled(self, at: str) -> None:
        """After the first fault-free run: no stop or start is left half done. Each resource
        runs as before without a record, or is parked with a record of its capacity (compute
        may still wait there for its databases to start)."""
        now = self.fleet()
        records = {self.name(arn): item for arn, item in self.records.items()}
        for name, initial in self.initial.items():
            if name == PROTECTED:
                continue
            record = records.get(name)
            parked = now[name] == zeros(initial) and record is not None
            finished = parked and recorded_state(record) == initial
            undone = now[name] == initial and record is None
            self.book.check(
                "an interrupted run is finished or undone by the next run",
                finished or undone,
                lambda name=name, record=record: (
                    f"after {at}: {name} is {now[name]} (was {self.initial[name]}), record {record}"
                ),
            )

    def check_converged(self) -> None:
        now = self.fleet()
        self.book.check(
            "every resource is exactly as before after the stop/start cycle",
            now == self.initial,
            lambda: (
                f"{ {k: v for k, v in now.items() if v != self.initial[k]} } "
                f"instead of {self.initial}"
            ),
        )
        left = sorted(self.name(arn) for arn in self.records)
        self.book.check(
            "no parked record is left after the cycle",
            not left,
            lambda: f"records left for {left}",
        )


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "nightshift.yaml"
    write_scheduler_policy(path)
    function_environment(
        monkeypatch,
        service="scheduler",
        policy_file=path,
        table=TABLE,
        topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}",
        region=REGION,
        # INFO lines cost time in thousands of runs and are checked by the functional tier.
        extra={"MOTO_EC2_LOAD_DEFAULT_AMIS": "false", "POWERTOOLS_LOG_LEVEL": "WARNING"},
    )
    return path


def replays(counts: dict[int, int]) -> Iterator[dict[int, dict[int, FaultKind]]]:
    """Targeted: one fault at each boundary of the stop and one at each boundary of the start,
    a stop's and a start's in the same weekend (the start comes two runs after the stop's
    aftermath is checked); then the seeded sequences."""
    stops = list(targeted_plans(counts[STOP_RUN]))
    starts = list(targeted_plans(counts[START_RUN]))
    for stop, start in itertools.zip_longest(stops, starts):
        faults = {STOP_RUN: stop, START_RUN: start}
        yield {run: plan for run, plan in faults.items() if plan is not None}
    for seed in range(SEEDS):
        rng = random.Random(seed)
        yield {run: random_plan(rng, counts[run]) for run in RANDOM_FAULTED_RUNS}


def test_every_stop_and_start_interrupted_at_every_call_converges_exactly(policy: Path) -> None:
    book = ledger("scheduler")
    injector = FaultInjector()
    with faulty_cloud(injector):
        world = World(book, injector, Cloud(policy))
        counts = world.weekend({}, len(TIMELINE))  # the representative runs, fault-free
        book.boundaries = counts[STOP_RUN] + counts[START_RUN]

        for faults in replays(counts):
            book.replays += 1
            random_sequence = any(len(plan) > 1 for plan in faults.values())
            world.weekend(faults, len(TIMELINE) if random_sequence else TARGETED_LENGTH)

    assert_clean_and_documented(book)
