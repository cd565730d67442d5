"""samconfig.toml: every environment names its Region, deploys, syncs (not prod) and reads logs
of the same stack; its parameters exist in the template; prod deploys its own policy."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import yaml

from nightshift_tools.policy_check import review_policy
from tests.conftest import ROOT
from tests.support.nightshift import nightshift_template

CONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
ENVIRONMENTS = ("default", "staging", "prod")


def section(environment: str, command: str) -> dict[str, Any]:
    return dict(CONFIG[environment][command]["parameters"])


def overrides(environment: str, command: str = "deploy") -> dict[str, str]:
    text = section(environment, command)["parameter_overrides"]
    return dict(pair.split("=", 1) for pair in text.split())


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_names_its_region(environment: str) -> None:
    assert section(environment, "global")["region"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_deploy_and_logs_of_an_environment_name_the_same_stack(environment: str) -> None:
    stack = section(environment, "deploy")["stack_name"]

    assert section(environment, "logs")["stack_name"] == stack
    if environment != "prod":
        assert section(environment, "sync")["stack_name"] == stack
        assert overrides(environment, "sync") == overrides(environment)


def test_prod_has_no_sync_section_so_it_only_deploys_through_change_sets() -> None:
    assert "sync" not in CONFIG["prod"]
    assert section("prod", "deploy")["confirm_changeset"] is True


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_override_is_a_template_parameter(environment: str) -> None:
    assert set(overrides(environment)) <= set(nightshift_template()["Parameters"])


def test_prod_deploys_its_own_policy_which_schedules_and_prunes_nothing() -> None:
    policy_file = ROOT / "policy" / overrides("prod")["PolicyFile"]
    review = review_policy(policy_file)
    document = yaml.safe_load(policy_file.read_text(encoding="utf-8"))

    assert policy_file.name == "prod.yaml"
    assert overrides("staging")["PolicyFile"] != "prod.yaml"
    assert review.ok, review.mistakes
    assert not review.warnings
    assert not document.get("schedules")
    assert not document.get("retention")
    assert document["scheduler"]["dry_run"] is True
    assert document["pruner"]["dry_run"] is True
    assert {"prod", "production"} <= set(document["protect"]["values"])
