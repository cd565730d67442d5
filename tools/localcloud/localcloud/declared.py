"""Nightshift's own resources and each function's environment, as template.yaml declares them,
for a handler run in this process against moto (the functional tests, the bench) rather than
deployed into the local cloud.

Both are read from template.yaml itself, so a caller never restates, and never drifts from, what
it says:

    table = create_state_table(boto3.client("dynamodb", region_name=REGION), "nightshift-state")
    ops = create_ops_topic(sns, sqs, "nightshift-ops-staging")
    os.environ.update(function_variables(service="pruner", policy_file=policy, table=table,
                                         topic_arn=ops.arn))
    ...
    (report,) = ops.reports()
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from samtranslator.yaml_helper import intrinsics_multi_constructor

from localcloud.intrinsics import Resolver
from localcloud.project import Project

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

TEMPLATE_PATH = Project.at().root / "template.yaml"
REGION = "eu-central-1"
# moto accepts any credentials.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Globals variables whose values are things the caller makes itself (a resource, a layer's file).
SUPPLIED_VARIABLES = (
    "NIGHTSHIFT_ENVIRONMENT",
    "NIGHTSHIFT_POLICY_FILE",
    "NIGHTSHIFT_STATE_TABLE",
    "NIGHTSHIFT_OPS_TOPIC_ARN",
)
# Globals variables whose values the local cloud sets itself: no X-Ray daemon here.
LOCAL_VARIABLES = {"POWERTOOLS_TRACE_DISABLED": "1"}


class TemplateLoader(yaml.SafeLoader):
    """PyYAML's safe loader reading CloudFormation's short tags (`!Ref X`, `!Sub s`) in their long
    form (`{"Ref": "X"}`, `{"Fn::Sub": "s"}`). samtranslator's `yaml_parse` does the same by
    changing `yaml.SafeLoader` for the whole process; this keeps the change to its own class."""


TemplateLoader.add_multi_constructor("!", intrinsics_multi_constructor)


@cache
def nightshift_template() -> dict[str, Any]:
    """template.yaml, parsed once per process (shared: read it, do not change it)."""
    return yaml.load(TEMPLATE_PATH.read_text(encoding="utf-8"), TemplateLoader)


def template_resource(logical_id: str) -> dict[str, Any]:
    """The resource `logical_id` of template.yaml, e.g. `template_resource("StateTable")`."""
    return nightshift_template()["Resources"][logical_id]


# ------------------------------------------------------------------------------ the state table
def create_state_table(dynamodb: DynamoDBClient, name: str) -> str:
    """Create the state table with the keys and billing of template.yaml's StateTable; return
    `name`. (Its TTL, point-in-time recovery and encryption change nothing a handler sees.)"""
    properties = template_resource("StateTable")["Properties"]
    dynamodb.create_table(
        TableName=name,
        BillingMode=properties["BillingMode"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        KeySchema=properties["KeySchema"],
    )
    return name


# -------------------------------------------------------------------------------- the ops topic
@dataclass(frozen=True)
class OpsTopic:
    """The ops topic, and an SQS queue subscribed to it that reads what the functions publish."""

    arn: str
    queue_url: str
    sqs: SQSClient

    def reports(self) -> list[dict[str, Any]]:
        """The reports published since the last call, parsed (drains the reader queue)."""
        found = []
        while messages := self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages"):
            for message in messages:
                found.append(json.loads(json.loads(message["Body"])["Message"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return found


def subscribe_queue(
    sns: SNSClient, sqs: SQSClient, topic_arn: str, queue_name: str, *, raw: bool = False
) -> str:
    """Create an SQS queue subscribed to `topic_arn` and return its URL. `raw`: messages arrive
    as published, without SNS's JSON envelope (RawMessageDelivery)."""
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    attributes = {"RawMessageDelivery": "true"} if raw else {}
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)
    return queue_url


def create_ops_topic(sns: SNSClient, sqs: SQSClient, name: str) -> OpsTopic:
    """Create the ops topic `name` with a queue subscribed to read the reports published to it."""
    arn = sns.create_topic(Name=name)["TopicArn"]
    return OpsTopic(arn=arn, queue_url=subscribe_queue(sns, sqs, arn, f"{name}-reader"), sqs=sqs)


# ---------------------------------------------------------------------------- the environment
def function_variables(
    *,
    service: str,
    policy_file: Path | str,
    table: str,
    topic_arn: str,
    environment: str = "staging",
    region: str = REGION,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment Lambda gives the function whose POWERTOOLS_SERVICE_NAME is `service`.

    template.yaml's Globals and the function's own variables (a `!Ref` to a parameter takes its
    default), with the names of what the test made in place of the template's resources, plus
    the region, fake credentials and POWERTOOLS_TRACE_DISABLED (no X-Ray daemon here); `extra`
    comes last and wins. For example
    `function_variables(service="pruner", ..., extra={"NIGHTSHIFT_PRUNER_DRY_RUN": "false"})`.
    """
    extra = dict(extra or {})
    declared = _declared_variables(service)
    missing = [name for name in SUPPLIED_VARIABLES if name not in declared]
    if missing:
        raise ValueError(f"template.yaml's Globals no longer declare {', '.join(missing)}")
    resolved = {
        name: _resolved(name, value, environment)
        for name, value in declared.items()
        if name not in (*SUPPLIED_VARIABLES, *LOCAL_VARIABLES) and name not in extra
    }
    return {
        **resolved,
        "NIGHTSHIFT_ENVIRONMENT": environment,
        "NIGHTSHIFT_POLICY_FILE": str(policy_file),
        "NIGHTSHIFT_STATE_TABLE": table,
        "NIGHTSHIFT_OPS_TOPIC_ARN": topic_arn,
        "AWS_DEFAULT_REGION": region,
        **FAKE_CREDENTIALS,
        **LOCAL_VARIABLES,
        **extra,
    }


def _declared_variables(service: str) -> dict[str, Any]:
    """Globals' variables, then those of the function whose service name is `service`."""
    template = nightshift_template()
    functions = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        functions[variables.get("POWERTOOLS_SERVICE_NAME")] = variables
    if service not in functions:
        known = ", ".join(sorted(name for name in functions if name))
        raise ValueError(f"no function in template.yaml has service {service!r}; known: {known}")
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    return {**shared, **functions[service]}


def _unresolvable(name: str, logical_id: str) -> Any:
    raise ValueError(f"{name}: names the resource {logical_id}; pass it in `extra`")


def _resolved(name: str, value: Any, environment: str) -> str:
    """A variable's value as Lambda would see it with the template's parameter defaults (and
    `environment` for `Environment`): a `Ref` to a parameter, or a `Sub` of parameters only."""
    if isinstance(value, str):
        return value
    parameters = {
        key: str(parameter.get("Default", ""))
        for key, parameter in nightshift_template()["Parameters"].items()
    }
    parameters["Environment"] = environment
    if isinstance(value, Mapping) and list(value) == ["Fn::If"]:
        # A condition on parameters only (their defaults): the branch it takes.
        condition, when_true, when_false = value["Fn::If"]
        resolver = Resolver(
            parameters=parameters,
            ref=lambda logical_id: _unresolvable(name, logical_id),
            get_att=lambda logical_id, _: _unresolvable(name, logical_id),
            conditions=nightshift_template().get("Conditions", {}),
        )
        chosen = when_true if resolver.condition(condition) else when_false
        return _resolved(name, chosen, environment)
    if isinstance(value, Mapping) and list(value) == ["Ref"] and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    if (
        isinstance(value, Mapping)
        and list(value) == ["Fn::Sub"]
        and isinstance(value["Fn::Sub"], str)
    ):
        names = re.findall(r"\$\{([^}]+)\}", value["Fn::Sub"])
        if all(found in parameters for found in names):
            return re.sub(r"\$\{([^}]+)\}", lambda m: parameters[m[1]], value["Fn::Sub"])
    if (
        isinstance(value, Mapping)
        and list(value) == ["Fn::GetAtt"]
        and list(value["Fn::GetAtt"])[-1:] == ["FunctionUrl"]
    ):
        # A function URL exists once deployed: empty (the feature it enables is off) unless a
        # test passes one in `extra`.
        return ""
    raise ValueError(f"{name}: cannot resolve {value!r} from template.yaml; pass it in `extra`")
