"""Deploy the built SAM template into moto, the way `sam deploy` would, without Docker or AWS.

1. `sam package` uploads the built artifacts to a bucket in moto and rewrites every CodeUri.
2. aws-sam-translator turns the packaged SAM template into plain CloudFormation, offline.
3. moto's CloudFormation creates the stack from that body (it cannot read it back from S3, which
   is why `sam deploy` itself fails at CreateChangeSet).
4. What moto skips is created from the template by `localcloud.emulated`; moto's own SQS pollers
   are switched off, because the router plays Lambda's poller (moto's would need Docker).

The stack's state (fingerprint of the build, translated template, emulated resources) is kept in
moto's S3 next to the artifacts, so it lives exactly as long as the moto server does.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from samtranslator.yaml_helper import yaml_parse

from localcloud.emulated import EMULATORS, EmulatedResource, Emulation
from localcloud.errors import LocalCloudError, TemplateError
from localcloud.intrinsics import Resolver, parameter_values, pseudo_parameters
from localcloud.project import Project
from localcloud.server import Endpoint

logger = logging.getLogger(__name__)

DEFAULT_STACK_NAME = "nightshift-local"
ARTIFACT_BUCKET = "localcloud-artifacts"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_STATE_KEY = "{stack}/localcloud-state.json"
_STATE_VERSION = 1
# Properties of a built template that point at local files `sam package` uploads.
_ARTIFACT_PROPERTIES = ("CodeUri", "ContentUri", "DefinitionUri", "Code", "Content")


@dataclass(frozen=True)
class Stack:
    """A deployed stack in moto: the translated template, and what each logical id became."""

    name: str
    endpoint: Endpoint
    project: Project
    template: Mapping[str, Any]
    parameters: Mapping[str, Any]
    resources: Mapping[str, str]
    emulated: Mapping[str, EmulatedResource]
    skipped: Mapping[str, str]
    outputs: Mapping[str, str]
    account_id: str
    fingerprint: str = ""
    deploy_seconds: float = field(default=0.0, compare=False)

    # ----------------------------------------------------------------------- lookups
    def resource(self, logical_id: str) -> Mapping[str, Any]:
        """The translated template's resource `logical_id`."""
        resources = self.template["Resources"]
        if logical_id not in resources:
            raise LocalCloudError(
                f"stack {self.name} has no resource {logical_id!r}; "
                f"it has: {', '.join(sorted(resources))}"
            )
        return dict(resources[logical_id])

    def physical_id(self, logical_id: str) -> str:
        """What `Ref` returns for the resource: its name, ARN or URL, as CloudFormation says."""
        if logical_id in self.resources:
            return self.resources[logical_id]
        if logical_id in self.emulated:
            return self.emulated[logical_id].physical_id
        self.resource(logical_id)  # an unknown id raises with the list of known ones
        reason = self.skipped.get(logical_id, "it has no physical id in moto")
        raise LocalCloudError(f"{logical_id} was not created: {reason}")

    def resources_of_type(self, kind: str) -> dict[str, Mapping[str, Any]]:
        """Logical id -> template resource, for every resource of type `kind` that exists."""
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == kind and logical_id not in self.skipped
        }

    def function_logical_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self.resources_of_type("AWS::Lambda::Function")))

    def function_name(self, logical_id: str) -> str:
        """The deployed name of the function `logical_id` (a SAM id like NotifierFunction)."""
        if logical_id not in self.function_logical_ids():
            raise LocalCloudError(
                f"stack {self.name} has no function {logical_id!r}; its functions: "
                f"{', '.join(self.function_logical_ids())}"
            )
        return self.physical_id(logical_id)

    def function_for(self, name_or_arn: str) -> str:
        """The logical id of the function with this name or (possibly qualified) ARN."""
        name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
        for logical_id in self.function_logical_ids():
            if self.resources[logical_id] == name:
                return logical_id
        raise LocalCloudError(f"{name_or_arn} is not a function of stack {self.name}")

    def resolver(self) -> Resolver:
        """Resolves the template's intrinsic functions against this deployed stack."""
        return Resolver(
            parameters=self.parameters,
            ref=self.physical_id,
            get_att=self.attribute,
            conditions=self.template.get("Conditions", {}),
            mappings=self.template.get("Mappings", {}),
        )

    def attribute(self, logical_id: str, name: str) -> Any:
        """`Fn::GetAtt` of a deployed resource."""
        if logical_id in self.emulated:
            attributes = self.emulated[logical_id].attributes
            if name in attributes:
                return attributes[name]
        kind = self.resource(logical_id)["Type"]
        reader = _ATTRIBUTES.get((kind, name))
        if reader is None:
            raise TemplateError(
                f"Fn::GetAtt {logical_id}.{name} ({kind}) is not known to the local cloud; "
                "add it to localcloud.stack._ATTRIBUTES"
            )
        physical_id = self.physical_id(logical_id)
        # A physical id names one resource for its whole life, so its attributes never change.
        key = (self.endpoint.url, kind, name, physical_id)
        if key not in _ATTRIBUTE_CACHE:
            _ATTRIBUTE_CACHE[key] = reader(self, physical_id)
        return _ATTRIBUTE_CACHE[key]

    def queue_arn(self, queue_url: str) -> str:
        attributes = self.endpoint.client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )
        return str(attributes["Attributes"]["QueueArn"])

    def queue_url(self, queue_arn: str) -> str:
        name, account = queue_arn.rsplit(":", 1)[-1], queue_arn.split(":")[4]
        reply = self.endpoint.client("sqs").get_queue_url(
            QueueName=name, QueueOwnerAWSAccountId=account
        )
        return str(reply["QueueUrl"])

    # ------------------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        return {
            "version": _STATE_VERSION,
            "name": self.name,
            "fingerprint": self.fingerprint,
            "build_dir": str(self.project.build_dir),
            "template": self.template,
            "parameters": self.parameters,
            "resources": self.resources,
            "emulated": [resource.to_json() for resource in self.emulated.values()],
            "skipped": self.skipped,
            "outputs": self.outputs,
            "account_id": self.account_id,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], endpoint: Endpoint, project: Project) -> Stack:
        emulated = (EmulatedResource.from_json(item) for item in state["emulated"])
        return cls(
            name=state["name"],
            endpoint=endpoint,
            project=project,
            template=state["template"],
            parameters=state["parameters"],
            resources=state["resources"],
            emulated={resource.logical_id: resource for resource in emulated},
            skipped=state["skipped"],
            outputs=state["outputs"],
            account_id=state["account_id"],
            fingerprint=state["fingerprint"],
        )


def _function_arn(stack: Stack, name: str) -> str:
    reply = stack.endpoint.client("lambda").get_function_configuration(FunctionName=name)
    return str(reply["FunctionArn"])


def _arn(service: str, resource: str) -> Any:
    return lambda stack, physical: (
        f"arn:aws:{service}:{stack.endpoint.region}:{stack.account_id}:{resource}{physical}"
    )


_ATTRIBUTE_CACHE: dict[tuple[str, str, str, str], Any] = {}

# Fn::GetAtt readers for what moto creates: (type, attribute) -> reader(stack, physical id).
_ATTRIBUTES: dict[tuple[str, str], Any] = {
    ("AWS::SQS::Queue", "Arn"): lambda s, p: s.queue_arn(p),
    ("AWS::SQS::Queue", "QueueName"): lambda _, p: p.rsplit("/", 1)[-1],
    ("AWS::SQS::Queue", "QueueUrl"): lambda _, p: p,
    ("AWS::SNS::Topic", "TopicArn"): lambda _, p: p,
    ("AWS::SNS::Topic", "TopicName"): lambda _, p: p.rsplit(":", 1)[-1],
    ("AWS::Lambda::Function", "Arn"): _function_arn,
    ("AWS::IAM::Role", "Arn"): lambda s, p: s.endpoint.client("iam").get_role(RoleName=p)["Role"][
        "Arn"
    ],
    ("AWS::IAM::Role", "RoleId"): lambda s, p: s.endpoint.client("iam").get_role(RoleName=p)[
        "Role"
    ]["RoleId"],
    ("AWS::DynamoDB::Table", "Arn"): lambda s, p: s.endpoint.client("dynamodb").describe_table(
        TableName=p
    )["Table"]["TableArn"],
    ("AWS::DynamoDB::Table", "StreamArn"): lambda s, p: s.endpoint.client(
        "dynamodb"
    ).describe_table(TableName=p)["Table"]["LatestStreamArn"],
    ("AWS::KMS::Key", "Arn"): lambda s, p: s.endpoint.client("kms").describe_key(KeyId=p)[
        "KeyMetadata"
    ]["Arn"],
    ("AWS::KMS::Key", "KeyId"): lambda _, p: p,
    ("AWS::Events::Rule", "Arn"): lambda s, p: s.endpoint.client("events").describe_rule(Name=p)[
        "Arn"
    ],
    ("AWS::Logs::LogGroup", "Arn"): _arn("logs", "log-group:"),
    ("AWS::S3::Bucket", "Arn"): lambda _, p: f"arn:aws:s3:::{p}",
    ("AWS::ECR::Repository", "Arn"): _arn("ecr", "repository/"),
}


# ---------------------------------------------------------------------------------- deploying
def ensure_stack(
    endpoint: Endpoint,
    project: Project | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
    parameters: Mapping[str, str] | None = None,
) -> Stack:
    """The stack deployed from the current build: reused if it is already there, else deployed.

    A changed build (or other parameters) replaces the stack, so the code that runs is always
    the code `sam build` produced last.
    """
    project = project or Project.at()
    given = unique_environment(endpoint, project, stack_name, dict(parameters or {}))
    build = build_fingerprint(project)
    fingerprint = hashlib.sha256(
        json.dumps([build, stack_name, sorted(given.items())]).encode()
    ).hexdigest()
    with _deploy_lock(project, endpoint, stack_name):
        state = _read_state(endpoint, stack_name)
        exists = _stack_status(endpoint, stack_name) is not None
        if state and exists and state.get("fingerprint") == fingerprint:
            return Stack.from_state(state, endpoint, project)
        if exists:
            logger.info("replacing stack %s: the build or its parameters changed", stack_name)
            remove_stack(endpoint, stack_name)
        return deploy(endpoint, project, stack_name, given, fingerprint)


def unique_environment(
    endpoint: Endpoint, project: Project, stack_name: str, given: dict[str, str]
) -> dict[str, str]:
    """`given`, with an Environment no other Nightshift stack in this server uses.

    Environment names the ops topic, the alarms and the schedules: two stacks with one
    Environment would share them, and deleting one would delete the other's. A stack given no
    Environment whose template default is taken gets one from its own name (`nightshift-b` ->
    `b`); one given a taken Environment is refused.
    """
    declared = yaml_parse(project.require_build().read_text(encoding="utf-8")).get("Parameters", {})
    if "Environment" not in declared:
        return given
    wanted = given.get("Environment", str(declared["Environment"].get("Default", "")))
    taken = {
        environment: name
        for name, environment in _nightshift_environments(endpoint).items()
        if name != stack_name
    }
    if wanted not in taken:
        return given
    if "Environment" in given:
        raise LocalCloudError(
            f"Environment={wanted} is already used by stack {taken[wanted]} in this local cloud "
            "(its topic, alarms and schedules would be shared): choose another Environment"
        )
    base = re.sub(r"[^a-z0-9-]+", "-", stack_name.lower().removeprefix("nightshift-")).strip("-")
    base = (base if base[:1].isalpha() else f"s-{base}")[:18] or "local"
    chosen, number = base, 2
    while chosen in taken or len(chosen) < 2:
        chosen, number = f"{base}-{number}", number + 1
    logger.warning(
        "stack %s: Environment=%s (%s is used by stack %s here)",
        stack_name,
        chosen,
        wanted,
        taken[wanted],
    )
    return {**given, "Environment": chosen}


def _nightshift_environments(endpoint: Endpoint) -> dict[str, str]:
    """Stack name -> Environment of every live Nightshift stack (those with a PolicyFile)."""
    found: dict[str, str] = {}
    paginator = endpoint.client("cloudformation").get_paginator("describe_stacks")
    for page in paginator.paginate():
        for stack in page["Stacks"]:
            if stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            values = {
                p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])
            }
            if "PolicyFile" in values and "Environment" in values:
                found[stack["StackName"]] = values["Environment"]
    return found


def deploy(
    endpoint: Endpoint,
    project: Project,
    stack_name: str,
    parameters: Mapping[str, str],
    fingerprint: str = "",
) -> Stack:
    """Package, translate and create the stack in moto; then emulate what moto skips."""
    started = time.monotonic()
    built = project.require_build()
    ensure_bucket(endpoint, ARTIFACT_BUCKET)
    packaged = _package(endpoint, project, built, stack_name, build_fingerprint(project))
    template = translate(packaged.read_text(encoding="utf-8"), parameters, endpoint.region)
    cloudformation = endpoint.client("cloudformation")
    # moto fails a stack whose output reads an attribute of a resource it skips; those outputs
    # are left out (the emulated resource carries the attribute: Stack.attribute).
    created_template = _without_skipped_outputs(template)
    try:
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(created_template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=CAPABILITIES,
        )
    except ClientError as exc:
        raise LocalCloudError(f"moto could not create stack {stack_name}: {exc}") from exc
    described = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if described["StackStatus"] != "CREATE_COMPLETE":
        raise LocalCloudError(
            f"stack {stack_name} ended in {described['StackStatus']}: "
            f"{described.get('StackStatusReason', 'no reason given')}"
        )
    account_id = endpoint.client("sts").get_caller_identity()["Account"]
    values = {
        **parameter_values(template.get("Parameters", {}), parameters),
        **pseudo_parameters(stack_name, described["StackId"], endpoint.region, account_id),
    }
    created = _created_resources(endpoint, stack_name)
    stack = Stack(
        name=stack_name,
        endpoint=endpoint,
        project=project,
        template=template,
        parameters=values,
        resources=created,
        emulated={},
        skipped={},
        outputs={o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        account_id=account_id,
        fingerprint=fingerprint,
    )
    stack = _emulate_skipped(stack)
    _switch_off_moto_pollers(stack)
    stack = replace(stack, deploy_seconds=time.monotonic() - started)
    _write_state(stack)
    logger.info("deployed stack %s in %.1fs", stack_name, stack.deploy_seconds)
    return stack


# Types moto's CloudFormation skips whose attributes an output may read.
_OUTPUT_BREAKING_TYPES = frozenset({"AWS::Lambda::Url"})


def _without_skipped_outputs(template: Mapping[str, Any]) -> dict[str, Any]:
    resources = template.get("Resources", {})
    skipped = {
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") in _OUTPUT_BREAKING_TYPES
    }
    outputs = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if not any(f'"{logical_id}"' in json.dumps(output) for logical_id in skipped)
    }
    # A resource's property that reads a skipped resource's attribute fails the stack as well:
    # moto gets an empty value instead (the notifier's NIGHTSHIFT_ACTIONS_URL: no actions offered
    # in the local cloud's deployment).
    created = _without_skipped_attributes(dict(resources), skipped)
    made = {**template, "Resources": created}
    return {**made, "Outputs": outputs} if "Outputs" in template else made


def _without_skipped_attributes(value: Any, skipped: set[str]) -> Any:
    if isinstance(value, dict):
        if list(value) == ["Fn::GetAtt"] and list(value["Fn::GetAtt"])[:1] in (
            [logical_id] for logical_id in skipped
        ):
            return ""
        return {key: _without_skipped_attributes(item, skipped) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_skipped_attributes(item, skipped) for item in value]
    return value


def remove_stack(endpoint: Endpoint, stack_name: str) -> None:
    """Delete the stack and what the local cloud created for it."""
    state = _read_state(endpoint, stack_name)
    for item in (state or {}).get("emulated", []):
        remover = _REMOVERS.get(item["type"])
        if remover is not None:
            with contextlib.suppress(ClientError):
                remover(endpoint, item)
    with contextlib.suppress(ClientError):
        endpoint.client("cloudformation").delete_stack(StackName=stack_name)
    with contextlib.suppress(ClientError):
        endpoint.client("s3").delete_object(
            Bucket=ARTIFACT_BUCKET, Key=_STATE_KEY.format(stack=stack_name)
        )


_REMOVERS: dict[str, Any] = {
    "AWS::SNS::Subscription": lambda e, r: (
        r["properties"].get("Protocol") != "lambda"
        and e.client("sns").unsubscribe(SubscriptionArn=r["physical_id"])
    ),
    "AWS::CloudWatch::Alarm": lambda e, r: e.client("cloudwatch").delete_alarms(
        AlarmNames=[r["physical_id"]]
    ),
    "AWS::Scheduler::Schedule": lambda e, r: e.client("scheduler").delete_schedule(
        Name=r["physical_id"], GroupName=r["properties"].get("GroupName", "default")
    ),
    "AWS::Scheduler::ScheduleGroup": lambda e, r: e.client("scheduler").delete_schedule_group(
        Name=r["physical_id"]
    ),
    "AWS::Lambda::EventInvokeConfig": lambda e, r: e.client(
        "lambda"
    ).delete_function_event_invoke_config(
        FunctionName=r["properties"]["FunctionName"],
        Qualifier=r["properties"].get("Qualifier", "$LATEST"),
    ),
}


def translate(packaged_template: str, parameters: Mapping[str, str], region: str) -> dict[str, Any]:
    """SAM -> CloudFormation, offline: the translator needs a region and a managed-policy map,
    which is empty here (moto does not check policies)."""
    # Imported here: the translator is slow to import and only needed when deploying.
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    document = yaml_parse(packaged_template)
    values: dict[str, Any] = dict(parameters)
    to_py27_compatible_template(document, values)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        translated = translator.translate(
            document, parameter_values=values, get_managed_policy_map=dict
        )
    except InvalidDocumentException as exc:
        problems = "; ".join(getattr(cause, "message", str(cause)) for cause in exc.causes)
        raise TemplateError(f"the SAM translator rejected the template: {problems}") from exc
    translator.metrics.publish()  # to its dummy publisher; else it warns when collected
    return dict(undo_mark_unicode_str_in_template(translated))


def build_fingerprint(project: Project) -> str:
    """Changes whenever the built template or a file or folder it points at changes."""
    built = project.require_build()
    digest = hashlib.sha256()
    digest.update(built.read_bytes())
    for root in sorted(_artifact_paths(built)):
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if "__pycache__" in path.parts:
                continue
            info = path.stat()
            digest.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _artifact_paths(built_template: Path) -> set[Path]:
    """Local files and folders the template's CodeUri/ContentUri/... name (Globals included)."""
    found: set[Path] = set()
    pending: list[Any] = [yaml_parse(built_template.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _ARTIFACT_PROPERTIES and isinstance(value, str):
                    if not value.startswith("s3://"):
                        found.add((built_template.parent / value).resolve())
                else:
                    pending.append(value)
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _package(
    endpoint: Endpoint, project: Project, built: Path, stack_name: str, build: str
) -> Path:
    """The packaged template, its artifacts in moto's S3.

    `sam package` runs once per build: its output (template and the zips it uploaded) is kept
    in `.localcloud/packages/<stack>/<build>/`, and a later deployment of the same build into
    another moto server uploads those same bytes instead of packaging again.
    """
    cache = project.state_dir / "packages" / stack_name
    kept = cache / build[:24]
    if not _restore_package(endpoint, kept):
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".packaging-", dir=cache))
        _sam_package(endpoint, project, built, stack_name, staging / "packaged.yaml")
        for key in _packaged_keys(staging / "packaged.yaml"):
            body = endpoint.client("s3").get_object(Bucket=ARTIFACT_BUCKET, Key=key)["Body"]
            (staging / _object_file(key)).write_bytes(body.read())
        shutil.rmtree(kept, ignore_errors=True)
        staging.rename(kept)
        _prune(cache, keep=kept)
    return kept / "packaged.yaml"


def _restore_package(endpoint: Endpoint, kept: Path) -> bool:
    packaged = kept / "packaged.yaml"
    if not packaged.is_file():
        return False
    keys = _packaged_keys(packaged)
    if not all((kept / _object_file(key)).is_file() for key in keys):
        return False
    s3 = endpoint.client("s3")
    for key in keys:
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=(kept / _object_file(key)).read_bytes())
    return True


def _packaged_keys(packaged: Path) -> list[str]:
    """The S3 keys in our bucket that a packaged template points at."""
    prefix = f"s3://{ARTIFACT_BUCKET}/"
    keys: dict[str, None] = {}
    pending: list[Any] = [yaml_parse(packaged.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, str) and node.startswith(prefix):
            keys[node.removeprefix(prefix)] = None
    return list(keys)


def _object_file(key: str) -> str:
    return key.replace("/", "__") + ".zip"


def _prune(cache: Path, keep: Path, kept_builds: int = 3) -> None:
    """Keep the packages of the last few builds only (each holds the layer zips)."""
    builds = sorted(
        (p for p in cache.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[kept_builds:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def _sam_package(
    endpoint: Endpoint, project: Project, built: Path, stack_name: str, packaged: Path
) -> None:
    command = [
        _sam_executable(),
        "package",
        "--template-file",
        str(built),
        "--s3-bucket",
        ARTIFACT_BUCKET,
        "--s3-prefix",
        stack_name,
        "--output-template-file",
        str(packaged),
        "--region",
        endpoint.region,
    ]
    done = subprocess.run(
        command,
        cwd=project.root,
        env=isolated_environ(endpoint),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise LocalCloudError(f"sam package failed:\n{done.stdout}{done.stderr}")


def isolated_environ(endpoint: Endpoint) -> dict[str, str]:
    """The environment for tools we run against moto: never a real profile or credentials."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") or key in {"AWS_CA_BUNDLE"}
    }
    return {
        **environ,
        **endpoint.environ(),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SAM_CLI_TELEMETRY": "0",
    }


def _sam_executable() -> str:
    beside = Path(sys.executable).with_name("sam")
    found = str(beside) if beside.exists() else shutil.which("sam")
    if not found:
        raise LocalCloudError("the `sam` command was not found: run `make venv`")
    return found


def ensure_bucket(endpoint: Endpoint, bucket: str) -> None:
    """Create `bucket` in the endpoint's region unless it exists."""
    s3 = endpoint.client("s3")
    options = (
        {}
        if endpoint.region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": endpoint.region}}
    )
    try:
        s3.create_bucket(Bucket=bucket, **options)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            raise


def _created_resources(endpoint: Endpoint, stack_name: str) -> dict[str, str]:
    """Logical id -> physical id of what moto created (it lists what it skipped without ids)."""
    paginator = endpoint.client("cloudformation").get_paginator("list_stack_resources")
    created: dict[str, str] = {}
    for page in paginator.paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            if summary.get("LogicalResourceId"):
                created[summary["LogicalResourceId"]] = summary.get("PhysicalResourceId", "")
    return created


def _emulate_skipped(stack: Stack) -> Stack:
    resolver = stack.resolver()
    emulation = Emulation(stack.endpoint, stack.name)
    skipped: dict[str, str] = {}
    pending: dict[str, list[str]] = {kind: [] for kind in EMULATORS}
    for logical_id, resource in stack.template["Resources"].items():
        if logical_id in stack.resources:
            continue
        condition = resource.get("Condition")
        if condition and not resolver.condition(condition):
            skipped[logical_id] = f"condition {condition} is false"
        elif resource["Type"] in pending:
            pending[resource["Type"]].append(logical_id)
        else:
            skipped[logical_id] = (
                f"moto's CloudFormation does not create {resource['Type']} "
                "and the local cloud does not emulate it"
            )
    emulated: dict[str, EmulatedResource] = {}
    for kind, logical_ids in pending.items():
        for logical_id in logical_ids:
            current = replace(stack, emulated=emulated, skipped=skipped)
            properties = current.resolver().resolve(
                stack.resource(logical_id).get("Properties", {})
            )
            try:
                emulated[logical_id] = EMULATORS[kind](emulation, logical_id, properties)
            except ClientError as exc:
                # One resource moto refuses should not take the whole local cloud down; it is
                # reported (and logged as a warning) instead.
                skipped[logical_id] = f"moto refused to create it: {exc}"
                logger.warning("could not emulate %s (%s): %s", logical_id, kind, exc)
    for logical_id, reason in skipped.items():
        logger.info("not created: %s (%s)", logical_id, reason)
    return replace(stack, emulated=emulated, skipped=skipped)


def _switch_off_moto_pollers(stack: Stack) -> None:
    """moto would run SQS-triggered functions itself, in Docker, on every SendMessage; the
    router polls instead, so moto's copies of the event source mappings are disabled."""
    client = stack.endpoint.client("lambda")
    for logical_id in stack.resources_of_type("AWS::Lambda::EventSourceMapping"):
        client.update_event_source_mapping(UUID=stack.physical_id(logical_id), Enabled=False)


def _stack_status(endpoint: Endpoint, stack_name: str) -> str | None:
    try:
        stacks = endpoint.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError:
        return None
    status = stacks[0]["StackStatus"] if stacks else None
    return None if status in {None, "DELETE_COMPLETE"} else status


def _read_state(endpoint: Endpoint, stack_name: str) -> dict[str, Any] | None:
    try:
        body = endpoint.client("s3").get_object(
            Bucket=ARTIFACT_BUCKET, Key=_STATE_KEY.format(stack=stack_name)
        )["Body"]
    except ClientError:
        return None
    state: dict[str, Any] = json.loads(body.read())
    return state if state.get("version") == _STATE_VERSION else None


def _write_state(stack: Stack) -> None:
    stack.endpoint.client("s3").put_object(
        Bucket=ARTIFACT_BUCKET,
        Key=_STATE_KEY.format(stack=stack.name),
        Body=json.dumps(stack.to_state()).encode(),
        ContentType="application/json",
    )


@contextlib.contextmanager
def _deploy_lock(project: Project, endpoint: Endpoint, stack_name: str) -> Iterator[None]:
    """One deployment of a stack into one moto server at a time (tests and CLI may race)."""
    locks = project.state_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(f"{endpoint.url}/{stack_name}".encode()).hexdigest()[:16]
    with (locks / f"stack-{key}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
