"""The example app (`examples/core-stack.yaml`, "todoapp") deployed into the local cloud's moto.

Nightshift runs beside a core stack; in the local cloud that stack is the example app, in the
same moto server as the Nightshift stack, so the built functions find it as they would in AWS.

    app = deploy_example_app(stack.endpoint,
                             parameters={"NightshiftOpsTopicArn": stack.outputs["OpsTopicArn"]})
    digest, event = app.push_image("main-4f1c2e7")   # ecr.put_image in moto
    router.put_event(event)                          # -> the template's rule -> redeploy

`deploy_example_app` creates the stack with moto's CloudFormation, after creating the database
secret moto needs (it cannot resolve the RDS-managed one, docs/core-stack.md), then applies from
the template's own properties, resolved against the created stack, what moto leaves out:

- resources moto does not create (App Auto Scaling target and policy, CloudWatch alarm, budget),
  through their service APIs (`APPLIERS`);
- properties moto ignores and Nightshift relies on (`PROPERTY_APPLIERS`): the task definition's
  Fargate settings and tags (moto's partial revision is replaced by the template's full one,
  which a redeploy must copy losslessly), the ECS service's tags (how Nightshift finds it) and
  deployment configuration (the circuit breaker).

The handles it returns (`ExampleApp`) are read from the deployed stack and the service APIs,
never from what the template says. Deploying again into the same server with the same parameters
returns the deployed app as it was recorded (nothing is applied again, so a parked service stays
parked); other parameters are refused, since the app's names are fixed (one per account and
region). The record lives in moto's S3, so it lasts exactly as long as the server.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import logging
import tarfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from samtranslator.yaml_helper import yaml_parse

from localcloud.errors import LocalCloudError, TemplateError
from localcloud.intrinsics import Resolver, parameter_values, pseudo_parameters
from localcloud.project import Project
from localcloud.server import Endpoint
from localcloud.stack import ARTIFACT_BUCKET, ensure_bucket

logger = logging.getLogger(__name__)

DEFAULT_EXAMPLE_STACK = "todoapp-core"  # the stack name docs/core-stack.md deploys
EXAMPLE_TEMPLATE = Project.at().root / "examples" / "core-stack.yaml"
_STATE_KEY = "{stack}/example-app-state.json"
_STATE_VERSION = 1
_DATABASE_SECRET_PARAMETER = "DatabaseSecretArn"

# What `docker push` of an OCI image sends; ECR names these in its image action events.
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ECR_SOURCE = "aws.ecr"
ECR_DETAIL_TYPE = "ECR Image Action"


# ---------------------------------------------------------------------------- the app's handles
@dataclass(frozen=True)
class ExampleApp:
    """The example app as deployed in moto: names and ARNs to reach it, and how to push to it.

    `resources` maps the template's logical ids to what moto created, `applied` to what the local
    cloud created in moto's place (it wins over `resources`: the task definition), `skipped`
    says why the others do not exist (a false condition).
    """

    endpoint: Endpoint = field(compare=False)
    stack_name: str
    stack_id: str
    account_id: str
    parameters: Mapping[str, str]
    outputs: Mapping[str, str]
    resources: Mapping[str, str]
    applied: Mapping[str, str]
    skipped: Mapping[str, str]
    cluster_name: str
    cluster_arn: str
    service_name: str
    service_arn: str
    task_definition_arn: str
    repository_name: str
    repository_uri: str
    repository_arn: str
    db_instance_id: str
    db_instance_arn: str
    database_secret_arn: str

    @property
    def region(self) -> str:
        return self.endpoint.region

    def describe_service(self) -> dict[str, Any]:
        """The service as ECS describes it now (tags included): its task definition moves with
        every redeploy, its desired count with every stop and start."""
        (service,) = self.endpoint.client("ecs").describe_services(
            cluster=self.cluster_arn, services=[self.service_arn], include=["TAGS"]
        )["services"]
        return dict(service)

    def production_twin(self, name: str, desired: int) -> str:
        """A production service on the backend's image in the app's cluster, in a task definition
        family of its own (`name`), following release tags with approval required
        (`nightshift:redeploy=release`, `nightshift:approval=required`); its ARN."""
        ecs = self.endpoint.client("ecs")
        source = ecs.describe_task_definition(
            taskDefinition=self.describe_service()["taskDefinition"]
        )
        definition = source["taskDefinition"]
        ecs.register_task_definition(
            family=name,
            containerDefinitions=definition["containerDefinitions"],
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu=definition.get("cpu", "256"),
            memory=definition.get("memory", "512"),
        )
        made = ecs.create_service(
            cluster=self.cluster_name,
            serviceName=name,
            taskDefinition=name,
            desiredCount=desired,
            launchType="FARGATE",
            tags=[
                {"key": "Environment", "value": "production"},
                {"key": "nightshift:redeploy", "value": "release"},
                {"key": "nightshift:approval", "value": "required"},
            ],
        )
        return str(made["service"]["serviceArn"])

    def push_image(
        self, tag: str | None, *, at: dt.datetime | None = None, content: bytes | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Push a new image to the app's repository, as `docker push` does (the blobs through
        ECR's layer upload API, then PutImage with the manifest), and return its digest and the
        `ECR Image Action` PUSH event EventBridge would deliver for it.

        `tag=None` pushes by digest only (the event then has no `image-tag`). `content` is the
        image's application layer; by default every push is a new build, hence a new digest
        (the same `content` at the same `at` is the same image: a second tag on it).
        `at` sets the image's creation and the event's time (a simulated clock); by default the
        event's time is ECR's `imagePushedAt`.

        >>> digest, event = app.push_image("main-4f1c2e7")  # doctest: +SKIP
        >>> event["detail"]["image-digest"] == digest        # doctest: +SKIP
        True
        """
        ecr = self.endpoint.client("ecr")
        created = at or dt.datetime.now(dt.UTC)
        build = build_image(content or uuid.uuid4().bytes, created=created)
        self._upload_blobs(build.blobs)
        request: dict[str, Any] = {
            "repositoryName": self.repository_name,
            "imageManifest": build.manifest,
            "imageManifestMediaType": OCI_MANIFEST,
            "imageDigest": build.digest,
        }
        if tag is not None:
            request["imageTag"] = tag
        image = ecr.put_image(**request)["image"]
        digest = str(image["imageId"]["imageDigest"])
        event = image_action_event(
            event_id=str(uuid.uuid4()),
            time=at or self._pushed_at(digest),
            account=str(image["registryId"]),
            region=self.region,
            repository=self.repository_name,
            digest=digest,
            tag=tag,
            action="PUSH",
            **_media_types(image["imageManifest"]),
        )
        logger.info("pushed %s:%s as %s", self.repository_name, tag or "<no tag>", digest)
        return digest, event

    def delete_image(self, tag: str, *, at: dt.datetime | None = None) -> dict[str, Any]:
        """Delete the image `tag` names (ecr.batch_delete_image) and return the `ECR Image
        Action` DELETE event EventBridge would deliver for it."""
        ecr = self.endpoint.client("ecr")
        image_id = {"imageTag": tag}
        (image,) = ecr.batch_get_image(repositoryName=self.repository_name, imageIds=[image_id])[
            "images"
        ]
        ecr.batch_delete_image(repositoryName=self.repository_name, imageIds=[image_id])
        return image_action_event(
            event_id=str(uuid.uuid4()),
            time=at or dt.datetime.now(dt.UTC),
            account=str(image["registryId"]),
            region=self.region,
            repository=self.repository_name,
            digest=str(image["imageId"]["imageDigest"]),
            tag=tag,
            action="DELETE",
            **_media_types(image["imageManifest"]),
        )

    def _upload_blobs(self, blobs: tuple[bytes, ...]) -> None:
        """Upload the blobs ECR does not have yet (what `docker push` checks first)."""
        ecr = self.endpoint.client("ecr")
        by_digest = {sha256_digest(blob): blob for blob in blobs}
        missing = ecr.batch_check_layer_availability(
            repositoryName=self.repository_name, layerDigests=list(by_digest)
        )["failures"]
        for failure in missing:
            blob = by_digest[failure["layerDigest"]]
            upload = ecr.initiate_layer_upload(repositoryName=self.repository_name)["uploadId"]
            ecr.upload_layer_part(
                repositoryName=self.repository_name,
                uploadId=upload,
                partFirstByte=0,
                partLastByte=len(blob) - 1,
                layerPartBlob=blob,
            )
            ecr.complete_layer_upload(
                repositoryName=self.repository_name,
                uploadId=upload,
                layerDigests=[failure["layerDigest"]],
            )

    def _pushed_at(self, digest: str) -> dt.datetime:
        (detail,) = self.endpoint.client("ecr").describe_images(
            repositoryName=self.repository_name, imageIds=[{"imageDigest": digest}]
        )["imageDetails"]
        pushed: dt.datetime = detail["imagePushedAt"]
        return pushed.astimezone(dt.UTC)

    # ----------------------------------------------------------------------------- state
    def to_state(self, fingerprint: str) -> dict[str, Any]:
        state = {key: value for key, value in asdict(self).items() if key != "endpoint"}
        return {"version": _STATE_VERSION, "fingerprint": fingerprint, **state}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], endpoint: Endpoint) -> ExampleApp:
        fields = {k: v for k, v in state.items() if k not in {"version", "fingerprint"}}
        return cls(endpoint=endpoint, **fields)


# ------------------------------------------------------------------------ images and events
@dataclass(frozen=True)
class ImageBuild:
    """An OCI image as a registry receives it: a config blob, one layer, and the manifest."""

    config: bytes
    layer: bytes
    manifest: str

    @property
    def digest(self) -> str:
        """The image digest: sha256 of the manifest's bytes, as ECR computes it."""
        return sha256_digest(self.manifest.encode())

    @property
    def blobs(self) -> tuple[bytes, ...]:
        return (self.config, self.layer)


def sha256_digest(data: bytes) -> str:
    """>>> sha256_digest(b"")
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def build_image(content: bytes, *, created: dt.datetime) -> ImageBuild:
    """A linux/amd64 OCI image whose one layer holds `content` as `/app/BUILD`: a gzipped tar,
    a config naming the layer's uncompressed digest, a manifest naming both. Pure: the same
    arguments give the same digest.

    >>> when = dt.datetime(2026, 11, 20, 9, 12, 45, tzinfo=dt.UTC)
    >>> build_image(b"x", created=when).digest == build_image(b"x", created=when).digest
    True
    >>> json.loads(build_image(b"x", created=when).manifest)["mediaType"]
    'application/vnd.oci.image.manifest.v1+json'
    """
    created_text = created.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w", format=tarfile.PAX_FORMAT) as tar:
        member = tarfile.TarInfo("app/BUILD")
        member.size, member.mtime, member.mode = len(content), int(created.timestamp()), 0o644
        tar.addfile(member, io.BytesIO(content))
    layer_tar = archive.getvalue()
    layer = gzip.compress(layer_tar, mtime=0)
    # No tag in the image: a tag names an image in a repository, it is not part of it.
    labels = {"org.opencontainers.image.created": created_text}
    config = json.dumps(
        {
            "created": created_text,
            "architecture": "amd64",
            "os": "linux",
            "config": {"WorkingDir": "/app", "Labels": labels},
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(layer_tar)]},
            "history": [{"created": created_text, "created_by": "COPY BUILD /app/BUILD"}],
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": sha256_digest(layer), "size": len(layer)}],
    }
    return ImageBuild(config, layer, json.dumps(manifest, indent=2))


def image_action_event(
    *,
    event_id: str,
    time: dt.datetime,
    account: str,
    region: str,
    repository: str,
    digest: str,
    tag: str | None,
    action: str,
    result: str = "SUCCESS",
    manifest_media_type: str = OCI_MANIFEST,
    artifact_media_type: str = OCI_CONFIG,
) -> dict[str, Any]:
    """The `ECR Image Action` event EventBridge delivers, in the shape of
    tests/fixtures/reference/eventbridge-ecr-image-action-push.json (`image-tag` absent without a
    tag; `resources` empty; `result` upper case).

    >>> when = dt.datetime(2026, 11, 20, 9, 12, 45, tzinfo=dt.UTC)
    >>> event = image_action_event(event_id="e-1", time=when, account="111122223333",
    ...     region="eu-central-1", repository="todoapp-backend", digest="sha256:9b2f",
    ...     tag=None, action="PUSH")
    >>> event["time"], "image-tag" in event["detail"]
    ('2026-11-20T09:12:45Z', False)
    """
    detail: dict[str, Any] = {
        "result": result,
        "repository-name": repository,
        "image-digest": digest,
        "action-type": action,
    }
    if tag is not None:
        detail["image-tag"] = tag
    detail["manifest-media-type"] = manifest_media_type
    detail["artifact-media-type"] = artifact_media_type
    return {
        "version": "0",
        "id": event_id,
        "detail-type": ECR_DETAIL_TYPE,
        "source": ECR_SOURCE,
        "account": account,
        "time": time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": detail,
    }


def _media_types(manifest: str) -> dict[str, str]:
    """The event's media types, read from the manifest ECR stores, as ECR reads them."""
    parsed = json.loads(manifest)
    return {
        "manifest_media_type": str(parsed.get("mediaType", OCI_MANIFEST)),
        "artifact_media_type": str(parsed.get("config", {}).get("mediaType", OCI_CONFIG)),
    }


# ---------------------------------------------------------------------------------- deploying
def deploy_example_app(
    endpoint: Endpoint,
    stack_name: str = DEFAULT_EXAMPLE_STACK,
    parameters: Mapping[str, str] | None = None,
) -> ExampleApp:
    """Deploy examples/core-stack.yaml into the moto server at `endpoint` (or return the one
    deployed there with the same parameters) and apply what moto leaves out.

    `parameters` are the template's (e.g. `NightshiftOpsTopicArn`, `Environment`); without
    `DatabaseSecretArn` a secret `<stack>/database-master` is created for it first.

    >>> app = deploy_example_app(endpoint)  # doctest: +SKIP
    >>> app.service_name, app.repository_uri  # doctest: +SKIP
    ('todoapp-backend-service', '123456789012.dkr.ecr.eu-central-1.amazonaws.com/todoapp-backend')
    """
    given = dict(parameters or {})
    template_text = EXAMPLE_TEMPLATE.read_text(encoding="utf-8")
    fingerprint = hashlib.sha256(
        json.dumps([template_text, sorted(given.items())]).encode()
    ).hexdigest()
    if _stack_exists(endpoint, stack_name):
        state = _read_state(endpoint, stack_name)
        if state and state.get("fingerprint") == fingerprint:
            return ExampleApp.from_state(state, endpoint)
        raise LocalCloudError(
            f"stack {stack_name} already exists in the moto server at {endpoint.url}, made from "
            "another template or with other parameters; the example app's names are fixed (one "
            "app per account and region), so deploy it into another moto server"
        )
    if _DATABASE_SECRET_PARAMETER not in given:
        given[_DATABASE_SECRET_PARAMETER] = _database_secret(endpoint, stack_name)
    template = yaml_parse(template_text)
    deployed = _create_stack(endpoint, stack_name, template_text, given)
    account_id = endpoint.client("sts").get_caller_identity()["Account"]
    values = {
        **parameter_values(template.get("Parameters", {}), given),
        **pseudo_parameters(stack_name, deployed["StackId"], endpoint.region, account_id),
    }
    created = _created_resources(endpoint, stack_name)
    applied, skipped = _apply_what_moto_leaves_out(endpoint, template, values, created)
    app = _handles(
        endpoint,
        template,
        stack_name=stack_name,
        stack_id=deployed["StackId"],
        account_id=account_id,
        parameters={p["ParameterKey"]: p["ParameterValue"] for p in deployed["Parameters"]},
        outputs={o["OutputKey"]: o["OutputValue"] for o in deployed.get("Outputs", [])},
        resources=created,
        applied=applied,
        skipped=skipped,
    )
    _write_state(endpoint, stack_name, app.to_state(fingerprint))
    logger.info("deployed example app %s: %s", stack_name, app.service_arn)
    return app


def _create_stack(
    endpoint: Endpoint, stack_name: str, template_text: str, parameters: Mapping[str, str]
) -> dict[str, Any]:
    cloudformation = endpoint.client("cloudformation")
    try:
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=template_text,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
    except ClientError as exc:
        raise LocalCloudError(f"moto could not create stack {stack_name}: {exc}") from exc
    described: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if described["StackStatus"] != "CREATE_COMPLETE":
        raise LocalCloudError(
            f"stack {stack_name} ended in {described['StackStatus']}: "
            f"{described.get('StackStatusReason', 'no reason given')}"
        )
    return described


def _database_secret(endpoint: Endpoint, stack_name: str) -> str:
    """The master credentials moto's stack reads in place of the RDS-managed secret."""
    secrets = endpoint.client("secretsmanager")
    name = f"{stack_name}/database-master"
    value = json.dumps({"username": "todoapp", "password": "local-cloud-only-not-a-secret"})
    try:
        return str(secrets.create_secret(Name=name, SecretString=value)["ARN"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise
        return str(secrets.describe_secret(SecretId=name)["ARN"])


def _created_resources(endpoint: Endpoint, stack_name: str) -> dict[str, str]:
    """Logical id -> physical id of what moto created (it lists what it skipped without ids)."""
    paginator = endpoint.client("cloudformation").get_paginator("list_stack_resources")
    return {
        summary["LogicalResourceId"]: summary.get("PhysicalResourceId", "")
        for page in paginator.paginate(StackName=stack_name)
        for summary in page["StackResourceSummaries"]
        if summary.get("LogicalResourceId")
    }


# ------------------------------------------------------------- what moto leaves out, applied
@dataclass
class _Application:
    """Resolves the template against the stack moto created plus what has been applied."""

    endpoint: Endpoint
    template: Mapping[str, Any]
    parameters: Mapping[str, Any]
    created: Mapping[str, str]
    applied: dict[str, str] = field(default_factory=dict)

    def properties(self, logical_id: str) -> dict[str, Any]:
        resolved: dict[str, Any] = self.resolver().resolve(
            self.template["Resources"][logical_id].get("Properties", {})
        )
        return resolved

    def resolver(self) -> Resolver:
        return Resolver(
            parameters=self.parameters,
            ref=self.physical_id,
            get_att=self.attribute,
            conditions=self.template.get("Conditions", {}),
            mappings=self.template.get("Mappings", {}),
        )

    def physical_id(self, logical_id: str) -> str:
        known = {**self.created, **self.applied}
        if logical_id not in known:
            raise TemplateError(f"{logical_id} was not created (yet) in the example app")
        return known[logical_id]

    def attribute(self, logical_id: str, name: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        reader = _ATTRIBUTES.get((kind, name))
        if reader is None:
            raise TemplateError(
                f"Fn::GetAtt {logical_id}.{name} ({kind}) is not known to "
                "localcloud.example_app; add it to _ATTRIBUTES"
            )
        return reader(self.endpoint, self.physical_id(logical_id))


def _db_endpoint(part: str) -> Callable[[Endpoint, str], str]:
    def read(endpoint: Endpoint, identifier: str) -> str:
        (database,) = endpoint.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)[
            "DBInstances"
        ]
        return str(database["Endpoint"][part])  # CloudFormation gives the port as a string

    return read


# Fn::GetAtt of created resources, as the applied properties read them.
_ATTRIBUTES: dict[tuple[str, str], Callable[[Endpoint, str], str]] = {
    ("AWS::ECS::Service", "Name"): lambda _, arn: arn.rsplit("/", 1)[-1],
    ("AWS::IAM::Role", "Arn"): lambda endpoint, name: str(
        endpoint.client("iam").get_role(RoleName=name)["Role"]["Arn"]
    ),
    ("AWS::RDS::DBInstance", "Endpoint.Address"): _db_endpoint("Address"),
    ("AWS::RDS::DBInstance", "Endpoint.Port"): _db_endpoint("Port"),
}
# Maps whose keys are names chosen by the user (log driver options, labels), not API fields.
_FREE_FORM = frozenset({"Options", "DockerLabels", "DriverOpts", "Labels"})


def _camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys as the ECS API's camelCase ones.

    >>> _camel({"LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-group": "g"}}})
    {'logConfiguration': {'logDriver': 'awslogs', 'options': {'awslogs-group': 'g'}}}
    """
    if isinstance(value, list):
        return [_camel(item) for item in value]
    if isinstance(value, dict):
        return {
            key[0].lower() + key[1:]: item if key in _FREE_FORM else _camel(item)
            for key, item in value.items()
        }
    return value


def _scalable_target(app: _Application, props: dict[str, Any]) -> str:
    app.endpoint.client("application-autoscaling").register_scalable_target(
        ServiceNamespace=props["ServiceNamespace"],
        ResourceId=props["ResourceId"],
        ScalableDimension=props["ScalableDimension"],
        MinCapacity=int(props["MinCapacity"]),
        MaxCapacity=int(props["MaxCapacity"]),
    )
    # CloudFormation's physical id of a scalable target, which ScalingTargetId refers to.
    return "|".join((props["ResourceId"], props["ScalableDimension"], props["ServiceNamespace"]))


def _scaling_policy(app: _Application, props: dict[str, Any]) -> str:
    resource_id, dimension, namespace = props["ScalingTargetId"].split("|")
    configuration = {
        key: props[key]
        for key in (
            "TargetTrackingScalingPolicyConfiguration",
            "StepScalingPolicyConfiguration",
        )
        if key in props
    }
    return str(
        app.endpoint.client("application-autoscaling").put_scaling_policy(
            PolicyName=props["PolicyName"],
            ServiceNamespace=namespace,
            ResourceId=resource_id,
            ScalableDimension=dimension,
            PolicyType=props["PolicyType"],
            **configuration,
        )["PolicyARN"]
    )


def _metric_alarm(app: _Application, props: dict[str, Any]) -> str:
    app.endpoint.client("cloudwatch").put_metric_alarm(**props)
    return str(props["AlarmName"])


def _budget(app: _Application, props: dict[str, Any]) -> str:
    budget = props["Budget"]
    limit = {**budget["BudgetLimit"], "Amount": str(budget["BudgetLimit"]["Amount"])}
    app.endpoint.client("budgets").create_budget(
        AccountId=app.parameters["AWS::AccountId"],
        Budget={**budget, "BudgetLimit": limit},
        NotificationsWithSubscribers=props.get("NotificationsWithSubscribers", []),
    )
    return str(budget["BudgetName"])


def _task_definition(app: _Application, logical_id: str, props: dict[str, Any]) -> str:
    """moto registers the task definition without its Fargate settings (cpu, networkMode,
    requiresCompatibilities, executionRoleArn) and tags, all of which a redeploy must carry
    over. So the template's definition is registered in full as the next revision, as
    CloudFormation would have registered it, and moto's partial one is deregistered."""
    ecs = app.endpoint.client("ecs")
    registered = ecs.register_task_definition(**_camel(props))["taskDefinition"]
    ecs.deregister_task_definition(taskDefinition=app.physical_id(logical_id))
    return str(registered["taskDefinitionArn"])


def _service(app: _Application, logical_id: str, props: dict[str, Any]) -> str:
    """The service's task definition (the full one), deployment configuration (the circuit
    breaker) and tags (how Nightshift finds it), which moto's CloudFormation drops."""
    ecs = app.endpoint.client("ecs")
    service = app.physical_id(logical_id)
    settings = {"taskDefinition": props["TaskDefinition"]}
    if "DeploymentConfiguration" in props:
        settings["deploymentConfiguration"] = _camel(props["DeploymentConfiguration"])
    ecs.update_service(cluster=props["Cluster"], service=service, **settings)
    if props.get("Tags"):
        ecs.tag_resource(resourceArn=service, tags=_camel(props["Tags"]))
    return service


# Types moto's CloudFormation does not create: created through their APIs, in template order
# (a scalable target before its policy). Each returns CloudFormation's physical id.
APPLIERS: dict[str, Callable[[_Application, dict[str, Any]], str]] = {
    "AWS::ApplicationAutoScaling::ScalableTarget": _scalable_target,
    "AWS::ApplicationAutoScaling::ScalingPolicy": _scaling_policy,
    "AWS::CloudWatch::Alarm": _metric_alarm,
    "AWS::Budgets::Budget": _budget,
}
# Types moto creates without properties Nightshift relies on: those are applied afterwards, in
# template order (a task definition before the service that runs it). Each returns the
# resource's physical id from then on.
PROPERTY_APPLIERS: dict[str, Callable[[_Application, str, dict[str, Any]], str]] = {
    "AWS::ECS::TaskDefinition": _task_definition,
    "AWS::ECS::Service": _service,
}


def _apply_what_moto_leaves_out(
    endpoint: Endpoint,
    template: Mapping[str, Any],
    parameters: Mapping[str, Any],
    created: Mapping[str, str],
) -> tuple[dict[str, str], dict[str, str]]:
    """(applied: logical id -> physical id, skipped: logical id -> why it does not exist)."""
    app = _Application(endpoint, template, parameters, created)
    resolver = app.resolver()
    skipped: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        kind, condition = resource["Type"], resource.get("Condition")
        if logical_id in created:
            if kind in PROPERTY_APPLIERS:
                applied = PROPERTY_APPLIERS[kind](app, logical_id, app.properties(logical_id))
                if applied != created[logical_id]:
                    app.applied[logical_id] = applied
        elif condition and not resolver.condition(condition):
            skipped[logical_id] = f"condition {condition} is false"
        elif kind in APPLIERS:
            app.applied[logical_id] = APPLIERS[kind](app, app.properties(logical_id))
        else:
            skipped[logical_id] = (
                f"moto's CloudFormation does not create {kind} and the local cloud does not "
                "apply it"
            )
            logger.warning("example app: %s (%s) not created", logical_id, kind)
    return app.applied, skipped


# ------------------------------------------------------------------------------ the handles
def _only(template: Mapping[str, Any], kind: str, deployed: Mapping[str, str]) -> str:
    """The physical id of the template's one deployed resource of type `kind`."""
    found = [
        deployed[logical_id]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == kind and logical_id in deployed
    ]
    if len(found) != 1:
        raise TemplateError(f"the example app should have one {kind}, it has {len(found)}")
    return found[0]


def _handles(endpoint: Endpoint, template: Mapping[str, Any], **stack: Any) -> ExampleApp:
    """Names and ARNs of the app's parts, as the service APIs describe the deployed resources."""
    deployed = {**stack["resources"], **stack["applied"]}
    ecs = endpoint.client("ecs")
    (cluster,) = ecs.describe_clusters(clusters=[_only(template, "AWS::ECS::Cluster", deployed)])[
        "clusters"
    ]
    (service,) = ecs.describe_services(
        cluster=cluster["clusterArn"], services=[_only(template, "AWS::ECS::Service", deployed)]
    )["services"]
    (repository,) = endpoint.client("ecr").describe_repositories(
        repositoryNames=[_only(template, "AWS::ECR::Repository", deployed)]
    )["repositories"]
    (database,) = endpoint.client("rds").describe_db_instances(
        DBInstanceIdentifier=_only(template, "AWS::RDS::DBInstance", deployed)
    )["DBInstances"]
    return ExampleApp(
        endpoint=endpoint,
        **stack,
        cluster_name=cluster["clusterName"],
        cluster_arn=cluster["clusterArn"],
        service_name=service["serviceName"],
        service_arn=service["serviceArn"],
        task_definition_arn=_only(template, "AWS::ECS::TaskDefinition", deployed),
        repository_name=repository["repositoryName"],
        repository_uri=repository["repositoryUri"],
        repository_arn=repository["repositoryArn"],
        db_instance_id=database["DBInstanceIdentifier"],
        db_instance_arn=database["DBInstanceArn"],
        database_secret_arn=stack["parameters"][_DATABASE_SECRET_PARAMETER],
    )


# ------------------------------------------------------------------------------------ state
def _stack_exists(endpoint: Endpoint, stack_name: str) -> bool:
    try:
        stacks = endpoint.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError:
        return False
    return bool(stacks) and stacks[0]["StackStatus"] != "DELETE_COMPLETE"


def _read_state(endpoint: Endpoint, stack_name: str) -> dict[str, Any] | None:
    try:
        body = endpoint.client("s3").get_object(
            Bucket=ARTIFACT_BUCKET, Key=_STATE_KEY.format(stack=stack_name)
        )["Body"]
    except ClientError:
        return None
    state: dict[str, Any] = json.loads(body.read())
    return state if state.get("version") == _STATE_VERSION else None


def _write_state(endpoint: Endpoint, stack_name: str, state: Mapping[str, Any]) -> None:
    ensure_bucket(endpoint, ARTIFACT_BUCKET)
    s3 = endpoint.client("s3")
    s3.put_object(
        Bucket=ARTIFACT_BUCKET,
        Key=_STATE_KEY.format(stack=stack_name),
        Body=json.dumps(state).encode(),
        ContentType="application/json",
    )
