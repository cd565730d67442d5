"""Read, validate and model the policy file.

Every mistake becomes one PolicyError that names the file, the path to the field and what was
expected; an unknown field is answered with the list of valid ones.

People write the policy in YAML; what a function reads is JSON (a subset of YAML): the policy
layer's build and scripts/publish-policy check the YAML and ship the document as JSON, which is
read with the standard library. PyYAML is imported only for a policy that is not JSON (a source
file in tests and tools, a parameter published by hand), so a cold start does not load it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import fastjsonschema

from nightshift.errors import PolicyError
from nightshift.policy.model import DEFAULT_PROTECT, NEVER_IN_PRODUCTION, Policy, ProtectRule

SECTIONS = (
    "protect",
    "schedules",
    "scheduler",
    "redeploy",
    "retention",
    "pruner",
    "canaries",
    "notify",
    "targets",
)
SUPPORTED_VERSIONS = (1,)


@cache
def policy_schema() -> dict[str, Any]:
    """The whole policy's JSON schema, composed from `schema/<section>.json`."""
    folder = resources.files("nightshift.policy") / "schema"
    properties: dict[str, Any] = {
        "version": {"enum": list(SUPPORTED_VERSIONS), "description": "policy format version"}
    }
    for name in SECTIONS:
        properties[name] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Nightshift policy",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": properties,
    }


def field_paths(schema: dict[str, Any] | None = None) -> list[str]:
    """Every field a policy can hold, as dotted paths (`schedules.<name>.timezone`,
    `retention[].keep.daily`); list items and named entries that only hold fields are not listed
    on their own.

    >>> "notify.routes[].match.severity" in field_paths()
    True
    """
    paths: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        container = path.endswith("[]") or (path.endswith(".<name>") and "properties" in node)
        if path and not container:
            paths.append(path)
        for key, child in node.get("properties", {}).items():
            walk(child, f"{path}.{key}" if path else key)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.<name>")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[]")

    walk(schema or policy_schema(), "")
    return paths


# Written into the built layer by its Makefile (`validator_source`), never kept in the sources.
COMPILED_SCHEMA_MODULE = "nightshift.policy.compiled_schema"


def validator_source() -> str:
    """The policy schema compiled to Python (fastjsonschema's `compile_to_code`): the layer's
    build writes it as COMPILED_SCHEMA_MODULE, so a cold start neither reads the schema files
    nor generates and compiles the validator's code (tens of ms at every first run)."""
    return str(fastjsonschema.compile_to_code(policy_schema()))


@cache
def _validator() -> Any:
    """The built layer's compiled schema, else (sources: tests, tools) compiled here."""
    try:
        compiled = importlib.import_module(COMPILED_SCHEMA_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != COMPILED_SCHEMA_MODULE:
            raise
        return fastjsonschema.compile(policy_schema())
    return compiled.validate


def load_policy(path: str | Path) -> Policy:
    """Read and validate the policy file at `path`."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(source, "(file)", f"cannot be read: {exc}") from exc
    return parse_policy(text, source)


# `/name:version`: a parameter name with a leading slash, pinned to one version (template.yaml's
# PolicySource has the same pattern, so CloudFormation refuses anything else at deploy time).
_PARAMETER_REFERENCE = re.compile(r"^(?P<name>/[A-Za-z0-9_.\-/]+):(?P<version>[1-9][0-9]*)$")


@dataclass(frozen=True)
class PolicyParameter:
    """One version of the SSM parameter that holds a team's policy.

    Pinned to a version, so what runs is exactly what was checked and published, every
    container reads the same text however long it lives, and rolling out (or back) is a stack
    update that names another version (docs/policy.md, "Your own policy").

    >>> PolicyParameter.parse("/nightshift/staging/policy:3").source
    'ssm:/nightshift/staging/policy:3'
    """

    name: str
    version: int

    @classmethod
    def parse(cls, reference: str) -> PolicyParameter:
        match = _PARAMETER_REFERENCE.match(reference)
        if match is None:
            raise PolicyError(
                f"ssm:{reference}",
                "(parameter)",
                "expected an SSM parameter name and version, e.g. /nightshift/staging/policy:3",
            )
        return cls(match["name"], int(match["version"]))

    @property
    def reference(self) -> str:
        """What GetParameter's `Name` takes to read this version."""
        return f"{self.name}:{self.version}"

    @property
    def source(self) -> str:
        """How errors and reports name this policy."""
        return f"ssm:{self.reference}"


def load_policy_parameter(parameter: PolicyParameter, read: Callable[[str], str]) -> Policy:
    """Read the policy text with `read(parameter.reference)` (an adapter: SSM GetParameter) and
    validate it exactly as a file is validated; errors name `ssm:<name>:<version>`."""
    return parse_policy(read(parameter.reference), parameter.source)


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy text (JSON or YAML) and return the model.

    >>> parse_policy("version: 1").protect.tag
    'Environment'
    """
    data = read_document(text, source)
    try:
        _validator()(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise PolicyError(source, _field_path(exc), _problem(exc)) from exc
    mistakes = reference_mistakes(data, source)
    if mistakes:
        raise mistakes[0]
    return build_policy(data, source)


def read_document(text: str, source: str) -> dict[str, Any]:
    """The policy (JSON, or else YAML) as plain JSON data (dates as ISO strings), not yet
    validated."""
    document = _json_document(text)
    if document is None:
        document = _yaml_document(text, source)
    if not isinstance(document, dict):
        raise PolicyError(source, "(document)", "expected a mapping with at least `version: 1`")
    data: dict[str, Any] = _plain(document)
    return data


def as_json(data: Mapping[str, Any]) -> str:
    """A checked document as the functions read it: compact JSON, keys in the author's order.

    >>> as_json({"version": 1, "schedules": {"office": {"timezone": "Europe/Berlin"}}})
    '{"version":1,"schedules":{"office":{"timezone":"Europe/Berlin"}}}'
    """
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _json_document(text: str) -> Any:
    """The JSON document `text` holds, or None when it is not JSON (then it is read as YAML,
    whose errors say what is wrong, e.g. for a YAML flow mapping `{version: 1}`)."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _yaml_document(text: str, source: str) -> Any:
    import yaml  # only for YAML text: what the functions are shipped is JSON (module docstring)

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        raise PolicyError(source, where, f"is not valid YAML: {exc}") from exc


def build_policy(data: Mapping[str, Any], source: str) -> Policy:
    """The model of a document that passed the schema and `reference_mistakes`."""
    protect = data.get("protect")
    return Policy(
        source=source,
        version=data["version"],
        protect=(
            ProtectRule(tag=protect["tag"], values=frozenset(protect["values"]))
            if protect
            else DEFAULT_PROTECT
        ),
        sections=MappingProxyType({k: v for k, v in data.items() if k in SECTIONS}),
    )


def _plain(value: Any) -> Any:
    """YAML turns 2026-12-24 into a date; the schema speaks JSON, so dates become ISO strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _field_path(exc: fastjsonschema.JsonSchemaValueException) -> str:
    name = exc.name or "data"
    path = name.removeprefix("data").lstrip(".")
    return path or "(top level)"


def _problem(exc: fastjsonschema.JsonSchemaValueException) -> str:
    if exc.rule == "additionalProperties" and isinstance(exc.value, Mapping):
        allowed = sorted((exc.definition or {}).get("properties", {}))
        unknown = sorted(set(exc.value) - set(allowed))
        return f"unknown field {', '.join(map(repr, unknown))}; valid fields: {', '.join(allowed)}"
    description = (exc.definition or {}).get("description")
    if exc.rule == "pattern" and description:
        # A regular expression tells people little; the field's description says the form.
        return f"{exc.value!r} is not valid: expected {description}"
    message = exc.message
    name = exc.name or "data"
    return message.removeprefix(name).strip()


def reference_mistakes(data: Mapping[str, Any], source: str) -> list[PolicyError]:
    """Cross-field checks the schema cannot express: a canary's `depends_on.schedule` names a
    schedule, routes name existing destinations, and each destination has what its type needs.
    Every mistake, in document order."""
    mistakes = [*_dependency_mistakes(data, source), *_target_mistakes(data, source)]
    notify = data.get("notify")
    if not notify:
        return mistakes
    known = set(notify["destinations"])
    for index, route in enumerate(notify["routes"]):
        for position, name in enumerate(route["to"]):
            if name not in known:
                mistakes.append(
                    PolicyError(
                        source,
                        f"notify.routes[{index}].to[{position}]",
                        f"unknown destination {name!r}; defined: {', '.join(sorted(known))}",
                    )
                )
    mistakes.extend(_digest_mistakes(notify, source))
    for name, spec in notify["destinations"].items():
        needs = "topic_arn" if spec["type"] == "email" else "secret"
        if needs not in spec:
            mistakes.append(
                PolicyError(
                    source,
                    f"notify.destinations.{name}",
                    f"a {spec['type']} destination needs `{needs}`",
                )
            )
    return mistakes


def _digest_mistakes(notify: Mapping[str, Any], source: str) -> list[PolicyError]:
    """A route with `deliver: digest` needs `notify.digest`; its time zone must exist."""
    digest = notify.get("digest")
    digested = [i for i, r in enumerate(notify["routes"]) if r.get("deliver") == "digest"]
    if digest is None and digested:
        return [
            PolicyError(
                source,
                f"notify.routes[{digested[0]}].deliver",
                "`deliver: digest` needs `notify.digest` (when it is sent), e.g. "
                '`digest: {at: "08:00", timezone: Europe/Berlin}`',
            )
        ]
    zone = (digest or {}).get("timezone")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ValueError, ZoneInfoNotFoundError):
            return [PolicyError(source, "notify.digest.timezone", f"unknown time zone {zone!r}")]
    return []


def _dependency_mistakes(data: Mapping[str, Any], source: str) -> list[PolicyError]:
    schedules = set(data.get("schedules") or {})
    mistakes = []
    for index, check in enumerate(data.get("canaries") or ()):
        spec = check.get("depends_on")
        name = spec.get("schedule") if isinstance(spec, Mapping) else None
        if name is not None and name not in schedules:
            defined = ", ".join(sorted(schedules)) or "none"
            mistakes.append(
                PolicyError(
                    source,
                    f"canaries[{index}].depends_on.schedule",
                    f"unknown schedule {name!r}; defined: {defined}",
                )
            )
    return mistakes


def _target_mistakes(data: Mapping[str, Any], source: str) -> list[PolicyError]:
    """Each target names an account or an OU (not both), no account twice, and a production
    target lists neither the scheduler nor the pruner while the policy has schedules or
    retention rules for them to act on."""
    section = data.get("targets")
    if not isinstance(section, Mapping):
        return []
    mistakes = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(section.get("accounts") or ()):
        where = f"targets.accounts[{index}]"
        if ("account" in entry) == ("ou" in entry):
            mistakes.append(
                PolicyError(source, where, "name exactly one of `account` (an id) or `ou`")
            )
        for key in ("account", "ou"):
            if key in entry and entry[key] in seen:
                mistakes.append(
                    PolicyError(
                        source,
                        f"{where}.{key}",
                        f"{entry[key]} is already targets.accounts[{seen[entry[key]]}]: "
                        "list each account or OU once",
                    )
                )
            elif key in entry:
                seen[entry[key]] = index
        if entry.get("production"):
            acting = {
                "scheduler": bool(data.get("schedules")),
                "pruner": bool(data.get("retention")),
            }
            for function in sorted(NEVER_IN_PRODUCTION & set(entry.get("functions") or ())):
                if acting.get(function):
                    mistakes.append(
                        PolicyError(
                            source,
                            f"{where}.functions",
                            f"a production target is never scheduled or pruned; remove "
                            f"{function!r} (or the target's `production: true`)",
                        )
                    )
    return mistakes
