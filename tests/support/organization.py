"""An AWS Organization under moto, for the hub and spoke tests (docs/organization.md): member
accounts reached with credentials of an assumed role (moto keeps accounts apart by them, as AWS
does), and AWS's refusal of AssumeRole on a spoke role that does not exist.

moto does not check that a role exists before handing out its credentials (its documentation
says so); AWS refuses AssumeRole on a role that does not exist with AccessDenied.
`refuse_missing_roles`, registered as a botocore before-call hook on the hub's STS client (the
way botocore lets a handler answer a call itself), looks the role up in moto's IAM store of the
member account and refuses a missing one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.iam.models import iam_backends

from tests.conftest import FakeLambdaContext, load_handler
from tests.support.nightshift import create_ops_topic, create_state_table, function_environment

if TYPE_CHECKING:
    import pytest

    from iamjudge.pytest_plugin import JudgedCalls
    from localcloud.declared import OpsTopic

HUB = "123456789012"  # moto's default account: the hub
HUB_REGION, OTHER_REGION = "eu-central-1", "eu-west-1"
STAGING, PRODUCTION, SANDBOX = "222222222222", "333333333333", "444444444444"
TABLE, TOPIC = "nightshift-state", "nightshift-ops-staging"
ORGANIZATION_ID = "o-nightshifttest"


@contextmanager
def hub(
    monkeypatch: pytest.MonkeyPatch,
    iam_judge: JudgedCalls,
    *,
    service: str,
    policy: Path,
    extra: Mapping[str, str] | None = None,
) -> Iterator[OpsTopic]:
    """The hub's account under moto for one test of `service` with the policy file `policy`:
    the function's environment, its state table and ops topic (yielded), the hub's stack in an
    organization (for the IAM judge), and AWS's refusal of AssumeRole on a missing spoke role."""
    function_environment(
        monkeypatch,
        service=service,
        policy_file=policy,
        table=TABLE,
        topic_arn=f"arn:aws:sns:{HUB_REGION}:{HUB}:{TOPIC}",
        region=HUB_REGION,
        extra=extra,
    )
    iam_judge.parameters["OrganizationId"] = ORGANIZATION_ID
    forget_accounts()
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # the hook below ends with the test
    with mock_aws():
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION._session.register(  # type: ignore[union-attr]
            "before-call.sts.AssumeRole", refuse_missing_roles
        )
        create_state_table(boto3.client("dynamodb"), TABLE)
        yield create_ops_topic(boto3.client("sns"), boto3.client("sqs"), TOPIC)


def run_in_hub(service: str, event: dict[str, Any], request_id: str | None = None) -> Any:
    """`service`'s handler invoked by `event` as the hub's function `nightshift-<service>`."""
    context = FakeLambdaContext(
        invoked_function_arn=f"arn:aws:lambda:{HUB_REGION}:{HUB}:function:nightshift-{service}"
    )
    if request_id is not None:
        context.aws_request_id = request_id
    return load_handler(service).lambda_handler(event, context)


def spoke_role(account: str, name: str) -> None:
    """A spoke role `name` in `account` (its trust policy is not judged: moto does not)."""
    in_account(account, "eu-central-1").client("iam").create_role(
        RoleName=name,
        AssumeRolePolicyDocument=(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
            f'{{"AWS": "arn:aws:iam::{HUB}:root"}}, "Action": "sts:AssumeRole"}}]}}'
        ),
    )


_admins: dict[str, dict[str, str]] = {}  # per test: moto forgets its keys at the end of one


def forget_accounts() -> None:
    """At the start of each test: the last test's credentials are gone with its moto."""
    _admins.clear()


def admin_credentials(account: str) -> dict[str, str]:
    """Credentials in `account` for the test's own set-up (moto: any role ARN of the account)."""
    if account in _admins:
        return _admins[account]
    answer = boto3.client("sts", region_name="eu-central-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/test-admin", RoleSessionName="test"
    )
    credentials = answer["Credentials"]
    return _admins.setdefault(
        account,
        {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        },
    )


def in_account(account: str, region: str) -> boto3.Session:
    """A session of the test's own in `account` and `region`."""
    return boto3.Session(region_name=region, **admin_credentials(account))


def refuse_missing_roles(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    """AWS's answer to AssumeRole on a role that does not exist: AccessDenied."""
    arn = kwargs["params"]["body"]["RoleArn"]
    if ":role/nightshift-spoke-" not in arn:
        return None  # the test's own set-up
    account, name = arn.split(":")[4], arn.rsplit("/", 1)[-1]
    # moto's own IAM store of that account, read directly: a call would be the function's own.
    if not any(role.name == name for role in iam_backends[account]["aws"].roles.values()):
        return AWSResponse("https://moto", 403, {}, None), {
            "Error": {
                "Code": "AccessDenied",
                "Message": f"User: arn:aws:sts::{HUB}:assumed-role/hub-function/x is not "
                f"authorized to perform: sts:AssumeRole on resource: {arn}",
            },
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
    return None
