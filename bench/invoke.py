"""Run one Nightshift handler once, as Lambda would, and write down what it cost.

    python -m bench.invoke REQUEST.json RESULT.json

The child process of `bench.tools.run_nightshift`. The request names the function, its event,
the environment the template would give it, the Lambda time budget and, for the pruner, the
factor by which to multiply its pacers' rates. The handler is `functions/<name>/app.py`, imported
by path as Lambda imports it. Every HTTP request its boto3 clients send is counted with botocore
`before-send` hooks on the default session (retries included), and every error code seen with
`response-received`.

The result: seconds to import (boto3 and the handler), seconds in the handler, requests and
error codes per operation, and the handler's own report (its return value).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CallMeter:
    """HTTP requests per `service:Operation` and the error codes AWS answered."""

    requests: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)

    def before_send(self, event_name: str, **_: Any) -> None:
        self.requests[_operation(event_name)] += 1

    def response_received(
        self, event_name: str, parsed_response: dict[str, Any] | None = None, **_: Any
    ) -> None:
        code = ((parsed_response or {}).get("Error") or {}).get("Code")
        if code:
            self.error_codes[f"{_operation(event_name)} {code}"] += 1


def _operation(event_name: str) -> str:
    _, service, operation = event_name.split(".", 2)
    return f"{service}:{operation}"


class BenchContext:
    """The Lambda context attributes the handlers read; remaining time runs with the clock."""

    function_name = "nightshift-bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:nightshift-bench"
    aws_request_id = "bench-0000-0000"

    def __init__(self, budget_seconds: float) -> None:
        self._deadline = time.monotonic() + budget_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def load_handler(function: str) -> ModuleType:
    """`functions/<function>/app.py` as the module `<function>_app` (tests/conftest.py does
    the same)."""
    name = f"{function}_app"
    spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / function / "app.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no handler for {function}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def scale_pruner_pacers(rate_scale: float) -> None:
    """Multiply the pruner's pacer rates (its view of AWS's buckets) by `rate_scale`; the
    bursts stay as documented. The throttle proxy scales the server's buckets the same way."""
    from nightshift import pacing
    from nightshift.retention import SnapshotKind, service

    def scaled_pacers(*, clock: Any, sleep: Any, rand: Any) -> dict[Any, pacing.Pacer]:
        def pacer(limit: pacing.RateLimit) -> pacing.Pacer:
            scaled = replace(limit, rate=limit.rate * rate_scale)
            return pacing.Pacer(scaled, clock=clock, sleep=sleep, rand=rand)

        rds = pacer(pacing.RDS_API)  # one bucket for every RDS call, as in AWS
        return {
            SnapshotKind.EBS: pacer(pacing.EC2_DELETE_SNAPSHOT),
            SnapshotKind.RDS: rds,
            SnapshotKind.AURORA: rds,
        }

    service.pruner_pacers = scaled_pacers  # type: ignore[attr-defined]


def main() -> None:
    request = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    os.environ.update(request["environment"])
    import_started = time.perf_counter()
    import boto3

    boto3.setup_default_session()
    meter = CallMeter()
    boto3.DEFAULT_SESSION.events.register("before-send", meter.before_send)
    boto3.DEFAULT_SESSION.events.register("response-received", meter.response_received)
    handler = load_handler(request["function"])
    imported = time.perf_counter()
    if request.get("pacer_rate_scale") is not None:
        scale_pruner_pacers(float(request["pacer_rate_scale"]))
    context = BenchContext(float(request.get("budget_seconds", 900)))
    error = None
    report: Any = None
    handler_started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # Powertools' log and EMF lines
        try:
            report = handler.lambda_handler(request["event"], context)
        except Exception as exc:  # the bench reports a failed run; it does not hide it
            error = f"{type(exc).__name__}: {exc}"
    finished = time.perf_counter()
    result = {
        "import_s": imported - import_started,
        "handler_s": finished - handler_started,
        "requests": dict(meter.requests),
        "error_codes": dict(meter.error_codes),
        "report": report,
        "error": error,
    }
    Path(sys.argv[2]).write_text(json.dumps(result, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
