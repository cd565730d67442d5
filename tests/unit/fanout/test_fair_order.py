"""The working order across runs: no target starves when a run cannot work them all."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from nightshift.fanout import WorkItem, work_targets, working_order

AT = dt.datetime(2026, 12, 4, 19, 5, tzinfo=dt.UTC)
FIVE = dt.timedelta(minutes=5)


def longest_wait(count: int, per_run: int, rate_minutes: int, runs: int) -> int:
    """Simulate `runs` scheduled runs `rate_minutes` apart, each working only the first
    `per_run` targets of its order (the rest outlast its Timeout); the most runs any target
    waited to be worked (from before the first run, between runs, and after the last)."""
    last = [-1] * count
    longest = 0
    for run in range(runs):
        rate = dt.timedelta(minutes=rate_minutes)
        order = working_order(count, 1, AT + run * rate, rate).order
        for target in order[:per_run]:
            longest = max(longest, run - last[target])
            last[target] = run
    return max(longest, *(runs - seen for seen in last))


CASES = [(10, 2), (17, 3), (50, 9), (100, 7), (300, 16), (1500, 72), (100, 40)]


@pytest.mark.parametrize(("count", "per_run"), CASES)
@pytest.mark.parametrize("rate_minutes", [5, 1, 16, 60])
def test_every_target_is_worked_within_twice_the_fewest_runs(
    count: int, per_run: int, rate_minutes: int
) -> None:
    fewest = math.ceil(count / per_run)  # a perfect hand-over from run to run
    assert longest_wait(count, per_run, rate_minutes, runs=12 * fewest) <= 2 * fewest


def test_the_policys_order_every_run_starves_the_tail() -> None:
    """What the rotation fixes: the same first targets every run, the last never."""
    worked = {target for _ in range(10) for target in range(100)[:7]}
    assert 99 not in worked


def test_targets_that_all_begin_at_once_keep_the_policys_order() -> None:
    for minute in range(0, 60, 5):
        run = working_order(8, 8, AT + dt.timedelta(minutes=minute), FIVE)
        assert run.order == tuple(range(8))
        assert run.start == 0
        assert "all begin together" in run.reason


def test_the_order_names_each_target_once_and_says_where_it_begins() -> None:
    run = working_order(100, 8, AT, FIVE)
    assert sorted(run.order) == list(range(100))
    assert run.order[0] == run.start
    assert f"begins at target {run.start + 1}" in run.reason


def test_the_results_keep_the_items_order_whatever_the_working_order() -> None:
    items = [WorkItem(f"{n:012d}", "eu-central-1") for n in range(6)]
    begun: list[str] = []

    def work(item: WorkItem) -> str:
        begun.append(item.account)
        if item.account.endswith("4"):
            raise RuntimeError("refused")
        return item.account

    run = work_targets(items, work, max_workers=1, order=(3, 4, 5, 0, 1, 2))
    assert begun == [items[i].account for i in (3, 4, 5, 0, 1, 2)]
    assert [result.item for result in run.results] == items
    assert [result.value for result in run.results] == [
        items[0].account,
        items[1].account,
        items[2].account,
        items[3].account,
        None,
        items[5].account,
    ]


def test_an_order_that_does_not_name_every_item_once_is_refused() -> None:
    items = [WorkItem(f"{n:012d}", "eu-central-1") for n in range(3)]
    with pytest.raises(ValueError, match="each of the 3 items once"):
        work_targets(items, lambda item: item, max_workers=2, order=(0, 0, 1))


def test_the_scheduler_begins_where_the_run_says_and_reports_in_the_policys_order() -> None:
    from nightshift.schedule.events import ScheduledTrigger
    from nightshift.schedule.targets import TargetedScheduler

    items = [WorkItem(f"{n:012d}", "eu-central-1", name=f"t{n}") for n in range(12)]
    begun: list[str] = []

    def scheduler_for(item: WorkItem) -> Any:
        begun.append(item.name)
        raise RuntimeError("no spoke role")  # each target one error line, in the report

    trigger = ScheduledTrigger(AT)
    targeted = TargetedScheduler(items, scheduler_for, max_workers=1, rate=FIVE)
    outcome = targeted.answer(trigger, "staging", lambda: 60_000)
    order = working_order(12, 1, AT, FIVE)
    assert order.start != 0  # this run does not begin with the policy's first target
    assert begun == [items[i].name for i in order.order]
    assert [line.split(" ")[0] for line in outcome.report.errors] == [i.name for i in items]
