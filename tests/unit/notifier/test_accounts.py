"""The policy's targets name the member accounts a message comes from (notify.accounts)."""

from __future__ import annotations

from nightshift.notify.accounts import AccountName, account_names, named
from nightshift.notify.events import Inbound
from nightshift.notify.sources import parse
from nightshift.policy.targets import Targets

from .fixtures import notification

TARGETS = Targets.from_section(
    {
        "accounts": [
            {"account": "222222222222", "name": "staging", "regions": ["eu-west-1"]},
            {"account": "222222222222", "name": "staging-again"},
            {"account": "333333333333", "production": True},
            {"account": "444444444444"},
            {"ou": "ou-ab12-cdef3456", "name": "workloads"},
        ]
    }
)


def test_accounts_listed_by_id_are_named_the_first_entry_winning_and_ous_are_not() -> None:
    assert TARGETS is not None

    names = account_names(TARGETS.entries)

    assert dict(names) == {
        "222222222222": AccountName("staging"),
        "333333333333": AccountName("333333333333", production=True),
    }


def test_a_member_accounts_alarm_says_its_targets_name_first() -> None:
    assert TARGETS is not None
    n = notification("cloudwatch-alarm-event-metric")

    shown = named(n, account_names(TARGETS.entries))

    assert shown.facts[0].label == "Account"
    assert shown.facts[0].value == "staging (222222222222)"
    assert shown.facts[1:] == n.facts
    assert shown.dedup_key == n.dedup_key


def test_an_account_the_targets_do_not_name_and_an_unrecognised_message_are_left_as_they_are() -> (
    None
):
    names = {"999999999999": AccountName("elsewhere", production=True)}
    alarm = notification("cloudwatch-alarm-event-metric")
    raw = parse(Inbound("m-1", None, "disk full on bastion", None, None))

    assert named(alarm, names) is alarm
    assert named(raw, names) is raw
    assert AccountName("prod-eu", production=True).describe("333333333333") == (
        "prod-eu (333333333333), production"
    )
