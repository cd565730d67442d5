"""scripts/cleanup removes what the functions made outside their stack (the canary's own alarms)
once the stack is gone, and refuses while it still runs."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import Endpoint, Project, Stack, ensure_stack
from localcloud.runtime import invoke
from localcloud.stack import remove_stack
from tests.conftest import ROOT, load_event
from tests.support.health_server import HealthServer

pytestmark = pytest.mark.integration

ENVIRONMENT = "cleanup"
PARAMETER = "/nightshift/cleanup/policy"


def cleanup(endpoint: Endpoint, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "cleanup"), "--environment", ENVIRONMENT, "--json", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **endpoint.environ()},
    )


def alarms(endpoint: Endpoint, prefix: str) -> list[str]:
    found = endpoint.client("cloudwatch").describe_alarms(AlarmNamePrefix=prefix)
    return sorted(alarm["AlarmName"] for alarm in found["MetricAlarms"])


@pytest.fixture
def canary_stack(moto_endpoint: Endpoint, project: Project) -> Iterator[Stack]:
    """A stack whose canary probes a local health endpoint, run once so it made its alarms."""
    if not project.built_template.is_file():
        pytest.skip("no `sam build` output: run `make build` first")
    with HealthServer() as health:
        policy = (
            "version: 1\ncanaries:\n"
            f"  - {{name: api, url: '{health.url('/health')}', conditions: ['[STATUS] == 200']}}\n"
        )
        version = moto_endpoint.client("ssm").put_parameter(
            Name=PARAMETER, Value=policy, Type="String", Overwrite=True
        )["Version"]
        stack = ensure_stack(
            moto_endpoint,
            project,
            "nightshift-cleanup",
            {"Environment": ENVIRONMENT, "PolicySource": f"{PARAMETER}:{version}"},
        )
        result = invoke(stack, "CanaryFunction", load_event("canary", "scheduled"))
        assert not result.error, result.logs[-2000:]
        yield stack
    remove_stack(moto_endpoint, "nightshift-cleanup")


def test_cleanup_refuses_while_the_stack_runs_then_removes_the_canarys_alarms(
    canary_stack: Stack, moto_endpoint: Endpoint, tmp_path: Path
) -> None:
    made = alarms(moto_endpoint, "nightshift-cleanup-canary-check-")
    moto_endpoint.client("cloudwatch").put_metric_alarm(
        AlarmName="nightshift-cleanup-errors-not-the-canarys",
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )

    refused = cleanup(moto_endpoint, "--yes")
    remove_stack(moto_endpoint, canary_stack.name)
    listed = cleanup(moto_endpoint)
    removed = cleanup(moto_endpoint, "--yes")

    assert made == ["nightshift-cleanup-canary-check-down-api"]
    assert refused.returncode == 1
    assert "still runs with Environment=cleanup" in refused.stderr
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["alarms"] == made
    assert json.loads(removed.stdout) == {"region": "eu-central-1", "removed": True, "alarms": made}
    assert alarms(moto_endpoint, "nightshift-cleanup-canary-check-") == []
    assert "nightshift-cleanup-errors-not-the-canarys" in alarms(moto_endpoint, "nightshift-")
