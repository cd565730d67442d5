"""A team's own policy, without forking: published (checked first) as an SSM parameter version
with scripts/publish-policy, deployed with PolicySource=/name:version, read and validated by the
built functions in the local cloud (docs/policy.md, "Your own policy")."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import Endpoint, Project, Router, Stack, WebhookReceiver, ensure_stack
from localcloud.stack import remove_stack
from localcloud.webhooks import seed_webhook_secrets
from tests.conftest import ROOT, load_event

pytestmark = pytest.mark.integration

PARAMETER = "/nightshift/team-a/policy"
TEAM_POLICY = """\
version: 1
notify:
  destinations:
    team-a-chat: {type: slack, secret: nightshift/team-a-chat}
  routes:
    - to: [team-a-chat]
"""


def publish(endpoint: Endpoint, policy: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "publish-policy"), str(policy), "--name", PARAMETER, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **endpoint.environ()},
    )


@pytest.fixture(scope="module")
def published(moto_endpoint: Endpoint, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The team's policy published to the local cloud's SSM; its PolicySource value."""
    policy = tmp_path_factory.mktemp("team-a") / "nightshift.yaml"
    policy.write_text(TEAM_POLICY, encoding="utf-8")
    result = publish(moto_endpoint, policy)
    assert result.returncode == 0, result.stderr
    source: str = json.loads(result.stdout)["policy_source"]
    return source


@pytest.fixture(scope="module")
def team_stack(moto_endpoint: Endpoint, project: Project, published: str) -> Iterator[Stack]:
    if not project.built_template.is_file():
        pytest.skip("no `sam build` output: run `make build` first")
    name = "nightshift-team-a"
    stack = ensure_stack(
        moto_endpoint, project, name, {"Environment": "team-a", "PolicySource": published}
    )
    yield stack
    remove_stack(moto_endpoint, name)


def test_a_policy_with_a_mistake_is_not_published(
    moto_endpoint: Endpoint, published: str, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(TEAM_POLICY.replace("to: [team-a-chat]", "to: [nobody]"), encoding="utf-8")

    result = publish(moto_endpoint, wrong)

    assert result.returncode == 1
    assert "error: " in result.stderr
    assert "notify.routes[0].to[0]: unknown destination 'nobody'" in result.stderr
    version = moto_endpoint.client("ssm").get_parameter(Name=PARAMETER)["Parameter"]["Version"]
    assert f"{PARAMETER}:{version}" == published


def test_the_deployed_notifier_routes_by_the_policy_from_ssm(
    team_stack: Stack, receiver: WebhookReceiver
) -> None:
    seeded = seed_webhook_secrets(team_stack, receiver.url)
    body = load_event("notifier", "cloudwatch-alarm-metric")["Records"][0]["body"]
    envelope = json.loads(body)

    report = Router(team_stack, retry_now=True).publish(
        "OpsTopic", envelope["Message"], envelope.get("Subject")
    )

    assert seeded == {"nightshift/team-a-chat": f"{receiver.url}/team-a-chat"}
    (drain,) = report.drains
    assert drain.failed == ()
    destinations = [request.destination for request in receiver.requests]
    assert destinations == ["team-a-chat"]  # the layer's policy routes to `oncall` instead
    assert "todoapp-backend-high-cpu" in json.dumps(receiver.requests[0].json)


def test_every_function_may_read_only_that_parameter(team_stack: Stack, published: str) -> None:
    iam = team_stack.endpoint.client("iam")
    name, _, _version = published.partition(":")
    roles = {
        logical_id: team_stack.physical_id(f"{logical_id}Role")
        for logical_id in team_stack.function_logical_ids()
    }

    for logical_id, role in roles.items():
        document = iam.get_role_policy(RoleName=role, PolicyName="ReadPolicySource")
        statements = document["PolicyDocument"]["Statement"]
        assert statements == [
            {
                "Sid": "ReadPolicySource",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": f"arn:aws:ssm:{team_stack.endpoint.region}:123456789012:parameter{name}",
            }
        ], logical_id
