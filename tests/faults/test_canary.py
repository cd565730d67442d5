"""The canary under faults: a run probing two checks of a local health endpoint and creating
their alarms, replayed with a fault at every AWS call (alarms, status memory, report), then the
next run fault-free.

The deployment (`Stack`), the health endpoint and the checks are the functional tier's
(`tests/functional/test_canary.py`, `tests/functional/conftest.py`).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_event
from tests.faults.harness import (
    SEEDS,
    Ledger,
    assert_clean_and_documented,
    faulty_cloud,
    ledger,
    random_plan,
    run_armed,
    targeted_plans,
)
from tests.functional.test_canary import check, deployed_stack, recent_time
from tests.support.faults import FaultInjector, FaultKind
from tests.support.health_server import HealthServer

CHECKS = ("api", "web")
RUNS = 2  # the faulted run, then one fault-free
# The partitions the canary reads (Query) before it probes: the snoozed checks and its memory of
# earlier runs (its last report and the checks' phases).
BEFORE_PROBE = ("canary#snooze", "canary#status")


class Deployment:
    """A fresh account with the canary's topic and table, and its two checks."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        server: HealthServer,
    ) -> None:
        self.stack = deployed_stack(
            monkeypatch, tmp_path, capsys, extra={"POWERTOOLS_LOG_LEVEL": "WARNING"}
        )
        self.stack.write_policy(*(check(name, server.url()) for name in CHECKS))


def play(book: Ledger, injector: FaultInjector, deployment: Deployment, faults: Any) -> list[int]:
    stack = deployment.stack
    counts = []
    for index in range(RUNS):
        event = {**load_event("canary", "scheduled"), "time": recent_time()}
        _, ended, calls = run_armed(
            book, injector, faults.get(index, {}), lambda event=event: stack.invoke(event)
        )
        counts.append(len(calls))
        # The snoozed checks (docs/actions.md) and the canary's memory are read before the
        # probe: a run that ended there probed nothing, so it has no result to lose.
        before_probe = (
            ended is not None
            and bool(calls)
            and calls[-1].operation == "Query"
            and any(partition in calls[-1].body for partition in BEFORE_PROBE)
        )
        lost = [
            name
            for name in CHECKS
            if not before_probe and stack.metric("Success", Check=name) != 1.0
        ]
        book.check(
            "every probe result is published as metrics whatever fails after the probe",
            not lost,
            lambda lost=lost, ended=ended: (
                f"no Success metric for {lost} ({ended!r}, {injector.injected})"
            ),
        )
    alarms = stack.alarms()
    missing = [name for name in CHECKS if not any(a.endswith(f"-{name}") for a in alarms)]
    book.check(
        "the alarms are in step after the next fault-free run",
        not missing and len(alarms) == len(CHECKS),  # one down alarm per check (plain HTTP)
        lambda: f"alarms {sorted(alarms)}; none for {missing}",
    )
    return counts


def replays(calls: int) -> Iterator[dict[int, dict[int, FaultKind]]]:
    for plan in targeted_plans(calls):
        yield {0: plan}
    for seed in range(SEEDS):
        rng = random.Random(seed)
        yield {0: random_plan(rng, calls)}


def test_every_canary_run_faulted_at_every_call_keeps_its_probe_results(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    health_server: HealthServer,
) -> None:
    book = ledger("canary")
    injector = FaultInjector()
    with faulty_cloud(injector):
        deployment = Deployment(monkeypatch, tmp_path, capsys, health_server)
        first = play(book, injector, deployment, {})
    book.boundaries = first[0]
    for faults in replays(first[0]):
        book.replays += 1
        with faulty_cloud(injector):
            play(book, injector, Deployment(monkeypatch, tmp_path, capsys, health_server), faults)

    assert_clean_and_documented(book)
