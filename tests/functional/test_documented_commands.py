"""Every command the README and docs list runs as they list it: each `scripts/<name>` answers
`--help` when started outside the virtualenv (it re-launches itself inside), each `make <target>`
exists, and the cheap ones do real work: check-policy reports every mistake, preview renders one
file, and the plans read the local cloud with no region or credentials set."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.server import MotoServer
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
SCRIPT = re.compile(r"(?<![\w/.])scripts/([a-z][a-z-]+)\b")
MAKE = re.compile(r"`make ([a-z][a-z-]*)")
VENV_BIN = str(Path(sys.executable).parent)


def documented(pattern: re.Pattern[str]) -> list[str]:
    return sorted({name for doc in DOCS for name in pattern.findall(doc.read_text("utf-8"))})


def outside_the_venv() -> dict[str, str]:
    """The environment of a shell where the virtualenv is not activated, and no AWS setting."""
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != VENV_BIN)
    return {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}


def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env or outside_the_venv(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_docs_list_the_scripts_and_make_targets_checked_here() -> None:
    assert {"check-policy", "preview", "invoke", "plan-schedule", "plan-prune"} <= set(
        documented(SCRIPT)
    )
    assert {"demo", "test", "build", "lint"} <= set(documented(MAKE))


@pytest.mark.parametrize("name", documented(SCRIPT))
def test_each_documented_script_answers_help_outside_the_virtualenv(name: str) -> None:
    if shutil.which("python3", path=outside_the_venv()["PATH"]) is None:
        pytest.skip("no python3 outside the virtualenv to start from")
    script = ROOT / "scripts" / name

    assert script.is_file(), f"the docs list scripts/{name}, which does not exist"
    result = run(str(script), "--help")

    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage:" in result.stdout


@pytest.mark.parametrize("target", documented(MAKE))
def test_each_documented_make_target_exists(target: str) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")

    assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), target


def test_check_policy_reports_every_mistake_one_line_each_and_warns_on_a_swapped_period(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "team.yaml"
    policy.write_text(
        "version: 1\n"
        "schedules:\n"
        "  office-hours:\n"
        "    timezone: Europe/Atlantis\n"
        '    periods: [{days: mon-fri, start: "19:00", stop: "07:30"}]\n'
        "canaries:\n"
        '  - {name: api, url: "https://api.example.com/health", conditions: ["[STATUS] === 200"]}\n'
        "notify:\n"
        "  destinations: {ops: {type: slack, secret: nightshift/ops}}\n"
        "  routes: [{to: [oncall]}]\n",
        encoding="utf-8",
    )

    result = run(str(ROOT / "scripts" / "check-policy"), str(policy))
    lines = result.stderr.splitlines()

    assert result.returncode == 1
    assert [line.split(": ")[2] for line in lines if line.startswith("error:")] == [
        "notify.routes[0].to[0]",
        "schedules.office-hours.timezone",
        "canaries[0].conditions[0]",
    ]
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 2
    assert "schedules.office-hours.periods[0]: stop 07:30 is before start 19:00" in warnings[0]
    # A check of a policy with schedules that does not say whether they park what it probes.
    assert "canaries[0]: check 'api' does not say whether it depends on" in warnings[1]


def test_check_policy_lists_every_schema_mistake_not_only_the_first(tmp_path: Path) -> None:
    policy = tmp_path / "team.yaml"
    policy.write_text(
        "version: 1\ncanaries:\n  - {name: api, url: ftp://x}\nretention:\n"
        "  - {name: x, resources: [rds-snapshot], match: {tags: {a: b}}, keep: {last: 1}, c: 1}\n",
        encoding="utf-8",
    )

    result = run(str(ROOT / "scripts" / "check-policy"), str(policy))

    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 3, result.stderr


def test_preview_renders_a_single_file() -> None:
    fixture = ROOT / "events" / "notifier" / "cloudwatch-alarm-metric.json"

    result = run(str(ROOT / "scripts" / "preview"), str(fixture))

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("cloudwatch-alarm-metric.json:") == 1
    assert "Slack" in result.stdout
    assert "Teams" in result.stdout


def test_preview_of_a_missing_file_is_one_line_and_status_2() -> None:
    result = run(str(ROOT / "scripts" / "preview"), "events/notifier/nope.json")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "preview: no such file or folder: events/notifier/nope.json"
    ]


@pytest.fixture(scope="module")
def local_cloud() -> Iterator[str]:
    with MotoServer() as endpoint:
        yield endpoint.url


def test_plans_read_the_local_cloud_with_no_region_or_credentials_set(local_cloud: str) -> None:
    env = {**outside_the_venv(), "AWS_ENDPOINT_URL": local_cloud, "HOME": "/nonexistent"}

    prune = run(str(ROOT / "scripts" / "plan-prune"), "--json", env=env)
    schedule = run(str(ROOT / "scripts" / "plan-schedule"), "--json", env=env)

    assert prune.returncode == 0, prune.stderr
    assert json.loads(prune.stdout)["totals"]["snapshots"] == 0
    assert "plan-prune: 0 snapshots in" in prune.stderr  # progress on stderr
    assert schedule.returncode == 0, schedule.stderr
    assert json.loads(schedule.stdout) is not None
    assert "plan-schedule: 0 resources in" in schedule.stderr


@pytest.mark.parametrize("name", ["plan-prune", "plan-schedule"])
def test_a_plan_without_a_region_says_so_in_one_line(name: str) -> None:
    env = {**outside_the_venv(), "HOME": "/nonexistent", "AWS_CONFIG_FILE": "/dev/null"}

    result = run(str(ROOT / "scripts" / name), env=env)

    assert result.returncode in (1, 2)
    assert result.stderr.strip().splitlines() == [
        (
            f"{name}: no AWS region: set AWS_REGION (or use a profile with a region), "
            "or AWS_ENDPOINT_URL for the local cloud"
        )
    ]


def test_plan_prune_reads_aws_region_as_documented(local_cloud: str) -> None:
    env = {**outside_the_venv(), "AWS_ENDPOINT_URL": local_cloud, "AWS_REGION": "us-west-2"}

    result = run(str(ROOT / "scripts" / "plan-prune"), env=env)

    assert result.returncode == 0, result.stderr
    assert "in us-west-2" in result.stderr
