"""Held redeploys: a push the policy's `approval` holds (plan.Verdict.HELD) is recorded instead of
deployed, and deployed later when a person approves it with a signed `approve` action, within
24 hours. Pure: what is held, whether an approval may go ahead, and the reports people read.

The held redeploy's key, `<service ARN>@<digest>`, is the `approve` token's target. Approving
re-plans the push for that one service through `plan_redeploy(..., approved=...)`, so every
other gate (already on the digest, a newer push deployed meanwhile, production tags) still
applies, and the same deployment code registers the digest-pinned revision and updates the
service (docs/redeploy.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from nightshift.redeploy.events import ImagePush
from nightshift.redeploy.image import EcrRegistry, short_digest
from nightshift.redeploy.plan import ServiceDecision
from nightshift.redeploy.policy import APPROVAL_WINDOW_HOURS
from nightshift.report import Outcome, Report, ReportItem

if TYPE_CHECKING:  # the canary's status: read only when a push is held (canary_summary)
    from nightshift.canary.status import StatusBoard

APPROVAL_WINDOW = dt.timedelta(hours=APPROVAL_WINDOW_HOURS)
KIND = "ecs-service"
ACTION = "approve-redeploy"
UNKNOWN = "unknown"


class HeldState(StrEnum):
    HELD = "held"
    APPROVED = "approved"


@dataclass(frozen=True)
class HeldRedeploy:
    """One service's redeploy waiting for an approval: what it runs now, what it would run."""

    service_arn: str
    task_definition: str  # the revision the service ran when the push was held
    registry: str  # the ECR registry host
    repository: str
    digest: str
    tag: str | None
    pushed_at: dt.datetime
    held_at: dt.datetime
    expires: dt.datetime
    old_image: str
    new_image: str
    reason: str

    @property
    def key(self) -> str:
        """The `approve` token's target and the state table's sort key."""
        return held_key(self.service_arn, self.digest)

    @property
    def service_name(self) -> str:
        return "/".join(self.service_arn.split(":service/", 1)[-1].split("/")[-2:])

    @property
    def push(self) -> ImagePush:
        """The held push, as redeploy planned it (the event id names the approval)."""
        registry = EcrRegistry.from_host(self.registry)
        if registry is None:
            raise ValueError(f"{self.registry} is not an ECR registry")
        return ImagePush(
            registry, self.repository, self.digest, self.tag, self.pushed_at, f"approval:{self.key}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "service_arn": self.service_arn,
            "task_definition": self.task_definition,
            "registry": self.registry,
            "repository": self.repository,
            "digest": self.digest,
            "tag": self.tag,
            "pushed_at": self.pushed_at.isoformat(),
            "held_at": self.held_at.isoformat(),
            "expires": self.expires.isoformat(),
            "old_image": self.old_image,
            "new_image": self.new_image,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HeldRedeploy:
        return cls(
            service_arn=str(data["service_arn"]),
            task_definition=str(data["task_definition"]),
            registry=str(data["registry"]),
            repository=str(data["repository"]),
            digest=str(data["digest"]),
            tag=str(data["tag"]) if data.get("tag") else None,
            pushed_at=dt.datetime.fromisoformat(data["pushed_at"]),
            held_at=dt.datetime.fromisoformat(data["held_at"]),
            expires=dt.datetime.fromisoformat(data["expires"]),
            old_image=str(data["old_image"]),
            new_image=str(data["new_image"]),
            reason=str(data["reason"]),
        )


def held_key(service_arn: str, digest: str) -> str:
    return f"{service_arn}@{digest}"


def hold(decision: ServiceDecision, push: ImagePush, now: dt.datetime) -> HeldRedeploy:
    """The record of a held decision, expiring APPROVAL_WINDOW after `now`."""
    moving = [c for c in decision.changes if c.changes] or list(decision.changes)
    return HeldRedeploy(
        service_arn=decision.service.arn,
        task_definition=decision.service.task_definition_arn,
        registry=push.registry.host,
        repository=push.repository,
        digest=push.digest,
        tag=push.tag,
        pushed_at=push.time,
        held_at=now,
        expires=now + APPROVAL_WINDOW,
        old_image=", ".join(c.old_image for c in moving),
        new_image=", ".join(c.new_image for c in moving),
        reason=decision.reason,
    )


@dataclass(frozen=True)
class ApprovalDecision:
    go: bool
    reason: str
    outcome: Outcome  # DONE-to-be when go; otherwise SKIPPED (nothing to do) or REFUSED


def approval_decision(
    held: HeldRedeploy | None, state: HeldState | None, now: dt.datetime
) -> ApprovalDecision:
    """Whether an approval may deploy the held redeploy, and why.

    >>> at = dt.datetime(2026, 12, 4, 20, tzinfo=dt.UTC)
    >>> approval_decision(None, None, at).reason
    'no held redeploy by that name'
    """
    if held is None:
        return ApprovalDecision(False, "no held redeploy by that name", Outcome.SKIPPED)
    if state is HeldState.APPROVED:
        return ApprovalDecision(False, "approved already; nothing done again", Outcome.SKIPPED)
    if now >= held.expires:
        return ApprovalDecision(
            False,
            f"the approval expired at {held.expires.isoformat()}; nothing was deployed",
            Outcome.REFUSED,
        )
    return ApprovalDecision(True, "approved within its 24 h", Outcome.DONE)


def canary_summary(board: StatusBoard | None) -> str:
    """The canary's last reported state in a few words; 'unknown' when nothing is remembered.

    >>> from nightshift.canary.status import CheckState, StatusBoard
    >>> canary_summary(StatusBoard(checks=(("api", CheckState.UP), ("web", CheckState.DOWN))))
    'down: web (1 of 2 checks up)'
    >>> canary_summary(None)
    'unknown'
    """
    from nightshift.canary.status import CheckState  # only a held push asks (cold start)

    if board is None or not board.checks:
        return UNKNOWN
    up = [
        name for name, state in board.checks if state in (CheckState.UP, CheckState.UP_WITH_WARNING)
    ]
    down = [name for name, state in board.checks if state in (CheckState.DOWN, CheckState.LATE)]
    if down:
        return f"down: {', '.join(down)} ({len(up)} of {len(board.checks)} checks up)"
    if len(up) == len(board.checks):
        return f"all {len(up)} checks up"
    return f"{len(up)} of {len(board.checks)} checks up"


def approve_link(held: HeldRedeploy, base_url: str, key: bytes) -> str:
    """The signed link that approves `held` (the actions function's `approve` action), valid
    until the held redeploy expires. The token's module is imported for a held push only: a
    push that is not held does not load it at redeploy's cold start."""
    from nightshift.actions.token import ActionKind, new_token, sign

    token = new_token(ActionKind.APPROVE, held.key, expires=held.expires)
    return f"{base_url.rstrip('/')}/?{urlencode({'token': sign(token, key), 'target': held.key})}"


def approval_report(
    held: HeldRedeploy, environment: str, canary: str, approve_url: str | None
) -> Report:
    """The message asking for an approval: old → new image, the tag, the canary's state, and
    the signed approve link when the actions function is configured."""
    tag = held.tag or "(untagged)"
    summary = (
        f"approval needed: {held.service_name} {held.repository}:{tag} "
        f"({short_digest(held.digest)}), until {held.expires.isoformat()}"
    )
    details: dict[str, Any] = {
        "key": held.key,
        "old_image": held.old_image,
        "new_image": held.new_image,
        "tag": tag,
        "canary": canary,
        "expires": held.expires.isoformat(),
    }
    if approve_url:
        details["approve_url"] = approve_url
    item = ReportItem(
        held.service_arn,
        KIND,
        "hold-redeploy",
        Outcome.PLANNED,
        f"{held.reason}; {held.old_image} → {held.new_image} (tag {tag}); canary: {canary}",
        MappingProxyType(details),
    )
    return Report(
        function="redeploy",
        run_id=f"hold:{held.key}",
        time=held.held_at.isoformat(),
        environment=environment,
        dry_run=False,
        summary=summary,
        items=(item,),
    )
