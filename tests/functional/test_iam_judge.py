"""The IAM judge itself, on a real handler run: a call its role does not allow is caught at the
call that made it, naming the site, the action, the resource and the deciding statement."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from iamjudge.pytest_plugin import JudgedCalls
from localcloud.receiver import WebhookReceiver
from tests.conftest import FakeLambdaContext, load_event, load_handler
from tests.support.nightshift import create_state_table, function_environment

REGION, ACCOUNT, TABLE = "eu-central-1", "123456789012", "nightshift-state"
POLICY = """
version: 1
notify:
  destinations:
    oncall: {{type: slack, secret: {secret}}}
  routes: [{{to: [oncall]}}]
"""


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def notifier(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, receiver: WebhookReceiver, secret: str
) -> ModuleType:
    policy_file = tmp_path / "nightshift.yaml"
    policy_file.write_text(POLICY.format(secret=secret), encoding="utf-8")
    function_environment(
        monkeypatch,
        service="notifier",
        policy_file=policy_file,
        table=TABLE,
        topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:nightshift-ops",
        region=REGION,
    )
    parameters.clear_caches()
    create_state_table(boto3.client("dynamodb"), TABLE)
    boto3.client("secretsmanager").create_secret(
        Name=secret, SecretString=receiver.url_for("oncall")
    )
    return load_handler("notifier")


def invoke(handler: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    return handler.lambda_handler(copy.deepcopy(event), FakeLambdaContext())


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield
    parameters.clear_caches()


@pytest.mark.usefixtures("aws")
def test_removing_the_state_table_statement_fails_the_run_at_the_state_table_call(
    monkeypatch, tmp_path, receiver, iam_judge: JudgedCalls
):
    handler = notifier(monkeypatch, tmp_path, receiver, "nightshift/slack-oncall")
    iam_judge.without_statements("DeduplicateAndTrackAlarms")

    invoke(handler, load_event("notifier", "budgets-forecasted"))

    denied = iam_judge.take_denied()
    assert denied
    assert {verdict.action for verdict in denied} == {"dynamodb:GetItem", "dynamodb:PutItem"}
    first = denied[0]
    assert first.decision == "ImplicitlyDenied"
    assert first.resource == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
    assert first.site.startswith("nightshift.adapters.state_table:")
    assert "no Allow in the role" in first.describe()
    leading_keys = {key for verdict in denied for key in verdict.context["dynamodb:LeadingKeys"]}
    assert leading_keys <= {"notifier#delivery", "notifier#alarm"}


@pytest.mark.usefixtures("aws")
def test_notifier_reading_a_canary_secret_is_denied_by_the_statement_that_says_so(
    monkeypatch, tmp_path, receiver, iam_judge: JudgedCalls
):
    handler = notifier(monkeypatch, tmp_path, receiver, "nightshift/canary-api-token")

    invoke(handler, load_event("notifier", "budgets-forecasted"))

    (denied,) = iam_judge.take_denied()
    assert denied.action == "secretsmanager:GetSecretValue"
    assert denied.resource.startswith(
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:nightshift/canary-api-token-"
    )
    assert denied.decision == "ExplicitlyDenied"
    assert denied.statements == ("NotifierFunctionRolePolicy0/NeverReadCanarySecrets",)
    assert denied.site.startswith("nightshift.adapters.secrets:")


@pytest.mark.usefixtures("aws")
def test_calls_the_role_allows_leave_nothing_to_report(
    monkeypatch, tmp_path, receiver, iam_judge: JudgedCalls
):
    handler = notifier(monkeypatch, tmp_path, receiver, "nightshift/slack-oncall")

    result = invoke(handler, load_event("notifier", "budgets-forecasted"))

    assert result == {"batchItemFailures": []}
    judged = {(v.action, v.resource_kind, v.decision) for v in iam_judge.verdicts}
    assert judged == {
        ("dynamodb:GetItem", "table", "Allowed"),
        ("dynamodb:PutItem", "table", "Allowed"),
        ("secretsmanager:GetSecretValue", "secret", "Allowed"),
    }
