"""The order in which a run works its targets, so that no target starves across runs (pure).

The pool works the targets in the order it is given them. When working every target outlasts
the Lambda Timeout, a run finishes only those it began early; worked in the policy's order every
time, the same last targets would never be reached (the organization bench showed it:
docs/organization.md, "The arithmetic"). So each run begins at a different target and goes
round. The run's number is its scheduled time divided by the schedule's rate (one more each
run); it begins that number times the golden ratio, modulo one, of the way through the targets.
Consecutive runs' starts then spread evenly over the targets (the three-distance theorem: any
n consecutive starts cut the circle of targets into gaps of at most three lengths, all close to
N / n), so a target one run left unworked is reached within a bounded number of runs: when each
run works k of N targets, within 2 x ceil(N/k) runs (tests/unit/fanout/test_fair_order.py
simulates it). Starting where the last run stopped
would need a record, and a run killed at its Timeout writes none.

Stateless: no record to write or read; a replayed event works the same order. With no more
targets than the concurrency bound every target begins at once, so the policy's order is kept.
The report keeps the policy's order whatever the working order (`work_targets`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The golden ratio's fractional part, 0.618..., in 64-bit fixed point: exact integer arithmetic.
_GOLDEN = 11400714819323198485
_ONE = 1 << 64


@dataclass(frozen=True)
class WorkingOrder:
    """The item indices in the order to work them, the index the run begins at, and why."""

    order: tuple[int, ...]
    start: int
    reason: str


def working_order(
    count: int, max_workers: int, scheduled: dt.datetime, rate: dt.timedelta
) -> WorkingOrder:
    """Where a run scheduled at `scheduled` (one every `rate`) begins among its `count`
    targets, and why.

    >>> import datetime as dt
    >>> at = dt.datetime(2026, 12, 4, 19, 5, tzinfo=dt.UTC)
    >>> five = dt.timedelta(minutes=5)
    >>> working_order(3, 8, at, five).order
    (0, 1, 2)
    >>> run = working_order(10, 2, at, five)
    >>> run.start, run.order[:3]
    (3, (3, 4, 5))
    >>> [working_order(10, 2, at + n * five, five).start for n in (1, 2, 3)]
    [0, 6, 2]
    """
    if count <= max(1, max_workers):
        return WorkingOrder(
            tuple(range(count)),
            0,
            f"{count} target{'s' if count != 1 else ''}, at most {max_workers} at once: "
            "all begin together, in the policy's order",
        )
    number = int(scheduled.timestamp()) // max(1, int(rate.total_seconds()))
    start = ((number * _GOLDEN) % _ONE) * count >> 64
    return WorkingOrder(
        tuple((start + i) % count for i in range(count)),
        start,
        f"{count} targets, at most {max_workers} at once: this run begins at target "
        f"{start + 1} and goes round, so that a run that cannot work them all does not leave "
        "the same ones to the next",
    )
