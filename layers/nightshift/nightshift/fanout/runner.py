"""Work every target of a run with bounded concurrency, each isolated from the others.

`work(item)` does one target's whole job (assume its role, read, decide, act) and returns its
result; whatever it raises (AccessDenied, a missing spoke role, throttling that outlasted
botocore's retries, a bug) is that target's failure, reported with the target, and never stops
the other targets. A thread pool is enough: the work is waiting on AWS, and the bound
(`targets.max_concurrency`) keeps the hub under the API rates of the accounts it shares.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from nightshift.fanout.plan import WorkItem

logger = Logger(child=True)


@dataclass(frozen=True)
class TargetResult[T]:
    """One target's result, or its error (`value` None); `seconds` it took."""

    item: WorkItem
    value: T | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class FanOutRun[T]:
    """Every target's result, in the order of the work items (whatever order they were worked
    in)."""

    results: tuple[TargetResult[T], ...]

    @property
    def failed(self) -> tuple[TargetResult[T], ...]:
        return tuple(result for result in self.results if not result.ok)

    @property
    def summary(self) -> str:
        """`3 targets: 2 worked, 1 failed`."""
        count = len(self.results)
        failed = len(self.failed)
        return (
            f"{count} target{'s' if count != 1 else ''}: {count - failed} worked, {failed} failed"
        )


def work_targets[T](
    items: Sequence[WorkItem],
    work: Callable[[WorkItem], T],
    max_workers: int,
    order: Sequence[int] | None = None,
) -> FanOutRun[T]:
    """`work` each item, at most `max_workers` at a time, begun in `order` (indices into
    `items`; None: their own order, `nightshift.fanout.order`); one item's failure is its own.
    The results are in the items' order."""

    def isolated(item: WorkItem) -> TargetResult[T]:
        started = time.monotonic()
        try:
            value = work(item)
        except Exception as exc:
            logger.exception("target failed", target=item.label)
            return TargetResult(
                item, error=f"{type(exc).__name__}: {exc}", seconds=time.monotonic() - started
            )
        seconds = time.monotonic() - started
        logger.info("target worked", target=item.label, seconds=round(seconds, 3))
        return TargetResult(item, value=value, seconds=seconds)

    if len(items) <= 1:
        return FanOutRun(tuple(isolated(item) for item in items))
    begun = list(range(len(items))) if order is None else list(order)
    if sorted(begun) != list(range(len(items))):
        raise ValueError(f"order must name each of the {len(items)} items once")
    results: list[TargetResult[T] | None] = [None] * len(items)
    # The pool begins its tasks in the order they are submitted (a FIFO queue).
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items)))) as pool:
        for index, result in zip(begun, pool.map(isolated, [items[i] for i in begun]), strict=True):
            results[index] = result
    return FanOutRun(tuple(r for r in results if r is not None))
