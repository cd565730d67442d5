"""The docs say what the code does: the policy reference lists exactly the schema's fields."""

from __future__ import annotations

import re
from pathlib import Path

from nightshift.policy import field_paths

ROOT = Path(__file__).resolve().parents[2]
# A field row of docs/policy.md: | `schedules.<name>.timezone` | type | meaning |
FIELD_ROW = re.compile(r"^\| `([a-z_]+(?:[.\[][^`]*)?)` \|", re.MULTILINE)
SECTION_NAMES = ("version", "protect", "schedules", "scheduler", "redeploy", "retention", "pruner")
SECTION_NAMES += ("canaries", "notify")


def documented_fields() -> set[str]:
    text = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    return {path for path in FIELD_ROW.findall(text) if path.startswith(SECTION_NAMES)}


def test_every_schema_field_is_documented() -> None:
    missing = set(field_paths()) - documented_fields()

    assert not missing, f"fields in the schema but not in docs/policy.md: {sorted(missing)}"


def test_every_documented_field_exists_in_the_schema() -> None:
    unknown = documented_fields() - set(field_paths())

    assert not unknown, f"fields in docs/policy.md but not in the schema: {sorted(unknown)}"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]

    assert "make demo" in first_block
    assert "make test" in first_block


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
