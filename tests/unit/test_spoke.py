"""spoke.yaml's roles stay in step with the hub's roles in template.yaml.

A spoke role is what the hub function may do in a member account: the hub role's statements,
less those about what only the hub has (its state table, ops topic and key, the spoke roles and
the organization), with the hub's Region widened to the policy's target Regions (and a Deny of
every other Region). So every statement must be equal, Sid by Sid, but for `${AWS::Region}`,
and the production Deny statements above all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcloud.declared import TemplateLoader, nightshift_template
from tests.conftest import ROOT

SPOKE_PATH = ROOT / "spoke.yaml"

# Hub role -> spoke role, for each hub function that acts in member accounts.
SPOKE_ROLES = {
    "SchedulerFunction": "SchedulerSpokeRole",
    "PrunerFunction": "PrunerSpokeRole",
    "RedeployFunction": "RedeploySpokeRole",
}
# Statements about what exists only in the hub's account, with why a spoke role lacks them.
HUB_ONLY = {
    "RememberParkedCapacityAndLastRun": "the state table is the hub's",
    "RememberTheDeletionCursor": "the state table is the hub's",
    "RememberPushes": "the state table is the hub's",
    "ReadCanaryState": "the state table is the hub's",
    "ReadActionSigningKey": "the actions function and its signing key are the hub's",
    "ReportToOpsTopic": "the ops topic is the hub's",
    "EncryptReportsForOpsTopic": "the ops topic's key is the hub's",
    "EncryptForOpsTopic": "the ops topic's key is the hub's",
    "AssumeSpokeSchedulerRoles": "only the hub assumes spoke roles",
    "AssumeSpokePrunerRoles": "only the hub assumes spoke roles",
    "AssumeSpokeRedeployRoles": "only the hub assumes spoke roles",
    "ListTargetOrganizationUnits": "only the hub resolves OUs",
    "QueueTargetsBeyondTheBound": "the scheduler's target queue is the hub's",
    "GatherQueuedTargets": "the state table is the hub's",
}
SPOKE_ONLY = {"OnlyTargetRegions"}


def spoke_template() -> dict[str, Any]:
    return yaml.load(SPOKE_PATH.read_text(encoding="utf-8"), TemplateLoader)


def _statements(statements: list[Any]) -> dict[str, dict[str, Any]]:
    """Statements by Sid; a statement under `!If [HasOrganization, ...]` counts by its Sid."""
    found = {}
    for statement in statements:
        if "Fn::If" in statement:
            statement = statement["Fn::If"][1]
        found[statement["Sid"]] = statement
    return found


def hub_statements(function: str) -> dict[str, dict[str, Any]]:
    resource = nightshift_template()["Resources"][function]
    return _statements(resource["Properties"]["Policies"][0]["Statement"])


def spoke_statements(role: str) -> dict[str, dict[str, Any]]:
    resource = spoke_template()["Resources"][role]
    return _statements(resource["Properties"]["Policies"][0]["PolicyDocument"]["Statement"])


def _any_region(statement: dict[str, Any]) -> Any:
    return json.loads(json.dumps(statement).replace("${AWS::Region}", "*"))


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


@pytest.mark.parametrize(("function", "role"), sorted(SPOKE_ROLES.items()))
def test_each_spoke_role_has_exactly_its_hub_roles_statements(function: str, role: str) -> None:
    hub, spoke = hub_statements(function), spoke_statements(role)
    assert set(hub) - set(HUB_ONLY) == set(spoke) - SPOKE_ONLY
    for sid in set(spoke) - SPOKE_ONLY:
        assert spoke[sid] == _any_region(hub[sid]), sid


@pytest.mark.parametrize(("function", "role"), sorted(SPOKE_ROLES.items()))
def test_each_spoke_role_allows_the_hub_roles_actions_but_the_hubs_own(
    function: str, role: str
) -> None:
    hub, spoke = hub_statements(function), spoke_statements(role)

    def allowed(statements: dict[str, dict[str, Any]]) -> set[str]:
        return {
            action
            for sid, statement in statements.items()
            if statement["Effect"] == "Allow" and sid not in HUB_ONLY
            for action in _actions(statement)
        }

    assert allowed(spoke) == allowed(hub)
    assert allowed(spoke).isdisjoint({"dynamodb:PutItem", "sns:Publish", "sts:AssumeRole"})


@pytest.mark.parametrize(("function", "role"), sorted(SPOKE_ROLES.items()))
def test_the_production_deny_is_the_hubs(function: str, role: str) -> None:
    """The scheduler and the pruner never touch production (a Deny under the code); redeploy
    has no Deny in the hub either: it redeploys production, gated in code to release tags."""
    hub, spoke = hub_statements(function), spoke_statements(role)
    denies = {sid for sid, statement in hub.items() if statement["Effect"] == "Deny"}
    spoke_denies = {sid for sid, statement in spoke.items() if statement["Effect"] == "Deny"}
    assert spoke_denies == denies | SPOKE_ONLY
    if function != "RedeployFunction":
        assert any("Production" in sid for sid in denies)
    for sid in denies:
        assert spoke[sid] == hub[sid], sid


def test_spoke_roles_trust_only_their_hub_role_inside_the_organization() -> None:
    resources = spoke_template()["Resources"]
    for function, role in SPOKE_ROLES.items():
        properties = resources[role]["Properties"]
        (trust,) = properties["AssumeRolePolicyDocument"]["Statement"]
        parameter = f"Hub{function.removesuffix('Function')}RoleArn"
        assert trust["Principal"] == {"AWS": {"Ref": parameter}}
        assert trust["Action"] == "sts:AssumeRole"
        assert trust["Condition"] == {
            "StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}
        }


def test_spoke_role_names_cannot_be_the_hubs() -> None:
    """The hub's roles are named by SAM (<stack>-<LogicalId>-<suffix>); the spoke's carry a
    prefix of their own, so a spoke instance in the hub's own account adds roles beside them.
    IAM names are global: only the hub Region's instance creates them."""
    resources = spoke_template()["Resources"]
    hub_resources = nightshift_template()["Resources"]
    assert not any("RoleName" in r.get("Properties", {}) for r in hub_resources.values())
    for role in SPOKE_ROLES.values():
        name = resources[role]["Properties"]["RoleName"]["Fn::Sub"]
        function = role.removesuffix("SpokeRole").lower()
        assert name == f"nightshift-spoke-{function}-${{Environment}}"
        assert resources[role]["Condition"] == "InHubRegion"


@pytest.mark.parametrize(
    ("function", "sid", "name"),
    [
        ("SchedulerFunction", "AssumeSpokeSchedulerRoles", "scheduler"),
        ("PrunerFunction", "AssumeSpokePrunerRoles", "pruner"),
        ("RedeployFunction", "AssumeSpokeRedeployRoles", "redeploy"),
    ],
)
def test_a_hub_function_assumes_only_its_own_spoke_role_with_an_organization(
    function: str, sid: str, name: str
) -> None:
    statements = nightshift_template()["Resources"][function]["Properties"]["Policies"][0][
        "Statement"
    ]
    (conditional,) = [
        s["Fn::If"] for s in statements if "Fn::If" in s and s["Fn::If"][1]["Sid"] == sid
    ]
    assert conditional[0] == "HasOrganization"
    assert conditional[2] == {"Ref": "AWS::NoValue"}
    assert conditional[1]["Resource"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:iam::*:role/nightshift-spoke-{name}-${{Environment}}"
    }
    assert "ListTargetOrganizationUnits" in hub_statements(function)


def test_ops_topic_admits_the_organization_only_when_one_is_set() -> None:
    policy = nightshift_template()["Resources"]["OpsTopicPolicy"]["Properties"]["PolicyDocument"]
    conditional = [s["Fn::If"] for s in policy["Statement"] if "Fn::If" in s]
    assert conditional, "the organization's statements are conditional"
    for condition, statement, otherwise in conditional:
        assert condition == "HasOrganization"
        assert otherwise == {"Ref": "AWS::NoValue"}
        key = next(iter(statement["Condition"]["StringEquals"]))
        assert key in ("aws:PrincipalOrgID", "aws:SourceOrgID")
        assert statement["Condition"]["StringEquals"][key] == {"Ref": "OrganizationId"}
    unconditional = [s for s in policy["Statement"] if "Fn::If" not in s]
    assert all("aws:SourceAccount" in s["Condition"]["StringEquals"] for s in unconditional)


def test_make_lint_checks_the_spoke() -> None:
    makefile = Path(ROOT / "Makefile").read_text(encoding="utf-8")
    assert "spoke.yaml" in makefile.split("\nlint:")[1].split("\n\n")[0]
