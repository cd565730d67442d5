"""The notifier's core: parse what arrives into a Notification, plan where it goes, render it.

Pure (no boto3, no clock, no environment) except `settings` (read by the handler) and `service`
(which talks to the ports); docs/notifications.md describes the rules.

- `events`: `QueuedMessage.from_sqs_record`, `Inbound.from_sqs_body`, the SNS envelope of an
  SQS record, and `check_sqs_batch`;
- `settings`: `NotifierSettings.from_environ()`, `notify_policy(policy)`;
- `ports`: the Protocols the service talks to (delivery ledger, webhook URLs and POST, email);
- `plan`: `plan_message(...)` (suppress or route, with the reason) and `plan_delivery(...)`
  (redeliveries reach each destination once);
- `service`: `Notifier.handle(message) -> Delivery`, and the counts the handler's metrics take;
- `sources`: `parse(inbound) -> Notification`, one recogniser per source, raw fallback;
- `suppression`: `decide(...)`, repeats within the window and OK after ALARM;
- `routing`: `NotifyPolicy`, the policy's `notify` section and its routes;
- `render`: `slack`, `teams`, `email`, each `render(n, details_url=None)`;
- `accounts`: `named(n, names)`, the member account a message comes from, named by the policy's
  `targets` (hub and spoke);
- `console`: AWS console links;
- `model`: Notification, Fact, Link, Source, State (Severity is `nightshift.report.Severity`).
"""
