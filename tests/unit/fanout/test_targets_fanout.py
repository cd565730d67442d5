"""The fan-out core: targets expanded into work items (pure), and the runner's isolation."""

from __future__ import annotations

import threading

import pytest

from nightshift.errors import AwsError
from nightshift.fanout import WorkItem, expand_targets, work_targets
from nightshift.policy import Target, Targets

HUB = "999988887777"
STAGING, PRODUCTION, OTHER = "111122223333", "444455556666", "777788889999"


def expand(targets: Targets | None, function: str = "scheduler", **listed: tuple[str, ...]):
    return expand_targets(
        targets,
        function,
        hub_account=HUB,
        hub_region="eu-central-1",
        environment="staging",
        ou_accounts={ou.replace("_", "-"): accounts for ou, accounts in listed.items()},
    )


def test_no_targets_is_one_item_the_hubs_own_account_and_region_without_a_role() -> None:
    assert expand(None).items == (WorkItem(HUB, "eu-central-1"),)


def test_an_account_is_worked_in_each_of_its_regions_through_its_spoke_role() -> None:
    targets = Targets((Target(account=STAGING, regions=("eu-west-1", "us-east-1")),))
    items = expand(targets).items
    assert [(i.account, i.region) for i in items] == [
        (STAGING, "eu-west-1"),
        (STAGING, "us-east-1"),
    ]
    assert {i.role_arn for i in items} == {
        f"arn:aws:iam::{STAGING}:role/nightshift-spoke-scheduler-staging"
    }


def test_an_ous_accounts_are_worked_and_its_own_entry_wins_for_an_account() -> None:
    targets = Targets(
        (
            Target(ou="ou-ab12-cdef3456", name="workloads"),
            Target(account=STAGING, name="staging", regions=("eu-west-1",)),
        )
    )
    items = expand(targets, ou_ab12_cdef3456=(STAGING, OTHER)).items
    assert [i.label for i in items] == [
        f"staging {STAGING} eu-west-1",
        f"workloads {OTHER} eu-central-1",
    ]


def test_production_anywhere_makes_the_account_production() -> None:
    targets = Targets((Target(account=PRODUCTION), Target(ou="ou-ab12-cdef3456", production=True)))
    run = expand(targets, ou_ab12_cdef3456=(PRODUCTION,))
    assert run.items == ()
    assert run.excluded == (f"{PRODUCTION}: production: the scheduler never acts there",)
    assert expand(targets, "pruner", ou_ab12_cdef3456=(PRODUCTION,)).items == ()
    redeploy = expand(targets, "redeploy", ou_ab12_cdef3456=(PRODUCTION,)).items
    # Redeploy acts there, and its items say production: its services are gated to releases.
    assert [(i.account, i.production) for i in redeploy] == [(PRODUCTION, True)]


def test_a_function_not_listed_for_a_target_does_not_act_there() -> None:
    targets = Targets((Target(account=STAGING, functions=frozenset({"redeploy"})),))
    assert expand(targets, "pruner").items == ()


def test_an_ou_that_was_not_listed_is_said_so() -> None:
    run = expand(Targets((Target(ou="ou-ab12-cdef3456"),)))
    assert run.excluded == ("ou-ab12-cdef3456: the OU's accounts were not listed",)


def items(count: int) -> list[WorkItem]:
    return [WorkItem(f"{index:012d}", "eu-central-1", name=f"t{index}") for index in range(count)]


def test_one_targets_failure_never_stops_the_others() -> None:
    def work(item: WorkItem) -> str:
        if item.name == "t1":
            raise AwsError("AssumeRole", "AccessDenied", "no spoke role")
        if item.name == "t2":
            raise AwsError("GetResources", "ThrottlingException", "Rate exceeded")
        return f"done {item.name}"

    run = work_targets(items(4), work, max_workers=2)

    assert [r.value for r in run.results] == ["done t0", None, None, "done t3"]
    assert [r.error for r in run.failed] == [
        "AwsError: AssumeRole failed with AccessDenied: no spoke role",
        "AwsError: GetResources failed with ThrottlingException: Rate exceeded",
    ]
    assert run.summary == "4 targets: 2 worked, 2 failed"


@pytest.mark.parametrize("bound", [1, 3])
def test_no_more_targets_are_worked_at_once_than_the_bound(bound: int) -> None:
    lock, busy, peak = threading.Lock(), [0], [0]
    gate = threading.Barrier(bound, timeout=5) if bound > 1 else None

    def work(item: WorkItem) -> None:
        with lock:
            busy[0] += 1
            peak[0] = max(peak[0], busy[0])
        if gate is not None and int(item.account) < bound:
            gate.wait()  # the first `bound` targets meet: the pool does run that many at once
        with lock:
            busy[0] -= 1

    run = work_targets(items(8), work, max_workers=bound)

    assert not run.failed
    assert peak[0] == bound


@pytest.mark.parametrize(
    "module", ["nightshift.fanout.plan", "nightshift.fanout.order", "nightshift.policy.model"]
)
def test_the_docstring_examples_hold(module: str) -> None:
    import doctest
    import importlib

    failed, tried = doctest.testmod(importlib.import_module(module))
    assert (failed, tried > 0) == (0, True)
