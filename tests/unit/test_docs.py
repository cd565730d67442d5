"""The docs say what the code does: the policy reference lists exactly the schema's fields."""

from __future__ import annotations

import re
from pathlib import Path

from nightshift.policy import field_paths

ROOT = Path(__file__).resolve().parents[2]
# A field row of docs/policy.md: | `schedules.<name>.timezone` | type | meaning |
FIELD_ROW = re.compile(r"^\| `([a-z_]+(?:[.\[][^`]*)?)` \|", re.MULTILINE)
SECTION_NAMES = ("version", "protect", "schedules", "scheduler", "redeploy", "retention", "pruner")
SECTION_NAMES += ("canaries", "notify", "targets")


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


# A parameter row of docs/deploying.md's table: | `PrunerDryRun` | ... or | `A`, `B` | ...
PARAMETER_ROW = re.compile(r"^\| (`[A-Z][A-Za-z]+`(?:, `[A-Z][A-Za-z]+`)*) \|", re.MULTILINE)


def documented_parameters() -> set[str]:
    text = (ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")
    section = text.split("## Parameters", 1)[1].split("\n## ", 1)[0]
    return {name for row in PARAMETER_ROW.findall(section) for name in re.findall(r"`(\w+)`", row)}


def template_parameters() -> set[str]:
    from tests.support.nightshift import nightshift_template

    return set(nightshift_template()["Parameters"])


def test_every_template_parameter_is_documented_in_deploying() -> None:
    missing = template_parameters() - documented_parameters()

    assert not missing, f"parameters not in docs/deploying.md: {sorted(missing)}"


def test_every_documented_parameter_exists_in_the_template() -> None:
    unknown = documented_parameters() - template_parameters()

    assert not unknown, f"docs/deploying.md documents parameters the template lacks: {unknown}"


def test_the_deploy_docs_tag_services_with_a_follow_name_ecs_accepts() -> None:
    # ECS tag values cannot hold `*`; the tag names a `redeploy.follow` entry (docs/redeploy.md).
    for doc in ("deploying.md", "core-stack.md"):  # (redeploy.md shows the rejected form)
        text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
        assert not re.search(r"nightshift:redeploy=[^`\s]*\*", text), doc
