"""Snapshot files under tests/unit/notifier/snapshots/.

A missing or different snapshot fails the test. Run with NIGHTSHIFT_UPDATE_SNAPSHOTS=1 to write
them from the current output, then review the diff in git.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
UPDATE_VARIABLE = "NIGHTSHIFT_UPDATE_SNAPSHOTS"


def updating() -> bool:
    return os.environ.get(UPDATE_VARIABLE) == "1"


def assert_matches_snapshot(file_name: str, actual: str) -> None:
    path = SNAPSHOT_DIR / file_name
    if updating():
        SNAPSHOT_DIR.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {file_name}; run with {UPDATE_VARIABLE}=1 to write it")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{file_name} differs; if intended, rerun with {UPDATE_VARIABLE}=1"
