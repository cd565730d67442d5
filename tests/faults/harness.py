"""The fault tier's bookkeeping: per function, the boundaries enumerated, the replays, the faults
injected and every invariant checked, and docs/reliability.md written from them.

Each function's test records a representative run's AWS calls (its boundaries), replays the run
once per boundary x fault kind and then in seeded random multi-fault sequences, lets the next
scheduled runs happen fault-free, and checks its invariants through `Ledger.check`. At the end
it asserts no violation and that the committed docs/reliability.md says exactly what this run
measured (`assert_documented`); `make reliability` rewrites the page instead.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from moto import mock_aws

from tests.support.faults import FAULT_KINDS, Call, FaultInjector, FaultKind

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reliability.md"
# `make reliability` sets it: write the page from this run instead of checking it.
WRITE_VARIABLE = "NIGHTSHIFT_WRITE_RELIABILITY"
SEEDS = 10  # seeded multi-fault sequences per function


@dataclass
class Ledger:
    """What the tier did to one function and what it found."""

    function: str
    boundaries: int = 0
    replays: int = 0
    runs: int = 0
    faults: Counter[FaultKind] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)
    violations: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def check(self, invariant: str, holds: bool, detail: Callable[[], str]) -> None:
        """Count one check of `invariant`; keep the first violation's description."""
        self.checks[invariant] += 1
        if not holds:
            self.violations[invariant] += 1
            self.examples.setdefault(invariant, detail())

    def injected(self, faults: Sequence[tuple[Call, FaultKind]]) -> None:
        self.faults.update(kind for _, kind in faults)

    @property
    def total_violations(self) -> int:
        return sum(self.violations.values())

    def section(self) -> str:
        """This function's part of docs/reliability.md (deterministic: seeded, no timings)."""
        faults = ", ".join(f"{kind.value} {self.faults[kind]}" for kind in FAULT_KINDS)
        lines = [
            f"### {self.function}",
            "",
            (
                f"{self.boundaries} call boundaries x {len(FAULT_KINDS)} fault kinds, "
                f"{self.replays} replays (the last {SEEDS} seeded multi-fault sequences), "
                f"{self.runs:,} handler runs, {sum(self.faults.values()):,} faults injected "
                f"({faults})."
            ),
            "",
            "| invariant | checks | violations |",
            "| --- | ---: | ---: |",
        ]
        lines += [
            f"| {name} | {count:,} | {self.violations[name]} |"
            for name, count in sorted(self.checks.items())
        ]
        return "\n".join(lines) + "\n"

    def summary_row(self) -> str:
        return (
            f"| {self.function} | {self.boundaries} | {self.replays:,} | {self.runs:,} | "
            f"{sum(self.faults.values()):,} | {self.total_violations} |"
        )


LEDGERS: dict[str, Ledger] = {}


def ledger(function: str) -> Ledger:
    LEDGERS[function] = Ledger(function)
    return LEDGERS[function]


def assert_clean_and_documented(book: Ledger) -> None:
    """No violation, and the committed page says what this run measured."""
    assert book.total_violations == 0, "\n".join(
        f"{name}: {count} violations, e.g. {book.examples[name]}"
        for name, count in book.violations.items()
    )
    if os.environ.get(WRITE_VARIABLE):
        return
    assert PAGE.exists(), "docs/reliability.md is missing: run `make reliability`"
    assert book.section() in PAGE.read_text(encoding="utf-8"), (
        f"docs/reliability.md does not show this run's figures for {book.function}: "
        "run `make reliability` and commit the page"
    )


def new_process(app: ModuleType, keep: tuple[str, ...] = ()) -> None:
    """After a crash: drop what the handler module caches (`functools.cache`: settings, policy,
    ports), as the new Lambda process that handles the next invocation would not have it.
    `keep` names caches of stateless boto3 clients kept to keep the tier fast."""
    for name, value in vars(app).items():
        if callable(getattr(value, "cache_clear", None)) and name not in keep:
            value.cache_clear()


def targeted_plans(calls: int) -> Iterator[dict[int, FaultKind]]:
    """One plan per call boundary x fault kind."""
    for index in range(calls):
        for kind in FAULT_KINDS:
            yield {index: kind}


def random_plan(rng: random.Random, calls: int) -> dict[int, FaultKind]:
    """Two or three faults at distinct boundaries of a run of `calls` calls."""
    count = min(calls, rng.choice((2, 3)))
    return {index: rng.choice(FAULT_KINDS) for index in sorted(rng.sample(range(calls), count))}


_SESSIONS: dict[int, boto3.Session] = {}


@contextmanager
def faulty_cloud(injector: FaultInjector) -> Iterator[None]:
    """A fresh moto account whose default boto3 session carries `injector`: every client made
    from it (the handler's, the test's) passes its calls through the injector, which only acts
    while armed. The session is made once per injector (service models load once)."""
    with mock_aws():
        session = _SESSIONS.get(id(injector))
        if session is None:
            session = _SESSIONS[id(injector)] = boto3.Session()
            injector.install(session.events)
        boto3.DEFAULT_SESSION = session
        yield


def run_armed(
    book: Ledger, injector: FaultInjector, plan: dict[int, FaultKind], invoke: Callable[[], Any]
) -> tuple[Any, BaseException | None, list[Call]]:
    """One handler run with `plan` armed; returns its result or what ended it, and its calls."""
    injector.arm(plan)
    try:
        result, ended = invoke(), None
    except BaseException as exc:  # a crash or a raised error ends the invocation
        if isinstance(exc, KeyboardInterrupt):
            raise
        result, ended = None, exc
    finally:
        injector.disarm()
    book.runs += 1
    book.injected(injector.injected)
    return result, ended, list(injector.calls)


def write_page(seconds: float, machine: str) -> None:
    """docs/reliability.md from every ledger of this session."""
    ledgers = [LEDGERS[name] for name in sorted(LEDGERS)]
    total = sum(book.total_violations for book in ledgers)
    header = [
        "# Reliability",
        "",
        (
            "<!-- Generated by `make reliability` (tests/faults/harness.py) from the fault tier's run;"
            " edit the harness, not this page. -->"
        ),
        "",
        (
            "The fault tier (`tests/faults/`, run by `make test` and on its own by `make test-faults`)"
            " records the AWS calls of a representative run of each function, then replays the run"
            " once per call boundary and fault kind, and in seeded random sequences of two or three"
            " faults per run over consecutive runs, lets the following scheduled runs (or Lambda's"
            " retries) happen fault-free, and checks the function's invariants after every run."
            f" **{total} violations.**"
        ),
        "",
        "| function | call boundaries | replays | handler runs | faults injected | violations |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(book.summary_row() for book in ledgers),
        "",
        (
            f"The tier took {seconds:.0f} s on this machine ({machine}, shared with other work),"
            " in-process under moto."
        ),
        "",
    ]
    body = "\n".join(header) + "\n" + METHOD + "\n## Per function\n\n"
    body += "\n".join(book.section() for book in ledgers)
    PAGE.write_text(body, encoding="utf-8")


METHOD = """## How faults are injected

A `FaultInjector` (tests/support/faults.py) is registered on the boto3 session the handler's
clients are made from, with botocore's own event hooks, so every AWS call of the real code passes
through it:

| fault | how | reaches AWS? |
| --- | --- | --- |
| throttle | the service's own error (`ThrottlingException`, `Throttling`, `RequestLimitExceeded`, `ThrottledException`), answered from `before-call` | no |
| 5xx | HTTP 500 with the service's code (`InternalFailure`, `InternalError`, `ServerException`, `InternalServerError`) from `before-call` | no |
| access denied | HTTP 403 `AccessDeniedException` / `AccessDenied` / `UnauthorizedOperation` from `before-call` | no |
| timeout | botocore's `ReadTimeoutError` raised from `after-call`: the call took effect, its answer is lost | yes |
| crash before | `ProcessCrash`, a `BaseException` no `except Exception` catches, from `before-call` | no |
| crash after | `ProcessCrash` from `after-call` | yes |

**Retries.** `before-call` runs outside botocore's retry loop, so an injected throttle or 5xx is
seen by Nightshift's code exactly as one that outlasted every attempt of botocore's retry mode
(standard or adaptive): every injected fault reaches the code, none is absorbed. A transient
throttle or 5xx that a retry would absorb never reaches Nightshift's code at all, so it needs no
test of its own; throttling that persists is the case tested here. Nightshift's own retries
(the pruner's pacer backs off and retries a throttled call; Lambda retries a failed asynchronous
redeploy twice; the scheduler's next run) are part of what is tested.

**Crashes.** After a crash the next run starts as a new Lambda process would: the handler's
cached policy and ports are dropped (its boto3 clients, which hold no state of Nightshift's, are
kept to keep the tier fast).

**Boundaries** are the calls of the representative run(s) with nothing failing; a fault at a
boundary strikes the call with that number in the faulted run. Seeded sequences draw two or
three boundaries and kinds per faulted run (seeds 0 to 9), so the figures below are the same on
every run of the tier.
"""
