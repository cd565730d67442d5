"""The retention and pruner sections become typed rules; what the schema cannot catch is refused."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from nightshift.errors import PolicyError
from nightshift.policy import parse_policy
from nightshift.retention import (
    KeepPolicy,
    PrunerSettings,
    RetentionPolicy,
    RetentionRule,
    SnapshotKind,
    StoragePrices,
)

POLICY = """
version: 1
retention:
  - name: staging-db
    resources: [rds-snapshot, aurora-snapshot, ebs-snapshot]
    match: {tags: {Environment: staging}}
    keep: {last: 3, daily: 7, weekly: 4, monthly: 6}
    max_age_days: 365
    timezone: Europe/Berlin
pruner:
  max_delete_share: 0.25
  dry_run: true
  prices: {ebs_snapshot: 0.06, aurora_snapshot: 0.025}
"""


def test_policy_sections_become_typed_rules_and_settings() -> None:
    policy = parse_policy(POLICY, "nightshift.yaml")

    (rule,) = RetentionPolicy.from_policy(policy).rules
    settings = PrunerSettings.from_policy(policy)

    assert rule.name == "staging-db"
    assert rule.kinds == frozenset(SnapshotKind)
    assert rule.keep == KeepPolicy(last=3, daily=7, weekly=4, monthly=6)
    assert rule.max_age_days == 365
    assert rule.timezone == ZoneInfo("Europe/Berlin")
    assert dict(rule.match_tags) == {"Environment": "staging"}
    assert settings == PrunerSettings(
        max_delete_share=0.25,
        prices=StoragePrices(ebs=0.06, rds=0.095, aurora=0.025),
        dry_run=True,
    )


def test_absent_sections_mean_no_rules_and_default_settings() -> None:
    policy = parse_policy("version: 1")

    assert RetentionPolicy.from_policy(policy).rules == ()
    assert PrunerSettings.from_policy(policy) == PrunerSettings(
        max_delete_share=0.5, prices=StoragePrices(ebs=0.05, rds=0.095, aurora=0.021)
    )


def test_all_zero_keep_is_refused_naming_file_and_field() -> None:
    policy = parse_policy(
        "version: 1\nretention:\n"
        "  - {name: a, resources: [ebs-snapshot], keep: {daily: 1}}\n"
        "  - {name: b, resources: [ebs-snapshot], keep: {last: 0, monthly: 0}}\n",
        "nightshift.yaml",
    )

    with pytest.raises(PolicyError) as caught:
        RetentionPolicy.from_policy(policy)

    assert caught.value.source == "nightshift.yaml"
    assert caught.value.path == "retention[1].keep"
    assert "keeps nothing" in caught.value.problem


def test_unknown_time_zone_is_refused_naming_the_field() -> None:
    section = [
        {
            "name": "a",
            "resources": ["ebs-snapshot"],
            "keep": {"last": 1},
            "timezone": "Europe/Berln",
        }
    ]

    with pytest.raises(PolicyError) as caught:
        RetentionPolicy.from_section(section, "p.yaml")

    assert caught.value.path == "retention[0].timezone"
    assert "'Europe/Berln'" in caught.value.problem


def test_duplicate_rule_names_are_refused() -> None:
    rule = {"name": "a", "resources": ["ebs-snapshot"], "keep": {"last": 1}}

    with pytest.raises(PolicyError) as caught:
        RetentionPolicy.from_section([rule, rule])

    assert caught.value.path == "retention[1].name"


def test_schema_refuses_a_negative_keep_count_and_unknown_pruner_fields() -> None:
    with pytest.raises(PolicyError, match=r"retention\[0\]\.keep\.daily"):
        parse_policy(
            "version: 1\nretention: [{name: a, resources: [ebs-snapshot], keep: {daily: -1}}]"
        )
    with pytest.raises(PolicyError, match="unknown field 'max_deletes'"):
        parse_policy("version: 1\npruner: {max_deletes: 3}")


@pytest.mark.parametrize(
    ("kind", "tags", "selected"),
    [
        (SnapshotKind.EBS, {"Environment": "staging", "Team": "a"}, True),
        (SnapshotKind.EBS, {"Environment": "Staging"}, False),
        (SnapshotKind.EBS, {}, False),
        (SnapshotKind.RDS, {"Environment": "staging"}, False),
    ],
)
def test_rule_selects_by_kind_and_exact_tag_values(snapshot, kind, tags, selected) -> None:
    rule = RetentionRule(
        "r", frozenset({SnapshotKind.EBS}), KeepPolicy(last=1), {"Environment": "staging"}
    )

    assert rule.matches(snapshot("s", kind=kind, tags=tags)) is selected


def test_negative_keep_count_cannot_be_built() -> None:
    with pytest.raises(ValueError, match=r"keep\.weekly"):
        KeepPolicy(weekly=-1)
