"""Email rendering: an ASCII subject under 100 characters and a plain-text body."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nightshift.notify.model import Notification, Severity
from nightshift.notify.render import email
from nightshift.notify.render.email import EmailMessage, subject_line

from .fixtures import fixture_names, notification
from .strategies import NOTIFIER_PROFILE, notifications


def test_metric_alarm_email_reads_top_to_bottom() -> None:
    message = email.render(notification("cloudwatch-alarm-metric"))

    assert isinstance(message, EmailMessage)
    assert message.subject == "ALARM: todoapp-backend-high-cpu"
    lines = message.text.splitlines()
    assert lines[:4] == [
        "ALARM: todoapp-backend-high-cpu",
        "===============================",
        "",
        "CPU utilization is too high",
    ]
    assert "State: OK → ALARM" in lines
    assert "Value: 91.4 vs threshold > 80" in lines
    assert "Since: 2026-11-20 18:04:12 UTC" in lines
    assert (
        "  Alarm: https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1"
        "#alarmsV2:alarm/todoapp-backend-high-cpu"
    ) in lines
    assert lines[-3:] == [
        "-- ",
        "CloudWatch alarm · eu-central-1 · account 111122223333 · 2026-11-20 18:04:12 UTC",
        "Sent by Nightshift.",
    ]


def test_long_fact_values_are_wrapped_and_indented_under_their_label() -> None:
    lines = email.render(notification("cloudwatch-alarm-metric")).text.splitlines()

    start = lines.index("Metric:")
    assert lines[start + 1].startswith("  AWS/ECS CPUUtilization · Average over 5 min · ")
    assert lines[start + 2] == "  ClusterName=todoapp-cluster"
    assert all(len(line) <= 100 for line in lines[start : start + 3])


def test_ok_email_subject_says_resolved() -> None:
    assert email.render(notification("cloudwatch-alarm-metric-ok")).subject == (
        "RESOLVED: todoapp-backend-high-cpu"
    )


def test_unrecognised_email_ends_with_the_message_as_received() -> None:
    text = email.render(notification("unrecognised-text")).text

    assert text.endswith(
        "Message as received:\n\nNightly export finished with 3 warnings.\n"
        "See s3://todoapp-exports/2026-11-20/ for the files."
    )


@pytest.mark.parametrize(
    ("title", "subject"),
    [
        ("ALARM: cpu", "ALARM: cpu"),
        ("Budget x: cost → €5 — “high”", 'Budget x: cost -> EUR5 - "high"'),
        ("Grüße aus Köln", "Grue aus Koln"),  # accents dropped; no ASCII form of ß
        ("line one\nline two\ttab", "line one line two tab"),
        ("\x00\x07", "Nightshift notification"),
        ("🔥🔥", "Nightshift notification"),
        ("x" * 150, "x" * 96 + "..."),
    ],
)
def test_subject_is_ascii_one_line_and_under_100_characters(title: str, subject: str) -> None:
    assert subject_line(title) == subject


def test_a_huge_unrecognised_message_is_cut_with_a_full_details_link() -> None:
    n = replace(notification("unrecognised-text"), raw="é" * 300_000)

    message = email.render(n, details_url="https://example.com/full")

    assert len(message.text.encode("utf-8")) <= email.BODY_BYTES
    assert message.text.endswith(
        "[Shortened to fit the email size limit. Full details: https://example.com/full]"
    )
    assert "Sent by Nightshift." in message.text  # the cut takes the raw text, not the facts


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_renders_a_valid_email(name: str) -> None:
    assert_valid(email.render(notification(name)))


@NOTIFIER_PROFILE
@given(n=notifications, details=st.one_of(st.none(), st.just("https://example.com/full")))
def test_any_notification_renders_a_valid_email(n: Notification, details: str | None) -> None:
    assert_valid(email.render(n, details_url=details))


def assert_valid(message: EmailMessage) -> None:
    assert 0 < len(message.subject) < 100
    assert message.subject.isascii()
    assert message.subject.isprintable()
    assert message.subject == message.subject.strip()
    assert len(message.text.encode("utf-8")) <= email.BODY_BYTES


def test_subject_is_the_title_whatever_the_severity() -> None:
    n = notification("cloudwatch-alarm-metric")

    assert email.render(replace(n, severity=Severity.INFO)).subject == n.title
