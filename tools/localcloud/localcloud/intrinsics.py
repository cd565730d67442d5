"""CloudFormation intrinsic functions, resolved the way CloudFormation would: a pure core.

moto's CloudFormation resolves what it creates. The resources it skips (subscriptions, alarms,
schedules, ...) are created by the local cloud from their template properties, so their
`Ref`, `Fn::GetAtt`, `Fn::Sub`, conditions and friends are resolved here. Lookups of deployed
resources are functions passed in, so this module does no I/O.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud.errors import TemplateError


class _NoValue:
    """`AWS::NoValue`: the property is removed, as if it had not been written."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass(frozen=True)
class Resolver:
    """Resolves intrinsic functions of one template against one deployed stack.

    `parameters` holds every parameter's value (defaults applied) and the pseudo parameters
    (`AWS::Region`, `AWS::AccountId`, ...); `ref` gives a resource's Ref value (its physical
    id) and `get_att` one of its attributes.

    >>> r = Resolver(parameters={"Env": "dev"}, ref=lambda _: "", get_att=lambda *_: "")
    >>> r.resolve({"Fn::Sub": "nightshift-${Env}"})
    'nightshift-dev'
    """

    parameters: Mapping[str, Any]
    ref: Callable[[str], Any]
    get_att: Callable[[str, str], Any]
    conditions: Mapping[str, Any] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced by its result."""
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            function = _FUNCTIONS.get(name)
            if function is not None:
                return function(self, argument)
            if name.startswith("Fn::"):
                raise TemplateError(f"{name} is not supported by the local cloud")
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool:
        """The value of the template's condition `name`."""
        if name not in self.conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return bool(self.resolve(self.conditions[name]))

    def _ref(self, name: Any) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        return self.ref(name)

    def _get_att(self, argument: Any) -> Any:
        logical_id, attribute = (
            argument.split(".", 1) if isinstance(argument, str) else self.resolve(argument)
        )
        return self.get_att(logical_id, attribute)

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.resolve(value) for key, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name:
                return str(self._get_att(name))
            return str(self._ref(name))

        # `${!Literal}` stays as `${Literal}`, as CloudFormation documents.
        return _SUB_VARIABLE.sub(substitute, text).replace("${!", "${")

    def _join(self, argument: Any) -> str:
        delimiter, items = argument
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _select(self, argument: Any) -> Any:
        index, items = self.resolve(argument)
        return items[int(index)]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = self.resolve(argument)
        return str(text).split(delimiter)

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top, second = self.resolve(argument)
        try:
            return self.mappings[map_name][top][second]
        except KeyError as exc:
            raise TemplateError(f"Fn::FindInMap: no {map_name}.{top}.{second}") from exc


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": Resolver._ref,
    "Fn::GetAtt": Resolver._get_att,
    "Fn::Sub": Resolver._sub,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::If": Resolver._if,
    "Fn::FindInMap": Resolver._find_in_map,
    "Fn::Base64": lambda r, a: base64.b64encode(str(r.resolve(a)).encode()).decode(),
    "Fn::Equals": lambda r, a: _same(*r.resolve(a)),
    "Fn::Not": lambda r, a: not r.resolve(a)[0],
    "Fn::And": lambda r, a: all(r.resolve(a)),
    "Fn::Or": lambda r, a: any(r.resolve(a)),
    "Condition": lambda r, a: r.condition(a),
    "Fn::GetAZs": lambda r, _: [f"{r.parameters['AWS::Region']}{zone}" for zone in "abc"],
}


def _same(left: Any, right: Any) -> bool:
    # CloudFormation compares parameter values as strings (a Number parameter is "5", not 5).
    return str(left) == str(right)


def parameter_values(
    declared: Mapping[str, Mapping[str, Any]], given: Mapping[str, str]
) -> dict[str, Any]:
    """Every declared parameter's value: the given one, else its default; lists split.

    >>> parameter_values({"Env": {"Type": "String", "Default": "staging"}}, {})
    {'Env': 'staging'}
    """
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(
            f"unknown parameter(s) {', '.join(unknown)}; declared: {', '.join(sorted(declared))}"
        )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in given:
            value: Any = given[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no default and no value was given")
        kind = str(spec.get("Type", "String"))
        is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
        values[name] = [part.strip() for part in str(value).split(",")] if is_list else value
    return values


def pseudo_parameters(
    stack_name: str, stack_id: str, region: str, account_id: str
) -> dict[str, Any]:
    """The pseudo parameters CloudFormation defines for a stack."""
    return {
        "AWS::AccountId": account_id,
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id,
        "AWS::NotificationARNs": [],
    }
