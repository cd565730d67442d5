"""Routes from the policy: match on source, severity and name prefix; first match wins unless
`continue: true`; a route without `match` matches everything."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from nightshift.errors import PolicyError
from nightshift.notify.model import Notification, Severity, Source, State
from nightshift.notify.routing import Destination, DestinationType, NotifyPolicy
from nightshift.policy import parse_policy

DESTINATIONS = {
    "oncall": {"type": "slack", "secret": "nightshift/slack-oncall"},
    "ops": {"type": "teams", "secret": "nightshift/teams-ops"},
    "finance": {"type": "email", "topic_arn": "arn:aws:sns:eu-central-1:111122223333:finance"},
}

ALARM = Notification(
    source=Source.CLOUDWATCH_ALARM,
    severity=Severity.CRITICAL,
    state=State.ALARM,
    title="ALARM: todoapp-backend-high-cpu",
    name="todoapp-backend-high-cpu",
    summary="",
    facts=(),
    links=(),
    dedup_key="k",
    raw="",
)


def policy(*routes: dict, **extra: object) -> NotifyPolicy:
    return NotifyPolicy.from_section(
        {"destinations": DESTINATIONS, "routes": list(routes), **extra}
    )


def test_destinations_become_typed_with_their_secret_or_topic() -> None:
    p = policy({"to": ["oncall"]})

    assert p.destinations["oncall"] == Destination(
        "oncall", DestinationType.SLACK, secret="nightshift/slack-oncall"
    )
    assert p.destinations["finance"] == Destination(
        "finance",
        DestinationType.EMAIL,
        topic_arn="arn:aws:sns:eu-central-1:111122223333:finance",
    )


ROUTES = [
    {"match": {"severity": ["critical"]}, "to": ["oncall", "ops"]},
    {"match": {"source": ["budget", "cost-anomaly"]}, "to": ["finance"], "continue": True},
    {"match": {"name_prefix": ["todoapp-", "shop-"]}, "to": ["ops"]},
    {"to": ["ops"]},
]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ("oncall", "ops")),  # first match wins
        ({"severity": Severity.WARNING}, ("ops",)),  # by name prefix
        ({"severity": Severity.WARNING, "name": "other"}, ("ops",)),  # catch-all
        ({"severity": Severity.WARNING, "source": Source.BUDGET}, ("finance", "ops")),  # continue
        ({"severity": Severity.CRITICAL, "source": Source.BUDGET}, ("oncall", "ops")),
        (
            {"severity": Severity.INFO, "source": Source.COST_ANOMALY, "name": "x"},
            ("finance", "ops"),
        ),
    ],
)
def test_routes_choose_destinations_in_order_each_once(
    changes: dict, expected: tuple[str, ...]
) -> None:
    assert policy(*ROUTES).destinations_for(replace(ALARM, **changes)) == expected


def test_all_criteria_of_one_route_must_hold() -> None:
    route = {"match": {"severity": ["critical"], "source": ["budget"]}, "to": ["oncall"]}
    p = policy(route, fallback="ops")

    assert p.destinations_for(ALARM) == ("ops",)
    assert p.destinations_for(replace(ALARM, source=Source.BUDGET)) == ("oncall",)


def test_continue_collects_from_every_matching_route_without_duplicates() -> None:
    p = policy(
        {"to": ["oncall", "ops"], "continue": True},
        {"match": {"severity": ["critical"]}, "to": ["ops", "finance"], "continue": True},
        {"to": ["oncall"]},
    )

    decision = p.route(ALARM)

    assert decision.destinations == ("oncall", "ops", "finance")
    assert decision.reason == (
        "routes[0] (everything), routes[1] (severity critical), routes[2] (everything) matched"
    )


def test_message_no_route_matches_goes_to_the_fallback_and_says_why() -> None:
    p = policy({"match": {"source": ["budget"]}, "to": ["finance"]}, fallback="ops")

    decision = p.route(ALARM)

    assert decision.destinations == ("ops",)
    assert decision.fallback
    assert decision.reason == "no route matched: fallback"


def test_matching_route_is_not_a_fallback_even_when_a_fallback_is_set() -> None:
    decision = policy({"to": ["oncall"]}, fallback="ops").route(ALARM)

    assert decision.destinations == ("oncall",)
    assert not decision.fallback


def test_routes_without_a_catch_all_or_a_fallback_are_refused_naming_file_and_field() -> None:
    with pytest.raises(PolicyError) as refused:
        NotifyPolicy.from_section(
            {
                "destinations": DESTINATIONS,
                "routes": [{"match": {"source": ["budget"]}, "to": ["finance"]}],
            },
            "policy/nightshift.yaml",
        )

    assert str(refused.value).startswith("policy/nightshift.yaml: notify.fallback: ")
    assert "would be dropped" in str(refused.value)


def test_a_route_with_an_empty_match_is_a_catch_all() -> None:
    p = policy({"match": {"source": ["budget"]}, "to": ["finance"]}, {"match": {}, "to": ["ops"]})

    assert p.destinations_for(ALARM) == ("ops",)


def test_a_fallback_to_an_unknown_destination_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"notify.fallback: unknown destination 'pager'"):
        policy({"to": ["ops"]}, fallback="pager")


def test_a_policy_without_a_notify_section_routes_nowhere() -> None:
    p = NotifyPolicy.from_section({})

    assert p.route(ALARM).reason == "the policy has no notify routes"
    assert p.repeat_window == timedelta(minutes=60)


def test_repeat_window_comes_from_the_policy() -> None:
    assert policy({"to": ["ops"]}, repeat_window_minutes=0).repeat_window == timedelta(0)
    assert policy({"to": ["ops"]}, repeat_window_minutes=15).repeat_window == timedelta(minutes=15)


def test_a_route_to_an_unknown_destination_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"notify.routes\[0\].to: unknown destination 'pager'"):
        policy({"to": ["pager"]})


def test_the_policy_files_notify_section_builds_a_policy() -> None:
    text = """
version: 1
notify:
  destinations:
    oncall: {type: slack, secret: nightshift/slack-oncall}
    ops: {type: teams, secret: nightshift/teams-ops}
  routes:
    - {match: {severity: [critical]}, to: [oncall, ops]}
    - {to: [ops]}
  repeat_window_minutes: 30
"""
    p = NotifyPolicy.from_section(parse_policy(text).section("notify"))

    assert p.destinations_for(ALARM) == ("oncall", "ops")
    assert p.destinations_for(replace(ALARM, severity=Severity.INFO)) == ("ops",)
    assert p.repeat_window == timedelta(minutes=30)
