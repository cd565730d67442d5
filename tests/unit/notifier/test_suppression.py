"""Repeats within the window are suppressed; OK closes what ALARM opened."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from nightshift.notify.model import Fact, Notification, Severity, Source, State
from nightshift.notify.suppression import AlarmMemory, decide, event_time

from .fixtures import notification

T0 = datetime(2026, 11, 20, 18, 4, 12, tzinfo=UTC)
WINDOW = timedelta(minutes=60)
ALARM = notification("cloudwatch-alarm-metric")
OK = notification("cloudwatch-alarm-metric-ok")
KEY = ALARM.dedup_key


def memory(state: State, minutes_ago: float, message_id: str | None = None) -> AlarmMemory:
    return AlarmMemory(KEY, state, T0 - timedelta(minutes=minutes_ago), message_id)


@pytest.mark.parametrize(
    ("n", "last", "send", "remembered", "reason"),
    [
        (ALARM, None, True, State.ALARM, "first ALARM on record"),
        (
            ALARM,
            memory(State.ALARM, 5),
            False,
            None,
            "repeat of ALARM sent 5 min ago, within the 60 min repeat window",
        ),
        (
            ALARM,
            memory(State.ALARM, 61),
            True,
            State.ALARM,
            "repeat of ALARM last sent 61 min ago, beyond the 60 min repeat window",
        ),
        (OK, memory(State.ALARM, 20), True, State.OK, "ALARM → OK"),
        (ALARM, memory(State.OK, 1), True, State.ALARM, "OK → ALARM"),
        (
            OK,
            memory(State.OK, 30),
            False,
            None,
            "repeat of OK sent 30 min ago, within the 60 min repeat window",
        ),
        (OK, None, True, State.OK, "first OK on record"),
    ],
)
def test_decisions_follow_the_rules(
    n: Notification,
    last: AlarmMemory | None,
    send: bool,
    remembered: State | None,
    reason: str,
) -> None:
    decision = decide(n, last, T0, WINDOW)

    assert (decision.send, decision.reason) == (send, reason)
    if remembered is None:
        assert decision.remember is None
    else:
        assert decision.remember == AlarmMemory(KEY, remembered, T0)


def test_ok_after_alarm_says_how_long_it_was_open() -> None:
    decision = decide(OK, memory(State.ALARM, 20), T0, WINDOW)

    assert decision.annotation == Fact(
        "Resolved after", "20 min (ALARM since 2026-11-20 17:44:12 UTC)"
    )
    assert decision.applied_to(OK).facts[0] == decision.annotation
    assert decision.applied_to(OK).facts[1:] == OK.facts


def test_ok_without_an_open_alarm_is_sent_and_marked() -> None:
    decision = decide(OK, None, T0, WINDOW)

    assert decision.send
    assert decision.annotation is not None
    assert decision.annotation.label == "Note"
    assert decision.annotation.value.startswith("no open ALARM on record")


FIRST_VERDICT = replace(OK, previous_state=State.INSUFFICIENT_DATA)


def test_a_new_alarms_first_verdict_is_remembered_and_not_sent() -> None:
    decision = decide(FIRST_VERDICT, None, T0, WINDOW)

    assert (decision.send, decision.reason) == (
        False,
        "a new alarm's first verdict (INSUFFICIENT_DATA → OK): remembered, not sent",
    )
    assert decision.remember == AlarmMemory(KEY, State.OK, T0)


def test_a_new_alarm_whose_first_verdict_is_alarm_pages() -> None:
    first_alarm = replace(ALARM, previous_state=State.INSUFFICIENT_DATA)

    assert decide(first_alarm, None, T0, WINDOW).send


def test_ok_after_a_real_alarm_is_sent_even_through_insufficient_data() -> None:
    decision = decide(FIRST_VERDICT, memory(State.ALARM, 20), T0, WINDOW)

    assert decision.send
    assert decision.annotation is not None
    assert decision.annotation.label == "Resolved after"


def test_ok_after_insufficient_data_says_back_to_ok() -> None:
    decision = decide(OK, memory(State.INSUFFICIENT_DATA, 180), T0, WINDOW)

    assert decision.annotation == Fact(
        "Back to OK after", "3 h (INSUFFICIENT_DATA since 2026-11-20 15:04:12 UTC)"
    )


def test_an_alarm_is_not_annotated_and_applying_the_decision_changes_nothing() -> None:
    decision = decide(ALARM, memory(State.OK, 60 * 24 * 3), T0, WINDOW)

    assert decision.annotation is None
    assert decision.applied_to(ALARM) is ALARM


def test_a_message_older_than_the_memory_is_sent_as_late_and_the_memory_kept() -> None:
    # SQS does not keep order: the ALARM arrives after the OK that resolved it.
    last = AlarmMemory(KEY, State.OK, T0 + timedelta(minutes=20))

    decision = decide(ALARM, last, T0, WINDOW)

    assert decision.send
    assert decision.remember is None
    assert decision.annotation is not None
    assert decision.annotation.label == "Arrived late"
    assert "older than the OK of 2026-11-20 18:24:12 UTC" in decision.annotation.value


def test_an_older_copy_of_the_remembered_state_is_suppressed() -> None:
    last = AlarmMemory(KEY, State.ALARM, T0 + timedelta(seconds=30))

    assert not decide(ALARM, last, T0, WINDOW).send


def test_a_retry_of_the_message_that_set_the_memory_is_sent_again() -> None:
    decision = decide(ALARM, memory(State.ALARM, 1, "m-1"), T0, WINDOW, message_id="m-1")

    assert decision.send
    assert decision.reason == "retry of the message that set the memory"
    assert decision.remember is None


def test_the_memory_records_the_message_that_set_it() -> None:
    assert decide(ALARM, None, T0, WINDOW, message_id="m-1").remember == AlarmMemory(
        KEY, State.ALARM, T0, "m-1"
    )


def test_a_zero_window_never_suppresses() -> None:
    assert decide(ALARM, memory(State.ALARM, 0), T0, timedelta(0)).send


def test_unrecognised_messages_are_never_suppressed_nor_remembered() -> None:
    raw = notification("unrecognised-text")
    last = AlarmMemory(raw.dedup_key, raw.state, T0)

    decision = decide(raw, last, T0, WINDOW)

    assert (decision.send, decision.remember) == (True, None)


def test_reports_and_deployments_repeat_by_their_own_keys() -> None:
    report = notification("nightshift-report-scheduler")
    first = decide(report, None, T0, WINDOW)

    again = decide(report, first.remember, T0 + timedelta(minutes=1), WINDOW)

    assert first.send
    assert not again.send


def test_memory_of_another_key_is_a_programming_error() -> None:
    other = AlarmMemory("cloudwatch-alarm:other", State.ALARM, T0)

    with pytest.raises(ValueError, match="memory for 'cloudwatch-alarm:other'"):
        decide(ALARM, other, T0, WINDOW)


def test_naive_times_are_taken_as_utc() -> None:
    naive = T0.replace(tzinfo=None)

    decision = decide(ALARM, memory(State.ALARM, 5), naive, WINDOW)

    assert not decision.send


def test_event_time_is_the_state_change_time_when_known() -> None:
    fallback = datetime(2030, 1, 1, tzinfo=UTC)

    assert event_time(ALARM, fallback) == datetime(2026, 11, 20, 18, 4, 12, 205000, tzinfo=UTC)
    assert event_time(replace(ALARM, occurred_at=None), fallback) == fallback
    assert event_time(replace(ALARM, occurred_at="soon"), fallback) == fallback


def test_a_day_of_flapping_alarm_sends_each_change_and_one_reminder_per_window() -> None:
    sent = []
    last = None
    timeline = [
        (0, State.ALARM),
        (10, State.ALARM),  # repeat, suppressed
        (65, State.ALARM),  # reminder after the window
        (70, State.OK),
        (71, State.OK),  # repeat, suppressed
        (80, State.ALARM),
    ]
    for minute, state in timeline:
        n = replace(ALARM, state=state, severity=Severity.CRITICAL, source=Source.CLOUDWATCH_ALARM)
        decision = decide(n, last, T0 + timedelta(minutes=minute), WINDOW)
        if decision.send:
            sent.append((minute, state))
        last = decision.remember or last

    assert sent == [(0, State.ALARM), (65, State.ALARM), (70, State.OK), (80, State.ALARM)]
