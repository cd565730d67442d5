"""The redeploy planner: given one push and the opted-in services, decide per service what to do
and why, and which new task-definition revisions to register.

Gates run in a fixed order and the first that stops a service gives its verdict. One revision is
registered per source task definition (in practice: per family) and reused by every service that
runs it, so a push reaching three services of one family registers one revision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from nightshift.redeploy.events import ImagePush
from nightshift.redeploy.facts import (
    ACTIVE,
    ECS_CONTROLLER,
    REDEPLOY_TAG,
    ServiceFacts,
    TaskDefinitionFacts,
)
from nightshift.redeploy.image import ImageReference, InvalidImageReference, short_digest
from nightshift.redeploy.policy import RedeployPolicy
from nightshift.report import Outcome


class Verdict(StrEnum):
    DEPLOY = "deploy"
    ALREADY_ON_DIGEST = "already-on-digest"
    NOT_OPTED_IN = "not-opted-in"
    NOT_ACTIVE = "not-active"
    UNSUPPORTED_CONTROLLER = "unsupported-controller"
    TASK_DEFINITION_MISSING = "task-definition-missing"
    NOT_THIS_REPOSITORY = "not-this-repository"
    GLOB_MISMATCH = "glob-mismatch"
    PRODUCTION_GATED = "production-gated"
    STALE = "stale"
    HELD = "held"  # would deploy, but the policy's `approval` holds it for a person's approval


# How each verdict reads in the report. A deployment is PLANNED until AWS confirms it; staleness
# is a safety rule, so it is REFUSED; not following a tag is the normal case, so SKIPPED.
VERDICT_OUTCOME: Mapping[Verdict, Outcome] = MappingProxyType(
    {
        Verdict.DEPLOY: Outcome.PLANNED,
        Verdict.ALREADY_ON_DIGEST: Outcome.SKIPPED,
        Verdict.NOT_OPTED_IN: Outcome.SKIPPED,
        Verdict.NOT_ACTIVE: Outcome.SKIPPED,
        Verdict.UNSUPPORTED_CONTROLLER: Outcome.SKIPPED,
        Verdict.TASK_DEFINITION_MISSING: Outcome.FAILED,
        Verdict.NOT_THIS_REPOSITORY: Outcome.SKIPPED,
        Verdict.GLOB_MISMATCH: Outcome.SKIPPED,
        Verdict.PRODUCTION_GATED: Outcome.SKIPPED,
        Verdict.STALE: Outcome.REFUSED,
        # Planned: it is carried out once approved (redeploy.approval, docs/redeploy.md).
        Verdict.HELD: Outcome.PLANNED,
    }
)

NO_ROLLBACK_WARNING = (
    "deployment circuit breaker with rollback is off: a broken image is not rolled back"
)


@dataclass(frozen=True)
class ImageChange:
    """One container's image before and after the new revision."""

    container: str
    old_image: str
    new_image: str

    @property
    def changes(self) -> bool:
        return self.old_image != self.new_image


@dataclass(frozen=True)
class ServiceDecision:
    """What happens to one service, and why.

    `changes` lists every container that runs the pushed repository (those already on the digest
    too); `warnings` are worth telling people even when the deployment goes ahead.
    """

    service: ServiceFacts
    verdict: Verdict
    reason: str
    changes: tuple[ImageChange, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def deploys(self) -> bool:
        return self.verdict is Verdict.DEPLOY

    @property
    def held(self) -> bool:
        return self.verdict is Verdict.HELD

    @property
    def outcome(self) -> Outcome:
        return VERDICT_OUTCOME[self.verdict]


@dataclass(frozen=True)
class RevisionPlan:
    """One new task-definition revision to register: the source revision with only `changes`
    applied, shared by every service in `services` (ARNs)."""

    source: TaskDefinitionFacts
    changes: tuple[ImageChange, ...]
    services: tuple[str, ...]

    @property
    def family(self) -> str:
        return self.source.family


@dataclass(frozen=True)
class RedeployPlan:
    """The planner's answer for one push: a decision for every service, and the revisions the
    deploying ones need."""

    push: ImagePush
    decisions: tuple[ServiceDecision, ...]
    revisions: tuple[RevisionPlan, ...]

    @property
    def deployments(self) -> tuple[ServiceDecision, ...]:
        return tuple(d for d in self.decisions if d.deploys)

    @property
    def holds(self) -> tuple[ServiceDecision, ...]:
        """The services that would deploy but wait for an approval."""
        return tuple(d for d in self.decisions if d.held)

    @property
    def by_family(self) -> Mapping[str, tuple[ServiceDecision, ...]]:
        """Decisions grouped by the family of the task definition each service runs."""
        groups: dict[str, list[ServiceDecision]] = {}
        for decision in self.decisions:
            family = _family(decision.service.task_definition_arn)
            groups.setdefault(family, []).append(decision)
        return MappingProxyType({family: tuple(group) for family, group in sorted(groups.items())})

    def revision_for(self, service_arn: str) -> RevisionPlan | None:
        """The revision a deploying service moves to; None if it does not deploy."""
        return next((r for r in self.revisions if service_arn in r.services), None)


def plan_redeploy(
    push: ImagePush,
    services: Iterable[ServiceFacts],
    task_definitions: Mapping[str, TaskDefinitionFacts],
    policy: RedeployPolicy,
    last_pushes: Mapping[str, dt.datetime] | None = None,
    approved: Collection[str] = (),
) -> RedeployPlan:
    """Decide, for every service, whether this push is deployed to it, and why.

    `task_definitions` is keyed by task-definition ARN; `last_pushes` holds, per service ARN, the
    time (time-zone aware) of the last push Nightshift deployed to it. Decisions come sorted by
    service ARN. `approved` names the services (ARNs) a person approved this push for: the
    approval gate lets them through, every other gate still applies.

    Example (a service tagged `nightshift:redeploy=main`, policy `follow: {main: "main-*"}`,
    running `…/todoapp-backend:main-1` beside an envoy sidecar, receives a push tagged
    `main-4f1c2e7`)::

        plan = plan_redeploy(push, [service], {td.arn: td}, RedeployPolicy.from_policy(policy))
        plan.decisions[0].reason
        # 'tag main-4f1c2e7 matches main-*; app → sha256:9b2f6c1d8e0a'
        plan.revisions[0].changes   # only `app`; envoy is untouched
    """
    recorded = last_pushes or {}
    unique = {service.arn: service for service in services}
    decisions = tuple(
        _decide(
            _Candidate.of(
                push=push,
                service=service,
                task_definition=task_definitions.get(service.task_definition_arn),
                policy=policy,
                last_push_at=_latest(service.last_push_at, recorded.get(service.arn)),
                approved=service.arn in approved,
            )
        )
        for _, service in sorted(unique.items())
    )
    return RedeployPlan(
        push=push, decisions=decisions, revisions=_revisions(decisions, task_definitions)
    )


def image_changes(
    containers: Sequence[Mapping[str, Any]], push: ImagePush
) -> tuple[ImageChange, ...]:
    """Every container that runs the pushed repository, with the image it moves to: the same
    registry host and repository, pinned to the pushed digest. Other containers (sidecars) are
    not listed and stay as they are.

    Example: for a push of `todoapp-backend` by digest `sha256:9b2f…`, a container `app` running
    `111122223333.dkr.ecr.eu-central-1.amazonaws.com/todoapp-backend:main-1` becomes
    `ImageChange("app", "…/todoapp-backend:main-1", "…/todoapp-backend@sha256:9b2f…")`; an
    `envoy` container running `public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29` is not listed.
    """
    changes = []
    for container in containers:
        image = str(container.get("image") or "")
        try:
            reference = ImageReference.parse(image)
        except InvalidImageReference:
            # Not an image reference we understand, so certainly not the pushed repository.
            continue
        if push.runs_in(reference):
            changes.append(
                ImageChange(
                    container=str(container.get("name") or ""),
                    old_image=image,
                    new_image=str(reference.pinned(push.digest)),
                )
            )
    return tuple(changes)


@dataclass(frozen=True)
class _Candidate:
    """One service with everything the gates look at."""

    push: ImagePush
    service: ServiceFacts
    task_definition: TaskDefinitionFacts | None
    policy: RedeployPolicy
    last_push_at: dt.datetime | None
    changes: tuple[ImageChange, ...]
    approved: bool = False

    @classmethod
    def of(
        cls,
        push: ImagePush,
        service: ServiceFacts,
        task_definition: TaskDefinitionFacts | None,
        policy: RedeployPolicy,
        last_push_at: dt.datetime | None,
        approved: bool = False,
    ) -> _Candidate:
        changes = image_changes(task_definition.containers, push) if task_definition else ()
        return cls(push, service, task_definition, policy, last_push_at, changes, approved)


type _Stop = tuple[Verdict, str] | None


def _not_opted_in(c: _Candidate) -> _Stop:
    follows = c.service.follows
    if follows is None:
        return Verdict.NOT_OPTED_IN, f"no {REDEPLOY_TAG} tag"
    if not follows.strip():
        return Verdict.NOT_OPTED_IN, f"{REDEPLOY_TAG} tag is empty"
    return None


def _not_active(c: _Candidate) -> _Stop:
    if c.service.status != ACTIVE:
        return Verdict.NOT_ACTIVE, f"service is {c.service.status}, not {ACTIVE}"
    return None


def _unsupported_controller(c: _Candidate) -> _Stop:
    controller = c.service.deployment_controller
    if controller != ECS_CONTROLLER:
        reason = (
            f"deployment controller is {controller}: only ECS-controlled services take a new "
            "task definition through UpdateService"
        )
        return Verdict.UNSUPPORTED_CONTROLLER, reason
    return None


def _task_definition_missing(c: _Candidate) -> _Stop:
    if c.task_definition is None:
        return (
            Verdict.TASK_DEFINITION_MISSING,
            f"task definition {c.service.task_definition_arn} was not described",
        )
    return None


def _not_this_repository(c: _Candidate) -> _Stop:
    if not c.changes:
        running = _family_revision(c.service.task_definition_arn)
        pushed = f"{c.push.registry.host}/{c.push.repository}"
        return Verdict.NOT_THIS_REPOSITORY, f"no container of {running} runs {pushed}"
    return None


def _glob_mismatch(c: _Candidate) -> _Stop:
    follows = c.service.follows or ""
    pattern = c.policy.pattern_for(follows)
    named = f"{REDEPLOY_TAG}={follows}" + (f" = {pattern}" if str(pattern) != follows else "")
    if c.push.tag is None and not pattern.matches(None):
        return Verdict.GLOB_MISMATCH, f"push has no tag; {named} follows tagged pushes only"
    if not pattern.matches(c.push.tag):
        return Verdict.GLOB_MISMATCH, f"tag {c.push.tag} does not match {named}"
    return None


def _production_gated(c: _Candidate) -> _Stop:
    protect = c.policy.protect
    if c.service.production_target:
        production = "production service (a production target)"
    elif protect.protects(c.service.tags):
        production = f"production service ({protect.tag}={c.service.tags.get(protect.tag)})"
    else:
        return None
    if c.push.tag is None:
        return Verdict.PRODUCTION_GATED, f"{production}: a push without a tag never reaches it"
    if not c.policy.production_tags.matches(c.push.tag):
        return (
            Verdict.PRODUCTION_GATED,
            f"{production} follows only {c.policy.production_tags}; {c.push.tag} is not one",
        )
    return None


def _already_on_digest(c: _Candidate) -> _Stop:
    if not any(change.changes for change in c.changes):
        return Verdict.ALREADY_ON_DIGEST, f"already runs {short_digest(c.push.digest)}"
    return None


def _stale(c: _Candidate) -> _Stop:
    if c.last_push_at is not None and c.push.time < c.last_push_at:
        pushed, deployed = c.push.time.isoformat(), c.last_push_at.isoformat()
        return Verdict.STALE, f"push of {pushed} is older than the last deployed push of {deployed}"
    return None


def _needs_approval(c: _Candidate) -> _Stop:
    # Last: only a redeploy that would otherwise go ahead is held.
    if c.approved:
        return None
    why = c.policy.approval.holds(c.service.tags, c.service.follows or "", c.policy.protect)
    if why is not None:
        return Verdict.HELD, f"{why}: held until approved; {_moved(c)}"
    return None


# The first gate that stops a service decides; a service no gate stops is deployed.
_GATES: tuple[Callable[[_Candidate], _Stop], ...] = (
    _not_opted_in,
    _not_active,
    _unsupported_controller,
    _task_definition_missing,
    _not_this_repository,
    _glob_mismatch,
    _production_gated,
    _already_on_digest,
    _stale,
    _needs_approval,
)


def _decide(c: _Candidate) -> ServiceDecision:
    changes = c.changes
    for gate in _GATES:
        if stop := gate(c):
            verdict, reason = stop
            return ServiceDecision(c.service, verdict, reason, changes)
    pattern = c.policy.pattern_for(c.service.follows or "")
    moved = _moved(c)
    followed = f"tag {c.push.tag} matches {pattern}" if c.push.tag else f"untagged push, {pattern}"
    warnings = () if c.service.circuit_breaker.rolls_back else (NO_ROLLBACK_WARNING,)
    return ServiceDecision(c.service, Verdict.DEPLOY, f"{followed}; {moved}", changes, warnings)


def _moved(c: _Candidate) -> str:
    return ", ".join(
        f"{change.container} → {short_digest(c.push.digest)}"
        for change in c.changes
        if change.changes
    )


def _revisions(
    decisions: Sequence[ServiceDecision], task_definitions: Mapping[str, TaskDefinitionFacts]
) -> tuple[RevisionPlan, ...]:
    # Services on different revisions of one family each keep their own configuration: the new
    # revision is a copy of the revision the service runs, never of a sibling's.
    services: dict[str, list[str]] = {}
    changes: dict[str, tuple[ImageChange, ...]] = {}
    for decision in decisions:
        if decision.deploys:
            source = decision.service.task_definition_arn
            services.setdefault(source, []).append(decision.service.arn)
            changes[source] = decision.changes
    return tuple(
        RevisionPlan(source=task_definitions[source], changes=changes[source], services=tuple(arns))
        for source, arns in sorted(services.items(), key=lambda item: _family_key(item[0]))
    )


def _latest(*moments: dt.datetime | None) -> dt.datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def _family_revision(task_definition_arn: str) -> str:
    return task_definition_arn.rpartition("/")[2]


def _family(task_definition_arn: str) -> str:
    return _family_revision(task_definition_arn).partition(":")[0]


def _family_key(task_definition_arn: str) -> tuple[str, int]:
    family, _, revision = _family_revision(task_definition_arn).partition(":")
    return family, int(revision) if revision.isdigit() else 0
