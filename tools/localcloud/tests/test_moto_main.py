"""The organization's moto server (localcloud.moto_main): AssumeRole of a spoke role that does
not exist is refused with AWS's AccessDenied; an existing one, and any other role (the local
cloud's own way into an account), get credentials of that account, as moto gives them."""

from __future__ import annotations

import doctest
import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud import moto_main
from localcloud.server import FAKE_CREDENTIALS, Endpoint, MotoServer

MEMBER = "222222222222"
SPOKE = f"arn:aws:iam::{MEMBER}:role/nightshift-spoke-scheduler-staging"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    with MotoServer(organization=True) as started:
        yield started


def member_iam(endpoint: Endpoint) -> object:
    answer = endpoint.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/OrganizationAccountAccessRole", RoleSessionName="test"
    )["Credentials"]
    return boto3.client(
        "iam",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=answer["AccessKeyId"],
        aws_secret_access_key=answer["SecretAccessKey"],
        aws_session_token=answer["SessionToken"],
    )


def test_examples_hold() -> None:
    assert doctest.testmod(moto_main).failed == 0


def test_a_missing_spoke_role_is_refused_with_access_denied(endpoint: Endpoint) -> None:
    with pytest.raises(ClientError) as refused:
        endpoint.client("sts").assume_role(RoleArn=SPOKE, RoleSessionName="hub")

    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"].endswith(f"sts:AssumeRole on resource: {SPOKE}")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_existing_spoke_role_gives_credentials_of_its_account(endpoint: Endpoint) -> None:
    member_iam(endpoint).create_role(  # type: ignore[attr-defined]
        RoleName=SPOKE.rsplit("/", 1)[-1],
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )

    answer = endpoint.client("sts").assume_role(RoleArn=SPOKE, RoleSessionName="hub")

    credentials = answer["Credentials"]
    identity = boto3.client(
        "sts",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    ).get_caller_identity()
    assert identity["Account"] == MEMBER
    assert ":assumed-role/nightshift-spoke-scheduler-staging/hub" in identity["Arn"]
    assert FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"] != credentials["AccessKeyId"]
