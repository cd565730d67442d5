"""What AWS sends during the day, derived from the reference payloads (demo/data/, copied
unchanged from tests/fixtures/reference/) with this deployment's values. No field is invented:
each builder copies the reference and replaces values only. Pure.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
REFERENCE_ACCOUNT = "111122223333"


def reference(name: str) -> dict[str, Any]:
    """A reference payload by file name (demo/data/<name>.json)."""
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def deployment_completed_event(
    *,
    service_arn: str,
    deployment_id: str,
    at: dt.datetime,
    event_id: str,
) -> dict[str, Any]:
    """The `ECS Deployment State Change` SERVICE_DEPLOYMENT_COMPLETED event ECS sends when the
    deployment `deployment_id` of `service_arn` completes at `at` (the reference's shape: the
    service only in `resources[0]`, `updatedAt` with milliseconds).

    >>> event = deployment_completed_event(
    ...     service_arn="arn:aws:ecs:eu-central-1:123456789012:service/c/s",
    ...     deployment_id="ecs-svc/42", event_id="e-1",
    ...     at=dt.datetime(2026, 11, 19, 8, 6, 2, 451000, tzinfo=dt.UTC))
    >>> event["account"], event["time"], event["detail"]["updatedAt"]
    ('123456789012', '2026-11-19T08:06:02Z', '2026-11-19T08:06:02.451Z')
    >>> event["detail"]["reason"]
    'ECS deployment ecs-svc/42 completed.'
    """
    _, _, _, region, account, _ = service_arn.split(":", 5)
    event = copy.deepcopy(reference("eventbridge-ecs-deployment-completed"))
    utc = at.astimezone(dt.UTC)
    event.update(
        id=event_id,
        account=account,
        region=region,
        time=utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        resources=[service_arn],
    )
    detail = event["detail"]
    old_id = detail["deploymentId"]
    detail["deploymentId"] = deployment_id
    detail["updatedAt"] = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    detail["reason"] = detail["reason"].replace(old_id, deployment_id)
    return event


@dataclass(frozen=True)
class SnsNotification:
    """What a service publishes to a topic: the subject and the message text."""

    subject: str | None
    message: str


def budget_alert(*, account: str, day: dt.date) -> SnsNotification:
    """The AWS Budgets ACTUAL alert of the reference (todoapp-monthly, $41.37 of $50, over the
    80 % threshold of $40), as the Budgets service would publish it on `day` for `account`.

    >>> alert = budget_alert(account="123456789012", day=dt.date(2026, 11, 19))
    >>> alert.message.splitlines()[:2]
    ['AWS Budget Notification November 19, 2026', 'AWS Account 123456789012']
    >>> alert.subject
    'AWS Budgets: todoapp-monthly has exceeded your alert threshold'
    """
    (record,) = reference("sns-budgets-actual")["Records"]
    sns = record["Sns"]
    message: str = sns["Message"].replace(REFERENCE_ACCOUNT, account)
    heading, rest = message.split("\n", 1)
    prefix = "AWS Budget Notification "
    if heading.startswith(prefix):
        heading = f"{prefix}{day:%B} {day.day}, {day.year}"
    return SnsNotification(sns.get("Subject"), f"{heading}\n{rest}")
