"""Warm sandboxes for the simulated week: one long-lived process per function, running the
function's built code (unpacked from the deployed stack, with its layers) in the Lambda
environment the local cloud builds for it, under the runtime venv's Python, like a warm Lambda
container that serves every invocation after the first.

Why not the Lambda RIE (localcloud.runtime) for these: the week makes about 10,000 canary runs,
2,000 scheduler runs and a notifier run per batch of messages; a cold start under the RIE takes
a second or more here, so the week would take hours. And the sandbox's clock reads the simulated
instant (sandbox_worker.py), which an RIE process cannot: Powertools stamps metrics with the
clock and drops a timestamp more than two weeks from it, so the canary's datapoints would land
at the real time, outside the simulated minutes CloudWatch's alarms evaluate.

    invoker = WarmInvoker(stack, warm={"CanaryFunction"}, clock=lambda: simulated_now)
    result = invoker(stack, "CanaryFunction", {"time": "..."})   # an Invoker for the Router
    invoker.close()

Functions not named in `warm` run as `localcloud.runtime.invoke` runs them (a cold start under
the RIE each time). Every invocation's EMF lines are published to moto as CloudWatch Logs would,
judged against the simulated instant.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from localcloud.artifacts import function_package
from localcloud.errors import RuntimeSetupError
from localcloud.metrics import publish_emf
from localcloud.runtime import (
    InvokeResult,
    interpret_response,
    invoke,
    lambda_environment,
    runtime_python,
)
from localcloud.stack import Stack

WORKER = Path(__file__).resolve().parent / "sandbox_worker.py"


@dataclass
class _Sandbox:
    process: subprocess.Popen[str]
    log_path: Path
    log: IO[bytes]
    recording: contextlib.ExitStack
    record_file: Path | None
    invocations: int = 0

    def call(self, event: Any, at: dt.datetime) -> tuple[str, str, float]:
        """The RIE-shaped answer, the log lines written meanwhile, and the duration in ms."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        request = {"event": event, "at": at.timestamp(), "request_id": str(uuid.uuid4())}
        started = time.monotonic()
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        duration_ms = (time.monotonic() - started) * 1000
        if not line:
            self.log.seek(0)
            tail = self.log.read().decode("utf-8", errors="replace")[-2000:]
            raise RuntimeSetupError(f"a warm sandbox exited:\n{tail}")
        self.invocations += 1
        return (
            str(json.loads(line)["response"]),
            self.log.read().decode(errors="replace"),
            duration_ms,
        )


@dataclass
class WarmInvoker:
    """An Invoker (localcloud.router) keeping the functions in `warm` in warm sandboxes."""

    stack: Stack
    warm: Collection[str]
    clock: Callable[[], dt.datetime]
    sandboxes: dict[str, _Sandbox] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    cold: dict[str, int] = field(default_factory=dict)
    # Wall time in each function's runs ("run <logical id>") and in publishing their EMF
    # metrics to moto ("metrics from logs"), seconds.
    spent: dict[str, float] = field(default_factory=dict)

    def __call__(
        self,
        stack: Stack,
        logical_id: str,
        event: Any,
        env_overrides: Mapping[str, str] | None = None,
    ) -> InvokeResult:
        self.counts[logical_id] = self.counts.get(logical_id, 0) + 1
        if logical_id not in self.warm:
            self.cold[logical_id] = self.cold.get(logical_id, 0) + 1
            return invoke(stack, logical_id, event, env_overrides)
        sandbox = self.sandboxes.get(logical_id) or self._start(logical_id, env_overrides)
        at = self.clock()
        started = time.monotonic()
        text, logs, duration_ms = sandbox.call(event, at)
        payload, error_type, error_message = interpret_response(text)
        called = time.monotonic()
        publish_emf(stack.endpoint, logs, now=at)  # CloudWatch Logs, at the simulated time
        self._spend(f"run {logical_id}", called - started)
        self._spend("metrics from logs", time.monotonic() - called)
        return InvokeResult(logical_id, payload, logs, duration_ms, error_type, error_message)

    def _spend(self, part: str, seconds: float) -> None:
        self.spent[part] = self.spent.get(part, 0.0) + seconds

    def _start(self, logical_id: str, env_overrides: Mapping[str, str] | None) -> _Sandbox:
        configuration = self.stack.endpoint.client("lambda").get_function_configuration(
            FunctionName=self.stack.function_name(logical_id)
        )
        package = function_package(self.stack, logical_id)
        python = runtime_python(self.stack.project)
        from iamjudge.localcloud import recording  # reads templates with localcloud's resolver

        exits = contextlib.ExitStack()
        recording_environ, record_file = exits.enter_context(
            recording(logical_id, package.python_path)
        )
        environ = {
            **lambda_environment(self.stack, configuration, package, python),
            **recording_environ,
            "LOCALCLOUD_ACCOUNT": self.stack.account_id,
            **(env_overrides or {}),
        }
        handle, name = tempfile.mkstemp(prefix=f"nightshift-week-{logical_id}-", suffix=".log")
        log_path = Path(name)
        process = subprocess.Popen(
            [str(python), str(WORKER), configuration["Handler"], str(log_path)],
            cwd=package.task_root,
            env=environ,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        sandbox = _Sandbox(process, log_path, open(handle, "rb"), exits, record_file)  # noqa: SIM115
        self.sandboxes[logical_id] = sandbox
        return sandbox

    def close(self) -> None:
        """Stop every sandbox; judge what each recorded (the IAM judge, when it is on)."""
        from iamjudge.localcloud import judge_invocation

        sandboxes, self.sandboxes = self.sandboxes, {}
        for logical_id, sandbox in sandboxes.items():
            assert sandbox.process.stdin is not None
            sandbox.process.stdin.close()
            try:
                sandbox.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sandbox.process.kill()
                sandbox.process.wait()
            sandbox.log.close()
            sandbox.log_path.unlink(missing_ok=True)
            try:
                if sandbox.record_file is not None:
                    _deduplicate(sandbox.record_file)
                    judge_invocation(self.stack, logical_id, sandbox.record_file)
            finally:
                sandbox.recording.close()


def _deduplicate(path: Path) -> None:
    """The same call recorded ten thousand times is judged once."""
    lines = dict.fromkeys(path.read_text(encoding="utf-8").splitlines())
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
