"""The hub and its organization in the local cloud, as test_organization and
test_scheduler_queued deploy them: a moto server of their own (`MotoServer(organization=True)`:
AssumeRole of a spoke role that does not exist is refused, as AWS refuses it), the built stack
as the hub, `spoke.yaml` in staging and production in both Regions
(`localcloud.organization.deploy_organization`), a sandbox account without the spoke named in
the policy's targets, the policy written for the functions (NIGHTSHIFT_POLICY_FILE) and every
AWS call judged into the module's own ledger (tools/iamjudge).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from localcloud import Endpoint, MotoServer, Project, Router, Stack, ensure_stack
from localcloud.fleet import Fleet
from localcloud.organization import HUB_PARAMETERS, Organization, deploy_organization
from tests.integration.test_scheduler import scheduler_schedule

SANDBOX = "444444444444"  # a target account without the spoke
OFFICE_HOURS = {"nightshift:schedule": "office-hours"}
FRIDAY_EVENING = "2026-11-20T18:05:00Z"  # 19:05 CET
MONDAY_MORNING = "2026-11-23T06:35:00Z"  # 07:35 CET
SCHEDULES = {
    "version": 1,
    "protect": {"tag": "Environment", "values": ["production", "prod"]},
    "schedules": {
        "office-hours": {
            "timezone": "Europe/Berlin",
            "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}],
        }
    },
}


@dataclass
class DeployedHub:
    endpoint: Endpoint
    hub: Stack
    organization: Organization
    router: Router
    schedule: str  # the scheduler's schedule, as the router names it
    ledger: Path

    def office_api(self, account: str, region: str) -> Fleet:
        """A service `office/api` of 3 tasks (scaling 2-10) on office hours in that account."""
        fleet = Fleet(self.organization.account(account, region))
        fleet.ecs_service("office", "api", desired=3, target=(2, 10), tags=OFFICE_HOURS)
        return fleet

    def judged(self) -> list[dict[str, Any]]:
        text = self.ledger.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()]


@contextmanager
def deployed_hub(
    project: Project,
    folder: Path,
    policy: Mapping[str, Any],
    *,
    parameters: Mapping[str, str] | None = None,
    targets: Mapping[str, Any] | None = None,
) -> Iterator[DeployedHub]:
    """The hub (HUB_PARAMETERS and `parameters`) with `policy`, whose targets are the
    organization's and the sandbox, with `targets`' settings added (e.g. `queue_above`)."""
    if not project.built_template.is_file():
        pytest.skip(f"no `sam build` output ({project.built_template}): run `make build` first")
    ledger = folder / "iam-ledger.jsonl"
    ledger.touch()
    with (
        pytest.MonkeyPatch.context() as patch,
        MotoServer(organization=True, log_file=folder / "moto.log") as endpoint,
    ):
        patch.setenv("NIGHTSHIFT_IAM_LEDGER", str(ledger))  # every verdict, one JSON line
        hub = ensure_stack(endpoint, project, parameters={**HUB_PARAMETERS, **(parameters or {})})
        organization = deploy_organization(hub)
        listed = organization.policy_targets([{"account": SANDBOX, "name": "sandbox"}])
        written = folder / "nightshift.yaml"
        written.write_text(
            json.dumps({**policy, "targets": {**listed, **(targets or {})}}), encoding="utf-8"
        )
        router = Router(hub, env_overrides={"NIGHTSHIFT_POLICY_FILE": str(written)})
        schedule = scheduler_schedule(hub, router)
        yield DeployedHub(endpoint, hub, organization, router, schedule, ledger)
