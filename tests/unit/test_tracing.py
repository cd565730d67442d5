"""Tracing off means no Tracer: a handler's functions are not wrapped, and a handler imported
with POWERTOOLS_TRACE_DISABLED set does not load the X-Ray SDK (about 100 ms of a cold start;
tests/unit/test_cold_start.py checks every handler for it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nightshift import tracing


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
