"""Records each AWS request a Nightshift function makes, as IAM would authorize it.

A botocore event hook (`before-parameter-build`, on every client created after `install`) sees
the operation and its parameters before the request is sent. For a call made from the function's
code (a frame of the `nightshift` package or of a handler module is on the stack; a test's own
set-up calls are not recorded) it writes down

- the function (its POWERTOOLS_SERVICE_NAME) and the call site (innermost nightshift frame),
- each authorization AWS makes for the request: the IAM action as IAM names it (not the signing
  name: CloudWatch signs as `monitoring`, the Tagging API as `tagging`), the resource ARN built
  from the parameters, and the request context IAM would see: the resource's tags, looked up
  before the call in the same (emulated) AWS, the request's tags, `iam:PassedToService`,
  `dynamodb:LeadingKeys`, `cloudwatch:AlarmActions`, ... A request can need more than one
  authorization: registering a task definition also passes its roles (iam:PassRole) and tags
  the new revision (ecs:TagResource); publishing to a topic under a KMS key uses the key.
- the context keys it could not know locally (`unknown`), said in docs/iam.md.

Only botocore and the standard library are used: the local cloud loads this module into the
function processes it runs (see `site/sitecustomize.py`), where only the Lambda runtime's
packages exist. An operation not described in `OPERATIONS` is recorded with no resource, and the
judge fails it: every call must be judged, none waved through.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import botocore.session

SERVICE_VARIABLE = "POWERTOOLS_SERVICE_NAME"
# Where IAM's service prefix differs from the botocore service name and the signing name.
IAM_PREFIXES = {
    "cloudwatch": "cloudwatch",  # signs as "monitoring"
    "resourcegroupstaggingapi": "tag",  # signs as "tagging"
    "application-autoscaling": "application-autoscaling",
    "autoscaling": "autoscaling",
}

Sink = Callable[[dict[str, Any]], None]

_sink: Sink | None = None
_busy = threading.local()
_installed = False
_original_create_client = botocore.session.Session.create_client


def install(sink: Sink) -> None:
    """Record every call made from function code to `sink` from now on (one dict per request)."""
    global _sink, _installed
    _sink = sink
    if not _installed:
        botocore.session.Session.create_client = _create_client  # type: ignore[method-assign]
        _installed = True


def uninstall() -> None:
    """Stop recording (clients already made keep the hook, which then does nothing)."""
    global _sink
    _sink = None


def _create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
    client = _original_create_client(self, *args, **kwargs)
    reference = weakref.ref(client)
    client.meta.events.register(
        "before-parameter-build", functools.partial(_before_parameter_build, reference)
    )
    return client


@contextmanager
def _quiet() -> Iterator[None]:
    """The recorder's own look-ups are not the function's calls."""
    previous = getattr(_busy, "on", False)
    _busy.on = True
    try:
        yield
    finally:
        _busy.on = previous


def _before_parameter_build(
    reference: weakref.ref[Any], params: Mapping[str, Any], model: Any, **_: Any
) -> None:
    sink = _sink
    if sink is None or getattr(_busy, "on", False):
        return
    site = call_site(sys._getframe(1))
    if site is None:
        return
    client = reference()
    service = model.service_model.service_name
    region = client.meta.region_name if client is not None else os.environ.get("AWS_REGION", "")
    with _quiet():
        call = Call(region=region, params=params, credentials=_client_credentials(client))
        record: dict[str, Any] = {
            "function": os.environ.get(SERVICE_VARIABLE),
            "site": site,
            "service": service,
            "operation": model.name,
            "region": region,
        }
        describe = OPERATIONS.get((service, model.name))
        if describe is None:
            prefix = IAM_PREFIXES.get(service, model.service_model.signing_name)
            record["authorizations"] = [
                {"action": f"{prefix}:{model.name}", "resource": None, "context": {}}
            ]
        else:
            try:
                describe(call)
            except Exception as exc:
                # Not swallowed: the judge fails the call as "Unrecorded", with this reason.
                call.failure = f"{type(exc).__name__}: {exc}"
            record["authorizations"] = call.authorizations
            record["unknown"] = sorted(set(call.unknown))
        for authorization in record["authorizations"]:
            # Every request carries the Region it is sent to (spoke.yaml's OnlyTargetRegions).
            authorization.setdefault("context", {}).setdefault("aws:RequestedRegion", region)
            if call.failure:
                record["failure"] = call.failure
        record["account"] = call.account_id() if call.failure is None else None
        if call.failure is None:
            record["caller"] = call.caller_arn()
    sink(record)


def _client_credentials(client: Any) -> tuple[str, str, str | None] | None:
    """The calling client's credentials (a hub function's own, or a spoke role's it assumed),
    so the look-ups and the account are those of the account the call is made in."""
    if client is None:
        return None
    # `_get_credentials` is botocore's (1.29 on); older botocore keeps them on the signer.
    reader = getattr(client, "_get_credentials", None)
    credentials = reader() if reader else getattr(client._request_signer, "_credentials", None)
    if credentials is None:
        return None
    frozen = credentials.get_frozen_credentials()
    return (frozen.access_key, frozen.secret_key, frozen.token)


def call_site(frame: Any) -> str | None:
    """`module:line in function` of the innermost frame of function code, or None when no such
    frame is on the stack (the call is a test's own set-up)."""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == "nightshift" or module.startswith("nightshift.") or _is_handler(module):
            return f"{module}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return None


def _is_handler(module: str) -> bool:
    # Lambda imports a handler as `app`; the functional tests load it as `<function>_app`.
    return module == "app" or (module.endswith("_app") and "." not in module)


# ------------------------------------------------------------------------------- one request
_clients: dict[tuple[Any, ...], Any] = {}
_accounts: dict[tuple[Any, ...], dict[str, str]] = {}
_partition_keys: dict[tuple[str | None, str], str] = {}


def lookup_client(
    service: str, region: str, credentials: tuple[str, str, str | None] | None = None
) -> Any:
    """A client of the same (emulated) AWS, for the recorder's own look-ups; with the calling
    client's `credentials` when given (the same account as the call)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    key = (service, region, endpoint, credentials)
    if key not in _clients:
        session = botocore.session.Session()
        keys = {}
        if credentials is not None:
            keys = {
                "aws_access_key_id": credentials[0],
                "aws_secret_access_key": credentials[1],
                "aws_session_token": credentials[2],
            }
        _clients[key] = session.create_client(
            service, region_name=region, endpoint_url=endpoint, **keys
        )
    return _clients[key]


@dataclass
class Call:
    """What one request needs IAM to authorize, built by its `OPERATIONS` entry."""

    region: str
    params: Mapping[str, Any]
    authorizations: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    failure: str | None = None
    credentials: tuple[str, str, str | None] | None = None

    def client(self, service: str) -> Any:
        return lookup_client(service, self.region, self.credentials)

    def _identity(self) -> dict[str, str]:
        # Per endpoint and credentials (moto also reads MOTO_ACCOUNT_ID, which a test may set).
        key = (
            *(
                os.environ.get(name)
                for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "MOTO_ACCOUNT_ID")
            ),
            self.credentials,
        )
        if key not in _accounts:
            identity = self.client("sts").get_caller_identity()
            _accounts[key] = {"Account": identity["Account"], "Arn": identity["Arn"]}
        return _accounts[key]

    def account_id(self) -> str:
        return self._identity()["Account"]

    def caller_arn(self) -> str:
        """Who makes the call: the function's role, or the spoke role it assumed
        (`arn:aws:sts::<account>:assumed-role/nightshift-spoke-scheduler-staging/...`)."""
        return self._identity()["Arn"]

    def arn(self, service: str, resource: str, *, account: bool = True) -> str:
        owner = self.account_id() if account else ""
        return f"arn:aws:{service}:{self.region}:{owner}:{resource}"

    def authorize(
        self,
        action: str,
        resource: str,
        context: Mapping[str, Any] | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        resource_policy: Mapping[str, Any] | None = None,
        implied_by: str | None = None,
    ) -> None:
        values = {f"aws:ResourceTag/{key}": value for key, value in (tags or {}).items()}
        values.update(context or {})
        entry: dict[str, Any] = {"action": action, "resource": resource, "context": values}
        if resource_policy is not None:
            entry["resourcePolicy"] = resource_policy
        if implied_by:
            entry["impliedBy"] = implied_by
        self.authorizations.append(entry)


def request_tags(tags: Any, key: str = "Key", value: str = "Value") -> dict[str, Any]:
    """aws:RequestTag/* and aws:TagKeys of the tags a request creates."""
    pairs = {tag[key]: tag[value] for tag in tags or []}
    if not pairs:
        return {}
    return {**{f"aws:RequestTag/{k}": v for k, v in pairs.items()}, "aws:TagKeys": list(pairs)}


def _tag_map(tags: Any, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {tag[key]: tag[value] for tag in tags or []}


# ------------------------------------------------------------------------------ the services
def _last(value: str, separator: str = "/") -> str:
    return value.rsplit(separator, 1)[-1]


def _ecs_cluster_arn(call: Call, cluster: str | None) -> str:
    name = cluster or "default"
    return name if name.startswith("arn:") else call.arn("ecs", f"cluster/{name}")


def _ecs_service(call: Call, cluster: str | None, service: str) -> tuple[str, dict[str, str]]:
    """The service's ARN (as IAM names it: service/<cluster>/<service>) and its tags."""
    ecs = call.client("ecs")
    try:
        found = ecs.describe_services(
            cluster=cluster or "default", services=[service], include=["TAGS"]
        )
    except ecs.exceptions.ClusterNotFoundException:
        # No such cluster, so no such service: AWS authorizes the ARN, which has no tags.
        found = {}
    cluster_name = _last(_ecs_cluster_arn(call, cluster))
    arn = call.arn("ecs", f"service/{cluster_name}/{_last(service)}")
    for item in found.get("services", []):
        return arn, _tag_map(item.get("tags"), "key", "value")
    return arn, {}


def ecs_describe_services(call: Call) -> None:
    cluster = call.params.get("cluster")
    for service in call.params.get("services", []):
        arn, tags = _ecs_service(call, cluster, service)
        call.authorize("ecs:DescribeServices", arn, tags=tags)


def ecs_update_service(call: Call) -> None:
    cluster = call.params.get("cluster")
    arn, tags = _ecs_service(call, cluster, call.params["service"])
    call.authorize("ecs:UpdateService", arn, tags=tags)


def ecs_describe_tasks(call: Call) -> None:
    cluster = _last(_ecs_cluster_arn(call, call.params.get("cluster")))
    for task in call.params.get("tasks", []):
        call.authorize("ecs:DescribeTasks", call.arn("ecs", f"task/{cluster}/{_last(task)}"))


def ecs_list_tasks(call: Call) -> None:
    cluster = _ecs_cluster_arn(call, call.params.get("cluster"))
    call.authorize("ecs:ListTasks", "*", {"ecs:cluster": cluster})


def ecs_describe_task_definition(call: Call) -> None:
    call.authorize("ecs:DescribeTaskDefinition", "*")


def ecs_register_task_definition(call: Call) -> None:
    """RegisterTaskDefinition (no resource-level permission), plus what AWS also authorizes:
    passing the task and execution roles to ECS tasks, and tagging the new revision."""
    params = call.params
    tagging = request_tags(params.get("tags"), "key", "value")
    call.authorize("ecs:RegisterTaskDefinition", "*", tagging)
    for role_key in ("taskRoleArn", "executionRoleArn"):
        if params.get(role_key):
            call.authorize(
                "iam:PassRole",
                params[role_key],
                {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
                implied_by="ecs:RegisterTaskDefinition",
            )
    if tagging:
        family = params["family"]
        try:
            current = call.client("ecs").describe_task_definition(taskDefinition=family)
            revision = current["taskDefinition"]["revision"] + 1
        except call.client("ecs").exceptions.ClientException:
            revision = 1
        call.authorize(
            "ecs:TagResource",
            call.arn("ecs", f"task-definition/{family}:{revision}"),
            {**tagging, "ecs:CreateAction": "RegisterTaskDefinition"},
            implied_by="ecs:RegisterTaskDefinition",
        )


def wildcard(action: str) -> Callable[[Call], None]:
    """An action without resource-level permissions: IAM authorizes it on `*`."""

    def describe(call: Call) -> None:
        call.authorize(action, "*")

    return describe


def rds_describe_all(action: str, kind: str) -> Callable[[Call], None]:
    """An RDS Describe without an identifier: IAM authorizes it on every resource of the kind."""

    def describe(call: Call) -> None:
        call.authorize(action, call.arn("rds", f"{kind}:*"))

    return describe


def rds_on(action: str, kind: str, parameter: str) -> Callable[[Call], None]:
    def describe(call: Call) -> None:
        arn = call.arn("rds", f"{kind}:{call.params[parameter]}")
        tags = call.client("rds").list_tags_for_resource(ResourceName=arn).get("TagList")
        call.authorize(action, arn, tags=_tag_map(tags))

    return describe


def _ec2_tags(call: Call, resource_id: str) -> dict[str, str]:
    found = call.client("ec2").describe_tags(
        Filters=[{"Name": "resource-id", "Values": [resource_id]}]
    )
    return _tag_map(found.get("Tags"))


def ec2_instances(action: str) -> Callable[[Call], None]:
    def describe(call: Call) -> None:
        for instance in call.params.get("InstanceIds", []):
            arn = call.arn("ec2", f"instance/{instance}")
            call.authorize(action, arn, tags=_ec2_tags(call, instance))

    return describe


def ec2_delete_snapshot(call: Call) -> None:
    snapshot = call.params["SnapshotId"]
    # EC2 snapshot ARNs carry no account.
    arn = call.arn("ec2", f"snapshot/{snapshot}", account=False)
    call.authorize("ec2:DeleteSnapshot", arn, tags=_ec2_tags(call, snapshot))


def autoscaling_update_group(call: Call) -> None:
    name = call.params["AutoScalingGroupName"]
    groups = call.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    for group in groups.get("AutoScalingGroups", []):
        call.authorize(
            "autoscaling:UpdateAutoScalingGroup",
            group["AutoScalingGroupARN"],
            tags=_tag_map(group.get("Tags")),
        )
        return
    call.authorize(
        "autoscaling:UpdateAutoScalingGroup",
        call.arn("autoscaling", f"autoScalingGroup:*:autoScalingGroupName/{name}"),
    )


def register_scalable_target(call: Call) -> None:
    """RegisterScalableTarget on the existing target's ARN with its tags; for an ECS service,
    Application Auto Scaling also requires ecs:DescribeServices and ecs:UpdateService of the
    caller, on the service."""
    params = call.params
    namespace, dimension = params["ServiceNamespace"], params["ScalableDimension"]
    client = call.client("application-autoscaling")
    found = client.describe_scalable_targets(
        ServiceNamespace=namespace, ResourceIds=[params["ResourceId"]], ScalableDimension=dimension
    ).get("ScalableTargets", [])
    context = {
        "application-autoscaling:service-namespace": namespace,
        "application-autoscaling:scalable-dimension": dimension,
        **request_tags([{"Key": k, "Value": v} for k, v in (params.get("Tags") or {}).items()]),
    }
    if found and found[0].get("ScalableTargetARN"):
        arn = found[0]["ScalableTargetARN"]
        try:
            tags = client.list_tags_for_resource(ResourceARN=arn).get("Tags", {})
        # moto keeps no tags on scalable targets: NotImplementedError in-process, an error from
        # the moto server.
        except (botocore.exceptions.ClientError, NotImplementedError):
            tags = {}
            call.unknown.append("aws:ResourceTag/* of application-autoscaling:scalable-target")
        call.authorize("application-autoscaling:RegisterScalableTarget", arn, context, tags=tags)
    else:
        call.authorize(
            "application-autoscaling:RegisterScalableTarget",
            call.arn("application-autoscaling", "scalable-target/*"),
            context,
        )
    if namespace == "ecs":
        _, cluster, service = params["ResourceId"].split("/", 2)
        arn, tags = _ecs_service(call, cluster, service)
        for action in ("ecs:DescribeServices", "ecs:UpdateService"):
            call.authorize(action, arn, tags=tags, implied_by="RegisterScalableTarget")


def dynamodb_item(action: str) -> Callable[[Call], None]:
    """An item operation on the table, with the partition key value as dynamodb:LeadingKeys."""

    def describe(call: Call) -> None:
        table = call.params["TableName"]
        arn = table if table.startswith("arn:") else call.arn("dynamodb", f"table/{table}")
        key = _partition_key(call, table)
        item = call.params.get("Key") or call.params.get("Item") or {}
        leading = [_attribute_value(item[key])] if key in item else []
        if action == "dynamodb:Query":
            leading = _query_leading_keys(call.params, key)
        call.authorize(action, arn, {"dynamodb:LeadingKeys": leading})

    return describe


def dynamodb_batch_write(call: Call) -> None:
    """BatchWriteItem: per table, every put's and delete's partition key value as
    dynamodb:LeadingKeys (the role's ForAllValues condition must hold for all of them)."""
    for table, requests in call.params["RequestItems"].items():
        arn = table if table.startswith("arn:") else call.arn("dynamodb", f"table/{table}")
        key = _partition_key(call, table)
        leading = sorted(
            {
                _attribute_value(item[key])
                for request in requests
                for item in (
                    request.get("PutRequest", {}).get("Item", {}),
                    request.get("DeleteRequest", {}).get("Key", {}),
                )
                if key in item
            }
        )
        call.authorize("dynamodb:BatchWriteItem", arn, {"dynamodb:LeadingKeys": leading})


def _partition_key(call: Call, table: str) -> str:
    cache_key = (os.environ.get("AWS_ENDPOINT_URL"), table)
    if cache_key not in _partition_keys:
        schema = call.client("dynamodb").describe_table(TableName=table)["Table"]["KeySchema"]
        _partition_keys[cache_key] = next(
            k["AttributeName"] for k in schema if k["KeyType"] == "HASH"
        )
    return _partition_keys[cache_key]


def _attribute_value(value: Mapping[str, Any]) -> str:
    ((_, scalar),) = value.items()
    return str(scalar)


_EQUALS = re.compile(r"(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)")


def _query_leading_keys(params: Mapping[str, Any], key: str) -> list[str]:
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    for name, placeholder in _EQUALS.findall(params.get("KeyConditionExpression", "")):
        if names.get(name, name) == key and placeholder in values:
            return [_attribute_value(values[placeholder])]
    return []


def sns_publish(call: Call) -> None:
    """Publish to the topic; under a KMS key the publisher also needs kms:GenerateDataKey and
    kms:Decrypt on the key, which its key policy must allow too."""
    topic = call.params.get("TopicArn") or call.params.get("TargetArn")
    call.authorize("sns:Publish", topic)
    attributes = call.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    key_id = attributes.get("KmsMasterKeyId")
    if not key_id:
        return
    if key_id.startswith("alias/aws/"):
        return  # the AWS managed key's policy allows every principal of the account
    # The key's ARN from its id (moto's DescribeKey fails on a key CloudFormation made).
    key_arn = key_id if key_id.startswith("arn:") else call.arn("kms", f"key/{key_id}")
    policy = call.client("kms").get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    if isinstance(policy, str):
        policy = json.loads(policy)
    # CloudFormation drops a statement that is `!Ref AWS::NoValue` (the template's !If on
    # HasOrganization); moto's CloudFormation leaves it as null, which IAM would never see.
    if isinstance(policy, dict) and isinstance(policy.get("Statement"), list):
        policy = {**policy, "Statement": [s for s in policy["Statement"] if s is not None]}
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        call.authorize(action, key_arn, resource_policy=policy, implied_by="sns:Publish")


def sqs_send(call: Call) -> None:
    """SendMessage and SendMessageBatch are both authorised as sqs:SendMessage on the queue,
    whose ARN the URL names (`.../<account>/<queue>`; a queue under SSE-SQS needs no KMS)."""
    account, name = call.params["QueueUrl"].rstrip("/").split("/")[-2:]
    call.authorize("sqs:SendMessage", f"arn:aws:sqs:{call.region}:{account}:{name}")


def secret_value(call: Call) -> None:
    secret = call.params["SecretId"]
    try:
        found = call.client("secretsmanager").describe_secret(SecretId=secret)
    except call.client("secretsmanager").exceptions.ResourceNotFoundException:
        # A missing secret: IAM still authorizes the name asked for (AWS answers AccessDenied
        # before ResourceNotFound when the role may not read it).
        arn = (
            secret if secret.startswith("arn:") else call.arn("secretsmanager", f"secret:{secret}")
        )
        call.authorize("secretsmanager:GetSecretValue", arn, {"secretsmanager:SecretId": arn})
        call.unknown.append("the random suffix of a secret that does not exist")
        return
    call.authorize(
        "secretsmanager:GetSecretValue",
        found["ARN"],
        {"secretsmanager:SecretId": found["ARN"]},
        tags=_tag_map(found.get("Tags")),
    )


def ssm_get_parameter(call: Call) -> None:
    """GetParameter names `<name>[:<version or label>]`; IAM authorizes the parameter's ARN,
    `parameter/<name without its leading slash>` (a version selector is not part of it)."""
    bare = call.params["Name"].split(":", 1)[0].lstrip("/")
    call.authorize("ssm:GetParameter", call.arn("ssm", f"parameter/{bare}"))


def _alarm_arn(call: Call, name: str) -> str:
    return call.arn("cloudwatch", f"alarm:{name}")


def _alarm_tags(call: Call, arn: str) -> dict[str, str]:
    found = call.client("cloudwatch").list_tags_for_resource(ResourceARN=arn)
    return _tag_map(found.get("Tags"))


def describe_alarms(call: Call) -> None:
    """DescribeAlarms names alarms or a prefix; a prefix is authorized as the ARN pattern it
    covers (every alarm it can return must be allowed)."""
    names = call.params.get("AlarmNames")
    if names:
        for name in names:
            call.authorize("cloudwatch:DescribeAlarms", _alarm_arn(call, name))
        return
    prefix = call.params.get("AlarmNamePrefix", "")
    call.authorize("cloudwatch:DescribeAlarms", _alarm_arn(call, f"{prefix}*"))


def delete_alarms(call: Call) -> None:
    for name in call.params.get("AlarmNames", []):
        arn = _alarm_arn(call, name)
        call.authorize("cloudwatch:DeleteAlarms", arn, tags=_alarm_tags(call, arn))


def put_metric_alarm(call: Call) -> None:
    params = call.params
    arn = _alarm_arn(call, params["AlarmName"])
    tags = _alarm_tags(call, arn)
    context: dict[str, Any] = {**request_tags(params.get("Tags"))}
    if params.get("AlarmActions"):
        context["cloudwatch:AlarmActions"] = list(params["AlarmActions"])
    call.authorize("cloudwatch:PutMetricAlarm", arn, context, tags=tags)


def sts_assume_role(call: Call) -> None:
    """The hub assumes a spoke role: authorized on the role's ARN (its trust policy, in the
    member account, is spoke.yaml's and is not judged here)."""
    call.authorize("sts:AssumeRole", call.params["RoleArn"])


def ecs_tag_resource(call: Call) -> None:
    """TagResource on a service: its own tags, and the tags the request sets."""
    arn = call.params["resourceArn"]
    tags = call.client("ecs").list_tags_for_resource(resourceArn=arn).get("tags")
    context = request_tags(call.params.get("tags"), "key", "value")
    call.authorize("ecs:TagResource", arn, context, tags=_tag_map(tags, "key", "value"))


def rds_add_tags(call: Call) -> None:
    arn = call.params["ResourceName"]
    tags = call.client("rds").list_tags_for_resource(ResourceName=arn).get("TagList")
    context = request_tags(call.params.get("Tags"))
    call.authorize("rds:AddTagsToResource", arn, context, tags=_tag_map(tags))


def ec2_create_tags(call: Call) -> None:
    context = request_tags(call.params.get("Tags"))
    for resource in call.params.get("Resources", []):
        kind = "instance" if resource.startswith("i-") else "resource"
        arn = call.arn("ec2", f"{kind}/{resource}")
        call.authorize("ec2:CreateTags", arn, context, tags=_ec2_tags(call, resource))


# What AWS also authorizes alongside some operations above (recorded with `implied_by`).
IMPLIED_ACTIONS = frozenset(
    {"iam:PassRole", "ecs:TagResource", "kms:GenerateDataKey", "kms:Decrypt"}
)

OPERATIONS: dict[tuple[str, str], Callable[[Call], None]] = {
    ("ecs", "DescribeServices"): ecs_describe_services,
    ("ecs", "UpdateService"): ecs_update_service,
    ("ecs", "DescribeTasks"): ecs_describe_tasks,
    ("ecs", "ListTasks"): ecs_list_tasks,
    ("ecs", "DescribeTaskDefinition"): ecs_describe_task_definition,
    ("ecs", "RegisterTaskDefinition"): ecs_register_task_definition,
    ("ecs", "ListTaskDefinitions"): wildcard("ecs:ListTaskDefinitions"),
    ("ecs", "TagResource"): ecs_tag_resource,
    ("rds", "AddTagsToResource"): rds_add_tags,
    ("ec2", "CreateTags"): ec2_create_tags,
    ("resourcegroupstaggingapi", "GetResources"): wildcard("tag:GetResources"),
    ("application-autoscaling", "DescribeScalableTargets"): wildcard(
        "application-autoscaling:DescribeScalableTargets"
    ),
    ("application-autoscaling", "RegisterScalableTarget"): register_scalable_target,
    ("autoscaling", "DescribeAutoScalingGroups"): wildcard("autoscaling:DescribeAutoScalingGroups"),
    ("autoscaling", "UpdateAutoScalingGroup"): autoscaling_update_group,
    ("ec2", "DescribeInstances"): wildcard("ec2:DescribeInstances"),
    ("ec2", "DescribeSnapshots"): wildcard("ec2:DescribeSnapshots"),
    ("ec2", "DescribeImages"): wildcard("ec2:DescribeImages"),
    ("ec2", "DescribeLockedSnapshots"): wildcard("ec2:DescribeLockedSnapshots"),
    ("ec2", "StopInstances"): ec2_instances("ec2:StopInstances"),
    ("ec2", "StartInstances"): ec2_instances("ec2:StartInstances"),
    ("ec2", "DeleteSnapshot"): ec2_delete_snapshot,
    ("rds", "DescribeDBInstances"): rds_describe_all("rds:DescribeDBInstances", "db"),
    ("rds", "DescribeDBClusters"): rds_describe_all("rds:DescribeDBClusters", "cluster"),
    ("rds", "DescribeDBSnapshots"): rds_describe_all("rds:DescribeDBSnapshots", "snapshot"),
    ("rds", "DescribeDBClusterSnapshots"): rds_describe_all(
        "rds:DescribeDBClusterSnapshots", "cluster-snapshot"
    ),
    ("rds", "StopDBInstance"): rds_on("rds:StopDBInstance", "db", "DBInstanceIdentifier"),
    ("rds", "StartDBInstance"): rds_on("rds:StartDBInstance", "db", "DBInstanceIdentifier"),
    ("rds", "StopDBCluster"): rds_on("rds:StopDBCluster", "cluster", "DBClusterIdentifier"),
    ("rds", "StartDBCluster"): rds_on("rds:StartDBCluster", "cluster", "DBClusterIdentifier"),
    ("rds", "DeleteDBSnapshot"): rds_on("rds:DeleteDBSnapshot", "snapshot", "DBSnapshotIdentifier"),
    ("rds", "DeleteDBClusterSnapshot"): rds_on(
        "rds:DeleteDBClusterSnapshot", "cluster-snapshot", "DBClusterSnapshotIdentifier"
    ),
    ("dynamodb", "GetItem"): dynamodb_item("dynamodb:GetItem"),
    ("dynamodb", "PutItem"): dynamodb_item("dynamodb:PutItem"),
    ("dynamodb", "UpdateItem"): dynamodb_item("dynamodb:UpdateItem"),
    ("dynamodb", "DeleteItem"): dynamodb_item("dynamodb:DeleteItem"),
    ("dynamodb", "Query"): dynamodb_item("dynamodb:Query"),
    ("dynamodb", "BatchWriteItem"): dynamodb_batch_write,
    ("sns", "Publish"): sns_publish,
    ("sqs", "SendMessage"): sqs_send,
    ("sqs", "SendMessageBatch"): sqs_send,
    ("secretsmanager", "GetSecretValue"): secret_value,
    ("ssm", "GetParameter"): ssm_get_parameter,
    ("cloudwatch", "DescribeAlarms"): describe_alarms,
    ("cloudwatch", "DeleteAlarms"): delete_alarms,
    ("cloudwatch", "PutMetricAlarm"): put_metric_alarm,
    ("cloudwatch", "GetMetricData"): wildcard("cloudwatch:GetMetricData"),
    ("sts", "AssumeRole"): sts_assume_role,
    ("organizations", "ListAccountsForParent"): wildcard("organizations:ListAccountsForParent"),
}
