"""Lambda's context as the clock a run paces itself and stops by."""

from __future__ import annotations

from typing import Protocol

# Reads the context object only; no AWS call.
IAM_ACTIONS = frozenset[str]()


class RemainingTime(Protocol):
    """The part of Lambda's context object this adapter reads."""

    def get_remaining_time_in_millis(self) -> int: ...


class InvocationClock:
    """Seconds since the invocation began, read from Lambda's own deadline, so the pacers' waits
    and the deadline use one clock: `deadline()` is on this clock."""

    def __init__(self, context: RemainingTime) -> None:
        self._context = context
        self._budget = context.get_remaining_time_in_millis() / 1000

    def __call__(self) -> float:
        return self._budget - self._context.get_remaining_time_in_millis() / 1000

    def deadline(self, reserve: float) -> float:
        """The time on this clock `reserve` seconds before Lambda's deadline."""
        return self._budget - reserve
