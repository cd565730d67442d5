"""The IAM judge in the local cloud: what a function process recorded is judged against the
role of the deployed stack (its own template, names and KMS key policy), after the invocation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iamjudge.localcloud import IamDeniedError, judge_invocation, recording
from localcloud import Stack

pytestmark = pytest.mark.integration


def record_file(tmp_path: Path, stack: Stack, function: str, authorizations: list) -> Path:
    path = tmp_path / "calls.jsonl"
    record = {
        "function": function,
        "site": "nightshift.adapters.secrets:63 in value",
        "service": "secretsmanager",
        "operation": "GetSecretValue",
        "region": stack.endpoint.region,
        "account": stack.account_id,
        "authorizations": authorizations,
    }
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def secret(stack: Stack, name: str) -> dict:
    arn = f"arn:aws:secretsmanager:{stack.endpoint.region}:{stack.account_id}:secret:{name}-AbCdEf"
    return {"action": "secretsmanager:GetSecretValue", "resource": arn, "context": {}}


def test_a_call_the_deployed_role_allows_is_judged_allowed(stack: Stack, tmp_path: Path):
    calls = record_file(tmp_path, stack, "notifier", [secret(stack, "nightshift/slack-oncall")])

    (verdict,) = judge_invocation(stack, "NotifierFunction", calls)

    assert verdict.allowed
    assert verdict.statements == ("NotifierFunctionRolePolicy0/ReadWebhookSecrets",)


def test_a_call_the_deployed_role_denies_fails_the_invocation_naming_the_statement(
    stack: Stack, tmp_path: Path
):
    calls = record_file(tmp_path, stack, "notifier", [secret(stack, "nightshift/canary-token")])

    with pytest.raises(IamDeniedError) as denied:
        judge_invocation(stack, "NotifierFunction", calls)

    message = str(denied.value)
    assert "notifier at nightshift.adapters.secrets:63 in value" in message
    assert "secretsmanager:GetSecretValue on arn:aws:secretsmanager:" in message
    assert "denied by NotifierFunctionRolePolicy0/NeverReadCanarySecrets" in message


def test_publishing_to_the_encrypted_ops_topic_is_judged_with_the_keys_own_policy(
    stack: Stack, tmp_path: Path
):
    key = stack.resolver().resolve({"Fn::Sub": "${OpsTopicKey}"})
    key_arn = f"arn:aws:kms:{stack.endpoint.region}:{stack.account_id}:key/{key}"
    owner_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    calls = record_file(
        tmp_path,
        stack,
        "pruner",
        [
            {
                "action": "kms:GenerateDataKey",
                "resource": key_arn,
                "context": {},
                "resourcePolicy": owner_only,
                "impliedBy": "sns:Publish",
            }
        ],
    )

    with pytest.raises(IamDeniedError, match="kms:GenerateDataKey \\(required by sns:Publish\\)"):
        judge_invocation(stack, "PrunerFunction", calls)


def test_only_template_functions_are_recorded(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NIGHTSHIFT_IAM_JUDGE", "1")

    with recording("ProbeFunction", "/opt/python") as (probe, probe_file):
        pass
    with recording("PrunerFunction", "/opt/python") as (pruner, pruner_file):
        assert pruner_file is not None
        assert pruner["NIGHTSHIFT_IAM_RECORD"] == str(pruner_file)
        assert pruner["PYTHONPATH"].startswith("/opt/python:")

    assert (probe, probe_file) == ({}, None)
