"""The redeploy section of the policy: named globs, the production rule and its default."""

from __future__ import annotations

import pytest

from nightshift.errors import PolicyError
from nightshift.policy import DEFAULT_PROTECT, ProtectRule, parse_policy
from nightshift.redeploy import RELEASE_VERSIONS, RedeployPolicy, TagPattern


def test_policy_without_redeploy_section_gates_production_on_release_versions() -> None:
    rules = RedeployPolicy.from_policy(parse_policy("version: 1"))

    assert rules == RedeployPolicy(protect=DEFAULT_PROTECT, production_tags=RELEASE_VERSIONS)
    assert not rules.dry_run


def test_redeploy_section_becomes_the_model() -> None:
    policy = parse_policy(
        """
version: 1
protect: {tag: Stage, values: [live]}
redeploy:
  dry_run: true
  production_tags: "release-*"
  follow: {main: "main-*", release: "v*"}
"""
    )

    rules = RedeployPolicy.from_policy(policy)

    assert rules.protect == ProtectRule("Stage", frozenset({"live"}))
    assert rules.production_tags == TagPattern.glob("release-*")
    assert dict(rules.follow) == {"main": "main-*", "release": "v*"}
    assert rules.dry_run


def test_tag_value_naming_a_follow_entry_stands_for_its_glob() -> None:
    rules = RedeployPolicy(follow={"main": "main-*"})

    assert rules.pattern_for("main") == TagPattern.glob("main-*")


def test_tag_value_not_named_in_follow_is_itself_the_glob() -> None:
    assert RedeployPolicy().pattern_for("latest") == TagPattern.glob("latest")


def test_follow_name_that_an_ecs_tag_value_cannot_hold_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"redeploy\.follow"):
        parse_policy('version: 1\nredeploy: {follow: {"main-*": "main-*"}}')


def test_follow_glob_must_not_be_empty() -> None:
    with pytest.raises(PolicyError, match=r"redeploy\.follow\.main"):
        parse_policy('version: 1\nredeploy: {follow: {main: ""}}')


@pytest.mark.parametrize(
    ("tag", "release"),
    [
        ("v1.2.3", True),
        ("1.2.3", True),
        ("v10.20.30", True),
        ("v0.0.0", True),
        ("v1.2.3-rc.1", False),
        ("v1.2", False),
        ("v01.2.3", False),
        ("V1.2.3", False),
        ("main-4f1c2e7", False),
        ("latest", False),
        ("v1.2.3.4", False),
    ],
)
def test_release_versions_are_semantic_versions_without_prerelease(tag: str, release: bool) -> None:
    assert RELEASE_VERSIONS.matches(tag) is release


@pytest.mark.parametrize(
    ("pattern", "tag", "matches"),
    [
        ("main-*", "main-4f1c2e7", True),
        ("main-*", "Main-4f1c2e7", False),
        ("latest", "latest", True),
        ("latest", "latest-1", False),
        ("v?.*", "v1.2.3", True),
        ("*", None, True),
        ("main-*", None, False),
        ("?*", None, False),
    ],
)
def test_glob_matches_tags_case_sensitively_and_untagged_only_when_it_takes_any_tag(
    pattern: str, tag: str | None, matches: bool
) -> None:
    assert TagPattern.glob(pattern).matches(tag) is matches


def test_release_versions_never_match_an_untagged_push() -> None:
    assert not RELEASE_VERSIONS.matches(None)
