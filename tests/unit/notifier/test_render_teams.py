"""Teams Workflows webhook rendering: Adaptive Card 1.4 in the message envelope, under 28 KB."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given

from nightshift.notify.model import Fact, Link, Notification, Severity, Source, State
from nightshift.notify.render import teams

from .fixtures import fixture_names, notification
from .strategies import NOTIFIER_PROFILE, notifications


def card_of(payload: dict) -> dict:
    return payload["attachments"][0]["content"]


def texts(card: dict) -> list[str]:
    return [element["text"] for element in card["body"] if element["type"] == "TextBlock"]


def facts(card: dict) -> dict[str, str]:
    return {
        fact["title"]: fact["value"]
        for element in card["body"]
        if element["type"] == "FactSet"
        for fact in element["facts"]
    }


def test_payload_is_the_workflows_message_envelope_with_an_adaptive_card() -> None:
    payload = teams.render(notification("cloudwatch-alarm-metric"))

    assert payload["type"] == "message"
    assert len(payload["attachments"]) == 1
    attachment = payload["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"


def test_metric_alarm_card_has_badge_title_summary_facts_context_and_links() -> None:
    card = card_of(teams.render(notification("cloudwatch-alarm-metric")))

    badge, title, summary, *_ = texts(card)
    assert badge == "🔴 CRITICAL · CloudWatch alarm"
    assert card["body"][0]["color"] == "attention"
    assert title == "ALARM: todoapp-backend-high-cpu"
    assert summary == "CPU utilization is too high"
    assert facts(card)["Metric"].startswith("AWS/ECS CPUUtilization · Average over 5 min")
    assert facts(card)["Since"] == "2026-11-20 18:04:12 UTC"
    assert facts(card)["State"] == "OK → ALARM"
    assert facts(card)["Value"] == "91.4 vs threshold > 80"
    assert texts(card)[-1].startswith("CloudWatch alarm · eu-central-1 · account 111122223333")
    assert [action["title"] for action in card["actions"]] == ["Alarm", "Metric"]
    assert all(action["type"] == "Action.OpenUrl" for action in card["actions"])


def test_ok_card_is_resolved_in_green() -> None:
    card = card_of(teams.render(notification("cloudwatch-alarm-metric-ok")))

    assert card["body"][0]["text"] == "🟢 RESOLVED · CloudWatch alarm"
    assert card["body"][0]["color"] == "good"
    assert card["body"][1]["text"] == "RESOLVED: todoapp-backend-high-cpu"


def test_raw_message_is_a_monospace_text_run_so_markdown_is_not_applied() -> None:
    card = card_of(teams.render(notification("unrecognised-text")))

    rich = [element for element in card["body"] if element["type"] == "RichTextBlock"]
    assert rich == [
        {
            "type": "RichTextBlock",
            "inlines": [
                {
                    "type": "TextRun",
                    "text": "Nightly export finished with 3 warnings.\n"
                    "See s3://todoapp-exports/2026-11-20/ for the files.",
                    "fontType": "Monospace",
                }
            ],
        }
    ]


def huge(**changes: object) -> Notification:
    base = Notification(
        source=Source.NIGHTSHIFT_REPORT,
        severity=Severity.CRITICAL,
        state=State.INFO,
        title="pruner (staging): deleted 3000 snapshots",
        name="pruner",
        summary="3000 items",
        facts=tuple(
            Fact(f"ebs-snapshot snap-{i:017x}", "delete: DONE — " + "x" * 80) for i in range(3000)
        ),
        links=(Link("Logs", "https://example.com/logs"),),
        dedup_key="k",
        raw="",
    )
    return replace(base, **changes)


def test_a_huge_report_is_cut_to_fit_with_a_note_and_a_full_details_link() -> None:
    payload = teams.render(huge(), details_url="https://example.com/full")

    assert teams.payload_size(payload) <= teams.MAX_PAYLOAD_BYTES
    card = card_of(payload)
    assert 0 < len(facts(card)) < 3000
    assert (
        "Shortened to fit Teams' message size limit. [Full details](https://example.com/full)"
        in texts(card)
    )
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Full details",
        "url": "https://example.com/full",
    }


def test_a_huge_unrecognised_message_keeps_the_start_of_the_raw_text() -> None:
    raw = "".join(f"line {i}\n" for i in range(40_000))
    n = huge(source=Source.UNRECOGNISED, facts=(), raw=raw)

    card = card_of(teams.render(n))

    shown = next(e for e in card["body"] if e["type"] == "RichTextBlock")["inlines"][0]["text"]
    assert shown.startswith("line 0\nline 1\n")
    assert shown.endswith("…")
    assert "Shortened to fit Teams' message size limit." in texts(card)


def test_a_message_that_fits_is_not_marked_shortened() -> None:
    card = card_of(teams.render(notification("cloudwatch-alarm-composite"), "https://x.test/f"))

    assert not any("Shortened" in text for text in texts(card))
    assert "Full details" not in [action["title"] for action in card["actions"]]


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_renders_within_the_teams_size(name: str) -> None:
    payload = teams.render(notification(name))

    assert teams.payload_size(payload) <= teams.MAX_PAYLOAD_BYTES
    assert len(card_of(payload).get("actions", [])) <= teams.MAX_ACTIONS


@NOTIFIER_PROFILE
@given(n=notifications)
def test_any_notification_renders_within_the_teams_size(n: Notification) -> None:
    payload = teams.render(n, details_url="https://example.com/full")

    assert teams.payload_size(payload) <= teams.MAX_PAYLOAD_BYTES
