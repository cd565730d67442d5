"""How the benchmark page reports the cold start (bench/report.py) when a handler has a floor of
its own (bench/cold_start.py's OWN_FLOOR: the notifier and Powertools' BatchProcessor, the canary
and its own pure code, redeploy and Powertools' idempotency), what building the data classes
costs, and how the medians are taken, from made-up results. Only the data-class timer runs an
interpreter, over a made-up package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import cold_start, report


def handler(import_ms: float, floors: dict[str, float], own: str | None = None) -> dict[str, Any]:
    return {
        "import_s": import_ms / 1000,
        "import_s_min": import_ms / 1000,
        "import_s_max": import_ms / 1000,
        "max_rss_mib": 40.0,
        "vs_bare": import_ms / floors[cold_start.BARE],
        "policy_s": 0.005,
        "vs_own_floor": None if own is None else import_ms / floors[own],
    }


def results() -> dict[str, Any]:
    floors = {
        cold_start.BARE: 200.0,
        cold_start.BATCH_FLOOR: 250.0,
        cold_start.CANARY_FLOOR: 240.0,
        cold_start.URL_FLOOR: 250.0,
        cold_start.IDEMPOTENCY_FLOOR: 215.0,
    }
    mode = {
        cold_start.BARE: handler(200, floors) | {"policy_s": None},
        cold_start.BATCH_FLOOR: handler(250, floors) | {"policy_s": None},
        cold_start.CANARY_FLOOR: handler(240, floors) | {"policy_s": None},
        cold_start.URL_FLOOR: handler(250, floors) | {"policy_s": None},
        cold_start.IDEMPOTENCY_FLOOR: handler(215, floors) | {"policy_s": None},
        "actions": handler(270, floors, cold_start.URL_FLOOR),
        "canary": handler(276, floors, cold_start.CANARY_FLOOR),
        "notifier": handler(275, floors, cold_start.BATCH_FLOOR),
        "redeploy": handler(258, floors, cold_start.IDEMPOTENCY_FLOOR),
        "scheduler": handler(240, floors),
    }
    return {
        "repeat": 3,
        "built": True,
        "python": "3.13.0",
        "arch": "x86_64",
        "interpreter_startup_s": 0.03,
        "modes": {"as built": mode, "precompiled": mode},
        "floors": list(cold_start.FLOORS),
        "own_floor": {
            name: {"floor": floor, "why": why, "made_of": made_of.format(**cold_start.own_code())}
            for name, (floor, why, made_of) in cold_start.OWN_FLOOR.items()
        },
        "by_package": {"notifier": {"botocore": 0.05}},
        "layer": {"unzipped_bytes": 2**20, "zipped_bytes": 2**19, "largest": {"boto3": 2**19}},
    }


def import_rows(section: str) -> dict[str, str]:
    """The import table's rows by subject (peak RSS in MiB), not the breakdown by package."""
    return {
        line.split(" | ")[0].strip("| `"): line for line in section.splitlines() if "MiB" in line
    }


@pytest.mark.parametrize(
    ("handler", "floor", "ratio", "reason"),
    [
        ("notifier", cold_start.BATCH_FLOOR, "1.10x", "no narrower public module avoids asyncio"),
        ("canary", cold_start.CANARY_FLOOR, "1.15x", "the alarm plan (every run"),
        ("actions", cold_start.URL_FLOOR, "1.08x", "the AppSync resolver asyncio"),
        ("redeploy", cold_start.IDEMPOTENCY_FLOOR, "1.20x", "at the first held push and the"),
    ],
)
def test_a_handler_is_shown_against_its_own_floor_with_the_reason(
    handler: str, floor: str, ratio: str, reason: str
) -> None:
    # notifier 275 ms / 250, canary 276 / 240, actions 270 / 250, redeploy 258 / 215
    section = report.cold_start_section(results())
    rows = import_rows(section)

    assert rows[handler].endswith(f"| {ratio} / {ratio} |")
    assert floor in rows
    assert reason in section
    assert f"Against it the {handler} is\n{ratio} as built" in section


def test_a_handler_without_a_floor_of_its_own_leaves_the_cell_empty() -> None:
    assert import_rows(report.cold_start_section(results()))["scheduler"].endswith("|  |")


def test_the_canary_floor_says_what_it_is_made_of() -> None:
    section = report.cold_start_section(results())

    assert f"`nightshift.canary` ({cold_start.own_code()['canary']})" in section


def test_a_subjects_figures_are_medians_against_the_floors_of_the_same_mode() -> None:
    samples = {
        cold_start.BARE: [_sample(ms) for ms in (210, 190, 200)],
        cold_start.IDEMPOTENCY_FLOOR: [_sample(ms) for ms in (215, 225, 220)],
        "redeploy": [_sample(ms) for ms in (300, 264, 250)],
        "scheduler": [_sample(ms) for ms in (250, 240, 260)],
    }

    redeploy = cold_start.summary(samples, "redeploy")
    scheduler = cold_start.summary(samples, "scheduler")

    assert (redeploy["import_s"], redeploy["import_s_min"], redeploy["import_s_max"]) == (
        0.264,
        0.25,
        0.3,
    )
    assert round(redeploy["vs_bare"], 3) == 1.32  # 264 / 200
    assert round(redeploy["vs_own_floor"], 3) == 1.2  # 264 / 220
    assert redeploy["policy_s"] == 0.005
    assert round(scheduler["vs_bare"], 3) == 1.25
    assert scheduler["vs_own_floor"] is None
    assert cold_start.summary(samples, cold_start.BARE)["policy_s"] is None


def _sample(import_ms: float) -> dict[str, Any]:
    return {"import_s": import_ms / 1000, "max_rss_mib": 40.0, "policy_s": 0.005}


def test_the_summary_row_keeps_the_floors_out_of_the_handlers_range() -> None:
    summary = report.summary_section({"cold_start": results()})
    [row] = [line for line in summary.splitlines() if "4. cold start" in line]

    assert row == (
        "| 4. cold start (import, as built) | 240-276 ms | bare boto3 handler: 200 ms | "
        "1.20x-1.38x the floor; actions 1.08x its own floor; notifier 1.10x its own floor; "
        "redeploy 1.20x its own floor; canary 1.15x its own floor (section 4) |"
    )


def test_what_the_canary_floor_is_made_of_is_counted_in_the_sources() -> None:
    counted = cold_start.own_code()

    dataclasses, enums = _module_level("@dataclass"), _module_level("class ", "Enum):")
    assert dataclasses > 20  # the count reads the modules, not an empty folder
    assert enums > 5
    assert counted["canary"].startswith(f"{dataclasses} data classes, {enums} enums, ")


def _module_level(prefix: str, suffix: str = "") -> int:
    canary = cold_start.ROOT / "layers" / "nightshift" / "nightshift" / "canary"
    return sum(
        line.startswith(prefix) and line.endswith(suffix)
        for path in canary.glob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
    )


def test_what_building_the_data_classes_costs_is_shown_against_the_bare_import() -> None:
    found = results() | {
        "data_class_runs": 5,
        "data_classes": {
            cold_start.BARE: {"own": 0, "own_s": 0.0, "libraries": 2, "libraries_s": 0.001},
            "redeploy": {"own": 29, "own_s": 0.022, "libraries": 2, "libraries_s": 0.001},
        },
    }

    section = report.cold_start_section(found)
    [row] = [line for line in section.splitlines() if line.startswith("| `redeploy` | 29 |")]

    # 22 ms of a 200 ms bare import; redeploy 258 ms, less 22 ms: 236 / 200
    assert row == "| `redeploy` | 29 | 22 ms | 0.11x | 2 in 1 ms | 1.29x | 1.18x |"
    assert "| bare (import boto3) | 0 |" not in section  # a floor that builds none of its own
    assert "Timed in 5\nfresh interpreters" in section


def test_results_from_before_the_data_classes_were_timed_leave_the_table_out() -> None:
    assert "What building the data classes costs" not in report.cold_start_section(results())


def test_the_data_class_timer_counts_the_projects_classes_apart_from_the_libraries(
    tmp_path: Path,
) -> None:
    (tmp_path / "nightshift").mkdir()
    (tmp_path / "nightshift" / "__init__.py").write_text("")
    (tmp_path / "nightshift" / "model.py").write_text(
        "from dataclasses import dataclass\n\n"
        "@dataclass(frozen=True)\nclass Decision:\n    reason: str\n\n"
        "@dataclass\nclass Row:\n    name: str\n"
    )
    (tmp_path / "library.py").write_text(
        "import dataclasses\n\n@dataclasses.dataclass\nclass Options:\n    size: int = 0\n"
    )
    (tmp_path / "app.py").write_text("import library\nimport nightshift.model\n")

    found = cold_start.data_classes([str(tmp_path)], repeat=2)

    assert (found["own"], found["libraries"]) == (2, 1)
    assert 0 < found["own_s"] < 1
    assert 0 < found["libraries_s"] < 1
