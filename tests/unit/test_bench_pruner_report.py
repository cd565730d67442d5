"""How the benchmark page reads the throttled pruner runs against the floor of a run that lists
before it deletes (bench/report.py's decision_floor and summary row), and what the floor client
lists (bench/delete_floor.py), from made-up results: no cloud, no timing."""

from __future__ import annotations

from typing import Any

from bench import delete_floor, report


def medians(run_s: float) -> dict[str, float]:
    return {"run_s": run_s, "wall_s": run_s + 0.5, "requests": 4000}


def results() -> dict[str, Any]:
    listing = {"tool": "listing", "client_requests": 21, "run_s": 3.5}
    return {
        "floor_s": {"ec2:DeleteSnapshot": 62.0, "rds:*": 2.8},
        "floor_documented_rates_s": {"ec2:DeleteSnapshot": 620.0, "rds:*": 28.0},
        "scenarios": {
            "unthrottled": {"medians": {"nightshift": medians(13), "custodian": medians(16)}},
            "throttled": {
                "runs": [listing, listing | {"run_s": 3.3}],
                "medians": {
                    "nightshift": medians(66.1),
                    "custodian": medians(69.0),
                    "listing": medians(3.4),
                },
            },
        },
        "rate_scale": 10.0,
    }


def test_the_throttled_runs_are_read_against_the_listing_plus_the_deletions() -> None:
    section = report.decision_floor(results())
    rows = {line.split(" | ")[0].strip("| "): line for line in section.splitlines() if "|" in line}

    assert rows["listing + deletions"].startswith("| listing + deletions | 65.4 s | 1.00x")
    assert rows["Nightshift pruner (run)"].endswith("| 1.01x | 1.07x |")  # 66.1 / 65.4, / 62
    assert rows["Cloud Custodian (run)"].endswith("| 1.06x | 1.11x |")
    assert "21 calls in **3.40 s** (median)" in section
    assert "would be 0.5% of it" in section  # 3.4 s of the 620 s at AWS's rates


def test_a_run_without_a_listing_floor_says_so() -> None:
    found = results()
    del found["scenarios"]["throttled"]["medians"]["listing"]

    assert report.decision_floor(found) == "(This run measured no listing floor.)"
    assert report.LISTING not in found["scenarios"]["throttled"]["medians"]


def test_the_summary_row_gives_both_floors_of_the_throttled_run() -> None:
    assert report._throttled_floors(results()) == (
        "; run 1.07x the rate floor (62.0 s), 1.01x listing + deletions (65.4 s), Custodian 1.06x"
    )


def test_the_floor_client_lists_what_the_pruner_lists() -> None:
    from botocore import xform_name

    from nightshift.adapters import snapshots

    operations = {operation for _, operation, _, _ in delete_floor.LISTINGS}
    describes = {
        xform_name(action.split(":")[1])
        for action in snapshots.IAM_ACTIONS
        if ":Describe" in action
    }

    assert operations | {"describe_locked_snapshots"} == describes
    assert [page for _, _, _, page in delete_floor.LISTINGS] == [
        snapshots.EC2_PAGE,
        snapshots.EC2_PAGE,
        *[snapshots.RDS_PAGE] * 4,
    ]
    assert sum(arguments == delete_floor.BACKUP for *_, arguments, _ in delete_floor.LISTINGS) == 2
    assert len(snapshots.RDS_LISTINGS) == 2  # manual and automated, then AWS Backup's
