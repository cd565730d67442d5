"""Shared fixtures of the canary's unit tests: the seeds' /health bodies, a fixed run time."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.health_server import DEGRADED_BODY, HEALTHY_BODY


@pytest.fixture(scope="session")
def healthy_body() -> bytes:
    return HEALTHY_BODY


@pytest.fixture(scope="session")
def degraded_body() -> bytes:
    return DEGRADED_BODY


@pytest.fixture(scope="session")
def run_time() -> dt.datetime:
    return dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
