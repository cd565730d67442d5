"""Tracing off means no Tracer: a handler imported with POWERTOOLS_TRACE_DISABLED set does not
load the X-Ray SDK (about 100 ms of a cold start), and its functions are not wrapped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from nightshift import tracing
from tests.conftest import ROOT

HANDLERS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))
IMPORT = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
print(json.dumps(sorted(name for name in sys.modules if name.startswith("aws_xray_sdk.core"))))
"""


@pytest.fixture
def fresh_tracer() -> Iterator[None]:
    tracing.tracer.cache_clear()
    yield
    tracing.tracer.cache_clear()


def handle(event: object, context: object) -> str:
    return "handled"


def test_with_tracing_disabled_the_handler_and_method_come_back_unwrapped(
    fresh_tracer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")

    assert tracing.traced_handler(handle) is handle
    assert tracing.traced_method(handle) is handle
    assert tracing.tracer() is None


def test_without_the_variable_the_powertools_tracer_wraps_the_handler(
    fresh_tracer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)

    wrapped = tracing.traced_handler(handle)

    assert wrapped is not handle
    assert wrapped({}, None) == "handled"  # outside Lambda the Tracer disables itself


@pytest.mark.parametrize("name", HANDLERS)
def test_a_handler_imported_with_tracing_disabled_does_not_load_the_xray_sdk(name: str) -> None:
    environment = {
        **os.environ,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_SERVICE_NAME": name,
    }
    functions, layer = ROOT / "functions" / name, ROOT / "layers" / "nightshift"
    process = subprocess.run(
        [sys.executable, "-c", IMPORT, str(functions), str(layer)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    assert json.loads(process.stdout.splitlines()[-1]) == []
