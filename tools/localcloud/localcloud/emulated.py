"""The resources moto's CloudFormation skips, created by the local cloud from the template.

moto 5.2 creates most of the template's resources, but silently passes over some types (they
are listed in the stack with an empty logical and physical id). For the types below the local
cloud reads the resource's own properties from the translated template, resolves them against
the deployed stack, and makes the matching API call in moto. A type that is neither created by
moto nor listed here is reported as not emulated; nothing is hard-coded per resource.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud.server import Endpoint

# Lambda subscriptions are delivered by the router (moto would try to run the function in
# Docker), so they are recorded, not subscribed in moto.
ROUTED_SUBSCRIPTION_PROTOCOLS = frozenset({"lambda"})


@dataclass(frozen=True)
class EmulatedResource:
    """A resource of the template that the local cloud created itself (or chose to route)."""

    logical_id: str
    type: str
    physical_id: str
    properties: Mapping[str, Any]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    how: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "logical_id": self.logical_id,
            "type": self.type,
            "physical_id": self.physical_id,
            "properties": self.properties,
            "attributes": self.attributes,
            "how": self.how,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EmulatedResource:
        return cls(**data)


@dataclass(frozen=True)
class Emulation:
    """What an emulator needs: the moto endpoint and the names CloudFormation would generate."""

    endpoint: Endpoint
    stack_name: str

    def generated_name(self, logical_id: str, max_length: int = 64) -> str:
        """A name like CloudFormation's `<stack>-<LogicalId>-<SUFFIX>`, stable per stack."""
        suffix = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).hexdigest()[:12]
        prefix = f"{self.stack_name}-{logical_id}"[: max_length - 13]
        return f"{prefix}-{suffix.upper()}"


Emulator = Callable[[Emulation, str, dict[str, Any]], EmulatedResource]


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _subscription(emulation: Emulation, logical_id: str, props: dict[str, Any]) -> EmulatedResource:
    kind = "AWS::SNS::Subscription"
    topic, protocol, endpoint = props["TopicArn"], props["Protocol"], props.get("Endpoint", "")
    attributes = {
        key: _attribute_text(value)
        for key, value in props.items()
        if key not in {"TopicArn", "Protocol", "Endpoint", "Region"}
    }
    if protocol in ROUTED_SUBSCRIPTION_PROTOCOLS:
        arn = f"{topic}:{emulation.generated_name(logical_id).rsplit('-', 1)[-1].lower()}"
        how = "recorded; the router invokes the function with an SNS event on publish"
        return EmulatedResource(logical_id, kind, arn, props, {"Arn": arn}, how)
    reply = emulation.endpoint.client("sns").subscribe(
        TopicArn=topic,
        Protocol=protocol,
        Endpoint=endpoint,
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    arn = reply["SubscriptionArn"]
    return EmulatedResource(logical_id, kind, arn, props, {"Arn": arn}, "sns.subscribe in moto")


def _topic_policy(emulation: Emulation, logical_id: str, props: dict[str, Any]) -> EmulatedResource:
    sns = emulation.endpoint.client("sns")
    for topic in props["Topics"]:
        sns.set_topic_attributes(
            TopicArn=topic,
            AttributeName="Policy",
            AttributeValue=json.dumps(props["PolicyDocument"]),
        )
    how = "sns.set_topic_attributes(Policy) in moto (moto does not enforce it)"
    return EmulatedResource(logical_id, "AWS::SNS::TopicPolicy", logical_id, props, {}, how)


def _queue_policy(emulation: Emulation, logical_id: str, props: dict[str, Any]) -> EmulatedResource:
    sqs = emulation.endpoint.client("sqs")
    for queue_url in props["Queues"]:
        sqs.set_queue_attributes(
            QueueUrl=queue_url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
        )
    how = "sqs.set_queue_attributes(Policy) in moto (moto does not enforce it)"
    return EmulatedResource(logical_id, "AWS::SQS::QueuePolicy", logical_id, props, {}, how)


def _metric_alarm(emulation: Emulation, logical_id: str, props: dict[str, Any]) -> EmulatedResource:
    request = {"AlarmName": emulation.generated_name(logical_id, 255), **props}
    cloudwatch = emulation.endpoint.client("cloudwatch")
    cloudwatch.put_metric_alarm(**request)
    arn = cloudwatch.describe_alarms(AlarmNames=[request["AlarmName"]])["MetricAlarms"][0][
        "AlarmArn"
    ]
    return EmulatedResource(
        logical_id,
        "AWS::CloudWatch::Alarm",
        request["AlarmName"],
        request,
        {"Arn": arn},
        "cloudwatch.put_metric_alarm in moto",
    )


def _schedule_group(
    emulation: Emulation, logical_id: str, props: dict[str, Any]
) -> EmulatedResource:
    name = props.get("Name") or emulation.generated_name(logical_id)
    reply = emulation.endpoint.client("scheduler").create_schedule_group(
        Name=name, **{k: v for k, v in props.items() if k != "Name"}
    )
    return EmulatedResource(
        logical_id,
        "AWS::Scheduler::ScheduleGroup",
        name,
        props,
        {"Arn": reply["ScheduleGroupArn"]},
        "scheduler.create_schedule_group in moto",
    )


def _schedule(emulation: Emulation, logical_id: str, props: dict[str, Any]) -> EmulatedResource:
    request = {"Name": emulation.generated_name(logical_id), **props}
    reply = emulation.endpoint.client("scheduler").create_schedule(**request)
    return EmulatedResource(
        logical_id,
        "AWS::Scheduler::Schedule",
        request["Name"],
        request,
        {"Arn": reply["ScheduleArn"]},
        "scheduler.create_schedule in moto; fired on demand by the router",
    )


def _event_invoke_config(
    emulation: Emulation, logical_id: str, props: dict[str, Any]
) -> EmulatedResource:
    emulation.endpoint.client("lambda").put_function_event_invoke_config(**props)
    qualifier = props.get("Qualifier", "$LATEST")
    return EmulatedResource(
        logical_id,
        "AWS::Lambda::EventInvokeConfig",
        f"{props['FunctionName']}:{qualifier}",
        props,
        {},
        "lambda.put_function_event_invoke_config in moto; the router applies its retries "
        "and destinations to asynchronous invocations",
    )


def _secret(emulation: Emulation, logical_id: str, props: dict[str, Any]) -> EmulatedResource:
    """A secret with a generated value (GenerateSecretString: its length, letters and digits),
    as Secrets Manager makes it; the value never leaves moto."""
    generate = props.get("GenerateSecretString") or {}
    length = int(generate.get("PasswordLength", 32))
    alphabet = string.ascii_letters + string.digits
    value = props.get("SecretString") or "".join(secrets.choice(alphabet) for _ in range(length))
    name = props.get("Name") or emulation.generated_name(logical_id)
    made = emulation.endpoint.client("secretsmanager").create_secret(Name=name, SecretString=value)
    return EmulatedResource(
        logical_id,
        "AWS::SecretsManager::Secret",
        made["ARN"],
        {key: value for key, value in props.items() if key != "SecretString"},
        {"Id": made["ARN"]},
        "secretsmanager.create_secret in moto, with a value generated as GenerateSecretString asks",
    )


def _function_url(emulation: Emulation, logical_id: str, props: dict[str, Any]) -> EmulatedResource:
    """The function URL's configuration in moto; requests reach the function through the local
    cloud's own HTTP front (localcloud.function_url), which moto's URL does not serve."""
    made = emulation.endpoint.client("lambda").create_function_url_config(
        FunctionName=props["TargetFunctionArn"], AuthType=props["AuthType"]
    )
    return EmulatedResource(
        logical_id,
        "AWS::Lambda::Url",
        made["FunctionArn"],
        props,
        {"FunctionUrl": made["FunctionUrl"], "FunctionArn": made["FunctionArn"]},
        "lambda.create_function_url_config in moto; served by localcloud.function_url",
    )


# Emulators in the order they run (a schedule needs its group). Composite alarms are not here:
# moto 5.2 has no PutCompositeAlarm.
EMULATORS: dict[str, Emulator] = {
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::SNS::Subscription": _subscription,
    "AWS::Scheduler::ScheduleGroup": _schedule_group,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::CloudWatch::Alarm": _metric_alarm,
    "AWS::Lambda::EventInvokeConfig": _event_invoke_config,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Lambda::Url": _function_url,
}
