"""The deployed policy from an SSM parameter version (PolicySource), under moto: read through
Powertools Parameters, validated at load like a file, errors naming the parameter and version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SSMProvider
from moto import mock_aws

from nightshift.adapters.policy_parameter import PolicyParameterReader, load_deployed_policy
from nightshift.errors import PolicyError
from nightshift.settings import CommonSettings
from tests.conftest import ROOT
from tests.support.nightshift import fake_credentials

NAME = "/nightshift/staging/policy"
REGION = "eu-central-1"


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    fake_credentials(monkeypatch, REGION)
    with mock_aws():
        yield boto3.client("ssm", region_name=REGION)


def settings(parameter: str | None) -> CommonSettings:
    return CommonSettings(
        environment="staging",
        policy_file=str(ROOT / "policy" / "nightshift.yaml"),
        state_table="state",
        ops_topic_arn="arn:aws:sns:eu-central-1:123456789012:nightshift-ops-staging",
        policy_parameter=parameter,
    )


def reader(ssm: Any) -> PolicyParameterReader:
    return PolicyParameterReader(SSMProvider(boto3_client=ssm))


def put(ssm: Any, text: str) -> int:
    answer = ssm.put_parameter(Name=NAME, Value=text, Type="String", Overwrite=True)
    return int(answer["Version"])


def test_the_pinned_version_is_read_not_the_latest(ssm: Any) -> None:
    first = put(ssm, "version: 1\nprotect: {tag: Stage, values: [live]}\n")
    put(ssm, "version: 1\nprotect: {tag: Environment, values: [prod]}\n")

    policy = load_deployed_policy(settings(f"{NAME}:{first}"), reader(ssm))

    assert policy.protect.tag == "Stage"
    assert policy.source == f"ssm:{NAME}:1"


def test_without_a_parameter_the_layer_file_is_the_policy(ssm: Any) -> None:
    policy = load_deployed_policy(settings(None), reader(ssm))

    assert policy.source.endswith("policy/nightshift.yaml")


def test_an_invalid_version_is_refused_at_load_naming_parameter_version_and_field(
    ssm: Any,
) -> None:
    version = put(ssm, "version: 1\nschedules: {office: {timezone: UTC, periods: []}}\n")

    with pytest.raises(PolicyError) as raised:
        load_deployed_policy(settings(f"{NAME}:{version}"), reader(ssm))

    assert raised.value.source == f"ssm:{NAME}:{version}"
    assert raised.value.path.startswith("schedules.office")


def test_a_missing_version_is_a_policy_error_naming_it(ssm: Any) -> None:
    put(ssm, "version: 1\n")

    with pytest.raises(PolicyError, match=r"ssm:/nightshift/staging/policy:7: \(parameter\)"):
        load_deployed_policy(settings(f"{NAME}:7"), reader(ssm))


@pytest.mark.parametrize("reference", [NAME, "nightshift/policy:1", f"{NAME}:live", f"{NAME}:0"])
def test_a_reference_without_a_pinned_version_is_refused(ssm: Any, reference: str) -> None:
    with pytest.raises(PolicyError, match="expected an SSM parameter name and version"):
        load_deployed_policy(settings(reference), reader(ssm))
