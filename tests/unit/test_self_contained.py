"""The repository is self-contained: no code or test reads a folder beside it (a fresh clone has
no `../shared`); the reference payloads the tests need live in tests/fixtures/reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REFERENCE, ROOT

CHECKED = ("tests", "layers", "functions", "tools", "bench", "scripts")
SUFFIXES = {".py", ".sh", ".toml", ".yaml", ".yml", ".json", ".cfg", ".ini", ""}
# A path into the sibling folder, written any of the ways Python or a shell would reach it.
OUTSIDE = re.compile(
    r"""\.\./+shared"""  # ../shared
    r"""|/work/shared"""  # the absolute path on the team's machines
    r"""|parents?(\[\d+\])?\s*/\s*["']shared["']"""  # ROOT.parent / "shared"
)


def checked_files() -> list[Path]:
    files: list[Path] = []
    for top in CHECKED:
        for path in sorted((ROOT / top).rglob("*")):
            parts = set(path.relative_to(ROOT).parts)
            if parts & {"__pycache__", ".venv", "node_modules"} or not path.is_file():
                continue
            if path.suffix in SUFFIXES and path != Path(__file__):
                files.append(path)
    return files


def test_the_scan_sees_the_files_it_is_meant_to_check() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in checked_files()}
    assert "tests/conftest.py" in names
    assert "layers/nightshift/nightshift/redeploy/events.py" in names
    assert "scripts/invoke" in names


@pytest.mark.parametrize("path", checked_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_file_reads_outside_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    found = [line for line in text.splitlines() if OUTSIDE.search(line)]
    assert not found, f"{path.relative_to(ROOT)} reaches outside the repository: {found}"


def test_the_pattern_catches_each_way_of_reaching_the_sibling_folder() -> None:
    for line in ('ROOT.parent / "shared" / "reference"', "cat ../shared/x", "/work/shared/ref"):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search('{"snapshot_type": "shared"}')


def test_reference_payloads_are_inside_the_repository() -> None:
    assert REFERENCE.is_relative_to(ROOT)
    assert (REFERENCE / "README.md").is_file()
    # The team's 16, and 4 CloudWatch Alarm State Change events from AWS's documented shapes.
    assert len(list(REFERENCE.glob("*.json"))) == 20
