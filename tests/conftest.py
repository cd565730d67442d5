"""Fixtures every tier shares: events by name, handlers by function name."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"
# Real AWS payload shapes (copied from the project's reference set; see its README.md).
REFERENCE = ROOT / "tests" / "fixtures" / "reference"


def event_path(function: str, name: str) -> Path:
    return EVENTS / function / f"{name}.json"


def load_event(function: str, name: str) -> dict[str, Any]:
    """The fixture `events/<function>/<name>.json`."""
    return json.loads(event_path(function, name).read_text(encoding="utf-8"))


def event_names(function: str) -> list[str]:
    return sorted(path.stem for path in (EVENTS / function).glob("*.json"))


def load_handler(function: str) -> ModuleType:
    """Import `functions/<function>/app.py` fresh, under the module name `<function>_app`.

    Lambda imports each handler as the top-level module `app`; we load it by path so handlers of
    different functions can live side by side in one test session.
    """
    name = f"{function}_app"
    sys.modules.pop(name, None)
    spec = importlib.util.spec_from_file_location(name, FUNCTIONS / function / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def event() -> Callable[[str, str], dict[str, Any]]:
    return load_event


@dataclass
class FakeLambdaContext:
    """The attributes of Lambda's context object that Powertools and our handlers read."""

    function_name: str = "nightshift-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:111122223333:function:nightshift-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
