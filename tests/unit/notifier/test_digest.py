"""The daily digest: which messages wait, when the digest is due (DST, time zones), what it says,
and the service keeping, sending once, and retrying on in-memory ports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nightshift.errors import AwsError, PolicyError
from nightshift.notify.digest import (
    DigestEntry,
    DigestSchedule,
    compose,
    next_due,
    plan_digests,
    routine,
)
from nightshift.notify.events import QueuedMessage
from nightshift.notify.model import Notification, Severity, State
from nightshift.notify.routing import NotifyPolicy
from nightshift.notify.service import Notifier, Tally, UndeliveredError
from nightshift.notify.sources import parse
from nightshift.report import Outcome, Report, ReportItem
from tests.support.fakes.notifier import EmailOutbox, MemoryLedger, WebhookInbox
from tests.unit.notifier.fixtures import notification, record

BERLIN = DigestSchedule.parse("08:00", "Europe/Berlin")
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


# -- when the digest is due ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "after", "due"),
    [
        # Winter (CET, UTC+1) and summer (CEST, UTC+2): the same 08:00 on the wall clock.
        (BERLIN, "2026-11-23T18:00:00Z", "2026-11-24T07:00:00Z"),
        (BERLIN, "2026-07-01T18:00:00Z", "2026-07-02T06:00:00Z"),
        # Before today's 08:00: today's; exactly at it: tomorrow's (never the one just sent).
        (BERLIN, "2026-11-24T06:59:59Z", "2026-11-24T07:00:00Z"),
        (BERLIN, "2026-11-24T07:00:00Z", "2026-11-25T07:00:00Z"),
        # The night clocks go back (25 Oct 2026, 03:00 CEST -> 02:00 CET): 08:00 CET.
        (BERLIN, "2026-10-24T17:00:00Z", "2026-10-25T07:00:00Z"),
        # The night clocks go forward (29 Mar 2026, 02:00 CET -> 03:00 CEST): 08:00 CEST.
        (BERLIN, "2026-03-28T18:00:00Z", "2026-03-29T06:00:00Z"),
        # 02:30 does not exist on 29 Mar: sent at 03:30 CEST, an hour later by the wall clock.
        (
            DigestSchedule.parse("02:30", "Europe/Berlin"),
            "2026-03-28T18:00:00Z",
            "2026-03-29T01:30:00Z",
        ),
        # 02:30 happens twice on 25 Oct: sent the first time (CEST).
        (
            DigestSchedule.parse("02:30", "Europe/Berlin"),
            "2026-10-24T18:00:00Z",
            "2026-10-25T00:30:00Z",
        ),
        # Another zone reads the same instant on another day.
        (
            DigestSchedule.parse("08:00", "America/New_York"),
            "2026-11-24T02:00:00Z",
            "2026-11-24T13:00:00Z",
        ),
        (DigestSchedule.parse("08:00", "UTC"), "2026-11-24T02:00:00Z", "2026-11-24T08:00:00Z"),
    ],
)
def test_the_digest_is_due_at_the_next_local_time_across_dst_and_zones(
    schedule: DigestSchedule, after: str, due: str
) -> None:
    assert next_due(schedule, at(after)) == at(due)


# -- which messages may wait ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "waits"),
    [
        ("nightshift-report-pruner", True),
        ("nightshift-report-scheduler-start", True),
        ("ecs-deployment-completed", True),
        ("nightshift-report-scheduler", False),  # a refusal: warning
        ("nightshift-report-pruner-failed", False),
        ("cloudwatch-alarm-metric", False),
        ("cloudwatch-alarm-metric-ok", False),  # the resolve goes with its page
        ("ecs-deployment-rollback-in-progress", False),
        ("budgets-actual", False),
        ("unrecognised-text", False),
        ("nightshift-report-scheduler-heads-up", False),  # a digest would come after the stop
    ],
)
def test_only_routine_messages_wait_for_a_digest(fixture: str, waits: bool) -> None:
    assert routine(notification(fixture))[0] is waits


DIGEST_POLICY: Mapping[str, Any] = {
    "destinations": {
        "oncall": {"type": "slack", "secret": "nightshift/slack"},
        "ops": {"type": "teams", "secret": "nightshift/teams"},
    },
    "digest": {"at": "08:00", "timezone": "Europe/Berlin"},
    "routes": [
        {"match": {"source": ["nightshift-report"]}, "to": ["ops"], "deliver": "digest"},
        {"to": ["oncall"]},
    ],
}


def test_a_digest_route_keeps_routine_reports_and_sends_pages_at_once() -> None:
    policy = NotifyPolicy.from_section(DIGEST_POLICY)

    routine_report = policy.route(notification("nightshift-report-pruner"))
    failed_report = policy.route(notification("nightshift-report-pruner-failed"))

    assert (routine_report.destinations, routine_report.digest) == ((), ("ops",))
    assert (failed_report.destinations, failed_report.digest) == (("ops",), ())
    assert "not digested: a critical message is a page" in failed_report.reason


def test_a_destination_one_route_wants_at_once_is_not_also_digested() -> None:
    section = {
        **DIGEST_POLICY,
        "routes": [
            {"to": ["ops"], "deliver": "digest", "continue": True},
            {"match": {"source": ["nightshift-report"]}, "to": ["ops", "oncall"]},
        ],
    }

    decision = NotifyPolicy.from_section(section).route(notification("nightshift-report-pruner"))

    assert (decision.destinations, decision.digest) == (("ops", "oncall"), ())


def test_a_digest_route_without_a_digest_time_is_refused_naming_the_route() -> None:
    section = {k: v for k, v in DIGEST_POLICY.items() if k != "digest"}

    with pytest.raises(PolicyError, match=r"notify\.routes\[0\]\.deliver: `deliver: digest` needs"):
        NotifyPolicy.from_section(section)


# -- what the digest says ---------------------------------------------------------------------


def report(function: str, time: str, *items: ReportItem, **totals: float) -> Report:
    return Report(function, f"{function}-{time}", time, "staging", False, "s", items, totals)


def entry(r: Report, title: str = "") -> DigestEntry:
    moment = at(r.time)
    due = next_due(BERLIN, moment)
    return DigestEntry(r.run_id, "ops", due, moment, title or r.summary, r.dumps())


STOP = ReportItem("svc/backend", "ecs-service", "stop", Outcome.DONE, "off-hours")
START = ReportItem(
    "svc/backend", "ecs-service", "start", Outcome.DONE, "office-hours", {"saved_usd": 3.1}
)
DOWN_PAGED = ReportItem(
    "backend", "http-check", "probe", Outcome.FAILED, "down: 503", {"paged_by": "alarm"}
)
HEALTHY = ReportItem(
    "backend",
    "http-check",
    "probe",
    Outcome.DONE,
    "up; healthy 4 min after the start",
    {"time_to_healthy_s": 240},
)


def test_the_digest_says_the_night_in_one_sentence_with_dollars() -> None:
    night = [
        entry(report("scheduler", "2026-11-23T18:00:00Z", STOP)),
        entry(
            report(
                "pruner",
                "2026-11-24T02:00:00Z",
                deleted=3,
                deleted_gib=60.0,
                monthly_savings_usd=3.0,
            )
        ),
        entry(report("scheduler", "2026-11-24T06:30:00Z", START)),
        entry(report("canary", "2026-11-24T06:34:00Z", HEALTHY)),
    ]

    digest = compose(night, "staging", BERLIN.zone, at("2026-11-24T07:00:00Z"))

    assert digest.title == "staging digest · Tue 24 Nov"
    assert digest.summary == (
        "Last night: staging parked 19:00\N{EN DASH}07:30 (12.5 h, ≈ $3.10 saved), started and "
        "healthy at 07:34; 3 snapshots pruned (60 GiB, $3.00/month)."
    )
    assert (digest.severity, digest.state) == (Severity.INFO, State.INFO)
    assert digest.facts == ()  # the sentence says it all, once


def test_a_start_over_two_runs_is_one_night_started_at_the_last_start() -> None:
    database = ReportItem(
        "db/todoapp",
        "rds-instance",
        "start",
        Outcome.DONE,
        "office-hours",
        {"saved_usd": 1.0, "hours_parked": 12.5},
    )
    service = replace(START, details={"saved_usd": 2.1, "hours_parked": 12.6})
    night = [
        entry(report("scheduler", "2026-11-23T18:00:00Z", STOP)),
        entry(report("scheduler", "2026-11-24T06:30:00Z", database)),
        # healthy before the service started: not the environment's start
        entry(report("canary", "2026-11-24T06:31:00Z", HEALTHY)),
        entry(report("scheduler", "2026-11-24T06:35:00Z", service)),
        entry(report("canary", "2026-11-24T06:36:00Z", HEALTHY)),
    ]

    digest = compose(night, "staging", BERLIN.zone, at("2026-11-24T07:00:00Z"))

    assert digest.summary == (
        "Last night: staging parked 19:00\N{EN DASH}07:35 (12.6 h, ≈ $3.10 saved), started and "
        "healthy at 07:36."
    )


def test_a_weekend_shows_weekdays_and_what_no_line_says_is_listed_not_lost() -> None:
    weekend = [
        entry(report("scheduler", "2026-11-20T18:00:00Z", STOP)),
        entry(report("scheduler", "2026-11-23T06:30:00Z", replace(START, details={}))),
        entry(
            report("canary", "2026-11-22T10:00:00Z", DOWN_PAGED),
            title="canary (staging): down: backend",
        ),
    ]

    digest = compose(weekend, "staging", BERLIN.zone, at("2026-11-23T07:00:00Z"))

    assert digest.summary.startswith(
        "Since Fri: staging parked Fri 19:00\N{EN DASH}Mon 07:30 (60.5 h), started at Mon 07:30"
    )
    assert "1 other report" in digest.summary
    assert ("Also", "11:00 canary (staging): down: backend") in [
        (f.label, f.value) for f in digest.facts
    ]


def deployed(action: str, service: str = "api") -> ReportItem:
    arn = f"arn:aws:ecs:eu-central-1:123456789012:service/todoapp/{service}"
    return ReportItem(arn, "ecs-service", action, Outcome.DONE, "")


def test_a_redeploy_and_the_completion_of_its_deployment_are_one_phrase() -> None:
    day = [
        entry(report("redeploy", "2026-11-24T09:00:00Z", deployed("redeploy"))),
        entry(report("redeploy", "2026-11-24T09:00:30Z", deployed("redeploy", "worker"))),
        entry(report("redeploy", "2026-11-24T09:04:00Z", deployed("deployment"))),
        # a deployment Nightshift did not start: said on its own
        entry(report("redeploy", "2026-11-24T13:00:00Z", deployed("deployment", "admin"))),
        entry(report("redeploy", "2026-11-24T14:30:00Z", deployed("redeploy"))),
    ]

    digest = compose(day, "staging", BERLIN.zone, at("2026-11-25T07:00:00Z"))

    assert digest.summary == (
        "api redeployed at 10:00, completed 10:04; worker redeployed at 10:00; "
        "admin deployment completed at 14:00; api redeployed at 15:30."
    )
    assert digest.facts == ()  # every report is said


def test_a_night_still_parked_says_since_when() -> None:
    digest = compose(
        [entry(report("scheduler", "2026-11-23T18:00:00Z", STOP))],
        "staging",
        BERLIN.zone,
        at("2026-11-24T07:00:00Z"),
    )

    assert digest.summary == "Last night: staging parked since 19:00."


def test_a_dry_run_prune_says_it_would_prune() -> None:
    dry = replace(
        report("pruner", "2026-11-24T02:00:00Z", deleted=1, deleted_gib=20.0), dry_run=True
    )

    digest = compose([entry(dry)], "staging", BERLIN.zone, at("2026-11-24T07:00:00Z"))

    assert digest.summary == "1 snapshot would be pruned (dry run) (20 GiB)."


def test_digests_already_sent_are_planned_to_be_forgotten_not_sent_again() -> None:
    a = entry(report("pruner", "2026-11-24T02:00:00Z", deleted=1))
    b = replace(a, message_id="m-2")
    c = replace(a, message_id="m-3", destination="mail")

    plans = plan_digests([a, b, c], {(a.message_id, "ops")})

    assert [(p.destination, p.send, p.already_sent) for p in plans] == [
        ("mail", (c,), ()),
        ("ops", (b,), (a,)),
    ]


# -- the service: keep, send when due, once, retry ---------------------------------------------


class ForgetfulOnce(MemoryLedger):
    """A ledger whose first forget fails, as a throttled DeleteItem would."""

    failed: bool = False

    def forget_digest(self, entry: DigestEntry) -> None:
        if not self.failed:
            self.failed = True
            raise AwsError("DeleteItem", "ThrottlingException", "slow down")
        super().forget_digest(entry)


def notifier(ledger: MemoryLedger, webhooks: WebhookInbox) -> Notifier:
    policy = NotifyPolicy.from_section(DIGEST_POLICY)
    return Notifier(policy, ledger, webhooks.url, webhooks.post, EmailOutbox(), "staging")


def queued(name: str) -> QueuedMessage:
    return QueuedMessage.from_sqs_record(record(name), dt.datetime(2026, 11, 23, tzinfo=UTC))


def test_a_routine_report_is_kept_counted_and_sent_once_when_due() -> None:
    ledger, webhooks = MemoryLedger(), WebhookInbox()
    service = notifier(ledger, webhooks)

    kept = service.handle(queued("nightshift-report-scheduler-start"))
    service.handle(queued("nightshift-report-scheduler-start"))  # SQS redelivery: kept once
    early = service.send_digests(at("2026-11-23T06:45:00Z"))
    due = service.send_digests(at("2026-11-23T07:00:00Z"))
    again = service.send_digests(at("2026-11-23T07:00:00Z"))

    assert (kept.digested, kept.delivered) == (("ops",), ())
    assert kept.counts == {Tally.DIGESTED: 1, Tally.SENT: 0}
    assert (early.due, early.sent) == (0, ())
    assert (due.due, due.sent) == (1, ("ops",))
    assert (again.due, again.sent) == (0, ())
    assert webhooks.destinations() == ["ops"]
    assert ledger.kept == {}


def test_a_page_on_a_digest_route_is_sent_at_once() -> None:
    ledger, webhooks = MemoryLedger(), WebhookInbox()

    delivery = notifier(ledger, webhooks).handle(queued("nightshift-report-pruner-failed"))

    assert (delivery.delivered, delivery.digested) == (("ops",), ())
    assert ledger.kept == {}


def test_a_digest_that_fails_is_kept_and_sent_by_the_next_run() -> None:
    ledger, webhooks = MemoryLedger(), WebhookInbox(failing={"ops"})
    service = notifier(ledger, webhooks)
    service.handle(queued("nightshift-report-pruner"))

    with pytest.raises(UndeliveredError, match="ops"):
        service.send_digests(at("2026-11-23T07:00:00Z"))
    assert len(ledger.kept) == 1
    webhooks.failing.clear()
    later = service.send_digests(at("2026-11-23T07:15:00Z"))

    assert later.sent == ("ops",)
    assert webhooks.destinations() == ["ops"]
    assert ledger.kept == {}


def test_a_run_retried_after_its_digest_went_out_does_not_send_it_again() -> None:
    ledger, webhooks = ForgetfulOnce(), WebhookInbox()
    service = notifier(ledger, webhooks)
    service.handle(queued("nightshift-report-pruner"))

    with pytest.raises(AwsError, match="DeleteItem"):
        service.send_digests(at("2026-11-23T07:00:00Z"))
    retried = service.send_digests(at("2026-11-23T07:00:00Z"))

    assert webhooks.destinations() == ["ops"]
    assert (retried.due, retried.sent) == (1, ())
    assert ledger.kept == {}


# -- one incident, one page -------------------------------------------------------------------


def canary_report(*details: dict[str, Any], errors: tuple[str, ...] = ()) -> Notification:
    items = tuple(
        ReportItem(f"check-{n}", "http-check", "probe", Outcome.FAILED, "down: 503", d)
        for n, d in enumerate(details)
    )
    r = Report(
        "canary", "r-1", "2026-11-24T13:00:00Z", "staging", False, "down", items, errors=errors
    )
    message = QueuedMessage.from_sqs_record(
        {"messageId": "m-1", "body": r.dumps()}, dt.datetime(2026, 11, 24, tzinfo=UTC)
    )
    return parse(message.inbound)


DOWN_ALARM = "nightshift-staging-canary-check-down-check-0"


def test_a_canary_failure_its_alarm_pages_for_is_routine_and_says_which_alarm() -> None:
    n = canary_report({"paged_by": DOWN_ALARM})

    assert n.severity is Severity.INFO
    assert ("Paged by", DOWN_ALARM) in [(f.label, f.value) for f in n.facts]
    assert routine(n) == (True, "routine")


@pytest.mark.parametrize(
    ("details", "errors"),
    [
        (({},), ()),  # no alarm in place (a dry run): the report is the page
        (({"paged_by": DOWN_ALARM}, {}), ()),  # one failure no alarm covers
        (({"paged_by": DOWN_ALARM},), ("alarms not checked: throttled",)),
    ],
)
def test_a_canary_failure_no_alarm_covers_still_pages(
    details: tuple[dict[str, Any], ...], errors: tuple[str, ...]
) -> None:
    assert canary_report(*details, errors=errors).severity is Severity.CRITICAL


def test_zone_of_the_schedule_is_the_policy_zone() -> None:
    policy = NotifyPolicy.from_section(DIGEST_POLICY)

    assert policy.digest == DigestSchedule(dt.time(8, 0), ZoneInfo("Europe/Berlin"))


def test_a_digest_kept_for_a_destination_the_policy_dropped_goes_to_the_fallback() -> None:
    ledger, webhooks = MemoryLedger(), WebhookInbox()
    notifier(ledger, webhooks).handle(queued("nightshift-report-pruner"))
    section = {
        **DIGEST_POLICY,
        "destinations": {"oncall": DIGEST_POLICY["destinations"]["oncall"]},
        "routes": [{"to": ["oncall"]}],
        "fallback": "oncall",
    }
    changed = Notifier(
        NotifyPolicy.from_section(section),
        ledger,
        webhooks.url,
        webhooks.post,
        EmailOutbox(),
        "staging",
    )

    run = changed.send_digests(at("2026-11-23T07:00:00Z"))

    assert run.sent == ("ops",)
    assert webhooks.destinations() == ["oncall"]
    assert ledger.kept == {}


def test_without_a_fallback_such_a_digest_is_kept_and_the_run_fails() -> None:
    ledger, webhooks = MemoryLedger(), WebhookInbox()
    notifier(ledger, webhooks).handle(queued("nightshift-report-pruner"))
    section = {
        **DIGEST_POLICY,
        "destinations": {"oncall": DIGEST_POLICY["destinations"]["oncall"]},
        "routes": [{"to": ["oncall"]}],
    }
    changed = Notifier(
        NotifyPolicy.from_section(section),
        ledger,
        webhooks.url,
        webhooks.post,
        EmailOutbox(),
        "staging",
    )

    with pytest.raises(UndeliveredError, match="no longer has"):
        changed.send_digests(at("2026-11-23T07:00:00Z"))

    assert webhooks.posts == []
    assert len(ledger.kept) == 1


def test_a_healthy_start_is_said_even_when_the_start_report_went_out_at_once() -> None:
    digest = compose(
        [entry(report("canary", "2026-11-24T06:34:00Z", HEALTHY))],
        "staging",
        BERLIN.zone,
        at("2026-11-24T07:00:00Z"),
    )

    assert digest.summary == "Last night: staging started and healthy at 07:34."
    assert digest.facts == ()
