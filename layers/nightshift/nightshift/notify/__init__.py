"""The notifier's core: parse what arrives into a Notification, route it, render it.

Pure (no boto3, no clock, no environment); docs/notifications.md describes the rules.

- `inbound`: `Inbound.from_sqs_body`, the SNS envelope of an SQS record;
- `sources`: `parse(inbound) -> Notification`, one recogniser per source, raw fallback;
- `suppression`: `decide(...)`, repeats within the window and OK after ALARM;
- `routing`: `NotifyPolicy`, the policy's `notify` section and its routes;
- `delivery`: `plan_delivery(...)`, redeliveries reach each destination once;
- `render`: `slack`, `teams`, `email`, each `render(n, details_url=None)`;
- `console`: AWS console links;
- `model`: Notification, Fact, Link, Source, Severity, State.
"""
