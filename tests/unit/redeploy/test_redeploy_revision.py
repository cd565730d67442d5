"""The RegisterTaskDefinition request is a lossless copy of the running revision, proven against
botocore's model of the ECS API, with only the pushed repository's containers pinned."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nightshift.redeploy import READ_ONLY_FIELDS, register_request, unexpected_fields

from .ecs_model import (
    accepted_fields,
    described_fields,
    example_of,
    shape,
    unknown_fields,
    validation_errors,
)
from .samples import (
    BACKEND,
    FLUENT_BIT,
    FRONTEND,
    PUSHED_DIGEST,
    TASK_DEFINITION_TAGS,
    app_container,
    fargate_definition,
    log_router,
    push_event,
)

PINNED = f"{BACKEND}@{PUSHED_DIGEST}"
USER_TAGS = [{"key": "Environment", "value": "staging"}, {"key": "team", "value": "todo"}]


def test_every_described_field_is_either_carried_over_or_known_to_be_read_only() -> None:
    assert described_fields() - accepted_fields() == READ_ONLY_FIELDS


def test_register_accepts_nothing_describe_does_not_return_except_tags() -> None:
    assert accepted_fields() - described_fields() == {"tags"}


def test_sample_task_definition_uses_only_fields_of_the_ecs_model() -> None:
    assert unknown_fields(fargate_definition(), shape("TaskDefinition")) == []


def test_fargate_revision_is_copied_field_for_field_with_only_the_app_image_pinned() -> None:
    described = fargate_definition()

    request = register_request(described, TASK_DEFINITION_TAGS, push_event(), accepted_fields())

    expected = {name: value for name, value in described.items() if name not in READ_ONLY_FIELDS}
    expected["containerDefinitions"] = [
        {**described["containerDefinitions"][0], "image": PINNED},
        described["containerDefinitions"][1],
    ]
    expected["tags"] = USER_TAGS
    assert request == expected
    assert validation_errors(request) == ""


def test_what_fargate_needs_survives_the_copy() -> None:
    request = register_request(fargate_definition(), [], push_event(), accepted_fields())

    assert request["requiresCompatibilities"] == ["FARGATE"]
    assert request["networkMode"] == "awsvpc"
    assert (request["cpu"], request["memory"]) == ("512", "1024")
    assert request["executionRoleArn"].endswith("role/todoapp-execution")
    assert request["runtimePlatform"] == {
        "cpuArchitecture": "ARM64",
        "operatingSystemFamily": "LINUX",
    }
    assert request["ephemeralStorage"] == {"sizeInGiB": 30}
    assert "compatibilities" not in request


def test_a_task_definition_with_every_field_of_the_model_keeps_every_field_register_accepts() -> (
    None
):
    described = example_of(shape("TaskDefinition"))
    described["containerDefinitions"][0]["image"] = f"{BACKEND}:main-1"
    tags = [{"key": "team", "value": "todo"}]

    request = register_request(described, tags, push_event(), accepted_fields())

    assert set(request) == accepted_fields()
    assert validation_errors(request) == ""
    pinned = request["containerDefinitions"][0]
    assert pinned == {**described["containerDefinitions"][0], "image": PINNED}


def test_tags_under_the_reserved_aws_prefix_are_not_copied() -> None:
    tags = [{"key": "AWS:cloudformation:stack-id", "value": "x"}, *TASK_DEFINITION_TAGS]

    request = register_request(fargate_definition(), tags, push_event(), accepted_fields())

    assert request["tags"] == USER_TAGS


def test_a_revision_without_tags_registers_without_tags() -> None:
    request = register_request(fargate_definition(), [], push_event(), accepted_fields())

    assert "tags" not in request


def test_every_container_of_the_repository_is_pinned_and_the_others_are_untouched() -> None:
    containers = [
        app_container(f"{BACKEND}:main-1"),
        app_container(BACKEND, name="migrate"),
        app_container(f"{FRONTEND}:main-1", name="frontend"),
        log_router(),
    ]

    request = register_request(
        fargate_definition(containers=containers), [], push_event(), accepted_fields()
    )

    assert [c["image"] for c in request["containerDefinitions"]] == [
        PINNED,
        PINNED,
        f"{FRONTEND}:main-1",
        FLUENT_BIT,
    ]


def test_the_copy_shares_nothing_with_the_described_revision() -> None:
    described = fargate_definition()
    original = copy.deepcopy(described)

    request = register_request(described, TASK_DEFINITION_TAGS, push_event(), accepted_fields())
    request["containerDefinitions"][1]["environment"].append({"name": "X", "value": "1"})
    request["volumes"][1]["efsVolumeConfiguration"]["rootDirectory"] = "/changed"

    assert described == original


def test_a_revision_without_the_pushed_repository_is_not_copied() -> None:
    described = fargate_definition(containers=[log_router()])

    with pytest.raises(ValueError, match="no container runs"):
        register_request(described, [], push_event(), accepted_fields())


def test_accepted_fields_without_the_essentials_are_refused() -> None:
    with pytest.raises(ValueError, match="containerDefinitions"):
        register_request(fargate_definition(), [], push_event(), frozenset({"family"}))


def test_a_field_register_does_not_accept_is_dropped_and_named_as_unexpected() -> None:
    described = {**fargate_definition(), "futureReadOnlyField": "x"}
    accepted = accepted_fields()

    request = register_request(described, [], push_event(), accepted)

    assert "futureReadOnlyField" not in request
    assert unexpected_fields(described, accepted) == {"futureReadOnlyField"}
    assert unexpected_fields(fargate_definition(), accepted) == frozenset()


def test_a_field_register_learns_tomorrow_is_carried_without_a_code_change() -> None:
    described = {**fargate_definition(), "futureSetting": {"enabled": True}}

    request = register_request(described, [], push_event(), accepted_fields() | {"futureSetting"})

    assert request["futureSetting"] == {"enabled": True}


_MEMBERS = sorted(described_fields() - {"family", "containerDefinitions"})
_FULL = example_of(shape("TaskDefinition"))
_IMAGES = [f"{BACKEND}:main-1", BACKEND, f"{FRONTEND}:v1", FLUENT_BIT, "nginx:1.27"]


@settings(max_examples=200, deadline=None)
@given(
    members=st.sets(st.sampled_from(_MEMBERS)),
    images=st.lists(st.sampled_from(_IMAGES), min_size=1, max_size=4),
)
def test_any_described_revision_is_copied_without_loss(
    members: set[str], images: list[str]
) -> None:
    containers = [
        {**_FULL["containerDefinitions"][0], "name": f"c{index}", "image": image}
        for index, image in enumerate([f"{BACKEND}:main-1", *images])
    ]
    described: dict[str, Any] = {
        "family": "todoapp-backend",
        "containerDefinitions": containers,
        **{name: _FULL[name] for name in members},
    }
    before = json.dumps(described, sort_keys=True, default=str)

    request = register_request(described, USER_TAGS, push_event(), accepted_fields())

    kept = {name for name in described if name not in READ_ONLY_FIELDS}
    assert set(request) == kept | {"tags"}
    for name in kept - {"containerDefinitions"}:
        assert request[name] == described[name]
    for old, new in zip(containers, request["containerDefinitions"], strict=True):
        expected = PINNED if old["image"].startswith(BACKEND) else old["image"]
        assert new == {**old, "image": expected}
    assert json.dumps(described, sort_keys=True, default=str) == before
    assert validation_errors(request) == ""
