"""The policy loader: valid files become a model, every mistake names file, field and fix."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from nightshift.errors import PolicyError
from nightshift.policy import (
    DEFAULT_PROTECT,
    SECTIONS,
    load_policy,
    loader,
    parse_policy,
    policy_schema,
)
from nightshift.policy.loader import COMPILED_SCHEMA_MODULE, validator_source
from nightshift_tools.policy_check import check_policy
from nightshift_tools.policy_layer import build_layer

ROOT = Path(__file__).resolve().parents[2]

OFFICE_HOURS = """
version: 1
schedules:
  office-hours:
    timezone: Europe/Berlin
    periods: [{days: mon-fri, start: "07:30", stop: "19:00"}]
    except: [2026-12-24, 2026-12-25]
    enforce: true
"""


def test_shipped_policy_file_is_valid() -> None:
    policy = load_policy(ROOT / "policy" / "nightshift.yaml")

    assert policy.version == 1
    assert policy.protect.protects({"Environment": "production"})


def test_missing_protect_section_defaults_to_production_tags() -> None:
    assert parse_policy("version: 1").protect == DEFAULT_PROTECT


def test_yaml_dates_become_iso_strings_for_the_schema() -> None:
    policy = parse_policy(OFFICE_HOURS)

    assert policy.section("schedules")["office-hours"]["except"] == ["2026-12-24", "2026-12-25"]


INVALID = [
    ("version: 2", "version", "must be one of [1]"),
    ("{}", "(top level)", "must contain ['version'] properties"),
    ("version: 1\nschedule: {}", "(top level)", "unknown field 'schedule'; valid fields:"),
    (
        (
            "version: 1\nschedules:\n  o:\n    timezone: UTC\n"
            '    periods: [{days: mon-fri, start: "7:30", stop: "19:00"}]'
        ),
        "schedules.o.periods[0].start",
        "'7:30' is not valid: expected local time",
    ),
    (
        "version: 1\nnotify: {destinations: {ops: {type: slack, secret: s}}, routes: [{to: [oncall]}]}",
        "notify.routes[0].to[0]",
        "unknown destination 'oncall'; defined: ops",
    ),
    (
        "version: 1\nnotify: {destinations: {ops: {type: teams}}, routes: [{to: [ops]}]}",
        "notify.destinations.ops",
        "a teams destination needs `secret`",
    ),
    (
        "version: 1\nnotify: {destinations: {ops: {type: pager, secret: s}}, routes: [{to: [ops]}]}",
        "notify.destinations.ops.type",
        "must be one of ['slack', 'teams', 'email']",
    ),
    (
        "version: 1\nprotect: {tag: Environment}",
        "protect",
        "must contain ['values'] properties",
    ),
]


@pytest.mark.parametrize(("text", "path", "problem"), INVALID)
def test_invalid_policy_names_file_field_and_expectation(
    text: str, path: str, problem: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "policy/nightshift.yaml")

    assert raised.value.source == "policy/nightshift.yaml"
    assert raised.value.path == path
    assert problem in raised.value.problem


@pytest.fixture
def compiled_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The schema compiled to Python as the layer's build writes it (layers/nightshift/Makefile),
    used in place of compiling it at the first load."""
    module = types.ModuleType(COMPILED_SCHEMA_MODULE)
    exec(compile(validator_source(), "compiled_schema.py", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, COMPILED_SCHEMA_MODULE, module)
    loader._validator.cache_clear()
    yield
    loader._validator.cache_clear()


@pytest.mark.parametrize(("text", "path", "problem"), INVALID)
def test_the_schema_compiled_at_build_names_the_same_field_and_expectation(
    compiled_schema: None, text: str, path: str, problem: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "policy/nightshift.yaml")

    assert loader._validator().__module__ == COMPILED_SCHEMA_MODULE
    assert (raised.value.path, problem in raised.value.problem) == (path, True)


@pytest.mark.parametrize("path", sorted((ROOT / "policy").glob("*.yaml")), ids=lambda p: p.name)
def test_each_shipped_policy_is_built_into_json_that_loads_as_the_same_policy(
    path: Path, tmp_path: Path
) -> None:
    assert build_layer([path], tmp_path) == []

    shipped = tmp_path / path.name
    assert isinstance(json.loads(shipped.read_text(encoding="utf-8")), dict)
    assert load_policy(shipped).sections == load_policy(path).sections


def test_a_policy_with_a_mistake_fails_the_layer_build_and_is_not_written(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("version: 1\nschedule: {}\n", encoding="utf-8")
    out = tmp_path / "layer"
    out.mkdir()

    mistakes = build_layer([wrong], out)

    assert len(mistakes) == 1
    assert "unknown field 'schedule'" in mistakes[0]
    assert list(out.iterdir()) == []


def test_json_that_is_not_valid_is_read_as_yaml_and_named_so() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy('{"version": 1,', "p.json")

    assert "not valid YAML" in raised.value.problem


def test_yaml_syntax_error_names_line_and_column() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy("version: 1\nschedules: [\n", "p.yaml")

    assert raised.value.path.startswith("line ")
    assert "not valid YAML" in raised.value.problem


def test_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(PolicyError, match="expected a mapping"):
        parse_policy("- version: 1")


def test_unreadable_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "missing.yaml")


def test_schema_has_one_property_per_section_and_version() -> None:
    assert set(policy_schema()["properties"]) == {"version", *SECTIONS}


def test_every_section_model_is_checked_beyond_the_schema(tmp_path: Path) -> None:
    policy_file = tmp_path / "bad-zone.yaml"
    policy_file.write_text(
        "version: 1\nschedules:\n  office-hours:\n    timezone: Europe/Atlantis\n"
        '    periods: [{days: mon-fri, start: "07:30", stop: "19:00"}]\n',
        encoding="utf-8",
    )

    with pytest.raises(PolicyError) as raised:
        check_policy(policy_file)

    assert "schedules.office-hours.timezone" in raised.value.path


def test_shipped_policy_file_passes_every_section_model() -> None:
    assert check_policy(ROOT / "policy" / "nightshift.yaml").version == 1


def test_notify_routes_without_catch_all_or_fallback_are_refused_naming_file_and_field(
    tmp_path: Path,
) -> None:
    policy_file = tmp_path / "no-catch-all.yaml"
    policy_file.write_text(
        "version: 1\nnotify:\n  destinations:\n    oncall: {type: slack, secret: s}\n"
        "  routes:\n    - {match: {severity: [critical]}, to: [oncall]}\n",
        encoding="utf-8",
    )

    with pytest.raises(PolicyError) as raised:
        check_policy(policy_file)

    assert (raised.value.source, raised.value.path) == (str(policy_file), "notify.fallback")


@pytest.mark.parametrize("path", sorted((ROOT / "policy").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_policy_passes_every_section_model(path: Path) -> None:
    assert check_policy(path).version == 1
