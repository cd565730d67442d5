"""Route messages, events and schedules to the deployed functions the way AWS would.

Everything is derived from the deployed stack: the SQS event source mappings of the translated
template, the SNS subscriptions moto holds (and the `lambda` ones the local cloud recorded), the
EventBridge rules moto created with their patterns and targets, and the Scheduler schedules the
local cloud created from the template. Nothing here names a function.

- `publish` is a real sns.publish into moto; moto delivers to SQS subscribers, the router then
  plays Lambda's SQS poller (`drain`) and delivers `lambda` subscriptions itself.
- `drain` receives batches as the event source mapping says, invokes the function with Lambda's
  SQS event, deletes what succeeded (partial batch responses honoured) and leaves the rest for
  the queue's visibility timeout and redrive policy (moto moves them to the DLQ).
- `put_event` matches an event against every enabled rule on the bus and delivers it to the
  rule's targets. moto's server does not implement TestEventPattern, so the matching is done by
  moto's own in-process matcher, the one its PutEvents uses.
- `fire_schedule` fires a Scheduler schedule (or a scheduled EventBridge rule) at a given time.

Functions behind EventBridge, Scheduler and SNS are invoked the way Lambda invokes them
asynchronously: a failed invocation is retried as the function's EventInvokeConfig says (default
2 retries; here at once, not after one and two minutes), then the invocation record goes to its
OnFailure destination and the event to its dead-letter queue, if it has them (OnSuccess
likewise). `invoke()` itself, like `sam local invoke`, is one synchronous call.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud.errors import LocalCloudError
from localcloud.lambda_events import (
    BatchOutcome,
    batch_outcome,
    dead_letter_attributes,
    invocation_record,
    scheduler_input,
    sns_record,
    sqs_record,
    target_input,
)
from localcloud.runtime import InvokeResult, invoke
from localcloud.stack import Stack

Invoker = Callable[..., InvokeResult]
_SQS_DEFAULT_BATCH_SIZE = 10
_SQS_RECEIVE_MAX = 10
_ASYNC_DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class AsyncConfig:
    """How Lambda treats a function's asynchronous invocations (EventInvokeConfig, DLQ)."""

    max_retries: int = _ASYNC_DEFAULT_RETRIES
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter: str | None = None


@dataclass(frozen=True)
class QueueTrigger:
    """An SQS event source mapping of the template: which function reads which queue, how."""

    mapping: str
    function: str
    queue_arn: str
    batch_size: int
    reports_item_failures: bool


@dataclass(frozen=True)
class BatchDelivery:
    """One batch handed to a function, and what Lambda did with its messages."""

    function: str
    message_ids: tuple[str, ...]
    event: Mapping[str, Any]
    result: InvokeResult
    outcome: BatchOutcome


@dataclass(frozen=True)
class DrainReport:
    """Every batch a drain of one queue delivered, in order."""

    queue_arn: str
    batches: tuple[BatchDelivery, ...] = ()

    @property
    def deleted(self) -> tuple[str, ...]:
        return tuple(i for batch in self.batches for i in batch.outcome.succeeded)

    @property
    def failed(self) -> tuple[str, ...]:
        """Message ids whose last delivery failed (they stay in the queue or reach its DLQ)."""
        deleted = set(self.deleted)
        return tuple(
            dict.fromkeys(
                i for batch in self.batches for i in batch.outcome.failed if i not in deleted
            )
        )

    @property
    def invocations(self) -> tuple[InvokeResult, ...]:
        return tuple(batch.result for batch in self.batches)


@dataclass(frozen=True)
class Delivery:
    """What one target (function, topic or queue) got, and what came of it.

    For a function: `result` is its last invocation, `attempts` how many there were, and
    `follow_ups` what went to its destinations or dead-letter queue afterwards.
    """

    target: str
    kind: str
    payload: Any
    result: InvokeResult | None = None
    attempts: int = 0
    message_id: str | None = None
    drains: tuple[DrainReport, ...] = ()
    follow_ups: tuple[Delivery, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class PublishReport:
    """A message published to a topic: its id, the functions subscribed directly (`lambda`
    protocol), and the drains of the subscribed queues functions read."""

    topic_arn: str
    message_id: str
    deliveries: tuple[Delivery, ...] = ()
    drains: tuple[DrainReport, ...] = ()

    @property
    def invocations(self) -> tuple[InvokeResult, ...]:
        return tuple(d.result for d in self.deliveries if d.result is not None)


@dataclass(frozen=True)
class EventReport:
    """An event put on a bus: the rules that matched (logical ids) and each target's delivery."""

    event: Mapping[str, Any]
    matched_rules: tuple[str, ...] = ()
    deliveries: tuple[Delivery, ...] = ()


@dataclass(frozen=True)
class ScheduleReport:
    """A schedule fired at `scheduled_time`, and each target's delivery."""

    schedule: str
    scheduled_time: str
    deliveries: tuple[Delivery, ...] = ()


@dataclass
class Router:
    """Routes to the functions of `stack`.

    `retry_now` makes a failed SQS message visible again at once (instead of after the queue's
    visibility timeout), so its retries and its redrive to the dead-letter queue happen within
    one `drain` (queues without a redrive policy are not retried at once: they would loop).
    `async_retries=False` skips the retries of asynchronous invocations.
    """

    stack: Stack
    invoker: Invoker = invoke
    env_overrides: Mapping[str, str] = field(default_factory=dict)
    retry_now: bool = False
    async_retries: bool = True
    max_batches: int = 100

    # ------------------------------------------------------------------------------ SQS
    def queue_triggers(self) -> tuple[QueueTrigger, ...]:
        """The template's SQS event source mappings (moto's copies are switched off)."""
        resolver = self.stack.resolver()
        triggers = []
        for logical_id, resource in self.stack.resources_of_type(
            "AWS::Lambda::EventSourceMapping"
        ).items():
            props = resolver.resolve(resource.get("Properties", {}))
            source = str(props.get("EventSourceArn", ""))
            if not source.startswith("arn:aws:sqs:") or props.get("Enabled") is False:
                continue
            triggers.append(
                QueueTrigger(
                    mapping=logical_id,
                    function=self.stack.function_for(str(props["FunctionName"])),
                    queue_arn=source,
                    batch_size=int(props.get("BatchSize", _SQS_DEFAULT_BATCH_SIZE)),
                    reports_item_failures="ReportBatchItemFailures"
                    in props.get("FunctionResponseTypes", []),
                )
            )
        return tuple(triggers)

    def _queue_url(self, queue_arn: str) -> str:
        return self.stack.queue_url(queue_arn)

    def drain(self, queue: str, *, retry_now: bool | None = None) -> DrainReport:
        """Deliver the queue's visible messages to the functions that read it, until it is empty
        (or only holds messages waiting out their visibility timeout)."""
        queue_arn = self._queue_arn(queue)
        triggers = [t for t in self.queue_triggers() if t.queue_arn == queue_arn]
        if not triggers:
            raise LocalCloudError(f"no function of stack {self.stack.name} reads {queue_arn}")
        queue_url = self._queue_url(queue_arn)
        retry = self.retry_now if retry_now is None else retry_now
        if retry and not self._has_redrive_policy(queue_url):
            # Without a dead-letter queue a failing message would come back forever.
            retry = False
        batches: list[BatchDelivery] = []
        while len(batches) < self.max_batches:
            delivered = [
                batch
                for trigger in triggers
                if (batch := self._deliver_batch(trigger, queue_url, retry)) is not None
            ]
            if not delivered:
                break
            batches.extend(delivered)
        return DrainReport(queue_arn=queue_arn, batches=tuple(batches))

    def _deliver_batch(
        self, trigger: QueueTrigger, queue_url: str, retry_now: bool
    ) -> BatchDelivery | None:
        sqs = self.stack.endpoint.client("sqs")
        messages: list[dict[str, Any]] = []
        while len(messages) < trigger.batch_size:
            received = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(_SQS_RECEIVE_MAX, trigger.batch_size - len(messages)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not received:
                break
            messages.extend(received)
        if not messages:
            return None
        region = self.stack.endpoint.region
        event = {"Records": [sqs_record(m, trigger.queue_arn, region) for m in messages]}
        result = self.invoker(self.stack, trigger.function, event, self.env_overrides)
        ids = [m["MessageId"] for m in messages]
        outcome = batch_outcome(
            ids,
            result.payload,
            function_error=result.error,
            reports_item_failures=trigger.reports_item_failures,
        )
        handles = {m["MessageId"]: m["ReceiptHandle"] for m in messages}
        for chunk in _chunks(outcome.succeeded):
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": handles[i]} for n, i in enumerate(chunk)],
            )
        if retry_now:
            for chunk in _chunks(outcome.failed):
                sqs.change_message_visibility_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": handles[i], "VisibilityTimeout": 0}
                        for n, i in enumerate(chunk)
                    ],
                )
        return BatchDelivery(trigger.function, tuple(ids), event, result, outcome)

    def _has_redrive_policy(self, queue_url: str) -> bool:
        attributes = self.stack.endpoint.client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]
        )
        return "RedrivePolicy" in attributes.get("Attributes", {})

    def _queue_arn(self, queue: str) -> str:
        if queue.startswith("arn:"):
            return queue
        if queue.startswith(("http://", "https://")):
            return self.stack.queue_arn(queue)
        return self.stack.queue_arn(self.stack.physical_id(queue))

    # ------------------------------------------------------------------------------ SNS
    def publish(
        self,
        topic: str,
        message: str | Mapping[str, Any],
        subject: str | None = None,
        attributes: Mapping[str, str] | None = None,
        *,
        drain: bool = True,
    ) -> PublishReport:
        """sns.publish into moto, then deliver to `lambda` subscribers and drain SQS ones."""
        topic_arn = topic if topic.startswith("arn:") else self.stack.physical_id(topic)
        text = message if isinstance(message, str) else json.dumps(message)
        request: dict[str, Any] = {"TopicArn": topic_arn, "Message": text}
        if subject is not None:
            request["Subject"] = subject
        if attributes:
            request["MessageAttributes"] = {
                name: {"DataType": "String", "StringValue": value}
                for name, value in attributes.items()
            }
        message_id = self.stack.endpoint.client("sns").publish(**request)["MessageId"]
        sns_attributes = {
            name: {"Type": "String", "Value": value} for name, value in (attributes or {}).items()
        }
        deliveries = tuple(
            self.deliver(
                str(sub.properties["Endpoint"]),
                {
                    "Records": [
                        sns_record(
                            subscription_arn=sub.physical_id,
                            topic_arn=topic_arn,
                            message_id=message_id,
                            message=text,
                            subject=subject,
                            timestamp=_now_iso(),
                            message_attributes=sns_attributes,
                        )
                    ]
                },
            )
            for sub in self._lambda_subscriptions(topic_arn)
            if _filter_matches(sub.properties, sns_attributes, text)
        )
        drains = (
            tuple(self.drain(arn) for arn in self._subscribed_queues(topic_arn)) if drain else ()
        )
        return PublishReport(topic_arn, message_id, deliveries, drains)

    def _lambda_subscriptions(self, topic_arn: str) -> list[Any]:
        return [
            resource
            for resource in self.stack.emulated.values()
            if resource.type == "AWS::SNS::Subscription"
            and resource.properties.get("Protocol") == "lambda"
            and resource.properties.get("TopicArn") == topic_arn
        ]

    def _subscribed_queues(self, topic_arn: str) -> list[str]:
        """Queues subscribed to the topic that a function of the stack reads."""
        read = {trigger.queue_arn for trigger in self.queue_triggers()}
        paginator = self.stack.endpoint.client("sns").get_paginator("list_subscriptions_by_topic")
        queues = [
            subscription["Endpoint"]
            for page in paginator.paginate(TopicArn=topic_arn)
            for subscription in page["Subscriptions"]
            if subscription["Protocol"] == "sqs"
        ]
        return [arn for arn in dict.fromkeys(queues) if arn in read]

    # ----------------------------------------------------------------------- EventBridge
    def put_event(
        self, event: Mapping[str, Any], bus: str = "default", *, drain: bool = True
    ) -> EventReport:
        """Deliver `event` to the targets of every enabled rule on `bus` whose pattern matches.

        Envelope fields PutEvents would add (id, time, account, region, ...) are filled in when
        missing; `source` and `detail-type` are required, as PutEvents requires them.
        """
        full = self._envelope(event)
        matched = self.matching_rules(full, bus)
        deliveries = tuple(
            self.deliver(target["Arn"], target_input(full, target), drain=drain)
            for targets in matched.values()
            for target in targets
        )
        return EventReport(full, tuple(matched), deliveries)

    def matching_rules(
        self, event: Mapping[str, Any], bus: str = "default"
    ) -> dict[str, list[dict[str, Any]]]:
        """Logical id -> targets (as moto lists them) of each enabled rule on `bus` whose
        pattern matches `event`; nothing is delivered."""
        full = self._envelope(event)
        events = self.stack.endpoint.client("events")
        matched: dict[str, list[dict[str, Any]]] = {}
        for logical_id, name, rule_bus in self._rules():
            if rule_bus != bus:
                continue
            rule = events.describe_rule(Name=name, EventBusName=rule_bus)
            if rule.get("State") != "ENABLED" or not rule.get("EventPattern"):
                continue
            if _pattern_matches(rule["EventPattern"], full):
                targets = events.list_targets_by_rule(Rule=name, EventBusName=rule_bus)
                matched[logical_id] = list(targets["Targets"])
        return matched

    def _rules(self) -> list[tuple[str, str, str]]:
        """(logical id, name, bus name) of the stack's EventBridge rules."""
        resolver = self.stack.resolver()
        rules = []
        for logical_id, resource in self.stack.resources_of_type("AWS::Events::Rule").items():
            props = resolver.resolve(resource.get("Properties", {}))
            bus = str(props.get("EventBusName", "default")).rsplit("/", 1)[-1]
            rules.append((logical_id, self.stack.physical_id(logical_id), bus))
        return rules

    def _envelope(self, event: Mapping[str, Any]) -> dict[str, Any]:
        missing = [key for key in ("source", "detail-type") if key not in event]
        if missing:
            raise LocalCloudError(f"an EventBridge event needs {', '.join(missing)}")
        defaults = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "account": self.stack.account_id,
            "time": _now_iso(milliseconds=False),
            "region": self.stack.endpoint.region,
            "resources": [],
            "detail": {},
        }
        return {**defaults, **event}

    # ------------------------------------------------------------------------ schedules
    def schedules(self) -> tuple[str, ...]:
        """Logical ids of everything `fire_schedule` can fire."""
        resolver = self.stack.resolver()
        rules = [
            logical_id
            for logical_id, resource in self.stack.resources_of_type("AWS::Events::Rule").items()
            if "ScheduleExpression" in resolver.resolve(resource.get("Properties", {}))
        ]
        schedules = [
            resource.logical_id
            for resource in self.stack.emulated.values()
            if resource.type == "AWS::Scheduler::Schedule"
        ]
        return tuple(sorted(schedules + rules))

    def fire_schedule(
        self, logical_id: str, scheduled_time: str, execution_id: str | None = None
    ) -> ScheduleReport:
        """Fire the schedule `logical_id` as if its time `scheduled_time` (ISO, UTC) had come."""
        kind = self.stack.resource(logical_id)["Type"]
        if kind == "AWS::Scheduler::Schedule":
            return self._fire_scheduler(logical_id, scheduled_time, execution_id)
        if kind == "AWS::Events::Rule" and logical_id in self.schedules():
            return self._fire_rule(logical_id, scheduled_time)
        raise LocalCloudError(
            f"{logical_id} is not a schedule; schedules: {', '.join(self.schedules()) or 'none'}"
        )

    def _fire_scheduler(
        self, logical_id: str, scheduled_time: str, execution_id: str | None
    ) -> ScheduleReport:
        schedule = self.stack.emulated[logical_id]
        if schedule.properties.get("State", "ENABLED") != "ENABLED":
            raise LocalCloudError(f"schedule {logical_id} is {schedule.properties['State']}")
        target = schedule.properties["Target"]
        payload = scheduler_input(
            target.get("Input"),
            schedule_arn=str(schedule.attributes["Arn"]),
            scheduled_time=scheduled_time,
            execution_id=execution_id or str(uuid.uuid4()),
        )
        delivery = self.deliver(str(target["Arn"]), payload)
        return ScheduleReport(logical_id, scheduled_time, (delivery,))

    def _fire_rule(self, logical_id: str, scheduled_time: str) -> ScheduleReport:
        name = self.stack.physical_id(logical_id)
        events = self.stack.endpoint.client("events")
        rule = events.describe_rule(Name=name)
        event = self._envelope(
            {
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "time": scheduled_time,
                "resources": [rule["Arn"]],
            }
        )
        deliveries = tuple(
            self.deliver(target["Arn"], target_input(event, target))
            for target in events.list_targets_by_rule(Rule=name)["Targets"]
        )
        return ScheduleReport(logical_id, scheduled_time, deliveries)

    # ------------------------------------------------------------------------- targets
    def deliver(self, target_arn: str, payload: Any, *, drain: bool = True) -> Delivery:
        """Hand `payload` to a target by ARN: invoke a function, publish to a topic or send to a
        queue (then drain it); other targets are reported as not delivered."""
        service = target_arn.split(":")[2] if target_arn.count(":") >= 5 else ""
        if service == "lambda":
            try:
                function = self.stack.function_for(target_arn)
            except LocalCloudError as exc:
                return Delivery(target_arn, "unsupported", payload, note=str(exc))
            return self.invoke_async(function, payload, target_arn)
        if service == "sns":
            report = self.publish(target_arn, _as_text(payload), drain=drain)
            return Delivery(
                target_arn,
                "sns",
                payload,
                result=None,
                message_id=report.message_id,
                drains=report.drains,
            )
        if service == "sqs":
            queue_url = self.stack.queue_url(target_arn)
            sent = self.stack.endpoint.client("sqs").send_message(
                QueueUrl=queue_url, MessageBody=_as_text(payload)
            )
            read = {t.queue_arn for t in self.queue_triggers()}
            drains = (self.drain(target_arn),) if drain and target_arn in read else ()
            return Delivery(target_arn, "sqs", payload, message_id=sent["MessageId"], drains=drains)
        return Delivery(
            target_arn,
            "unsupported",
            payload,
            note="the local cloud delivers only to functions, topics and queues",
        )

    # --------------------------------------------------------------- async invocations
    def invoke_async(self, function: str, payload: Any, target: str = "") -> Delivery:
        """Invoke `function` as Lambda does for an asynchronous event: retries, then the
        OnSuccess / OnFailure destination and the dead-letter queue."""
        config = self.async_config(function)
        attempts = 1 + (config.max_retries if self.async_retries else 0)
        attempt = 1
        result = self.invoker(self.stack, function, payload, self.env_overrides)
        while result.error and attempt < attempts:
            attempt += 1
            result = self.invoker(self.stack, function, payload, self.env_overrides)
        function_arn = self.stack.attribute(function, "Arn")
        follow_ups: list[Delivery] = []
        destination = config.on_failure if result.error else config.on_success
        if destination:
            record = invocation_record(
                function_arn=function_arn,
                request_id=result.request_id,
                condition="RetriesExhausted" if result.error else "Success",
                attempts=attempt,
                request_payload=payload,
                response_payload=result.payload,
                function_error=result.error,
                timestamp=_now_iso(),
            )
            follow_ups.append(self.deliver(destination, record))
        if result.error and config.dead_letter:
            follow_ups.append(self._dead_letter(config.dead_letter, payload, result))
        return Delivery(
            target or function_arn,
            "lambda",
            payload,
            result=result,
            attempts=attempt,
            follow_ups=tuple(follow_ups),
        )

    def async_config(self, function: str) -> AsyncConfig:
        """The function's EventInvokeConfig and dead-letter queue, from the deployed stack."""
        name = self.stack.function_name(function)
        resolver = self.stack.resolver()
        dead_letter = (
            resolver.resolve(self.stack.resource(function).get("Properties", {}))
            .get("DeadLetterConfig", {})
            .get("TargetArn")
        )
        for resource in self.stack.emulated.values():
            props = resource.properties
            if resource.type != "AWS::Lambda::EventInvokeConfig" or props["FunctionName"] != name:
                continue
            destinations = props.get("DestinationConfig", {})
            return AsyncConfig(
                max_retries=int(props.get("MaximumRetryAttempts", _ASYNC_DEFAULT_RETRIES)),
                on_success=destinations.get("OnSuccess", {}).get("Destination"),
                on_failure=destinations.get("OnFailure", {}).get("Destination"),
                dead_letter=dead_letter,
            )
        return AsyncConfig(dead_letter=dead_letter)

    def _dead_letter(self, target_arn: str, payload: Any, result: InvokeResult) -> Delivery:
        attributes = dead_letter_attributes(result.request_id, result.error_message or "")
        body = _as_text(payload)
        if target_arn.startswith("arn:aws:sqs:"):
            sent = self.stack.endpoint.client("sqs").send_message(
                QueueUrl=self.stack.queue_url(target_arn),
                MessageBody=body,
                MessageAttributes=attributes,
            )
            return Delivery(target_arn, "sqs", payload, message_id=sent["MessageId"])
        published = self.stack.endpoint.client("sns").publish(
            TopicArn=target_arn, Message=body, MessageAttributes=attributes
        )
        return Delivery(target_arn, "sns", payload, message_id=published["MessageId"])


def _pattern_matches(raw_pattern: str, event: Mapping[str, Any]) -> bool:
    """moto's own EventBridge pattern matcher (its server does not offer TestEventPattern)."""
    from moto.events.models import EventPattern, EventPatternParser  # slow import, used here

    pattern = EventPatternParser(raw_pattern).parse()
    return bool(EventPattern(raw_pattern, pattern).matches_event(dict(event)))


def _filter_matches(
    subscription: Mapping[str, Any], attributes: Mapping[str, Any], message: str
) -> bool:
    policy = subscription.get("FilterPolicy")
    if not policy:
        return True
    from moto.sns.utils import FilterPolicyMatcher  # slow import, used here

    policy = json.loads(policy) if isinstance(policy, str) else policy
    matcher = FilterPolicyMatcher(policy, subscription.get("FilterPolicyScope"))
    return bool(matcher.matches(dict(attributes), message))


def _as_text(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


def _chunks(items: tuple[str, ...], size: int = 10) -> list[tuple[str, ...]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _now_iso(*, milliseconds: bool = True) -> str:
    now = dt.datetime.now(dt.UTC)
    text = now.isoformat(timespec="milliseconds" if milliseconds else "seconds")
    return text.replace("+00:00", "Z")
