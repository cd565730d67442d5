"""scripts/invoke refuses what it cannot deploy as documented: exit status 2 and one line, before
any server starts (docs/local-cloud.md)."""

from __future__ import annotations

import os
import subprocess

import pytest

from localcloud import Project
from tests.conftest import ROOT

pytestmark = pytest.mark.integration
EVENT = str(ROOT / "events" / "scheduler" / sorted(os.listdir(ROOT / "events" / "scheduler"))[0])


def invoke(*arguments: str) -> subprocess.CompletedProcess[str]:
    if not Project.at().built_template.is_file():
        pytest.skip("no `sam build` output: run `make build` first")
    return subprocess.run(
        [str(ROOT / "scripts" / "invoke"), "SchedulerFunction", EVENT, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
    )


def test_a_policy_file_not_in_the_policy_folder_exits_2_with_one_line() -> None:
    result = invoke("--parameter-overrides", "PolicyFile=staging.yaml")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "localcloud: --parameter-overrides: PolicyFile=staging.yaml: no such file in policy/ "
        "(there: " + ", ".join(sorted(p.name for p in (ROOT / "policy").glob("*.yaml"))) + ")"
    ]


def test_an_unknown_parameter_exits_2_naming_the_templates_parameters() -> None:
    result = invoke("--parameter-overrides", "ClusterName=todoapp")

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("localcloud: --parameter-overrides: unknown parameter 'ClusterName'")
    assert "PolicyFile" in line
