"""The week's checks (localcloud.week.summary) and its page (localcloud.week.doc), over
transcripts made here: pure, no local cloud."""

from __future__ import annotations

import datetime as dt
import doctest
from zoneinfo import ZoneInfo

from localcloud.project import Project
from localcloud.week import plan, play, schedules, summary
from localcloud.week.doc import render
from localcloud.week.plan import HOLIDAY, MONDAY, Week
from localcloud.week.summary import (
    INCIDENTS_ONCE,
    INCIDENTS_PAGED,
    PARKING_PAGES,
    PRODUCTION,
    ROUTINE,
    STARTS_HEALTHY,
    FleetFacts,
    Kind,
    Message,
    Run,
    dollars_saved,
    from_json,
    kind_of,
    summarize,
    to_json,
)

WEEK = Week(MONDAY, ZoneInfo("Europe/Berlin"), HOLIDAY)
WEEK_POLICY_FILE = Project.at().root / "policy" / play.WEEK_POLICY
DOWN = "nightshift-staging-canary-backend-down"


def at(label: str) -> dt.datetime:
    return WEEK.at_label(label)


def slack(header: str, body: str = "") -> str:
    return f"[slack]\n(notification text) {header}\n▌{header}\n{body}"


def message(label: str, header: str, body: str = "") -> Message:
    return Message(at(label), "/oncall", slack(header, body))


def facts(**changes: object) -> FleetFacts:
    base = {
        "parked": ((at("Mon 19:00"), at("Tue 07:30")),),
        "started": (at("Tue 07:30"),),
        "healthy_after_start": (at("Tue 07:31"),),
        "production_before": {"todoapp-backend-production": "desired 3"},
        "production_after": {"todoapp-backend-production": "desired 3"},
        "incidents": WEEK.incidents(),
    }
    return FleetFacts(**{**base, **changes})  # type: ignore[arg-type]


def summary_of(messages: list[Message], fleet: FleetFacts | None = None, runs: list[Run] = []):  # noqa: B006
    return summarize(messages, runs, fleet or facts(), WEEK.day_of, WEEK.days)


# Today's behaviour, as the issue describes it: the canary pages when staging is parked.
BEFORE = [
    message("Mon 10:04", "Deployed todoapp-backend-service (staging)"),
    message("Mon 19:00", "Scheduler (staging): 2 stopped"),
    message("Mon 19:03", f"ALARM: {DOWN}", "staging"),
    message("Tue 07:30", "Scheduler (staging): 2 started"),
    message("Tue 07:34", f"OK: {DOWN}", "staging"),
    message("Tue 14:03", f"ALARM: {DOWN}", "staging"),
    message("Tue 14:12", f"OK: {DOWN}", "staging"),
    message("Tue 15:36", "Deployment failed: todoapp-backend-service rolled back (staging)"),
    message("Tue 15:42", "Deployment completed: todoapp-backend-service (staging)"),
]
# The behaviour #13 asks for: no page while parked, a start verified healthy, one digest.
AFTER = [
    message("Tue 07:34", "Last night: staging parked 19:00-07:30, started and healthy at 07:34"),
    message("Tue 14:03", f"ALARM: {DOWN}", "staging"),
    message("Tue 14:12", f"OK: {DOWN}", "staging"),
    message("Tue 15:36", "Deployment failed: todoapp-backend-service rolled back (staging)"),
    message("Tue 15:42", "Deployment completed: todoapp-backend-service (staging)"),
]


def test_kinds_follow_what_people_read_first() -> None:
    assert kind_of(slack(f"ALARM: {DOWN}")) is Kind.PAGE
    assert kind_of(slack(f"OK: {DOWN}")) is Kind.INFO
    assert kind_of(slack("Scheduler (staging): 2 stopped")) is Kind.INFO
    assert kind_of(slack("AWS Budgets: todoapp-monthly has exceeded your alert threshold")) is (
        Kind.PAGE
    )
    assert kind_of(slack("Last night: staging parked")) is Kind.DIGEST


def test_todays_behaviour_fails_the_parking_start_and_routine_checks() -> None:
    summary = summary_of(BEFORE)
    assert not summary.check(PARKING_PAGES).holds
    assert summary.check(PARKING_PAGES).detail.startswith("1 page(s)")
    assert not summary.check(STARTS_HEALTHY).holds  # nothing in chat said it came back healthy
    assert not summary.check(ROUTINE).holds  # Tuesday: started, OK, OK, completed
    assert summary.check(INCIDENTS_PAGED).holds
    assert summary.check(INCIDENTS_ONCE).holds
    assert summary.check(PRODUCTION).holds
    tuesday = summary.counts[dt.date(2026, 10, 20)]
    assert (tuesday[Kind.PAGE], tuesday[Kind.INFO], tuesday[Kind.DIGEST]) == (2, 4, 0)


def test_the_behaviour_asked_for_passes_every_check() -> None:
    summary = summary_of(AFTER)
    failing = [c for c in summary.checks if not c.holds and c.name != ROUTINE]
    assert failing == []
    # Tuesday's routine: the digest and the deployment completed; the alarm's OK closes a page.
    assert summary.routine[(dt.date(2026, 10, 20), "staging")] == 2


def test_a_warning_is_sent_at_once_and_is_not_a_routine_message() -> None:
    """The notifier's warning mark (a new refusal, a budget over its threshold): not a page, not
    what a digest would keep."""
    refusal = message("Mon 00:00", ":large_orange_circle: scheduler (staging): 2 refused")
    summary = summary_of([*AFTER, refusal])
    monday = summary.counts[dt.date(2026, 10, 19)]
    assert monday[Kind.WARNING] == 1
    assert summary.routine.get((dt.date(2026, 10, 19), "staging"), 0) == summary_of(
        AFTER
    ).routine.get((dt.date(2026, 10, 19), "staging"), 0)


def test_an_incident_paged_twice_or_never_resolved_fails_once() -> None:
    twice = [*AFTER, message("Tue 14:05", f"ALARM: {DOWN}", "staging")]
    assert not summary_of(twice).check(INCIDENTS_ONCE).holds
    assert summary_of(twice).check(INCIDENTS_PAGED).holds
    unpaged = [m for m in AFTER if "ALARM" not in m.text]
    assert not summary_of(unpaged).check(INCIDENTS_PAGED).holds


def test_production_changed_or_acted_on_fails() -> None:
    changed = facts(production_after={"todoapp-backend-production": "desired 0"})
    assert not summary_of(AFTER, changed).check(PRODUCTION).holds
    acted = facts(production_touched=("SchedulerFunction stop arn:...todoapp-backend-production",))
    assert not summary_of(AFTER, acted).check(PRODUCTION).holds
    assert not summary_of(AFTER, facts(production_before={})).check(PRODUCTION).holds


def test_dollars_come_from_the_schedulers_reports_or_say_not_priced() -> None:
    plain = Run(at("Mon 19:00"), "SchedulerFunction", {"totals": {"stopped": 2}})
    priced = Run(at("Tue 07:30"), "SchedulerFunction", {"totals": {"usd_saved": 3.1}})
    other = Run(at("Tue 03:00"), "PrunerFunction", {"totals": {"usd_saved": 99}})
    assert dollars_saved([plain, other]) == "not priced"
    assert dollars_saved([plain, priced, other]) == "$3.10"


def test_the_record_round_trips_and_the_page_shows_every_day() -> None:
    runs = [Run(at("Mon 19:00"), "SchedulerFunction", {"summary": "2 stopped", "totals": {}})]
    figures = {"seconds": 300.0, "played_until": WEEK.end.isoformat(), "invocations": {}}
    record = to_json(BEFORE, runs, facts(), figures)
    messages, runs_back, facts_back, figures_back = from_json(record, WEEK.incidents())
    assert messages == BEFORE
    assert facts_back == facts()
    assert runs_back[0].payload["summary"] == "2 stopped"
    page = render(WEEK, messages, summary_of(messages, facts_back), figures_back)
    assert page.startswith("<!-- Generated by `make week`")
    assert "Played: the whole week" in page
    for day in WEEK.days:
        assert f"### {day:%A %d %B}" in page
    assert f"ALARM: {DOWN}" in page
    assert "| Tue 20 Oct | 2 | 0 | 4 | 0 |" in page  # pages, warnings, info, digests


def test_the_page_puts_the_week_without_the_digest_beside_it_up_to_where_both_played() -> None:
    """--compare: per day, pages and routine messages before (every route immediate) and
    after (the digest), over what both plays reached; a day neither reached is said."""
    figures = {"seconds": 300.0, "played_until": at("Wed 12:00").isoformat()}
    compared = (summary_of(AFTER), summary_of(BEFORE), at("Tue 22:00"))
    page = render(WEEK, AFTER, summary_of(AFTER), figures, compared)
    assert "## Before and after the digest" in page
    assert "up to Tue 22:00" in page
    # Monday: the parked evening's page and 2 routine reports (deploy, stop) before, none after
    assert "| Mon 19 Oct | 1 | 0 | 2 | 0 | 3 | 0 | not priced |" in page
    # Tuesday (to 22:00): the start and the OK before; the digest and the completion after
    assert "| Tue 20 Oct (to 22:00) | 2 | 2 | 2 | 2 | 6 | 5 | not priced |" in page
    assert "| Wed 21 Oct (holiday) (not played in both) |" in page
    assert "| **played in both** | **3** | **2** | **4** | **2** | **9** | **5** |" in page
    assert "## Before and after" not in render(WEEK, AFTER, summary_of(AFTER), figures)


def test_without_digest_leaves_the_week_policy_every_route_immediate() -> None:
    text = (WEEK_POLICY_FILE).read_text(encoding="utf-8")
    immediate = play.without_digest(text)
    assert "deliver: digest" in text
    assert "deliver" not in immediate
    assert "digest:" not in immediate
    assert immediate.count("- to: [oncall]") == text.count("- to: [oncall]")


def test_the_examples_in_the_docstrings_hold() -> None:
    for module in (plan, summary, play, schedules):
        assert doctest.testmod(module).failed == 0


def test_every_schedule_fires_at_its_own_expression_through_the_week() -> None:
    week = Week(MONDAY, ZoneInfo("Europe/Berlin"), HOLIDAY)
    minutes = list(week.minutes())
    fired = {
        expression: [
            at for at in minutes if schedules.Due.of(expression, zone).fires(at, week.start)
        ]
        for expression, zone in (
            ("rate(1 minute)", "UTC"),
            ("rate(5 minutes)", "UTC"),
            ("cron(0 3 * * ? *)", "Europe/Berlin"),
            ("cron(30 7 ? * MON-FRI *)", "Europe/Berlin"),
        )
    }
    assert len(fired["rate(1 minute)"]) == 10_140  # 169 hours: the Sunday has 25
    assert len(fired["rate(5 minutes)"]) == 10_140 // 5
    assert [week.local_label(at) for at in fired["cron(0 3 * * ? *)"]] == [
        f"{day} 03:00" for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    ]
    assert [week.local_label(at) for at in fired["cron(30 7 ? * MON-FRI *)"]] == [
        f"{day} 07:30" for day in ("Mon", "Tue", "Wed", "Thu", "Fri")
    ]


def test_a_schedule_the_week_cannot_tick_by_is_refused() -> None:
    for expression in ("cron(0 3 1 * ? *)", "at(2026-10-20T10:00:00)", "cron(0/0 * * * ? *)"):
        try:
            schedules.Due.of(expression)
        except ValueError:
            continue
        raise AssertionError(f"{expression} was accepted")


def test_a_cron_step_fires_every_step_th_minute_as_the_digest_schedule_does() -> None:
    quarter = schedules.Due.of("cron(0/15 * * * ? *)")
    start = dt.datetime(2026, 10, 19, tzinfo=dt.UTC)

    fired = [m for m in range(120) if quarter.fires(start + dt.timedelta(minutes=m), start)]

    assert fired == [0, 15, 30, 45, 60, 75, 90, 105]
