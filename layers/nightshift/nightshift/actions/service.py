"""Carries a verified action out through the ports, once, and reports it to the ops topic."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nightshift.actions.plan import (
    POWER_KINDS,
    TASK_DEFINITION,
    describe,
    done_summary,
    expired_summary,
    override_value,
    rollback_decision,
    tag_decisions,
    target_problem,
)
from nightshift.actions.ports import (
    Approvals,
    Overrides,
    ReportSink,
    Services,
    Snoozes,
    UsedTokens,
)
from nightshift.actions.token import ActionKind, ActionToken, Reason
from nightshift.errors import AwsError
from nightshift.policy import ProtectRule
from nightshift.report import Outcome, Report, ReportItem


@dataclass(frozen=True)
class ActionResult:
    """What happened: `reason` ok (then `report` says what was done) or already used, or
    `refused` with why (the token was good, the action cannot be done)."""

    reason: Reason
    message: str
    report: Report | None = None
    refused: bool = False

    @property
    def failed(self) -> bool:
        return self.report is not None and bool(self.report.counts["failed"])


@dataclass(frozen=True)
class ActionService:
    environment: str
    zone: ZoneInfo
    protect: ProtectRule
    used: UsedTokens
    overrides: Overrides
    snoozes: Snoozes
    services: Services
    reports: ReportSink
    approvals: Approvals | None = None

    def act(self, token: ActionToken, via: str, now: dt.datetime) -> ActionResult:
        """Carry out a verified token. An expired one reaches here only for an approval (its
        expiry is reported, nothing is done); everything else was refused before."""
        if now >= token.expires:
            return self._expired(token, via, now)
        problem = target_problem(token)
        if problem is None and token.until is not None and token.until <= now:
            problem = "the time it holds until has passed"
        if problem is not None:
            return ActionResult(Reason.OK, f"Refused: {problem}.", refused=True)
        if not self.used.claim(token.nonce, token.expires):
            return ActionResult(Reason.ALREADY_USED, "This link was used already; nothing changed.")
        items = self._carry_out(token, via, now)
        report = self._report(token, via, now, items)
        self.reports.publish(report)
        return ActionResult(Reason.OK, report.summary, report)

    def _carry_out(self, token: ActionToken, via: str, now: dt.datetime) -> tuple[ReportItem, ...]:
        if token.kind in POWER_KINDS:
            return self._override(token)
        if token.kind is ActionKind.SNOOZE:
            return (self._snooze(token, via),)
        if token.kind is ActionKind.APPROVE:
            return (self._approve(token, via, now),)
        return (self._rollback(token),)

    def _expired(self, token: ActionToken, via: str, now: dt.datetime) -> ActionResult:
        summary = expired_summary(token, self.zone, via)
        item = _item(token.target, "held-redeploy", token, Outcome.REFUSED, "approval expired")
        report = Report(
            function="actions",
            run_id=token.nonce,
            time=now.astimezone(dt.UTC).isoformat(),
            environment=self.environment,
            dry_run=False,
            summary=summary,
            items=(item,),
        )
        self.reports.publish(report)
        return ActionResult(Reason.EXPIRED, summary, report)

    def _approve(self, token: ActionToken, via: str, now: dt.datetime) -> ReportItem:
        if self.approvals is None:
            return _item(
                token.target, "held-redeploy", token, Outcome.FAILED, "approvals are not set up"
            )
        try:
            return self.approvals.approve(token.target, now, via)
        except AwsError as exc:
            return _item(token.target, "held-redeploy", token, Outcome.FAILED, str(exc))

    def _override(self, token: ActionToken) -> tuple[ReportItem, ...]:
        assert token.until is not None  # a timed kind (token.TIMED_KINDS)
        value = override_value(token.kind, token.until)
        try:
            found = self.overrides.resources(token.target)
        except AwsError as exc:
            return (_item(token.target, "schedule", token, Outcome.FAILED, str(exc)),)
        if not found:
            return (
                _item(
                    token.target, "schedule", token, Outcome.SKIPPED, "no resource on this schedule"
                ),
            )
        items = []
        for decision in tag_decisions(found, token.target, self.protect):
            if not decision.tag:
                items.append(
                    _item(decision.arn, "resource", token, Outcome.REFUSED, decision.reason)
                )
                continue
            try:
                self.overrides.set_override(decision.arn, value)
            except AwsError as exc:
                items.append(_item(decision.arn, "resource", token, Outcome.FAILED, str(exc)))
            else:
                items.append(
                    _item(
                        decision.arn,
                        "resource",
                        token,
                        Outcome.DONE,
                        f"override {value}",
                        override=value,
                    )
                )
        return tuple(items)

    def _snooze(self, token: ActionToken, via: str) -> ReportItem:
        assert token.until is not None
        try:
            self.snoozes.snooze(token.target, token.until, via)
        except AwsError as exc:
            return _item(token.target, "check", token, Outcome.FAILED, str(exc))
        return _item(
            token.target, "check", token, Outcome.DONE, "snoozed", until=token.until.isoformat()
        )

    def _rollback(self, token: ActionToken) -> ReportItem:
        try:
            facts = self.services.describe(token.target)
            match = TASK_DEFINITION.match(facts.task_definition)
            family = match["family"].rsplit("/", 1)[-1] if match else facts.task_definition
            revisions = self.services.revisions(family)
            decision = rollback_decision(facts.task_definition, revisions, facts.tags, self.protect)
            if decision.to is None:
                return _item(token.target, "ecs-service", token, Outcome.REFUSED, decision.reason)
            self.services.update(token.target, decision.to)
        except AwsError as exc:
            return _item(token.target, "ecs-service", token, Outcome.FAILED, str(exc))
        return _item(
            token.target,
            "ecs-service",
            token,
            Outcome.DONE,
            decision.reason,
            previous=facts.task_definition,
            task_definition=decision.to,
        )

    def _report(
        self, token: ActionToken, via: str, now: dt.datetime, items: tuple[ReportItem, ...]
    ) -> Report:
        done = any(item.outcome is Outcome.DONE for item in items)
        if done and all(item.outcome in (Outcome.DONE, Outcome.REFUSED) for item in items):
            summary = done_summary(token, self.zone, via)
        else:
            outcomes = sorted({item.outcome.value for item in items})
            summary = f"{describe(token, self.zone)}: {', '.join(outcomes)}, {via}"
        return Report(
            function="actions",
            run_id=token.nonce,
            time=now.astimezone(dt.UTC).isoformat(),
            environment=self.environment,
            dry_run=False,
            summary=summary,
            items=items,
        )


def _item(
    resource: str, kind: str, token: ActionToken, outcome: Outcome, reason: str, **details: str
) -> ReportItem:
    return ReportItem(resource, kind, token.kind.value, outcome, reason, details)
