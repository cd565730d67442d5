"""`make demo`: an alarm and its recovery, through the built notifier, in the local cloud.

Starts a moto server and a webhook receiver, deploys the built stack, points the policy's chat
destinations at the receiver, then publishes the example app's CPU alarm and, after it, the
alarm's OK to the stack's ops topic (the `OpsTopicArn` output alarms are pointed at), exactly as
CloudWatch would. The router delivers them through the notifier's queue to the built notifier
running under the Lambda RIE, and every message the receiver got is printed as Slack or Teams
would show it. Exit status 1 if a message was not delivered.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from localcloud.errors import LocalCloudError
from localcloud.project import Project
from localcloud.receiver import WebhookReceiver
from localcloud.router import DrainReport, Router
from localcloud.server import MotoServer
from localcloud.stack import ensure_stack
from localcloud.webhooks import seed_webhook_secrets

# Real-shaped SNS notifications (inside the SQS events the notifier's tests use).
STEPS = (
    ("the CPU alarm fires", "events/notifier/cloudwatch-alarm-metric.json"),
    ("the CPU alarm recovers", "events/notifier/cloudwatch-alarm-metric-ok.json"),
)


def sns_notification(fixture: Path) -> tuple[str | None, str]:
    """(Subject, Message) of the SNS notification inside an SQS event fixture."""
    event = json.loads(fixture.read_text(encoding="utf-8"))
    body = event["Records"][0]["body"]
    envelope = json.loads(body)
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
        return envelope.get("Subject"), envelope["Message"]
    return None, body  # a raw-delivery fixture: the body is the message itself


def _show(drains: tuple[DrainReport, ...]) -> bool:
    delivered = True
    for drain in drains:
        for batch in drain.batches:
            result = batch.result
            if result.error:
                # Powertools puts whole tracebacks in the message: its first and last lines say it.
                lines = (result.error_message or "").strip().splitlines() or [""]
                said = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
                print(f"  {batch.function}: failed: {result.error_type}: {said}")
            else:
                print(f"  {batch.function}: {batch.outcome.reason} ({result.duration_ms:.0f} ms)")
            delivered = delivered and not batch.outcome.failed
    return delivered


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="localcloud: %(message)s", stream=sys.stderr)
    project = Project.at()
    try:
        with MotoServer() as endpoint, WebhookReceiver() as receiver:
            stack = ensure_stack(endpoint, project)
            for secret, url in seed_webhook_secrets(stack, receiver.url).items():
                print(f"secret {secret} -> {url}")
            router = Router(stack)
            delivered = True
            for title, fixture in STEPS:
                subject, message = sns_notification(project.root / fixture)
                print(f"\n== {title}: publish {subject!r} to the ops topic")
                seen = len(receiver.requests)
                report = router.publish(stack.outputs["OpsTopicArn"], message, subject)
                delivered = _show(report.drains) and delivered
                for request in receiver.requests[seen:]:
                    print()
                    print(receiver.render_one(request))
            return 0 if delivered else 1
    except LocalCloudError as exc:
        print(f"localcloud: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
