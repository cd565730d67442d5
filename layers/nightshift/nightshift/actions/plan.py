"""What a verified action changes, decided over plain data, each decision with its reason."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from zoneinfo import ZoneInfo

from nightshift.actions.token import ActionKind, ActionToken
from nightshift.policy import ProtectRule
from nightshift.schedule.timeline import format_local

OVERRIDE_TAG = "nightshift:override"  # read by the scheduler (schedule/override.py)
SCHEDULE_TAG = "nightshift:schedule"
REDEPLOY_TAG = "nightshift:redeploy"
# A power action's target is a schedule: the resources tagged nightshift:schedule=<name>.
SCHEDULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SERVICE_ARN = re.compile(r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service/[^/]+/[^/]+$")
TASK_DEFINITION = re.compile(r"^(?P<family>.*):(?P<revision>\d+)$")
# An approve action's target: a held redeploy's key, `<service ARN>@<image digest>`.
HELD_KEY = re.compile(
    r"^(?P<service>arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service/[^/]+/[^/@]+)@sha256:[0-9a-f]{64}$"
)

POWER_KINDS = frozenset({ActionKind.KEEP_RUNNING, ActionKind.STOP_NOW, ActionKind.START_NOW})


@dataclass(frozen=True)
class TaggedResource:
    arn: str
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class TagDecision:
    arn: str
    tag: bool
    reason: str


def override_value(kind: ActionKind, until: dt.datetime) -> str:
    """The override tag value the scheduler understands (schedule/override.py)."""
    state = "stopped-until" if kind is ActionKind.STOP_NOW else "running-until"
    return f"{state}={until.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def tag_decisions(
    resources: Sequence[TaggedResource], schedule: str, protect: ProtectRule
) -> tuple[TagDecision, ...]:
    """Which of the schedule's resources get the override tag: never a protected one."""
    decisions = []
    for resource in resources:
        if resource.tags.get(SCHEDULE_TAG) != schedule:
            decisions.append(TagDecision(resource.arn, False, f"not on schedule {schedule}"))
        elif protect.protects(resource.tags):
            decisions.append(TagDecision(resource.arn, False, f"protected by {protect.tag}"))
        else:
            decisions.append(TagDecision(resource.arn, True, f"on schedule {schedule}"))
    return tuple(decisions)


@dataclass(frozen=True)
class RollbackDecision:
    to: str | None  # the task definition revision to go back to; None: refused
    reason: str


def rollback_decision(
    current: str, revisions: Sequence[str], tags: Mapping[str, str], protect: ProtectRule
) -> RollbackDecision:
    """Back to the newest ACTIVE revision of the family older than the running one (redeploy
    registers one revision per pushed digest, so that is the previous digest).

    >>> rule = ProtectRule("Environment", frozenset({"prod"}))
    >>> family = "arn:aws:ecs:eu-central-1:1:task-definition/api"
    >>> tags = {"nightshift:redeploy": "app:main"}
    >>> rollback_decision(f"{family}:7", [f"{family}:{n}" for n in (5, 7, 6, 8)], tags, rule).to
    'arn:aws:ecs:eu-central-1:1:task-definition/api:6'
    """
    if protect.protects(tags):
        return RollbackDecision(
            None, f"protected by {protect.tag}: production is never rolled back from chat"
        )
    if REDEPLOY_TAG not in tags:
        return RollbackDecision(None, f"the service does not follow its images ({REDEPLOY_TAG})")
    match = TASK_DEFINITION.match(current)
    if match is None:
        return RollbackDecision(None, f"cannot read the revision of {current}")
    family, revision = match["family"], int(match["revision"])
    older = []
    for arn in revisions:
        found = TASK_DEFINITION.match(arn)
        if found is not None and found["family"] == family and int(found["revision"]) < revision:
            older.append((int(found["revision"]), arn))
    if not older:
        return RollbackDecision(None, f"no revision of its family before {revision}")
    previous = max(older)
    return RollbackDecision(previous[1], f"revision {revision} -> {previous[0]}")


def target_problem(token: ActionToken) -> str | None:
    """Why the token's target cannot be what its kind acts on; None when it can."""
    if token.kind is ActionKind.STATUS:
        return "a status link does not act"
    if token.kind in POWER_KINDS and not SCHEDULE_NAME.match(token.target):
        return f"{token.target!r} is not a schedule name"
    if token.kind is ActionKind.SNOOZE and not SCHEDULE_NAME.match(token.target):
        return f"{token.target!r} is not a canary check name"
    if token.kind is ActionKind.ROLLBACK and not SERVICE_ARN.match(token.target):
        return f"{token.target!r} is not an ECS service ARN"
    if token.kind is ActionKind.APPROVE and not HELD_KEY.match(token.target):
        return f"{token.target!r} is not a held redeploy"
    return None


def short_target(token: ActionToken) -> str:
    if token.kind is ActionKind.ROLLBACK:
        return "service " + token.target.rsplit("/", 1)[-1]
    if token.kind is ActionKind.SNOOZE:
        return f"check {token.target}"
    if token.kind is ActionKind.APPROVE:
        service, _, digest = token.target.partition("@")
        return f"redeploy of service {service.rsplit('/', 1)[-1]} to {digest[:19]}"
    return f"schedule {token.target}"


def describe(token: ActionToken, zone: ZoneInfo) -> str:
    """What the action does, in words (the confirmation page, the report's summary)."""
    until = format_local(token.until.astimezone(zone)) if token.until is not None else ""
    what = short_target(token)
    match token.kind:
        case ActionKind.KEEP_RUNNING:
            return f"keep {what} running until {until}"
        case ActionKind.START_NOW:
            return f"start {what} now and keep it running until {until}"
        case ActionKind.STOP_NOW:
            return f"stop {what} now and keep it stopped until {until}"
        case ActionKind.SNOOZE:
            return f"snooze {what} until {until}"
        case ActionKind.ROLLBACK:
            return f"roll {what} back to its previous image"
        case ActionKind.APPROVE:
            return f"approve the held {what}"
        case ActionKind.STATUS:
            return f"show the status of {token.target}"


def done_summary(token: ActionToken, zone: ZoneInfo, via: str) -> str:
    """`schedule office-hours kept running until 2026-12-04 22:00 CET, via a link`."""
    until = format_local(token.until.astimezone(zone)) if token.until is not None else ""
    what = short_target(token)
    match token.kind:
        case ActionKind.KEEP_RUNNING:
            text = f"{what} kept running until {until}"
        case ActionKind.START_NOW:
            text = f"{what} started, running until {until}"
        case ActionKind.STOP_NOW:
            text = f"{what} stopped, until {until}"
        case ActionKind.SNOOZE:
            text = f"{what} snoozed until {until}"
        case ActionKind.ROLLBACK:
            text = f"{what} rolled back to its previous image"
        case ActionKind.APPROVE:
            text = f"{what} approved"
        case ActionKind.STATUS:
            text = f"status of {token.target} shown"
    return f"{text}, {via}"


def expired_summary(token: ActionToken, zone: ZoneInfo, via: str) -> str:
    """`approval of the held redeploy of service api to sha256:… expired at …; nothing was
    deployed, via a link`: an approval too late does nothing, and says so."""
    expired = format_local(token.expires.astimezone(zone))
    what = short_target(token)
    return f"approval of the held {what} expired at {expired}; nothing was deployed, {via}"


def via_link() -> str:
    return "via a link"


def via_slack(user: str) -> str:
    return f"via Slack by {user}"
