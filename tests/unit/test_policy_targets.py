"""The policy's `targets` section: its model, and every mistake check-policy names clearly."""

from __future__ import annotations

import pytest

from nightshift.errors import PolicyError
from nightshift.policy import Target, parse_policy
from nightshift_tools.policy_check import review_text

SCHEDULES = """
schedules:
  office: {timezone: Europe/Berlin, periods: [{days: mon-fri, start: "07:30", stop: "19:00"}]}
"""


def review(targets: str, rest: str = SCHEDULES) -> list[str]:
    """check-policy's lines for a policy with this `targets` section."""
    result = review_text(f"version: 1\n{rest}\ntargets:\n{targets}", "nightshift.yaml")
    return [str(mistake) for mistake in result.mistakes]


def test_no_targets_is_the_hubs_own_account_and_region() -> None:
    assert parse_policy(f"version: 1\n{SCHEDULES}").targets is None


def test_targets_are_modelled_with_their_defaults() -> None:
    policy = parse_policy(
        f"""version: 1
{SCHEDULES}
targets:
  max_concurrency: 4
  accounts:
    - {{account: "111122223333", name: staging, regions: [eu-central-1, eu-west-1]}}
    - {{ou: ou-ab12-cdef3456, production: true}}
"""
    )
    targets = policy.targets
    assert targets is not None
    staging, production = targets.entries
    assert targets.max_concurrency == 4
    assert staging == Target(
        account="111122223333",
        name="staging",
        regions=("eu-central-1", "eu-west-1"),
        functions=frozenset({"scheduler", "pruner", "redeploy"}),
    )
    assert production.functions == frozenset({"redeploy"})
    assert not production.acts("scheduler")
    assert not production.acts("pruner")
    assert production.acts("redeploy")


def test_a_valid_targets_section_has_no_mistakes() -> None:
    assert review('  accounts:\n    - {account: "111122223333", regions: [eu-west-1]}') == []


def test_a_duplicate_account_is_named_with_its_first_entry() -> None:
    assert review(
        '  accounts:\n    - {account: "111122223333"}\n    - {account: "111122223333"}'
    ) == [
        (
            "nightshift.yaml: targets.accounts[1].account: 111122223333 is already "
            "targets.accounts[0]: list each account or OU once"
        )
    ]


def test_a_bad_region_says_what_a_region_looks_like() -> None:
    (mistake,) = review('  accounts:\n    - {account: "111122223333", regions: [eu-centrl]}')
    assert mistake == (
        "nightshift.yaml: targets.accounts[0].regions[0]: 'eu-centrl' is not valid: "
        "expected a Region code such as eu-central-1"
    )


@pytest.mark.parametrize("account", ['"11112222333"', "111122223333", '"1111-2222-3333"'])
def test_an_account_id_must_be_twelve_quoted_digits(account: str) -> None:
    (mistake,) = review(f"  accounts:\n    - {{account: {account}}}")
    assert mistake.startswith("nightshift.yaml: targets.accounts[0].account: ")
    assert "12 digits, quoted" in mistake or "is not of type 'string'" in mistake


def test_a_target_names_an_account_or_an_ou() -> None:
    both = review('  accounts:\n    - {account: "111122223333", ou: ou-ab12-cdef3456}')
    neither = review("  accounts:\n    - {name: staging}")
    expected = "nightshift.yaml: targets.accounts[0]: name exactly one of `account` (an id) or `ou`"
    assert both == [expected]
    assert neither == [expected]


def test_a_production_target_a_schedule_would_act_on_is_refused() -> None:
    mistakes = review(
        '  accounts:\n    - {account: "111122223333", production: true, functions: [scheduler]}'
    )
    assert mistakes == [
        (
            "nightshift.yaml: targets.accounts[0].functions: a production target is never "
            "scheduled or pruned; remove 'scheduler' (or the target's `production: true`)"
        )
    ]


def test_the_function_refuses_the_same_mistakes_when_it_loads_the_policy() -> None:
    with pytest.raises(PolicyError, match=r"already targets\.accounts"):
        parse_policy(
            f'version: 1\n{SCHEDULES}\ntargets:\n  accounts:\n    - {{account: "111122223333"}}'
            '\n    - {account: "111122223333"}'
        )
