"""Nightshift's own resources and environment in moto, as template.yaml declares them.

The functional tests run a handler as Lambda would: beside the state table and the ops topic the
template creates, with the environment the template gives the function. Both are read from
template.yaml by the local cloud's `localcloud.declared` (the bench uses it too); this adds what
only tests need, the environment set for one test through pytest's monkeypatch.

    with mock_aws():
        table = create_state_table(boto3.client("dynamodb", region_name=REGION), "nightshift-state")
        ops = create_ops_topic(sns, sqs, "nightshift-ops-staging")
        function_environment(
            monkeypatch, service="pruner", policy_file=policy, table=table, topic_arn=ops.arn
        )
        ...
        (report,) = ops.reports()
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from moto import mock_aws

from localcloud.declared import (
    FAKE_CREDENTIALS,
    REGION,
    SUPPLIED_VARIABLES,
    TEMPLATE_PATH,
    OpsTopic,
    TemplateLoader,
    create_ops_topic,
    create_state_table,
    function_variables,
    nightshift_template,
    subscribe_queue,
    template_resource,
)

if TYPE_CHECKING:
    import pytest

__all__ = [
    "AMBIENT_VARIABLES",
    "FAKE_CREDENTIALS",
    "REGION",
    "SUPPLIED_VARIABLES",
    "TEMPLATE_PATH",
    "OpsTopic",
    "TemplateLoader",
    "create_ops_topic",
    "create_state_table",
    "fake_credentials",
    "function_environment",
    "function_variables",
    "nightshift_template",
    "subscribe_queue",
    "template_resource",
]

# What would mix with the fake credentials or send clients past moto: a developer's profile or
# session token, the local cloud's endpoint.
AMBIENT_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")


def fake_credentials(monkeypatch: pytest.MonkeyPatch, region: str = REGION) -> None:
    """Point boto3 at moto for this test: `region`, fake credentials, and no AWS_PROFILE,
    AWS_SESSION_TOKEN or AWS_ENDPOINT_URL from the shell the tests run in."""
    for name, value in {"AWS_DEFAULT_REGION": region, **FAKE_CREDENTIALS}.items():
        monkeypatch.setenv(name, value)
    for name in AMBIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def function_environment(
    monkeypatch: pytest.MonkeyPatch,
    *,
    service: str,
    policy_file: Path | str,
    table: str,
    topic_arn: str,
    environment: str = "staging",
    region: str = REGION,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`fake_credentials(monkeypatch, region)`, then `function_variables(...)` set for this test;
    returns what was set."""
    variables = function_variables(
        service=service,
        policy_file=policy_file,
        table=table,
        topic_arn=topic_arn,
        environment=environment,
        region=region,
        extra=extra,
    )
    fake_credentials(monkeypatch, region)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables


def actions_environment(
    monkeypatch: pytest.MonkeyPatch,
    *,
    policy_file: Path,
    table: str,
    topic_arn: str,
    key_secret: str,
    slack_secret: str,
    region: str = REGION,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`function_environment` for the actions function: its signing key's and Slack signing
    secret's names, and its time zone (Europe/Berlin), besides `extra`."""
    return function_environment(
        monkeypatch,
        service="actions",
        policy_file=policy_file,
        table=table,
        topic_arn=topic_arn,
        region=region,
        extra={
            "NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET": key_secret,
            "NIGHTSHIFT_ACTIONS_SLACK_SECRET": slack_secret,
            "NIGHTSHIFT_ACTIONS_TIMEZONE": "Europe/Berlin",
            **(extra or {}),
        },
    )


ACTIONS_TABLE, ACTIONS_TOPIC = "nightshift-state", "nightshift-ops-staging"
ACTIONS_KEY = "k3y" * 20
ACTIONS_KEY_NAME = "nightshift/actions-staging-signing-key"
ACTIONS_SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ACTIONS_SLACK_NAME = "nightshift/actions-staging-slack-signing-secret"


@contextmanager
def actions_account(
    monkeypatch: pytest.MonkeyPatch,
    policy_file: Path,
    *,
    slack: bool = True,
    extra: Mapping[str, str] | None = None,
) -> Iterator[OpsTopic]:
    """The actions function's account under moto for one test: its environment
    (`actions_environment`), the state table, the ops topic (yielded), the signing key's secret
    and, with `slack`, the Slack signing secret's."""
    actions_environment(
        monkeypatch,
        policy_file=policy_file,
        table=ACTIONS_TABLE,
        topic_arn=f"arn:aws:sns:{REGION}:123456789012:{ACTIONS_TOPIC}",
        key_secret=ACTIONS_KEY_NAME,
        slack_secret=ACTIONS_SLACK_NAME,
        extra=extra,
    )
    with mock_aws():
        create_state_table(boto3.client("dynamodb"), ACTIONS_TABLE)
        ops = create_ops_topic(boto3.client("sns"), boto3.client("sqs"), ACTIONS_TOPIC)
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(Name=ACTIONS_KEY_NAME, SecretString=ACTIONS_KEY)
        if slack:
            secrets.create_secret(Name=ACTIONS_SLACK_NAME, SecretString=ACTIONS_SLACK_SECRET)
        yield ops
