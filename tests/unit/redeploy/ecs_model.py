"""botocore's model of the ECS API, the authority our copies and samples are checked against."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from botocore.validate import ParamValidator


@cache
def ecs_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("ecs")


def shape(name: str) -> Shape:
    return ecs_model().shape_for(name)


def register_input() -> StructureShape:
    model = ecs_model().operation_model("RegisterTaskDefinition").input_shape
    assert isinstance(model, StructureShape)
    return model


def accepted_fields() -> frozenset[str]:
    """What the adapter passes: the member names of RegisterTaskDefinition's input."""
    return frozenset(register_input().members)


def described_fields() -> frozenset[str]:
    """Every field DescribeTaskDefinition can return in `taskDefinition`."""
    definition = shape("TaskDefinition")
    assert isinstance(definition, StructureShape)
    return frozenset(definition.members)


def validation_errors(request: dict[str, Any]) -> str:
    """botocore's report on `request` as RegisterTaskDefinition input ('' when valid)."""
    report = ParamValidator().validate(request, register_input())
    return report.generate_report() if report.has_errors() else ""


def unknown_fields(value: Any, model: Shape, path: str = "") -> list[str]:
    """Paths of keys in `value` that the model does not define (an invented field)."""
    if isinstance(model, StructureShape) and isinstance(value, dict):
        found = []
        for key, item in value.items():
            if key not in model.members:
                found.append(f"{path}.{key}")
            else:
                found.extend(unknown_fields(item, model.members[key], f"{path}.{key}"))
        return found
    if isinstance(model, ListShape) and isinstance(value, list):
        return [
            p
            for i, item in enumerate(value)
            for p in unknown_fields(item, model.member, f"{path}[{i}]")
        ]
    if isinstance(model, MapShape) and isinstance(value, dict):
        return [
            p for k, item in value.items() for p in unknown_fields(item, model.value, f"{path}.{k}")
        ]
    return []


_SCALARS = {
    "boolean": lambda _: True,
    "integer": lambda s: max(int(s.metadata.get("min", 1)), 1),
    "long": lambda s: max(int(s.metadata.get("min", 1)), 1),
    "double": lambda _: 1.0,
    "float": lambda _: 1.0,
    "timestamp": lambda _: dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    "blob": lambda _: b"x",
    "string": lambda s: s.enum[0] if s.enum else "x" * max(int(s.metadata.get("min", 1)), 1),
}


def example_of(model: Shape, depth: int = 0) -> Any:
    """A value with every member of `model` filled in, recursively (a 'maximal' document)."""
    if isinstance(model, StructureShape):
        if depth > 8:
            return {}
        return {name: example_of(member, depth + 1) for name, member in model.members.items()}
    if isinstance(model, ListShape):
        return [example_of(model.member, depth + 1)]
    if isinstance(model, MapShape):
        return {example_of(model.key, depth + 1): example_of(model.value, depth + 1)}
    return _SCALARS[model.type_name](model)
