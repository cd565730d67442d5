"""The demo's epilogue: the same evening in an organization, three accounts and two Regions.

After the day, `make demo` plays the scheduler's 19:00 run once more, this time as a hub
(docs/organization.md): a local cloud of its own (localcloud.organization) with the operations
hub, staging (its spoke in eu-central-1 and eu-west-1) and production, and a policy whose targets
are staging in both Regions and production (`production: true`). It narrates what each account
and Region had before and after: staging parked in both Regions, production untouched.

Self-contained: a scene of its own after the day's steps, not one of THE_DAY; the day's stack,
chat and review are not touched. The built functions run under the RIE, every call judged.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from localcloud.demo.day import DemoDay, zulu
from localcloud.demo.timeline import Timeline
from localcloud.errors import LocalCloudError
from localcloud.fleet import Capacity, Fleet
from localcloud.organization import (
    ACCOUNT_NAMES,
    HUB,
    HUB_PARAMETERS,
    HUB_REGION,
    OTHER_REGION,
    PRODUCTION,
    STAGING,
    deploy_organization,
)
from localcloud.project import Project
from localcloud.router import Router
from localcloud.server import MotoServer
from localcloud.stack import ensure_stack

TITLE = "Many accounts and Regions: the same evening from one hub"
SCHEDULE = "office-hours"
PLACES = ((STAGING, HUB_REGION), (STAGING, OTHER_REGION), (PRODUCTION, HUB_REGION))


@dataclass(frozen=True)
class SceneResult:
    done: bool
    summary: str
    seconds: float


def heading(title: str = TITLE) -> str:
    """The scene's rule: no weekday and clock, so it is not one of the day's steps.

    >>> heading("x").startswith("━━ x ━")
    True
    """
    head = f"━━ {title} "
    return head + "━" * max(3, 100 - len(head))


def play_organization(project: Project, timeline: Timeline, day: DemoDay) -> SceneResult:
    """Deploy the organization, play the 19:00 run across it, narrate each account and Region."""
    began = time.monotonic()
    timeline.write()
    timeline.write(heading())
    try:
        done, summary = _play(project, timeline, day)
    except (LocalCloudError, ClientError, BotoCoreError) as exc:
        done, summary = False, f"{type(exc).__name__}: {exc}"
    seconds = time.monotonic() - began
    mark = "✓" if done else "✗"
    timeline.write(f"  {mark} organization scene ({seconds:.0f} s): {summary}")
    return SceneResult(done, summary, seconds)


def _play(project: Project, timeline: Timeline, day: DemoDay) -> tuple[bool, str]:
    with (
        MotoServer(organization=True) as endpoint,
        tempfile.TemporaryDirectory(prefix="nightshift-org-") as folder,
    ):
        hub = ensure_stack(endpoint, project, parameters=HUB_PARAMETERS)
        organization = deploy_organization(hub)
        timeline.at(
            None,
            f"hub: {ACCOUNT_NAMES[HUB]} account {HUB} {HUB_REGION} (stack {hub.name}, "
            f"OrganizationId {HUB_PARAMETERS['OrganizationId']})",
        )
        for account in organization.members:
            regions = " and ".join(organization.regions)
            timeline.at(
                None,
                f"spoke: {ACCOUNT_NAMES[account]} account {account}, {regions} "
                f"(role nightshift-spoke-scheduler-{organization.environment})",
            )
        fleets = {}
        for account, region in PLACES:
            fleet = Fleet(organization.account(account, region))
            fleet.ecs_service(
                "todoapp", "api", desired=2, target=(2, 6), tags={"nightshift:schedule": SCHEDULE}
            )
            fleets[(account, region)] = fleet
        policy = Path(folder) / "nightshift.yaml"
        policy.write_text(json.dumps(_policy(project, organization.policy_targets())), "utf-8")
        before = {place: _capacity(fleet) for place, fleet in fleets.items()}
        router = Router(hub, env_overrides={"NIGHTSHIFT_POLICY_FILE": str(policy)})
        at = day.at("19:00")
        timeline.at(at, "the hub's scheduler runs once for every target (policy `targets`)")
        result = _scheduler_run(router, hub.attribute("SchedulerFunction", "Arn"), zulu(at))
        after = {place: _capacity(fleet) for place, fleet in fleets.items()}
        for account, region in PLACES:
            timeline.detail(
                f"{ACCOUNT_NAMES[account]} {account} {region}: todoapp/api "
                f"{_describe(before[(account, region)])} -> {_describe(after[(account, region)])}"
            )
        timeline.at(at, f"scheduler: {result['summary']}")
        parked = all(
            after[(STAGING, region)] == Capacity(0, 0, 0) for region in organization.regions
        )
        untouched = after[(PRODUCTION, HUB_REGION)] == before[(PRODUCTION, HUB_REGION)]
        if not (parked and untouched and not result["errors"]):
            return False, f"not as planned: {result['summary']}; errors {result['errors']}"
        return True, (
            "staging parked in eu-central-1 and eu-west-1, production untouched, "
            "every call judged against the hub's and the spokes' roles"
        )


def _policy(project: Project, targets: dict[str, object]) -> dict[str, object]:
    """The demo policy's office-hours schedule, with the organization's targets."""
    from nightshift.policy import load_policy

    demo = load_policy(project.root / "policy" / "demo.yaml")
    return {
        "version": 1,
        "protect": demo.section("protect"),
        "schedules": {SCHEDULE: demo.section("schedules")[SCHEDULE]},
        "targets": targets,
    }


def _scheduler_run(router: Router, function_arn: str, time_: str) -> dict[str, object]:
    (schedule,) = [
        logical_id
        for logical_id in router.schedules()
        if logical_id in router.stack.emulated
        and router.stack.emulated[logical_id].properties["Target"]["Arn"] == function_arn
    ]
    (delivery,) = router.fire_schedule(schedule, time_).deliveries
    if delivery.result is None or delivery.result.error:
        reason = delivery.note if delivery.result is None else delivery.result.error_message
        raise LocalCloudError(f"the hub's scheduler failed: {reason}")
    payload: dict[str, object] = delivery.result.payload
    return payload


def _capacity(fleet: Fleet) -> Capacity | None:
    (observed,) = fleet.observe().values()
    return observed.capacity


def _describe(capacity: Capacity | None) -> str:
    """>>> _describe(Capacity(2, 2, 6))
    'desiredCount 2, autoscaling 2-6'
    """
    if capacity is None:
        return "gone"
    return f"desiredCount {capacity.desired}, autoscaling {capacity.minimum}-{capacity.maximum}"
