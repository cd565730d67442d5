"""The scale and notifier-burst benchmarks' pure parts (bench/scale.py, bench/notifier_burst.py)
and how the page reports them (bench/report.py), from made-up results: no cloud, no timing."""

from __future__ import annotations

import copy
import doctest
import json
from pathlib import Path
from typing import Any

import pytest

from bench import charts, notifier_burst, report, scale
from localcloud.receiver import ReceivedRequest


@pytest.mark.parametrize("module", [scale, notifier_burst, report], ids=lambda m: m.__name__)
def test_doctests(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted
    assert not result.failed


def test_the_deployment_is_read_from_the_template() -> None:
    # template.yaml: NotifierFunction's SQS event, its reserved concurrency, NotifierQueue.
    assert notifier_burst.deployment() == {
        "batch_size": 10,
        "batching_window_s": 5.0,
        "reports_item_failures": True,
        "concurrency": 5,
        "visibility_timeout_s": 360,
        "max_receive_count": 5,
        "raw_delivery": False,
    }
    assert scale.function_timeout("SchedulerFunction") == 120
    assert scale.function_timeout("PrunerFunction") == 900


def test_an_alarm_message_keeps_the_shape_of_the_real_notification() -> None:
    fixture = json.loads(notifier_burst.ALARM_EVENT.read_text(encoding="utf-8"))
    real = json.loads(json.loads(fixture["Records"][0]["body"])["Message"])

    name, subject, message = notifier_burst.alarm_message(42, 1_795_197_852.0)

    alarm = json.loads(message)
    assert name == "burst-alarm-00042"
    assert alarm.keys() == real.keys()
    assert alarm["AlarmName"] == name
    assert alarm["AlarmArn"].endswith(f":alarm:{name}")
    assert alarm["StateChangeTime"] == "2026-11-20T18:04:12.000+0000"
    assert alarm["Trigger"] == real["Trigger"]
    assert name in subject


def received(name: str, at: float) -> ReceivedRequest:
    body = json.dumps({"text": f"ALARM {name} in EU (Frankfurt)"}).encode()
    return ReceivedRequest("POST", "/oncall", {}, body, 200, at)


def test_latency_is_from_publish_to_the_first_post_of_each_alarm() -> None:
    published = {"burst-alarm-00001": 100.0, "burst-alarm-00002": 100.5}
    posts = [
        received("burst-alarm-00002", 103.5),
        received("burst-alarm-00001", 102.0),
        received("burst-alarm-00001", 101.0),  # a second post of the same alarm
        ReceivedRequest("POST", "/oncall", {}, b"not an alarm", 200, 104.0),
    ]

    latencies, duplicates = notifier_burst._latencies(published, posts)

    assert sorted(latencies) == [1.0, 3.0]
    assert duplicates == 1


# ------------------------------------------------------------------------------ the page
def scheduler_size(size: int, runs: list[tuple[float, int, int]]) -> dict[str, Any]:
    """One size of the scheduler's results: runs are (handler s, requests, stopped after)."""
    return {
        "size": size,
        "fleet": scale.scheduled_fleet(size).to_json(),
        "seeding_s": size / 100,
        "budget_s": 120,
        "steady": {"run_s": size / 1000, "requests": size // 10, "stopped_after": 0},
        "full_stop": [
            {"label": f"full stop #{n + 1}", "run_s": s, "requests": r, "stopped_after": after}
            for n, (s, r, after) in enumerate(runs)
        ],
        "all_stopped": runs[-1][2] >= size,
    }


def pruner_size(size: int, runs: list[tuple[float, float, int, int]]) -> dict[str, Any]:
    """One size of the pruner's results: runs are (Lambda s, real s, deleted, deferred)."""
    fleet = scale.snapshot_fleet(size)
    expected = fleet.expected_deletions()
    return {
        "size": size,
        "fleet": fleet.to_json(),
        "expected_deletions": expected,
        "floor_s": 100.0,
        "seeding_s": 1.0,
        "budget_s": 900,
        "wall_s": sum(real for _, real, _, _ in runs),
        "runs": [
            {
                "label": f"prune #{n + 1}",
                "lambda_s": lambda_s,
                "real_s": real,
                "listing_s": real / 2,
                "requests": deleted + 20,
                "calls": {"ec2:DescribeSnapshots": 5, "ec2:DeleteSnapshot": deleted},
                "deleted": deleted,
                "deferred": deferred,
            }
            for n, (lambda_s, real, deleted, deferred) in enumerate(runs)
        ],
        "prune_runs": len(runs),
        "finished": runs[-1][3] == 0,
        "deleted": expected,
        "production_deleted": 0,
    }


SCALE = {
    "scheduler": [
        scheduler_size(1000, [(5.0, 1200, 1000)]),
        scheduler_size(10000, [(112.0, 9000, 9500), (8.0, 1000, 10000)]),
    ],
    "pruner": [
        pruner_size(5000, [(200.0, 10.0, 800, 0)]),
        pruner_size(50000, [(880.0, 60.0, 4500, 3200), (650.0, 40.0, 3200, 0)]),
    ],
    "snapshot_days": scale.SNAPSHOT_DAYS,
    "schedule_rate_s": 300.0,
    "lambda_limit_s": 900,
}
BURST = {
    "messages": 1000,
    "deployment": notifier_burst.deployment(),
    "publishers": 16,
    "publish_s": 3.0,
    "delivered": 1000,
    "duplicates": 0,
    "dead_lettered": 0,
    "latency_s": {"p50": 6.0, "p90": 11.0, "p99": 12.0, "max": 12.5, "min": 0.4},
    "total_s": 13.0,
    "invocations": 100,
    "batch_size_mean": 10.0,
    "handler_s_median": 0.6,
    "handler_s_sum": 60.0,
    "cold_start_import_s": [0.5, 0.6],
    "failed_items": 0,
    "errors": [],
    "requests": {"sns:Publish": 1000, "sqs:ReceiveMessage": 130, "dynamodb:GetItem": 2000},
}


def test_the_scale_section_says_which_sizes_resumed_across_runs() -> None:
    text = report.scale_section(SCALE)

    assert "| 1,000 | 10.0 s | 1.00 s | 100 | 5.00 s | 1,200 | 1,000 / 1,000 | yes, one run |" in (
        text
    )
    assert "| 10,000 |" in text
    assert "no: 2 runs, 5 min apart |" in text
    assert "120 s" in text
    # 50,000 snapshots: two runs, 1,530 s in Lambda, 100 s real, all due ones deleted.
    assert "| 50,000 | 1.00 s | 7,720 | 2 | 1530.0 s | 100.0 s | 50.0 s | 7,740 | yes |" in text
    # Steady state 1 s and 100 requests -> 10 s and 1,000: linear; full stop 5 s -> 120 s
    # (k = log 24 / log 10) and 1,200 -> 10,000 requests (k = log 8.33 / log 10).
    assert (
        "steady state handler time k = 1.00, requests k = 1.00; full stop handler time k = 1.38,"
        " requests k = 0.92" in text
    )
    assert "One round per size" in text


def test_the_scale_section_flags_a_wrong_deletion_and_an_unfinished_stop() -> None:
    results = copy.deepcopy(SCALE)
    results["pruner"][-1]["production_deleted"] = 1
    results["scheduler"][-1] = scheduler_size(10000, [(112.0, 9000, 9500)])

    text = report.scale_section(results)

    assert "| **no** |" in text
    assert "no: 1 run, 5 min apart, still not all stopped" in text


def test_a_run_longer_than_its_timeout_is_marked() -> None:
    results = copy.deepcopy(SCALE)
    results["scheduler"][-1] = scheduler_size(10000, [(130.0, 9000, 10000)])
    results["pruner"][-1]["runs"][0]["lambda_s"] = 950.0

    text = report.scale_section(results)

    assert "**no**: full stop #1 ran past it |" in text
    assert "| 2 (**over the Timeout**) |" in text


def test_the_burst_section_states_the_deployment_and_what_went_wrong() -> None:
    text = report.notifier_burst_section(BURST)
    assert "batches of up to 10**" in text
    assert "at most 5 invocations" in text
    assert "| 1,000 | 1,000 | 6.00 s | 11.0 s | 12.0 s | 12.5 s | 13.0 s | 3.00 s |" in text
    assert "Every alarm reached the webhook exactly once" in text
    assert "Not measured here" in text

    short = BURST | {"delivered": 999, "failed_items": 3}
    text = report.notifier_burst_section(short)
    assert "only 999 of 1,000 reached the webhook" in text
    assert "3 failed items" in text


def test_the_summary_has_a_row_for_each(tmp_path: Path) -> None:
    text = report.summary_section({"scale": SCALE, "notifier_burst": BURST})

    assert "6. scheduler full stop, 10,000 resources (1 round)" in text
    assert "6. pruner, 50,000 snapshots (1 round)" in text
    assert "15x the floor" in text
    assert "7. notifier burst, 1,000 alarms" in text
    assert charts.scale(SCALE, tmp_path / "scale.png").stat().st_size > 10_000


def test_the_scale_policy_opens_the_circuit_breaker_for_the_fleet(tmp_path: Path) -> None:
    big = scale.scheduler_policy(10000, tmp_path).read_text(encoding="utf-8")
    small = scale.scheduler_policy(1000, tmp_path).read_text(encoding="utf-8")

    assert "max_stops: 10000" in big
    assert "max_stops: 5000" in small  # the comparison's own setting, already open enough
    assert big.replace("10000", "5000") == scale.NIGHTSHIFT_POLICY.read_text(encoding="utf-8")
