"""`parse` never drops and never raises: anything unrecognised or broken is shown raw."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nightshift.notify.events import Inbound
from nightshift.notify.model import Source, State
from nightshift.notify.sources import RECOGNISERS, parse

from .fixtures import envelope, notification
from .strategies import NOTIFIER_PROFILE


def test_plain_text_from_another_publisher_is_unrecognised_but_complete() -> None:
    n = notification("unrecognised-text")

    assert (n.source, n.state) == (Source.UNRECOGNISED, State.INFO)
    assert n.title == "Unrecognised message: todoapp nightly export"
    assert n.raw == envelope("unrecognised-text")["Message"]
    assert n.facts[0].value.startswith("no recogniser matched")
    assert {fact.label for fact in n.facts} == {"Why", "Topic", "Message ID"}


def test_malformed_json_says_it_is_not_valid_json() -> None:
    n = notification("malformed-json")

    assert n.source is Source.UNRECOGNISED
    assert n.facts[0].value.startswith("not valid JSON (Unterminated string")
    assert n.raw == envelope("malformed-json")["Message"]


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "null",
        "[]",
        '"just a string"',
        "12",
        "{}",
        '{"AlarmName": null}',
        "[" * 100_000,  # deeper than json can recurse
        '{"schema": "nightshift.report/v1"}',
        '{"detail-type": "ECS Deployment State Change"}',
        '{"anomalyId": "x", "impact": []}',
        "AWS Budget Notification",
        "\x00\x01\x02",
        "\ud800 lone surrogate",
    ],
)
def test_odd_bodies_become_unrecognised_notifications(body: str) -> None:
    n = parse(Inbound("m-1", None, body, None, None))

    assert n.source is Source.UNRECOGNISED
    assert n.dedup_key == "unrecognised:m-1"


def test_a_huge_message_is_parsed_whole() -> None:
    body = "x" * 262_144

    n = parse(Inbound("m-1", "big", body, None, None))

    assert n.source is Source.UNRECOGNISED
    assert n.raw == body


def test_recognisers_cover_every_source_but_the_fallback() -> None:
    assert {r.source for r in RECOGNISERS} == set(Source) - {Source.UNRECOGNISED}


@NOTIFIER_PROFILE
@given(body=st.text(max_size=2_000), subject=st.one_of(st.none(), st.text(max_size=200)))
def test_parse_never_raises_on_any_text(body: str, subject: str | None) -> None:
    n = parse(Inbound("m-1", subject, body, None, None))

    assert n.raw == body


@NOTIFIER_PROFILE
@given(data=st.binary(max_size=2_000))
def test_parse_never_raises_on_any_bytes(data: bytes) -> None:
    n = parse(Inbound.from_sqs_body(data))

    n.raw.encode("utf-8")  # always deliverable as UTF-8


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
# Keys the recognisers look for, so the fuzzing reaches their readers, not just `claims`.
known_keys = st.sampled_from(
    [
        "AlarmName",
        "NewStateValue",
        "AlarmArn",
        "Trigger",
        "AlarmRule",
        "TriggeringChildren",
        "anomalyId",
        "impact",
        "rootCauses",
        "detail-type",
        "detail",
        "resources",
        "schema",
        "items",
        "totals",
    ]
)


@NOTIFIER_PROFILE
@given(
    document=st.dictionaries(known_keys, json_values, max_size=8),
    marker=st.sampled_from(
        [
            {},
            {"detail-type": "ECS Deployment State Change"},
            {"schema": "nightshift.report/v1"},
            {"AlarmName": "cpu", "NewStateValue": "ALARM"},
            {"anomalyId": "a", "impact": {"totalImpact": 1}},
        ]
    ),
)
def test_parse_never_raises_on_json_shaped_like_a_known_source(
    document: dict[str, object], marker: dict[str, object]
) -> None:
    body = json.dumps({**document, **marker})

    n = parse(Inbound("m-1", None, body, "arn:aws:sns:eu-central-1:1:t", None))

    assert n.raw == body


def test_a_real_alarm_mutated_at_every_field_never_raises() -> None:
    alarm = json.loads(envelope("cloudwatch-alarm-metric-math")["Message"])
    for key in alarm:
        for odd in (None, 0, "", [], {}, "x"):
            body = json.dumps({**alarm, key: odd})

            assert parse(Inbound("m-1", None, body, None, None)).raw == body
