"""Wall time of one canary run over 50 endpoints that each answer in 200 ms: the probe engine as
deployed (concurrent) against the same run done one probe after another. Medians of 5 runs.

    cd /work/main && .venv/bin/python -m bench.canary_concurrency

The endpoints are one local threaded HTTP server (tests/support/health_server.py) answering the
seeds' healthy /health body after a 200 ms pause, on 50 paths. The engine uses one thread per
check, at most 32 (`probe.MAX_WORKERS`, the policy's cap on checks), so 50 checks take two waves;
the "one thread per check" line shows what a single wave costs. Results are written into
docs/canary.md ("Timing").
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from nightshift.canary import Check, ProbeTiming, probe_all
from tests.support.health_server import HealthServer

ENDPOINTS = 50
ANSWER_DELAY_S = 0.2
RUNS = 5
CONDITIONS = ["[STATUS] == 200", "[BODY].status == healthy"]
MODES = {
    "concurrent, as deployed (32 threads)": ProbeTiming(),
    "concurrent, one thread per check": ProbeTiming(max_workers=ENDPOINTS),
    "one probe after another": ProbeTiming(max_workers=1),
}


def no_secrets(name: str) -> str:
    raise LookupError(name)  # the bench's checks have no secret headers


def one_run(checks: list[Check], timing: ProbeTiming) -> float:
    started = time.perf_counter()
    results = probe_all(
        checks, resolve_header_secret=no_secrets, now=dt.datetime.now(dt.UTC), timing=timing
    )
    elapsed = time.perf_counter() - started
    if results.failing:
        raise SystemExit(f"bench is invalid: {results.failing[0].reason}")
    return elapsed


def main() -> None:
    with HealthServer() as app:
        app.answer(app.healthy(delay_s=ANSWER_DELAY_S))
        checks = [
            Check.build(f"endpoint-{i:02d}", app.url(f"/health/{i}"), CONDITIONS)
            for i in range(ENDPOINTS)
        ]
        one_run(checks, ProbeTiming())  # warm up: imports, TLS-free sockets, the server's threads
        print(
            f"{ENDPOINTS} endpoints answering in {ANSWER_DELAY_S * 1000:.0f} ms each, "
            f"median of {RUNS} runs:"
        )
        medians = {}
        for label, timing in MODES.items():
            medians[label] = statistics.median(one_run(checks, timing) for _ in range(RUNS))
            print(f"  {label:<40} {medians[label]:7.2f} s")
        sequential = medians["one probe after another"]
        deployed = medians["concurrent, as deployed (32 threads)"]
        print(f"  speed-up as deployed: {sequential / deployed:.0f}x")


if __name__ == "__main__":
    main()
