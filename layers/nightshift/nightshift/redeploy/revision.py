"""The RegisterTaskDefinition request for a new revision: a lossless copy of the running one with
only the pushed repository's containers pinned to the pushed digest.

Lossless means: every field of the described task definition that RegisterTaskDefinition
accepts is carried over as it is (`accepted_fields` comes from botocore's model of the API, so a
field AWS adds tomorrow is carried without a code change), the tags too. Only fields AWS sets
itself are dropped, and tags under the reserved `aws:` prefix, which no caller may set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nightshift.redeploy.events import ImagePush
from nightshift.redeploy.plan import image_changes

# Fields DescribeTaskDefinition returns that AWS sets and RegisterTaskDefinition refuses.
READ_ONLY_FIELDS = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
        "deleteRequestedAt",
    }
)
REQUIRED_FIELDS = frozenset({"family", "containerDefinitions"})
RESERVED_TAG_PREFIX = "aws:"
_TAGS = "tags"


def register_request(
    task_definition: Mapping[str, Any],
    tags: Sequence[Mapping[str, str]],
    push: ImagePush,
    accepted_fields: frozenset[str],
) -> dict[str, Any]:
    """The keyword arguments of `ecs.register_task_definition` for the new revision.

    `task_definition` is DescribeTaskDefinition's `taskDefinition`, `tags` its `tags`, and
    `accepted_fields` the member names of RegisterTaskDefinition's input shape:
    `ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members`.

    Example: a Fargate definition with containers `app` (running `…/todoapp-backend:main-1`) and
    `log-router` becomes a request with the same family, cpu, memory, networkMode,
    requiresCompatibilities, roles, volumes, runtimePlatform, … and tags, where only
    `app`'s image reads `…/todoapp-backend@sha256:9b2f…`.
    """
    missing = REQUIRED_FIELDS - accepted_fields
    if missing:
        raise ValueError(f"accepted_fields lacks {', '.join(sorted(missing))}")
    containers = task_definition.get("containerDefinitions") or ()
    pinned = {change.container: change.new_image for change in image_changes(containers, push)}
    if not pinned:
        raise ValueError(f"no container runs {push.registry.host}/{push.repository}")
    request = registered_as(task_definition, tags, accepted_fields)
    request["containerDefinitions"] = [
        {**container, "image": pinned[container["name"]]}
        if container.get("name") in pinned
        else container
        for container in request["containerDefinitions"]
    ]
    return request


def registered_as(
    task_definition: Mapping[str, Any],
    tags: Sequence[Mapping[str, str]],
    accepted_fields: frozenset[str],
) -> dict[str, Any]:
    """The RegisterTaskDefinition request that a described revision amounts to: what it
    carries that a registration can set (with its own images, nothing pinned).

    A revision already registered for a push is recognised by it: an earlier attempt at the
    same push that registered the revision and then failed (an UpdateService refused, a timeout
    after the registration took effect) left a revision whose `registered_as` is exactly the
    `register_request` the retry would send, and the retry reuses it.
    """
    request = {
        name: _plain(value)
        for name, value in task_definition.items()
        if name in accepted_fields and name not in READ_ONLY_FIELDS and name != _TAGS
    }
    kept_tags = [
        _plain(tag) for tag in tags if not tag["key"].lower().startswith(RESERVED_TAG_PREFIX)
    ]
    if kept_tags and _TAGS in accepted_fields:
        request[_TAGS] = kept_tags
    return request


def unexpected_fields(
    task_definition: Mapping[str, Any], accepted_fields: frozenset[str]
) -> frozenset[str]:
    """Fields the copy cannot carry that are not known to be read-only: RegisterTaskDefinition
    does not accept them, so they are dropped, and the adapter logs them so a person can check
    that nothing of value went missing."""
    return frozenset(task_definition) - accepted_fields - READ_ONLY_FIELDS - {_TAGS}


def _plain(value: Any) -> Any:
    """A deep copy in plain dicts and lists, as boto3 expects, sharing nothing with the input."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
