"""Run one deployed function under the Lambda Runtime Interface Emulator (RIE), like Lambda does.

Each invocation is a cold start: the RIE that ships inside aws-sam-cli starts `python -m
awslambdaric <handler>` (through lambda_bootstrap.py, for the context's function ARN) in the
function's unpacked code, the event is POSTed to it, and the
response is the function's result (or Lambda's error object). The Python is a dedicated 3.13
venv holding only what the Lambda python3.13 runtime provides (boto3 and awslambdaric), never
the dev venv, so a dependency missing from the layer fails here as it would in AWS.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import samcli

from localcloud.artifacts import FunctionPackage, function_package
from localcloud.errors import RuntimeSetupError
from localcloud.metrics import publish_emf
from localcloud.project import Project
from localcloud.server import free_port
from localcloud.stack import Stack

SUPPORTED_RUNTIME = "python3.13"
# What the Lambda python3.13 image provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "awslambdaric")
TIMEOUT_ERROR = "Sandbox.Timedout"
_INVOCATIONS_PATH = "/2015-03-31/functions/function/invocations"
_RIE_START_TIMEOUT_S = 10.0
_REQUEST_ID = re.compile(r"START RequestId: (\S+)")
_BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")


@dataclass(frozen=True)
class InvokeResult:
    """What one invocation returned: the payload as Lambda's Invoke API would give it."""

    function: str
    payload: Any
    logs: str
    duration_ms: float
    error_type: str | None = None
    error_message: str | None = None

    @property
    def error(self) -> bool:
        return self.error_type is not None

    @property
    def timed_out(self) -> bool:
        return self.error_type == TIMEOUT_ERROR

    @property
    def request_id(self) -> str:
        """The request id the RIE gave this invocation (from its START line)."""
        match = _REQUEST_ID.search(self.logs)
        return match.group(1) if match else ""


def interpret_response(text: str) -> tuple[Any, str | None, str | None]:
    """(payload, error type, error message) from what the RIE answered.

    The RIE answers 200 in every case; an unhandled error is Lambda's error object and a
    timeout is a line of text, which becomes the error object Lambda's Invoke API would return.

    >>> interpret_response('{"batchItemFailures": []}')
    ({'batchItemFailures': []}, None, None)
    >>> interpret_response("Task timed out after 3.00 seconds")[1]
    'Sandbox.Timedout'
    """
    if text.startswith("Task timed out after"):
        return {"errorType": TIMEOUT_ERROR, "errorMessage": text}, TIMEOUT_ERROR, text
    try:
        payload = json.loads(text) if text else None
    except json.JSONDecodeError:
        message = f"the runtime answered with something that is not JSON: {text[:200]!r}"
        return (
            {"errorType": "Runtime.InvalidResponse", "errorMessage": message},
            ("Runtime.InvalidResponse"),
            message,
        )
    if isinstance(payload, dict) and {"errorType", "errorMessage"} <= payload.keys():
        return payload, str(payload["errorType"]), str(payload["errorMessage"])
    return payload, None, None


# ---------------------------------------------------------------------------- runtime venv
def runtime_python(project: Project) -> Path:
    """The Python of the runtime venv (`.localcloud/runtime-venv`), created on first use with
    Python 3.13 and the boto3/awslambdaric versions pinned in requirements/dev.txt."""
    venv = project.state_dir / "runtime-venv"
    python = venv / "bin" / "python"
    stamp = venv / ".localcloud-stamp"
    wanted = _runtime_stamp(project)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    project.state_dir.mkdir(parents=True, exist_ok=True)
    with _lock(project.state_dir / "runtime-venv.lock"):
        if python.exists() and stamp.exists() and stamp.read_text() == wanted:
            return python
        shutil.rmtree(venv, ignore_errors=True)
        base = _python313(project)
        _run([base, "-m", "venv", str(venv)], "create the runtime venv")
        _run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--constraint",
                str(project.constraints),
                *RUNTIME_PACKAGES,
            ],
            "install boto3 and awslambdaric into the runtime venv",
        )
        stamp.write_text(wanted)
    return python


def _runtime_stamp(project: Project) -> str:
    pins = sorted(
        line.strip()
        for line in project.constraints.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return hashlib.sha256("\n".join([*RUNTIME_PACKAGES, *pins]).encode()).hexdigest()


def _python313(project: Project) -> str:
    done = subprocess.run([str(project.find_python)], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeSetupError(f"no Python 3.13 for the runtime venv: {done.stderr.strip()}")
    return done.stdout.strip()


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeSetupError(f"could not {what}:\n{done.stdout}{done.stderr}")


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def emulator_binary() -> Path:
    """The RIE that ships inside aws-sam-cli, for this machine's architecture."""
    arch = "arm64" if platform.machine().lower() in {"aarch64", "arm64"} else "x86_64"
    binary = Path(samcli.__file__).parent / "local" / "rapid" / f"aws-lambda-rie-{arch}"
    if not binary.exists():
        raise RuntimeSetupError(f"the Lambda RIE is missing from aws-sam-cli: {binary}")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    return binary


# -------------------------------------------------------------------------------- invoking
def lambda_environment(
    stack: Stack,
    configuration: Mapping[str, Any],
    package: FunctionPackage,
    python: Path,
) -> dict[str, str]:
    """The function's environment as Lambda builds it, pointed at moto and the emulated /opt.

    The function's own variables come from the deployed function (moto resolved their Ref and
    GetAtt); values naming a file under /opt point into the emulated /opt. Lambda's reserved
    variables are set as Lambda sets them and win over the function's.
    """
    name = configuration["FunctionName"]
    variables = configuration.get("Environment", {}).get("Variables", {})
    reserved = {
        "PATH": os.pathsep.join([str(python.parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": package.python_path,
        "LAMBDA_TASK_ROOT": str(package.task_root),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{SUPPORTED_RUNTIME}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration.get("MemorySize", 128)),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(configuration.get("Timeout", 3)),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "localcloud/[$LATEST]",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        # What `sam local invoke` sets; Powertools Tracer stays quiet under it.
        "AWS_SAM_LOCAL": "true",
        # No developer profile or credentials file can leak into the function.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **stack.endpoint.environ(),
    }
    return {
        **{key: package.local_path(str(value)) for key, value in variables.items()},
        **reserved,
    }


def invoke(
    stack: Stack,
    logical_id: str,
    event: Any,
    env_overrides: Mapping[str, str] | None = None,
) -> InvokeResult:
    """Run the deployed function `logical_id` once with `event`, as a cold start under the RIE.

    `env_overrides` replace or add environment variables (taken literally, after everything).
    A function that runs past its Timeout is stopped and reported as `Sandbox.Timedout`.
    """
    configuration = stack.endpoint.client("lambda").get_function_configuration(
        FunctionName=stack.function_name(logical_id)
    )
    runtime = configuration.get("Runtime", "")
    if runtime != SUPPORTED_RUNTIME:
        raise RuntimeSetupError(
            f"{logical_id} uses runtime {runtime!r}; the local cloud runs {SUPPORTED_RUNTIME}"
        )
    package = function_package(stack, logical_id)
    python = runtime_python(stack.project)
    # The IAM judge (tools/iamjudge): the function records its AWS calls; judged after it ends.
    # Imported here: iamjudge reads templates with localcloud's resolver.
    from iamjudge.localcloud import judge_invocation, recording

    with recording(logical_id, package.python_path) as (recording_environ, record_file):
        environ = {
            **lambda_environment(stack, configuration, package, python),
            **recording_environ,
            # Read (and removed) by lambda_bootstrap.py: the context's ARN, as Lambda gives it.
            "LOCALCLOUD_FUNCTION_ARN": str(configuration["FunctionArn"]),
            **(env_overrides or {}),
        }
        result = _run_once(stack, logical_id, configuration, package, python, event, environ)
        if record_file is not None:
            judge_invocation(stack, logical_id, record_file)
    return result


def _run_once(
    stack: Stack,
    logical_id: str,
    configuration: Mapping[str, Any],
    package: FunctionPackage,
    python: Path,
    event: Any,
    environ: Mapping[str, str],
) -> InvokeResult:
    """One run under the RIE, its response interpreted and its EMF lines published."""
    timeout_s = float(configuration.get("Timeout", 3))
    with tempfile.TemporaryFile() as log:
        process, address = _start_emulator(
            python, configuration["Handler"], package.task_root, environ, log
        )
        try:
            started = time.monotonic()
            text = _post(address, event, timeout_s)
            duration_ms = (time.monotonic() - started) * 1000
        finally:
            _stop(process)
        log.seek(0)
        logs = log.read().decode("utf-8", errors="replace")
    if text is None:
        text = f"Task timed out after {timeout_s:.2f} seconds"
    payload, error_type, error_message = interpret_response(text)
    publish_emf(stack.endpoint, logs)  # what CloudWatch Logs does with the function's EMF lines
    return InvokeResult(
        function=logical_id,
        payload=payload,
        logs=logs,
        duration_ms=duration_ms,
        error_type=error_type,
        error_message=error_message,
    )


def _start_emulator(
    python: Path, handler: str, task_root: Path, environ: Mapping[str, str], log: Any
) -> tuple[subprocess.Popen[bytes], str]:
    for _attempt in range(3):  # a free port can be taken between probing and binding it
        invoke_port, runtime_api_port = free_port(), free_port()
        process = subprocess.Popen(
            [
                str(emulator_binary()),
                "--runtime-interface-emulator-address",
                f"127.0.0.1:{invoke_port}",
                "--runtime-api-address",
                f"127.0.0.1:{runtime_api_port}",
                "--log-level",
                "error",
                str(python),
                str(_BOOTSTRAP),  # `python -m awslambdaric` with Lambda's invoked function ARN
                handler,
            ],
            cwd=task_root,
            env=dict(environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops the runtime too
        )
        deadline = time.monotonic() + _RIE_START_TIMEOUT_S
        while process.poll() is None and time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", invoke_port), timeout=0.2),
            ):
                return process, f"http://127.0.0.1:{invoke_port}"
            time.sleep(0.01)
        _stop(process)
    log.seek(0)
    raise RuntimeSetupError(f"the Lambda RIE did not start:\n{log.read().decode(errors='replace')}")


def _post(address: str, event: Any, timeout_s: float) -> str | None:
    """The RIE's answer, or None if even the RIE did not answer in time."""
    request = urllib.request.Request(
        address + _INVOCATIONS_PATH,
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        # The RIE enforces the function's timeout itself; the margin covers the cold start.
        with urllib.request.urlopen(request, timeout=timeout_s + 15) as reply:
            return str(reply.read().decode("utf-8", errors="replace"))
    except TimeoutError:
        return None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return None
        raise RuntimeSetupError(f"the Lambda RIE failed: {exc}") from exc


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
