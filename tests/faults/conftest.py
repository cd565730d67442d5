"""The fault tier's session: times the tier and, under `make reliability`, writes
docs/reliability.md from what every function's test measured (tests/faults/harness.py)."""

from __future__ import annotations

import os
import platform
import time

import pytest

from tests.faults.harness import LEDGERS, WRITE_VARIABLE, write_page
from tests.functional.conftest import health_server  # noqa: F401 - the canary's endpoint

_STARTED: list[float] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _STARTED.append(time.monotonic())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not os.environ.get(WRITE_VARIABLE) or not LEDGERS:
        return
    seconds = time.monotonic() - _STARTED[0]
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores"
    )
    write_page(seconds, machine)


@pytest.fixture(autouse=True)
def _iam_judged(iam_judge):
    """Every AWS call a handler makes under a fault is judged against its role in template.yaml,
    as in the functional tier: a fault never excuses a call the role would not allow."""
    return iam_judge
