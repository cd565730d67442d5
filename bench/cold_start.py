"""Cold start: how long Python 3.13 takes to import each handler, against a bare handler that
only imports boto3 (what every Python function pays), and how big the built layer is.

    .venv/bin/python -m bench.cold_start [--repeat 10]

Each sample is a fresh interpreter without site-packages (`python -I -S`) whose sys.path is
what Lambda's is: the function's folder (/var/task), the layer's `python/` folder (/opt/python),
then the runtime's boto3 (/var/runtime), here `.bench/lambda-runtime`: boto3 and its
dependencies installed precompiled from bench/requirements-lambda-runtime.txt. It times
`import app`, then, in the same interpreter, the policy part of the handler's first run: loading
the deployed policy (`nightshift.policy.load_policy` of the policy layer's nightshift.yaml, which
the build ships as JSON, validated by the schema the layer's build compiled). The artifacts are
`sam build`'s (`.aws-sam/build`), copied to a scratch folder so that nothing is written into them;
without a build the sources are used and the results say so.

Two ways of shipping, both measured:
- as built: exactly what `sam build` ships. The layer's Makefile compiles it (unchecked-hash
  `.pyc`, since Lambda's /opt is read-only and cannot cache bytecode); the functions' folders
  are sources, so each cold start compiles `app.py` (the runtime's own boto3 is precompiled).
  Without a build (sources), nothing is precompiled;
- precompiled: the same files, every one with its `__pycache__` (`python -m compileall`).
One run with `-X importtime` per handler says which packages the time goes to, and five runs
with `dataclasses.dataclass` wrapped time each data class built at import (STYLE.md makes every
decision a frozen dataclass, and Python writes and compiles its methods when the class is built).

Five floors: the bare handler; for a handler that answers SQS batches with Powertools' batch
utility (a house rule: the notifier) a bare handler that also imports Powertools'
BatchProcessor, which loads asyncio and all of Powertools' event data classes whichever public
module it comes from; for the canary a bare handler that also imports the canary's own pure
code (all of `nightshift.canary`), which its first run uses; and for the actions function a
bare handler that also builds Powertools' function URL resolver, whose package loads asyncio
and the data classes too; for redeploy, which deploys each push at most once through
Powertools' idempotency utility (a house rule), a bare handler that also imports it. Those
handlers are also shown against
their own floor (`vs_own_floor`, OWN_FLOOR says why). The breakdown by package splits
`nightshift` by subpackage, so that a handler's own code shows.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import emit_results

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
LAYER_BUILD = BUILD / "NightshiftLayer" / "python"
POLICY_BUILD = BUILD / "PolicyLayer" / "nightshift.yaml"
POLICY_SOURCE = ROOT / "policy" / "nightshift.yaml"
RUNTIME = ROOT / ".bench" / "lambda-runtime"
BARE = "bare (import boto3)"
BARE_HANDLER = '''"""The floor: a handler that only imports boto3."""

import boto3  # noqa: F401


def lambda_handler(event, context):
    return {}
'''
# A second floor, for a handler that answers SQS batches with Powertools' batch utility (a house
# rule). Every public import of BatchProcessor runs `aws_lambda_powertools.utilities.batch`'s
# `__init__`, whose base module imports asyncio and the event data classes (whose package
# imports every event class): no narrower public module avoids them.
BATCH_FLOOR = "bare + Powertools batch (import boto3, BatchProcessor)"
BATCH_FLOOR_HANDLER = '''"""The floor of an SQS batch handler: boto3 and Powertools' batch."""

import boto3  # noqa: F401
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

processor = BatchProcessor(EventType.SQS)


def lambda_handler(event, context):
    return {}
'''
# A third, for the canary: its own pure code, which its first run uses whole (the conditions
# and checks it parses from the policy, the verdicts, the parked-environment decision and the
# schedule modules it reads, the metrics, the alarm plan every run makes, the status, the
# report). `nightshift.canary` is that code; its package imports each module when a name is first
# asked for (nightshift.lazy), so the floor asks for all of them (`import *`). That also loads what
# it builds on and every handler loads too (the policy model, Powertools' Logger for the service's
# logs).
CANARY_FLOOR = "bare + the canary's core (import boto3, all of nightshift.canary)"
CANARY_FLOOR_HANDLER = '''"""The floor of the canary: boto3 and the canary's own pure code."""

import boto3  # noqa: F401
from nightshift.canary import *  # noqa: F403 (every module the package re-exports)


def lambda_handler(event, context):
    return {}
'''
# A fourth, for the actions function, whose every request Powertools' function URL resolver
# answers. Every import from `aws_lambda_powertools.event_handler` runs that package's `__init__`,
# which imports every resolver: the API Gateway base loads the event data classes' package (every
# event class), the AppSync resolver asyncio.
URL_FLOOR = "bare + Powertools function URL resolver (import boto3, LambdaFunctionUrlResolver)"
URL_FLOOR_HANDLER = '''"""The floor of a function URL handler: boto3 and Powertools' resolver."""

import boto3  # noqa: F401
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver

app = LambdaFunctionUrlResolver()


def lambda_handler(event, context):
    return app.resolve(event, context)
'''
# A fifth, for redeploy, which deploys each push at most once through Powertools' idempotency
# utility (a house rule): its package's `__init__` imports the DynamoDB persistence layer, the
# JMESPath helpers and the serializers whichever public name is imported.
IDEMPOTENCY_FLOOR = "bare + Powertools idempotency (import boto3, IdempotencyConfig)"
IDEMPOTENCY_FLOOR_HANDLER = '''"""The floor of an exactly-once handler: boto3 and idempotency."""

import boto3  # noqa: F401
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

config = IdempotencyConfig()


def lambda_handler(event, context):
    return {}
'''
FLOORS = {
    BARE: BARE_HANDLER,
    BATCH_FLOOR: BATCH_FLOOR_HANDLER,
    CANARY_FLOOR: CANARY_FLOOR_HANDLER,
    URL_FLOOR: URL_FLOOR_HANDLER,
    IDEMPOTENCY_FLOOR: IDEMPOTENCY_FLOOR_HANDLER,
}
# Handler -> the floor it is also compared with, why (after "The <handler> "), and what the
# floor is made of (bench/report.py prints both).
OWN_FLOOR = {
    "actions": (
        URL_FLOOR,
        (
            "function answers every request through Powertools' function URL resolver "
            "(`LambdaFunctionUrlResolver`), whose import loads asyncio and every Powertools "
            "event data class"
        ),
        (
            "Every import from `aws_lambda_powertools.event_handler` runs that package's "
            "`__init__`, which imports all of its resolvers: the API Gateway base imports the "
            "event data classes' package (every event class) and the AppSync resolver asyncio. "
            "Past that floor the function loads what a link (`GET /`, the first request of most "
            "actions) needs: the token, the page, Slack's check and the action's description; "
            "acting and the status page import their adapters, the policy and the canary's and "
            "redeploy's code at the first request that needs them "
            "(`tests/unit/test_cold_start.py`)."
        ),
    ),
    "notifier": (
        BATCH_FLOOR,
        (
            "answers SQS batches with Powertools' BatchProcessor (house rule), whose import "
            "loads asyncio and every Powertools event data class"
        ),
        (
            "Every public import of `BatchProcessor` (the package "
            "`aws_lambda_powertools.utilities.batch` or any module in it) runs that package's "
            "`__init__` and its base module: no narrower public module avoids asyncio and the "
            "data classes. The 1.3x goal against boto3 alone is out of the notifier's reach "
            "while it keeps Powertools' batch utility (a house rule)."
        ),
    ),
    "redeploy": (
        IDEMPOTENCY_FLOOR,
        (
            "function deploys each push at most once through Powertools' idempotency utility "
            "(house rule), whose package loads its DynamoDB persistence layer, JMESPath helpers "
            "and serializers"
        ),
        (
            "Past that floor redeploy loads what a push needs: the event's model, the policy and "
            "its planner, the task definition's lossless copy, the ECS and DynamoDB adapters and "
            "the report. The held redeploys' model and the deployment outcomes' are imported at "
            "the first held push and the first deployment event "
            "(`tests/unit/test_cold_start.py`); building its data classes is most of what "
            "remains (the table of data classes below)."
        ),
    ),
    "canary": (
        CANARY_FLOOR,
        (
            "imports its own pure code, and its first run uses all of it: the condition "
            "language and the checks parsed from the policy, the verdicts, the "
            "parked-environment decision with the schedule modules it reads (a parked check "
            "is judged on every run that has one), the metrics, the alarm plan (every run "
            "compares its alarms with what the checks call for), the status and the report"
        ),
        (
            "That code is `nightshift.canary` ({canary}) and the schedule modules it reads "
            "(`nightshift.schedule`'s model, override, resources and timeline: {schedule}, "
            "and zoneinfo); every class is built at import, and building the data classes is "
            "most of the time. The scheduler's planner and price table are not loaded "
            "(`tests/unit/test_cold_start.py`). Importing all of `nightshift.canary` also loads "
            "what every handler loads (the policy model, Powertools' Logger), so the floor holds "
            "that too. "
            "The 1.3x goal against boto3 alone is out of the canary's reach while its first "
            "run keeps this work; the difference from its floor is the shell (the adapters, "
            "Powertools' Metrics, the handler)."
        ),
    ),
}
SAMPLE = """
import json, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
import app
elapsed = time.perf_counter() - started
policy_s = None
if {policy!r}:  # the policy part of the first run (the bare handler has none)
    started = time.perf_counter()
    from nightshift.policy import load_policy
    load_policy({policy!r})
    policy_s = time.perf_counter() - started
print(json.dumps({{
    "import_s": elapsed,
    "policy_s": policy_s,
    # VmHWM: this image's own peak (ru_maxrss would include the parent's size at fork).
    "max_rss_mib": int(next(line for line in open("/proc/self/status")
                            if line.startswith("VmHWM")).split()[1]) / 1024,
    "botocore": getattr(sys.modules.get("botocore"), "__file__", None),
    "nightshift": getattr(sys.modules.get("nightshift"), "__file__", None),
}}))
"""
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Nightshift",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}


DATA_CLASS_RUNS = 5  # interpreters per subject timing its data classes (precompiled)


def functions() -> dict[str, Path]:
    """Function name -> the folder holding its app.py (built if there is a build)."""
    found = {}
    for source in sorted((ROOT / "functions").glob("*/app.py")):
        name = source.parent.name
        built = BUILD / f"{name.capitalize()}Function"
        found[name] = built if (built / "app.py").exists() else source.parent
    return found


def stage(scratch: Path, built: bool) -> dict[str, Any]:
    """Copy the layer and the functions to `scratch`: `layer/` as built (with the bytecode the
    build ships, none for sources), `layer-compiled/` all compiled, `functions/<name>/` as
    built, `functions-compiled/<name>/`, and one folder per floor (`floors/<index>/`)."""
    layer_source = LAYER_BUILD if built else ROOT / "layers" / "nightshift"
    strip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(layer_source, scratch / "layer", ignore=None if built else strip)
    shutil.copytree(layer_source, scratch / "layer-compiled", ignore=strip)
    compileall.compile_dir(scratch / "layer-compiled", quiet=1, workers=0)
    folders = {}
    for name, folder in functions().items():
        as_built = None if folder.is_relative_to(BUILD) else strip
        shutil.copytree(folder, scratch / "functions" / name, ignore=as_built)
        shutil.copytree(folder, scratch / "functions-compiled" / name, ignore=strip)
        compileall.compile_dir(scratch / "functions-compiled" / name, quiet=1, workers=0)
        folders[name] = name
    shutil.copy(POLICY_BUILD if built else POLICY_SOURCE, scratch / "policy.yaml")
    for index, handler in enumerate(FLOORS.values()):
        (scratch / "floors" / str(index)).mkdir(parents=True)
        (scratch / "floors" / str(index) / "app.py").write_text(handler, encoding="utf-8")
    return folders


# Times each data class built while `import app` runs: `dataclasses.dataclass` is wrapped before
# the import, so every `@dataclass` (and `make_dataclass`) in the handler's modules and in the
# libraries goes through the wrapper. The project's own (`nightshift`, `app`) are counted apart.
DATA_CLASS_SAMPLE = """
import dataclasses, json, sys, time
sys.path[:0] = {paths!r}
built = []
make = dataclasses.dataclass


def timed(cls=None, /, **options):
    def build(cls):
        started = time.perf_counter()
        made = make(cls, **options)
        built.append((cls.__module__, time.perf_counter() - started))
        return made

    return build if cls is None else build(cls)


dataclasses.dataclass = timed
import app
own = [spent for module, spent in built if module == "app" or module.startswith("nightshift.")]
print(json.dumps({{
    "own": len(own),
    "own_s": sum(own),
    "libraries": len(built) - len(own),
    "libraries_s": sum(spent for _, spent in built) - sum(own),
}}))
"""


def data_classes(paths: list[str], repeat: int) -> dict[str, Any]:
    """How many data classes `import app` builds and how long building them takes (medians of
    `repeat` fresh interpreters), the project's own apart from the libraries'."""
    runs = [
        _interpreter(["-B"], DATA_CLASS_SAMPLE.format(paths=paths), paths)[0] for _ in range(repeat)
    ]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def sample(
    paths: list[str], *, write_bytecode: bool, importtime: bool = False, policy: str = ""
) -> dict[str, Any]:
    options = [] if write_bytecode else ["-B"]
    if importtime:
        options += ["-X", "importtime"]
    started = time.perf_counter()
    result, stderr = _interpreter(options, SAMPLE.format(paths=paths, policy=policy), paths)
    result["process_s"] = time.perf_counter() - started
    if importtime:
        result["by_package"] = packages_of(stderr)
    return result


def _interpreter(options: list[str], code: str, paths: list[str]) -> tuple[dict[str, Any], str]:
    """Run `code` in a fresh interpreter without site-packages, in the functions' environment:
    the last line it prints, as JSON, and what it wrote to stderr."""
    process = subprocess.run(
        [sys.executable, "-I", "-S", *options, "-c", code],
        env={**_base_environment(), **ENVIRONMENT},
        capture_output=True,
        text=True,
    )
    if process.returncode != 0:
        raise RuntimeError(f"import failed for {paths}:\n{process.stderr[-2000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1]), process.stderr


def _base_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}


def packages_of(importtime: str) -> dict[str, float]:
    """Self time in seconds per top-level package (per subpackage of `nightshift`), from
    `-X importtime`'s report."""
    totals: Counter[str] = Counter()
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        parts = name.strip().split(".")
        depth = 2 if parts[0] == "nightshift" else 1  # the project's own code by subpackage
        totals[".".join(parts[:depth])] += int(self_us) / 1e6
    return dict(totals.most_common())


def layer_size(built: bool) -> dict[str, Any]:
    """Unzipped and zipped bytes of the layer as shipped (a build's bytecode included), and the
    largest top-level packages in it."""
    folder = LAYER_BUILD if built else ROOT / "layers" / "nightshift"
    sizes: Counter[str] = Counter()
    total = 0
    for path in folder.rglob("*"):
        if path.is_file() and (built or "__pycache__" not in path.parts):
            size = path.stat().st_size
            total += size
            top = path.relative_to(folder).parts[0]
            sizes[top.split("-")[0].removesuffix(".py")] += size
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch, "layer.zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and (built or "__pycache__" not in path.parts):
                    zipped.write(path, Path("python") / path.relative_to(folder))
        zipped_bytes = archive.stat().st_size
    return {
        "built": built,
        "unzipped_bytes": total,
        "zipped_bytes": zipped_bytes,
        "largest": dict(sizes.most_common(6)),
    }


def measure(repeat: int, progress: Any = None) -> dict[str, Any]:
    if not (RUNTIME / "boto3").exists():
        raise SystemExit(
            f"no {RUNTIME.relative_to(ROOT)}: pip install --target {RUNTIME.relative_to(ROOT)}"
            " -r bench/requirements-lambda-runtime.txt"
        )
    built = (
        (LAYER_BUILD / "nightshift").exists()
        and POLICY_BUILD.exists()
        and all(
            (folder / "app.py").exists() and folder.is_relative_to(BUILD)
            for folder in functions().values()
        )
    )
    modes = {"as built": False, "precompiled": True}
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch_name:
        scratch = Path(scratch_name)
        names = stage(scratch, built)

        def policy(name: str) -> str:
            return "" if name in FLOORS else str(scratch / "policy.yaml")

        def paths(name: str, compiled: bool) -> list[str]:
            layer = "layer-compiled" if compiled else "layer"
            if name == BARE:
                return [str(scratch / "floors" / "0"), str(RUNTIME)]
            if name in FLOORS:  # Powertools from the layer, as the functions import it
                folder = scratch / "floors" / str(list(FLOORS).index(name))
                return [str(folder), str(scratch / layer), str(RUNTIME)]
            functions_folder = "functions-compiled" if compiled else "functions"
            return [
                str(scratch / functions_folder / names[name]),
                str(scratch / layer),
                str(RUNTIME),
            ]

        subjects = [*FLOORS, *names]
        samples: dict[str, dict[str, list[dict[str, Any]]]] = {
            mode: {name: [] for name in subjects} for mode in modes
        }
        for compiled in modes.values():
            for name in subjects:  # warm the file cache; not counted
                sample(paths(name, compiled), write_bytecode=False, policy=policy(name))
        for round_number in range(1, repeat + 1):
            # Round robin over modes and subjects, so drift hits every subject and mode alike.
            for mode, compiled in modes.items():
                for name in subjects:
                    samples[mode][name].append(
                        sample(paths(name, compiled), write_bytecode=False, policy=policy(name))
                    )
            if progress and round_number % 5 == 0:
                progress(f"cold start: {round_number} of {repeat} rounds")
        breakdown = {
            name: sample(paths(name, True), write_bytecode=False, importtime=True)["by_package"]
            for name in subjects
        }
        building = {name: data_classes(paths(name, True), DATA_CLASS_RUNS) for name in subjects}
        where = samples["as built"][subjects[-1]][0]
    startup = statistics.median(_interpreter_startup() for _ in range(repeat))
    results: dict[str, Any] = {
        "repeat": repeat,
        "built": built,
        "python": sys.version.split()[0],
        "arch": platform.machine(),
        "interpreter_startup_s": startup,
        "resolved": {
            "botocore": _relative(where["botocore"]),
            "nightshift": _relative(where["nightshift"]),
        },
        "modes": {},
        "floors": list(FLOORS),
        "own_floor": {
            name: {"floor": floor, "why": why, "made_of": made_of.format(**own_code())}
            for name, (floor, why, made_of) in OWN_FLOOR.items()
        },
        "by_package": breakdown,
        "data_classes": building,
        "data_class_runs": DATA_CLASS_RUNS,
        "layer": layer_size(built),
    }
    for mode in modes:
        results["modes"][mode] = {name: summary(samples[mode], name) for name in subjects}
    return results


def summary(samples: dict[str, list[dict[str, Any]]], name: str) -> dict[str, Any]:
    """One subject's medians in one mode, against the bare handler and, for a handler that has
    one, against its own floor (OWN_FLOOR)."""

    def median(subject: str, key: str) -> Any:
        return statistics.median(sample[key] for sample in samples[subject])

    def ratio(floor: str, key: str) -> float:
        return float(median(name, key) / median(floor, key))

    own = OWN_FLOOR[name][0] if name in OWN_FLOOR else None
    return {
        "import_s": median(name, "import_s"),
        "import_s_min": min(sample["import_s"] for sample in samples[name]),
        "import_s_max": max(sample["import_s"] for sample in samples[name]),
        "max_rss_mib": median(name, "max_rss_mib"),
        "vs_bare": ratio(BARE, "import_s"),
        "policy_s": None if name in FLOORS else median(name, "policy_s"),
        "vs_own_floor": None if own is None else ratio(own, "import_s"),
    }


def own_code() -> dict[str, str]:
    """What the canary's floor is made of, counted in the sources: data classes, enums and
    patterns compiled at import, in `nightshift.canary` and in the schedule modules it reads."""
    package = ROOT / "layers" / "nightshift" / "nightshift"
    groups = {
        "canary": sorted((package / "canary").glob("*.py")),
        "schedule": [
            package / "schedule" / f"{name}.py"
            for name in ("model", "override", "resources", "timeline")
        ],
    }
    return {name: _classes_in(files) for name, files in groups.items()}


def _classes_in(files: Sequence[Path]) -> str:
    dataclasses = enums = patterns = 0
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in tree.body:  # module level: what runs at import
            if isinstance(node, ast.ClassDef):
                decorators = [ast.unparse(d) for d in node.decorator_list]
                dataclasses += any(d.startswith("dataclass") for d in decorators)
                enums += any(ast.unparse(b).endswith("Enum") for b in node.bases)
            elif isinstance(node, ast.Assign) and "re.compile(" in ast.unparse(node.value):
                patterns += 1
    return f"{dataclasses} data classes, {enums} enums, {patterns} compiled patterns"


def _relative(path: str | None) -> str | None:
    """A module's file, relative to the repository or to the scratch folder."""
    if path is None:
        return None
    if Path(path).is_relative_to(ROOT):
        return str(Path(path).relative_to(ROOT))
    return "<scratch>/" + "/".join(Path(path).parts[3:])


def _interpreter_startup() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], check=True)
    return time.perf_counter() - started


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", type=Path)
    options = parser.parse_args(arguments)
    results = measure(options.repeat, progress=lambda line: print(line, file=sys.stderr))
    emit_results(results, options.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
