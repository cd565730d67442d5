"""Golden files: an input set (snapshots, policy, time) and the decisions and plan text expected.

Each case in golden/ was checked by hand; the comments in docs/pruner.md walk through
gfs-berlin. A change here is a change of behaviour: review the diff of the .expected.json and
.plan.txt files like code.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from nightshift.policy import parse_policy
from nightshift.retention import (
    PrunerSettings,
    RetentionPlan,
    RetentionPolicy,
    Snapshot,
    plan_retention,
    render_plan,
)

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.name.removesuffix(".input.json") for path in GOLDEN.glob("*.input.json"))


def _plan(case: str) -> RetentionPlan:
    data: dict[str, Any] = json.loads((GOLDEN / f"{case}.input.json").read_text())
    policy = parse_policy(data["policy"], f"{case}.input.json")
    settings = PrunerSettings.from_policy(policy)
    return plan_retention(
        [Snapshot.from_json(item) for item in data["snapshots"]],
        RetentionPolicy.from_policy(policy),
        policy.protect,
        datetime.fromisoformat(data["now"]),
        settings.max_delete_share,
        prices=settings.prices,
    )


def test_every_golden_case_has_its_expected_files() -> None:
    assert len(CASES) >= 5
    for case in CASES:
        assert (GOLDEN / f"{case}.expected.json").is_file()
        assert (GOLDEN / f"{case}.plan.txt").is_file()


@pytest.mark.parametrize("case", CASES)
def test_golden_decisions(case: str) -> None:
    expected = json.loads((GOLDEN / f"{case}.expected.json").read_text())

    plan = _plan(case)

    actual = [
        {
            "id": d.id,
            "kind": d.snapshot.kind.value,
            "lineage": d.lineage.id,
            "action": d.action.value,
            "reason": d.reason,
        }
        for d in plan.decisions
    ]
    assert plan.refused == expected["refused"]
    assert actual == expected["decisions"]


@pytest.mark.parametrize("case", CASES)
def test_golden_plan_text(case: str) -> None:
    expected = (GOLDEN / f"{case}.plan.txt").read_text()

    assert render_plan(_plan(case)) + "\n" == expected
