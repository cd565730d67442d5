"""Canary: wall time of one run over 50 endpoints that each answer in 200 ms, the probe engine
as deployed (concurrent) against the same run done one probe after another.

    .venv/bin/python -m bench.canary [--repeat 5]

The endpoints are one local threaded HTTP server (the local cloud's health_server) answering the
seeds' healthy /health body after a 200 ms pause, on 50 paths. The engine (`probe_all`, the adapter
the canary handler wires in) uses one thread per check, at most 32 (`ProbeTiming().max_workers`, the
policy's cap on checks), so 50 checks take two waves; the "one thread per check" mode shows what
a single wave costs. The floor of a concurrent run is one answer (0.2 s); of a sequential run,
all fifty (10 s). Each mode runs `--repeat` times after one warm-up run, in turn.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from localcloud.health_server import HealthServer
from nightshift.adapters.http_probe import ProbeTiming, probe_all
from nightshift.canary import Check

ENDPOINTS = 50
ANSWER_DELAY_S = 0.2
CONDITIONS = ["[STATUS] == 200", "[BODY].status == healthy"]
DEPLOYED = "concurrent, as deployed (32 threads)"
ONE_WAVE = "concurrent, one thread per check"
SEQUENTIAL = "one probe after another"
MODES = {
    DEPLOYED: ProbeTiming(),
    ONE_WAVE: ProbeTiming(max_workers=ENDPOINTS),
    SEQUENTIAL: ProbeTiming(max_workers=1),
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
        raise RuntimeError(f"bench is invalid: {results.failing[0].reason}")
    return elapsed


def measure(repeat: int, progress: Any = None) -> dict[str, Any]:
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    with HealthServer() as app:
        app.answer(app.healthy(delay_s=ANSWER_DELAY_S))
        checks = [
            Check.build(f"endpoint-{i:02d}", app.url(f"/health/{i}"), CONDITIONS)
            for i in range(ENDPOINTS)
        ]
        one_run(checks, ProbeTiming())  # warm up: imports, sockets, the server's threads
        for _ in range(repeat):
            for mode, timing in MODES.items():
                samples[mode].append(one_run(checks, timing))
        if progress:
            progress(f"canary: {repeat} runs per mode")
    medians = {mode: statistics.median(found) for mode, found in samples.items()}
    return {
        "endpoints": ENDPOINTS,
        "answer_delay_s": ANSWER_DELAY_S,
        "repeat": repeat,
        "max_workers_deployed": ProbeTiming().max_workers,
        "samples_s": samples,
        "median_s": medians,
        "floor_concurrent_s": ANSWER_DELAY_S,
        "floor_sequential_s": ANSWER_DELAY_S * ENDPOINTS,
        "speedup_deployed": medians[SEQUENTIAL] / medians[DEPLOYED],
        "speedup_one_wave": medians[SEQUENTIAL] / medians[ONE_WAVE],
    }


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    options = parser.parse_args(arguments)
    results = measure(options.repeat)
    if options.out:
        options.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(
        f"{ENDPOINTS} endpoints answering in {ANSWER_DELAY_S * 1000:.0f} ms each, "
        f"median of {options.repeat} runs:"
    )
    for mode, seconds in results["median_s"].items():
        print(f"  {mode:<40} {seconds:7.2f} s")
    print(f"  speed-up as deployed: {results['speedup_deployed']:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
