"""The function URL's answers, request by request: GET a link (a page, nothing changes), POST
its form (act), POST from Slack (check Slack's signature, then act), GET /status with a status
link (the read-only status page). Pure but for the service and the status page's facts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from nightshift.actions import page, slack
from nightshift.actions.plan import describe, via_link, via_slack
from nightshift.actions.token import ActionKind, ActionToken, Reason, Verification, verify
from nightshift.schedule.timeline import format_local

if TYPE_CHECKING:  # acting and the status page: imported by their routes only (cold start)
    from nightshift.actions.service import ActionResult
    from nightshift.actions.status import StatusFacts

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

Act = Callable[[ActionToken, str], "ActionResult"]
Gather = Callable[[ActionToken], "StatusFacts"]
STATUS_KINDS = frozenset({ActionKind.STATUS})


def request_time(time_epoch: object, fallback: dt.datetime) -> dt.datetime:
    """When the function URL received the request (`requestContext.timeEpoch`, milliseconds,
    stamped by AWS, not the client): the instant every check of the request uses. `fallback`
    (the clock) when the event has none or an unreadable one.

    >>> fallback = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC)
    >>> request_time(1796407260000, fallback).isoformat()
    '2026-12-04T18:01:00+00:00'
    >>> request_time("soon", fallback) == request_time(None, fallback) == fallback
    True
    """
    if isinstance(time_epoch, bool) or not isinstance(time_epoch, int) or time_epoch <= 0:
        return fallback
    try:
        return dt.datetime.fromtimestamp(time_epoch / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return fallback


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: str
    reason: str  # for the log and metrics: ok, a token reason, a Slack check, refused, failed


def show_link(params: Mapping[str, str], key: bytes, now: dt.datetime, zone: ZoneInfo) -> Answer:
    """GET: the confirmation page for a good link, the refusal otherwise; changes nothing."""
    token, target = params.get("token", ""), params.get("target", "")
    checked = verify(token, key, now, expected_target=target)
    if not checked.ok or checked.token is None:
        return _refusal(checked.reason)
    expires = format_local(checked.token.expires.astimezone(zone))
    body = page.confirmation(describe(checked.token, zone), token, target, expires)
    return Answer(200, HTML, body, "shown")


def show_status(
    params: Mapping[str, str], key: bytes, now: dt.datetime, environment: str, gather: Gather
) -> Answer:
    """GET /status: the status page for a good status link (read only, not used up: it works
    until it expires), the refusal otherwise; facts are gathered only after the link passed."""
    checked = verify(
        params.get("token", ""), key, now, expected_target=environment, kinds=STATUS_KINDS
    )
    if not checked.ok or checked.token is None:
        return _refusal(checked.reason)
    from nightshift.actions.status import render, status_page  # this route only (cold start)

    return Answer(200, HTML, render(status_page(gather(checked.token))), "status")


def follow_link(body: bytes, key: bytes, now: dt.datetime, act: Act) -> Answer:
    """POST of the confirmation form: verify again, then act once."""
    fields = {name: values[0] for name, values in parse_qs(body.decode("utf-8", "replace")).items()}
    checked = verify(fields.get("token", ""), key, now, expected_target=fields.get("target", ""))
    if _expired_approval(checked) and checked.token is not None:
        return _acted(act(checked.token, via_link()), HTML)
    if not checked.ok or checked.token is None:
        return _refusal(checked.reason)
    return _acted(act(checked.token, via_link()), HTML)


def slack_click(
    headers: Mapping[str, str], body: bytes, secret: bytes, key: bytes, now: dt.datetime, act: Act
) -> Answer:
    """POST from Slack: its signature first (nothing is read before it passes), then the token."""
    signed = slack.check_request(secret, headers, body, now)
    if signed is not slack.SlackCheck.OK:
        return Answer(401, TEXT, f"Not a request from this Slack app ({signed}).", str(signed))
    click = slack.parse_click(body)
    if click is None:
        return Answer(400, TEXT, "Not a button click Nightshift knows.", "malformed")
    checked = verify(click.token, key, now)
    if _expired_approval(checked) and checked.token is not None:
        return _acted(act(checked.token, via_slack(click.user)), TEXT)
    if not checked.ok or checked.token is None:
        status, message = page.REFUSALS[checked.reason]
        return Answer(status, TEXT, message, str(checked.reason))
    return _acted(act(checked.token, via_slack(click.user)), TEXT)


def _expired_approval(checked: Verification) -> bool:
    """A genuine approve token past its expiry: it does nothing, but the service reports that
    an approval came too late (the held redeploy then expires unapproved)."""
    return (
        checked.reason is Reason.EXPIRED
        and checked.token is not None
        and checked.token.kind is ActionKind.APPROVE
    )


def _refusal(reason: Reason) -> Answer:
    status, message = page.REFUSALS[reason]
    return Answer(status, HTML, page.result("nothing changed", message), str(reason))


def _acted(result: ActionResult, content_type: str) -> Answer:
    if result.reason is not Reason.OK:
        status, message = page.REFUSALS[result.reason]
        reason = str(result.reason)
    elif result.refused:
        status, message, reason = 422, result.message, "refused"
    elif result.failed:
        status, message, reason = 502, result.message, "failed"
    else:
        status, message, reason = 200, result.message, "ok"
    if content_type == HTML:
        return Answer(
            status, HTML, page.result("done" if status == 200 else "not done", message), reason
        )
    return Answer(status, TEXT, message, reason)


@dataclass(frozen=True)
class Request:
    route: str  # "link" (GET /), "form" (POST /), "slack" (POST /slack), "status" (GET /status)
    headers: Mapping[str, str]
    body: bytes
    params: Mapping[str, str]


def answer(
    request: Request,
    key: Callable[[], bytes],
    slack_secret: Callable[[], bytes],
    now: dt.datetime,
    zone: ZoneInfo,
    act: Act,
    environment: str = "",
    gather: Gather | None = None,
) -> Answer:
    """The answer to one request; the secrets are read only when the route needs them."""
    if request.route == "status" and gather is not None:
        return show_status(request.params, key(), now, environment, gather)
    if request.route == "slack":
        return slack_click(request.headers, request.body, slack_secret(), key(), now, act)
    if request.route == "form":
        return follow_link(request.body, key(), now, act)
    return show_link(request.params, key(), now, zone)
