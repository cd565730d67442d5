"""Slack Block Kit rendering: content, escaping, and Slack's limits."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from hypothesis import given

from nightshift.notify.model import Fact, Link, Notification, Severity, Source, State
from nightshift.notify.render import slack

from .fixtures import fixture_names, notification
from .strategies import NOTIFIER_PROFILE, notifications


def all_text(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def blocks_of(message: dict, kind: str) -> list[dict]:
    return [block for block in message["blocks"] if block["type"] == kind]


def sample(**changes: object) -> Notification:
    base = Notification(
        source=Source.CLOUDWATCH_ALARM,
        severity=Severity.CRITICAL,
        state=State.ALARM,
        title="ALARM: cpu",
        name="cpu",
        summary="CPU is high",
        facts=(Fact("State", "OK → ALARM"),),
        links=(Link("Alarm", "https://example.com/alarm"),),
        dedup_key="k",
        raw="{}",
        occurred_at="2026-11-20T18:04:12.205+00:00",
        region="eu-central-1",
        account="111122223333",
    )
    return replace(base, **changes)


def test_metric_alarm_shows_everything_issue_two_asks_for() -> None:
    message = slack.render(notification("cloudwatch-alarm-metric"))

    header = message["blocks"][0]
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": ":red_circle: ALARM: todoapp-backend-high-cpu",
            "emoji": True,
        },
    }
    text = all_text(message)
    for expected in (
        "*State*\\nOK → ALARM",
        "*Since*\\n2026-11-20 18:04:12 UTC",
        "*Metric*\\nAWS/ECS CPUUtilization · Average over 5 min",
        "ServiceName=todoapp-backend-service, ClusterName=todoapp-cluster",
        "&gt; 80 for 2 of 2 datapoints of 5 min",
        "91.4 vs threshold &gt; 80",
        "eu-central-1",
        (
            "<https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1"
            "#alarmsV2:alarm/todoapp-backend-high-cpu|Alarm>"
        ),
    ):
        assert expected in text
    assert "Europe (Frankfurt)" not in text
    assert message["text"] == "ALARM: todoapp-backend-high-cpu — CPU utilization is too high"


def test_ok_renders_as_resolved_in_green() -> None:
    message = slack.render(notification("cloudwatch-alarm-metric-ok"))

    assert message["blocks"][0]["text"]["text"] == (
        ":large_green_circle: RESOLVED: todoapp-backend-high-cpu"
    )
    assert message["text"].startswith("RESOLVED: todoapp-backend-high-cpu")


@pytest.mark.parametrize(
    ("changes", "emoji"),
    [
        ({"state": State.ALARM, "severity": Severity.CRITICAL}, ":red_circle:"),
        ({"state": State.ALARM, "severity": Severity.WARNING}, ":large_orange_circle:"),
        ({"state": State.INFO, "severity": Severity.INFO}, ":large_blue_circle:"),
        ({"state": State.OK, "severity": Severity.CRITICAL}, ":large_green_circle:"),
        ({"state": State.INSUFFICIENT_DATA, "severity": Severity.WARNING}, ":white_circle:"),
        ({"source": Source.UNRECOGNISED}, ":grey_question:"),
    ],
)
def test_header_emoji_follows_state_then_severity(changes: dict, emoji: str) -> None:
    header = slack.render(sample(**changes))["blocks"][0]["text"]["text"]

    assert header.startswith(emoji + " ")


def test_short_facts_share_a_fields_section_and_long_ones_stand_alone() -> None:
    n = sample(
        facts=(
            Fact("A", "1"),
            Fact("B", "2"),
            Fact("Reason", "r" * 300),
            Fact("C", "3"),
        )
    )

    sections = [b for b in blocks_of(slack.render(n), "section")]

    assert [f["text"] for f in sections[1]["fields"]] == ["*A*\n1", "*B*\n2"]
    assert sections[2]["text"]["text"] == "*Reason*\n" + "r" * 300
    assert [f["text"] for f in sections[3]["fields"]] == ["*C*\n3"]


def test_more_than_ten_short_facts_spill_into_another_section() -> None:
    n = sample(facts=tuple(Fact(f"F{i}", str(i)) for i in range(13)))

    fields = [len(b["fields"]) for b in blocks_of(slack.render(n), "section") if "fields" in b]

    assert fields == [10, 3]


def test_mrkdwn_control_characters_are_escaped_everywhere() -> None:
    n = sample(
        title="ALARM: <cpu> & more",
        summary="a <b> & c",
        facts=(Fact("x<y", "1 > 0 & 2"),),
        links=(Link("A|B>", "https://example.com/a|b?x=<1>"),),
    )

    message = slack.render(n)

    text = all_text(message)
    assert "a &lt;b&gt; &amp; c" in text
    assert "*x&lt;y*\\n1 &gt; 0 &amp; 2" in text
    assert "<https://example.com/a%7Cb?x=%3C1%3E|A¦B&gt;>" in text
    assert message["text"].startswith("ALARM: &lt;cpu&gt; &amp; more")


def test_links_and_context_end_the_message() -> None:
    message = slack.render(notification("cloudwatch-alarm-metric"))

    *_, links, context = message["blocks"]
    assert links["text"]["text"].count("|") == 2  # Alarm and Metric
    assert context["elements"][0]["text"] == (
        "CloudWatch alarm · eu-central-1 · account 111122223333 · 2026-11-20 18:04:12 UTC"
    )


def test_unrecognised_message_is_shown_raw_in_a_code_block() -> None:
    message = slack.render(notification("unrecognised-text"))

    code = [
        b["text"]["text"]
        for b in blocks_of(message, "section")
        if b.get("text", {}).get("text", "").startswith("```")
    ]
    assert code == [
        (
            "```\nNightly export finished with 3 warnings.\n"
            "See s3://todoapp-exports/2026-11-20/ for the files.\n```"
        )
    ]


def test_unrecognised_json_is_pretty_printed() -> None:
    message = slack.render(notification("cloudwatch-alarm-missing-state"))

    assert '{\n  "AlarmName": "todoapp-backend-high-cpu",' in all_text(message).replace(
        "\\n", "\n"
    ).replace('\\"', '"')


def test_triple_backticks_in_a_raw_message_cannot_close_the_code_block() -> None:
    n = sample(source=Source.UNRECOGNISED, raw="before ``` after")

    code = blocks_of(slack.render(n), "section")[-2]["text"]["text"]

    assert code.count("```") == 2


def test_a_huge_report_is_cut_to_50_blocks_with_a_full_details_link() -> None:
    n = sample(
        source=Source.NIGHTSHIFT_REPORT,
        facts=tuple(Fact(f"snap-{i:017x}", "delete: DONE — " + "x" * 200) for i in range(3000)),
    )

    message = slack.render(n, details_url="https://example.com/full")

    assert len(message["blocks"]) == slack.MAX_BLOCKS
    note = message["blocks"][-3]
    assert note == {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "_Shortened to fit Slack's message limits._ "
                "<https://example.com/full|Full details>",
            }
        ],
    }
    assert message["blocks"][-1]["type"] == "context"  # where and when survive the cut
    assert_within_limits(message)


def test_a_huge_raw_message_shows_its_start_in_at_most_four_code_blocks() -> None:
    raw = "".join(f"line {i} <&>\n" for i in range(30_000))
    n = sample(source=Source.UNRECOGNISED, raw=raw, links=())

    message = slack.render(n)

    texts = [b["text"]["text"] for b in blocks_of(message, "section") if "text" in b]
    code = [text for text in texts if text.startswith("```")]
    assert len(code) == slack.RAW_BLOCKS
    assert code[0].startswith("```\nline 0 &lt;&amp;&gt;\nline 1")
    assert all(not re.search(r"&[a-z]{0,3}\n```$", block) for block in code)  # no half entity
    assert message["blocks"][-2]["elements"][0]["text"] == (
        "_Shortened to fit Slack's message limits._"
    )
    assert_within_limits(message)


def test_a_long_reason_is_cut_at_3000_characters_and_marked() -> None:
    n = sample(facts=(Fact("Reason", "> " * 4000),))

    section = blocks_of(slack.render(n), "section")[1]["text"]["text"]

    assert len(section) <= slack.SECTION_TEXT
    assert section.endswith("&gt; …")


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_renders_within_slack_limits(name: str) -> None:
    assert_within_limits(slack.render(notification(name)))


@NOTIFIER_PROFILE
@given(n=notifications)
def test_any_notification_renders_within_slack_limits(n: Notification) -> None:
    assert_within_limits(slack.render(n, details_url="https://example.com/full"))


def assert_within_limits(message: dict) -> None:
    assert len(message["text"]) <= slack.FALLBACK_TEXT
    assert 1 <= len(message["blocks"]) <= slack.MAX_BLOCKS
    assert message["blocks"][0]["type"] == "header"
    assert len(message["blocks"][0]["text"]["text"]) <= slack.HEADER_TEXT
    for block in message["blocks"][1:]:
        if block["type"] == "section" and "fields" in block:
            assert 1 <= len(block["fields"]) <= slack.FIELDS_PER_SECTION
            assert all(len(f["text"]) <= slack.FIELD_TEXT for f in block["fields"])
        elif block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= slack.SECTION_TEXT
        else:
            assert block["type"] == "context"
            assert all(len(e["text"]) <= slack.CONTEXT_TEXT for e in block["elements"])
    json.dumps(message, ensure_ascii=False).encode("utf-8")
