"""A warm Lambda sandbox for the simulated week: run by the runtime venv's Python (standard
library only), it imports one built function's handler once, then answers invocations read from
stdin, one JSON line each, until stdin closes. Not part of any deployment.

Each request line is {"event": ..., "at": <epoch seconds>, "request_id": "..."}. While the
handler runs, the process's clock reads the simulated instant `at` plus the time spent since
the invocation began (time.time, time.time_ns, datetime.now, datetime.utcnow), as libfaketime
would set it for the whole sandbox: the function takes the instant from its event, and
Powertools stamps metrics and checks their age with this clock. A sleep (time.sleep) passes on
that clock without waiting: the simulated world does not move while a function runs (the
harness waits for its answer), so a real wait would change nothing the function then sees.
The sleep that matters is the canary's 100-300 ms pause before it retries a failing check,
every minute staging is parked (about two thirds of the week: some 20 minutes of real waiting
otherwise). time.monotonic moves on with the sleeps, so a function that sleeps until a
monotonic deadline gets there. The function's stdout and stderr (its log lines, EMF included)
go to the file named by argv[2]; each answer is one JSON line on the original stdout:
{"response": "<what the RIE would answer>"}.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
import sys
import threading
import time as _time
import traceback

_real_time = _time.time
_real_time_ns = _time.time_ns
_real_monotonic = _time.monotonic
_RealDateTime = _dt.datetime
_offset = 0.0  # simulated minus wall seconds, for the invocation running now
_slept = 0.0  # seconds slept on the simulated clock, over the sandbox's life
_sleeping = threading.Lock()


def _time_now() -> float:
    return _real_time() + _offset


def _time_ns_now() -> int:
    return _real_time_ns() + int(_offset * 1e9)


def _monotonic_now() -> float:
    return _real_monotonic() + _slept


def _sleep(seconds: float) -> None:
    """Sleep on the simulated clock: it moves on by `seconds` at once. Threads that sleep at the
    same time add their sleeps up instead of overlapping (the week's canary has one check, so
    one thread sleeps)."""
    global _offset, _slept
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    with _sleeping:
        _offset += seconds
        _slept += seconds


class _SimulatedDateTime(_RealDateTime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
        return _RealDateTime.now(tz) + _dt.timedelta(seconds=_offset)

    @classmethod
    def utcnow(cls):  # type: ignore[no-untyped-def,override]
        return _RealDateTime.now(_dt.UTC).replace(tzinfo=None) + _dt.timedelta(seconds=_offset)


_time.time = _time_now
_time.time_ns = _time_ns_now
_time.monotonic = _monotonic_now
_time.sleep = _sleep
_dt.datetime = _SimulatedDateTime  # type: ignore[misc]


class Context:
    """What Lambda passes as `context` (the attributes Powertools and the functions read)."""

    def __init__(self, request_id: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        region = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", ""))
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{os.environ.get('LOCALCLOUD_ACCOUNT', '123456789012')}"
            f":function:{self.function_name}"
        )
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - _monotonic_now()) * 1000))


def main() -> None:
    global _offset
    handler_name, log_path = sys.argv[1], sys.argv[2]
    answers = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.path.insert(0, os.getcwd())
    module_name, function_name = handler_name.rsplit(".", 1)
    timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    handler = None
    for line in sys.stdin:
        request = json.loads(line)
        _offset = float(request["at"]) - _real_time()
        request_id = request["request_id"]
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
        try:
            if handler is None:  # the init phase, in the first invocation's clock
                handler = getattr(importlib.import_module(module_name), function_name)
            context = Context(request_id, _monotonic_now() + timeout)
            response = json.dumps(handler(request["event"], context))
        except Exception as exc:  # Lambda's error object for an unhandled exception
            response = json.dumps(
                {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": request_id,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
            )
        sys.stdout.flush()
        sys.stderr.flush()
        print(f"END RequestId: {request_id}", flush=True)
        answers.write(json.dumps({"response": response}) + "\n")


if __name__ == "__main__":
    main()
