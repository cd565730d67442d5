"""template.yaml's PolicySource and the loader agree on what a policy source is, and the
permission to read it names that one parameter for every function."""

from __future__ import annotations

import re

import pytest

from nightshift.errors import PolicyError
from nightshift.policy import PolicyParameter
from tests.support.nightshift import nightshift_template

GOOD = ["/nightshift/staging/policy:3", "/team_a/nightshift.policy-v2:12"]
BAD = ["/nightshift/staging/policy", "nightshift/policy:1", "/p:live", "/p:0", "/p:1:2", "/a b:1"]


def allowed_pattern() -> re.Pattern[str]:
    return re.compile(nightshift_template()["Parameters"]["PolicySource"]["AllowedPattern"])


@pytest.mark.parametrize("reference", GOOD)
def test_template_and_loader_accept_a_parameter_pinned_to_a_version(reference: str) -> None:
    assert allowed_pattern().fullmatch(reference)
    assert PolicyParameter.parse(reference).reference == reference


@pytest.mark.parametrize("reference", BAD)
def test_template_and_loader_refuse_anything_else(reference: str) -> None:
    assert not allowed_pattern().fullmatch(reference)
    with pytest.raises(PolicyError):
        PolicyParameter.parse(reference)


def test_empty_policy_source_means_the_layer_file() -> None:
    template = nightshift_template()

    assert template["Parameters"]["PolicySource"]["Default"] == ""
    assert allowed_pattern().fullmatch("")
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["NIGHTSHIFT_POLICY_PARAMETER"] == {"Ref": "PolicySource"}


def test_every_function_may_get_only_the_named_parameter() -> None:
    template = nightshift_template()
    functions = sorted(
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    )
    policy = template["Resources"]["PolicySourceReadPolicy"]

    assert policy["Condition"] == "HasPolicySource"
    assert sorted(role["Ref"] for role in policy["Properties"]["Roles"]) == sorted(
        f"{name}Role" for name in functions
    )
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "ssm:GetParameter"
    arn, names = statement["Resource"]["Fn::Sub"]
    assert arn.endswith(":parameter${Name}")
    assert names == {"Name": {"Fn::Select": [0, {"Fn::Split": [":", {"Ref": "PolicySource"}]}]}}
