"""The actions a message offers (nightshift.notify.actions) and how each channel renders them."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from nightshift.actions.token import ActionKind, Reason, verify
from nightshift.notify import actions
from nightshift.notify.model import Notification, Severity, Source, State
from nightshift.notify.render import email, slack, teams
from nightshift.report import Outcome, Report, ReportItem

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
KEY = b"k" * 32
URL = "https://abc.lambda-url.eu-central-1.on.aws/"
AT = "2026-12-04T17:30:00Z"  # 18:30 in Berlin


def report(function: str, *items: ReportItem, env: str = "staging", dry: bool = False) -> Report:
    return Report(function, "r-1", AT, env, dry, "something", items=items)


def heads_up(stops_at: str = "2026-12-04T18:00:00+00:00") -> ReportItem:
    details = {"schedule": "office-hours", "stops_at": stops_at}
    return ReportItem("office-hours", "schedule", "heads-up", Outcome.DONE, "soon", details)


def stop(schedule: str = "office-hours", outcome: Outcome = Outcome.DONE) -> ReportItem:
    arn = f"arn:aws:ecs:eu-central-1:1:service/app/{schedule}"
    return ReportItem(arn, "ecs-service", "stop", outcome, "outside", {"schedule": schedule})


def test_heads_up_offers_an_hour_past_the_stop_and_until_22_local() -> None:
    found = actions.offers(report("scheduler", heads_up()), {"office-hours": BERLIN})
    assert [(o.kind, o.target, o.label) for o in found] == [
        (ActionKind.KEEP_RUNNING, "office-hours", "Keep running 1 h"),
        (ActionKind.KEEP_RUNNING, "office-hours", "Keep running until 22:00"),
    ]
    hour, evening = found
    assert hour.until == dt.datetime(2026, 12, 4, 19, 0, tzinfo=UTC)
    assert evening.until == dt.datetime(2026, 12, 4, 22, 0, tzinfo=BERLIN)
    # A link works until its effect would end, and so never past it.
    assert hour.expires == hour.until
    assert evening.expires == evening.until
    assert "office-hours stops at 19:00 CET" in hour.reason


def test_no_until_22_when_the_hour_already_reaches_past_it() -> None:
    found = actions.offers(report("scheduler", heads_up("2026-12-04T21:30:00+00:00")))
    assert [o.label for o in found] == ["Keep running 1 h"]


def test_links_never_outlive_24_hours() -> None:
    far = actions.offers(report("scheduler", heads_up("2026-12-07T18:00:00+00:00")))
    assert all(o.expires <= dt.datetime(2026, 12, 5, 17, 30, tzinfo=UTC) for o in far)
    rollback = actions.offers(report("redeploy", redeployed()))[0]
    assert rollback.expires == dt.datetime(2026, 12, 5, 17, 30, tzinfo=UTC)


def test_a_heads_up_offers_stopping_now_until_the_next_start() -> None:
    item = heads_up()
    item = replace(item, details={**item.details, "starts_at": "2026-12-07T06:30:00+00:00"})
    found = actions.offers(report("scheduler", item), {"office-hours": BERLIN})
    assert [o.label for o in found] == [
        "Keep running 1 h",
        "Keep running until 22:00",
        "Stop now",
    ]
    stop_now = found[-1]
    assert (stop_now.kind, stop_now.target) == (ActionKind.STOP_NOW, "office-hours")
    # held stopped until Monday's start; the link itself still works 24 h at most
    assert stop_now.until == dt.datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
    assert stop_now.expires == dt.datetime(2026, 12, 5, 17, 30, tzinfo=UTC)
    assert "starts at 07:30 CET" in stop_now.reason


def test_no_stop_now_without_a_next_start_or_once_the_stop_has_come() -> None:
    assert ActionKind.STOP_NOW not in {
        o.kind for o in actions.offers(report("scheduler", heads_up()))
    }
    late = replace(
        heads_up("2026-12-04T17:30:00+00:00"),
        details={
            "schedule": "office-hours",
            "stops_at": "2026-12-04T17:30:00+00:00",
            "starts_at": "2026-12-05T06:30:00+00:00",
        },
    )
    assert ActionKind.STOP_NOW not in {o.kind for o in actions.offers(report("scheduler", late))}


def test_a_stop_offers_starting_now_once_per_schedule() -> None:
    found = actions.offers(report("scheduler", stop(), stop(), stop("nights")))
    assert [(o.kind, o.target, o.label) for o in found] == [
        (ActionKind.START_NOW, "office-hours", "Start now for 1 h"),
        (ActionKind.START_NOW, "office-hours", "Start now until 22:00"),
        (ActionKind.START_NOW, "nights", "Start now for 1 h"),
        (ActionKind.START_NOW, "nights", "Start now until 22:00"),
    ]
    assert found[0].until == dt.datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
    assert "it can be started now" in found[0].reason


def test_a_failed_stop_or_a_start_offers_nothing() -> None:
    started = replace(stop(), action="start")
    assert actions.offers(report("scheduler", stop(outcome=Outcome.FAILED), started)) == ()


def test_a_down_check_offers_a_snooze() -> None:
    down = ReportItem("api", "http-check", "probe", Outcome.FAILED, "down: 503")
    up = ReportItem("web", "http-check", "probe", Outcome.DONE, "up")
    (snooze,) = actions.offers(report("canary", down, up))
    assert (snooze.kind, snooze.target, snooze.label) == (ActionKind.SNOOZE, "api", "Snooze 1 h")
    assert snooze.until == snooze.expires == dt.datetime(2026, 12, 4, 18, 30, tzinfo=UTC)


def redeployed() -> ReportItem:
    arn = "arn:aws:ecs:eu-central-1:1:service/app/api"
    return ReportItem(arn, "ecs-service", "redeploy", Outcome.DONE, "new digest")


def test_a_redeploy_offers_a_rollback() -> None:
    (rollback,) = actions.offers(report("redeploy", redeployed()))
    assert (rollback.kind, rollback.label) == (ActionKind.ROLLBACK, "Roll back api")
    assert rollback.target.endswith("service/app/api")
    assert rollback.until is None


def test_nothing_for_a_dry_run_or_production() -> None:
    assert actions.offers(report("scheduler", heads_up(), dry=True)) == ()
    assert actions.offers(report("redeploy", redeployed(), env=" Production")) == ()


def test_at_most_five_offers() -> None:
    found = actions.offers(report("scheduler", *(stop(f"s{i}") for i in range(4))))
    assert len(found) == actions.MAX_OFFERS


def buttons() -> tuple[Notification, tuple[actions.Offer, ...]]:
    found = actions.offers(report("scheduler", heads_up()), {"office-hours": BERLIN})
    n = Notification(
        Source.NIGHTSHIFT_REPORT,
        Severity.INFO,
        State.INFO,
        "scheduler (staging): heads-up",
        "scheduler",
        "",
        (),
        (),
        "k",
        "",
        actions=actions.signed(found, KEY, URL),
    )
    return n, found


def test_signed_buttons_verify_with_the_actions_verifier() -> None:
    n, found = buttons()
    now = dt.datetime(2026, 12, 4, 17, 31, tzinfo=UTC)
    for button, offer in zip(n.actions, found, strict=True):
        query = parse_qs(urlsplit(button.url).query)
        assert button.url.startswith(URL)
        assert query["token"] == [button.token]
        checked = verify(button.token, KEY, now, expected_target=query["target"][0])
        assert checked.reason is Reason.OK
        assert checked.token is not None
        assert (checked.token.kind, checked.token.until) == (offer.kind, offer.until)
    assert verify(n.actions[0].token, b"other key", now).reason is Reason.FORGED


def test_slack_renders_native_buttons_and_the_links() -> None:
    n, _ = buttons()
    blocks = slack.render(n)["blocks"]
    (block,) = [b for b in blocks if b["type"] == "actions"]
    assert [e["value"] for e in block["elements"]] == [b.token for b in n.actions]
    assert [e["text"]["text"] for e in block["elements"]] == [b.label for b in n.actions]
    assert len({e["action_id"] for e in block["elements"]}) == 2
    after = blocks[blocks.index(block) + 1]["elements"][0]["text"]
    assert all(slack._url(b.url) in after for b in n.actions)


def test_teams_opens_the_links_and_email_lists_them() -> None:
    n, _ = buttons()
    card = teams.render(n)["attachments"][0]["content"]
    assert card["actions"][:2] == [
        {"type": "Action.OpenUrl", "title": b.label, "url": b.url} for b in n.actions
    ]
    text = email.render(n).text
    assert all(f"{b.label}: {b.url}" in text for b in n.actions)


def test_a_message_without_actions_renders_as_before() -> None:
    n, _ = buttons()
    plain = replace(n, actions=())
    assert not [b for b in slack.render(plain)["blocks"] if b["type"] == "actions"]
    assert "actions" not in teams.render(plain)["attachments"][0]["content"]
    assert "Actions" not in email.render(plain).text
