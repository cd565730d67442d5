"""Which signed actions a Nightshift report offers, each with its reason (pure), and the signed
buttons they become (docs/actions.md, docs/notifications.md).

- a heads-up before a stop (`scheduler`, action `heads-up`): keep the schedule running 1 h past
  the stop, and until 22:00 local time when that is later (`keep-running`); and stop it now,
  held stopped until the schedule's next start (`stop-now`, when the heads-up says when that is:
  its `starts_at`);
- a stop (`scheduler`, action `stop` done): start now for 1 h, and until 22:00 when later
  (`start-now`);
- a canary check down (`canary`, action `probe` failed): snooze the check for 1 h;
- a redeploy (`redeploy`, action `redeploy` done): roll the service back;
- a redeploy held for approval (`redeploy`, action `hold-redeploy` with an `approve_url`):
  approve it, through the link redeploy signed (`approvals`: the notifier signs nothing for it,
  and shows it whether or not it knows the actions function's URL).

Nothing is offered for a dry run (nothing happened) or for production (the actions function
refuses it anyway). A link expires when its action stops making sense (a timed action's `until`)
and never later than 24 h after the report.

`start-now` and `keep-running` have the same effect (nightshift.actions.plan.override_value):
the override tag `running-until=<until>` on the schedule's resources, which the scheduler obeys
on its next run (within `SchedulerRate`); neither asks the scheduler to act at once. After a stop
the resources are parked, so what that tag does is start them: the stop report offers
`start-now`, whose confirmation page and report say so ("started, running until …"), and the
heads-up, sent while they still run, offers `keep-running`. `stop-now` tags `stopped-until`: the
next run parks them, and the schedule takes over again at its next start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from nightshift.actions.token import ActionKind, new_token, sign
from nightshift.notify.model import ActionButton
from nightshift.report import Outcome, Report, ReportItem

MAX_LINK_LIFETIME = dt.timedelta(hours=24)
KEEP_FOR = dt.timedelta(hours=1)
SNOOZE_FOR = dt.timedelta(hours=1)
EVENING = dt.time(22, 0)  # "until 22:00": the end of a long evening, in the schedule's zone
MAX_OFFERS = 5  # a message is not a control panel
PRODUCTION = frozenset({"production", "prod"})
HEADS_UP = "heads-up"  # the scheduler's report action for a stop coming soon
HOLD = "hold-redeploy"  # redeploy's report action for a redeploy held for approval


@dataclass(frozen=True)
class Offer:
    """One action to offer with a message, before it is signed."""

    kind: ActionKind
    target: str
    label: str
    expires: dt.datetime
    reason: str
    until: dt.datetime | None = None


def offers(report: Report, zones: Mapping[str, ZoneInfo] | None = None) -> tuple[Offer, ...]:
    """The actions `report` offers; `zones` are the schedules' time zones (UTC when unknown).

    >>> from dataclasses import replace
    >>> from nightshift.report import ReportItem
    >>> item = ReportItem("office-hours", "schedule", "heads-up", Outcome.DONE, "stops soon",
    ...     {"schedule": "office-hours", "stops_at": "2026-12-04T18:00:00+00:00"})
    >>> report = Report("scheduler", "r-1", "2026-12-04T17:30:00Z", "staging", False, "heads-up",
    ...     items=(item,))
    >>> [(o.label, f"{o.until:%H:%M}") for o in offers(report)]
    [('Keep running 1 h', '19:00'), ('Keep running until 22:00', '22:00')]
    >>> item = replace(item, details={**item.details, "starts_at": "2026-12-05T07:00:00+00:00"})
    >>> [(o.kind.value, o.label, f"{o.until:%d %H:%M}")
    ...  for o in offers(replace(report, items=(item,)))][-1]
    ('stop-now', 'Stop now', '05 07:00')
    """
    if report.dry_run or report.environment.strip().lower() in PRODUCTION:
        return ()
    at = dt.datetime.fromisoformat(report.time)
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    found: list[Offer] = []
    for item in report.items:
        for offer in _item_offers(report.function, item, at, zones or {}):
            if all(
                (o.kind, o.target, o.until) != (offer.kind, offer.target, offer.until)
                for o in found
            ):
                found.append(offer)
    return tuple(found[:MAX_OFFERS])


def _item_offers(
    function: str, item: ReportItem, at: dt.datetime, zones: Mapping[str, ZoneInfo]
) -> list[Offer]:
    action, done = item.action, item.outcome is Outcome.DONE
    schedule = item.details.get("schedule")
    if function == "scheduler" and done and isinstance(schedule, str) and schedule:
        zone = zones.get(schedule, ZoneInfo("UTC"))
        if action == HEADS_UP and isinstance(item.details.get("stops_at"), str):
            stops = dt.datetime.fromisoformat(item.details["stops_at"])
            why = f"{schedule} stops at {_hhmm(stops, zone)}: it can be kept running"
            found = _timed_pair(ActionKind.KEEP_RUNNING, schedule, stops, at, zone, why)
            return found + _stop_now(schedule, item.details.get("starts_at"), stops, at, zone)
        if action == "stop":
            why = f"{schedule} was stopped at {_hhmm(at, zone)}: it can be started now"
            return _timed_pair(ActionKind.START_NOW, schedule, at, at, zone, why)
    if function == "canary" and action == "probe" and item.outcome is Outcome.FAILED:
        until = at + SNOOZE_FOR
        why = f"check {item.resource} is down: its alarm can be silenced for an hour"
        return [Offer(ActionKind.SNOOZE, item.resource, "Snooze 1 h", until, why, until)]
    if function == "redeploy" and action == "redeploy" and done:
        name = item.resource.rsplit("/", 1)[-1]
        why = f"{name} was redeployed: it can go back to its previous image within 24 h"
        return [
            Offer(
                ActionKind.ROLLBACK, item.resource, f"Roll back {name}", at + MAX_LINK_LIFETIME, why
            )
        ]
    return []


# each timed pair's labels: for an hour, and until 22:00
LABELS = {
    ActionKind.KEEP_RUNNING: ("Keep running 1 h", "Keep running until 22:00"),
    ActionKind.START_NOW: ("Start now for 1 h", "Start now until 22:00"),
}


def _timed_pair(
    kind: ActionKind, schedule: str, base: dt.datetime, at: dt.datetime, zone: ZoneInfo, why: str
) -> list[Offer]:
    """Keep running (or start now) 1 h past `base`, and until 22:00 local when that is later."""
    hour_label, evening_label = LABELS[kind]
    hour = base + KEEP_FOR
    found = [_timed(kind, schedule, hour_label, hour, at, why)]
    local = base.astimezone(zone)
    evening = dt.datetime.combine(local.date(), EVENING, zone)
    if evening > hour:
        found.append(_timed(kind, schedule, evening_label, evening, at, why))
    return found


def _stop_now(
    schedule: str, starts_at: object, stops: dt.datetime, at: dt.datetime, zone: ZoneInfo
) -> list[Offer]:
    """Stop now, held stopped until the schedule's next start (then the schedule decides); none
    when the heads-up does not say when that is, or the stop has come already."""
    if not isinstance(starts_at, str) or not starts_at or stops <= at:
        return []
    starts = dt.datetime.fromisoformat(starts_at)
    if starts <= at:
        return []
    why = (
        f"{schedule} stops at {_hhmm(stops, zone)} and starts at {_hhmm(starts, zone)}: "
        "it can be stopped now until then"
    )
    return [_timed(ActionKind.STOP_NOW, schedule, "Stop now", starts, at, why)]


def _timed(
    kind: ActionKind, target: str, label: str, until: dt.datetime, at: dt.datetime, why: str
) -> Offer:
    """A timed action's link works until its effect would end, at most 24 h after the report."""
    return Offer(kind, target, label, min(until, at + MAX_LINK_LIFETIME), why, until)


def _hhmm(instant: dt.datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M %Z").strip()


def link(base_url: str, token: str, target: str) -> str:
    """The signed link: the actions function's URL with the token and its target.

    >>> link("https://x.lambda-url.eu-central-1.on.aws/", "p.s", "office-hours")
    'https://x.lambda-url.eu-central-1.on.aws/?token=p.s&target=office-hours'
    """
    return f"{base_url.rstrip('/')}/?{urlencode({'token': token, 'target': target})}"


def signed(
    found: Sequence[Offer], key: bytes, base_url: str, nonce: str | None = None
) -> tuple[ActionButton, ...]:
    """Each offer as a button: a fresh token (a random nonce; `make preview` fixes one so its
    output stays the same), signed, and its link."""
    buttons = []
    for offer in found:
        token = sign(new_token(offer.kind, offer.target, offer.expires, offer.until, nonce), key)
        buttons.append(
            ActionButton(offer.label, link(base_url, token, offer.target), token, offer.reason)
        )
    return tuple(buttons)


def approvals(report: Report) -> tuple[ActionButton, ...]:
    """The approve links redeploy signed into an approval report, as buttons (the link's token
    is a Slack button's value).

    >>> from types import MappingProxyType
    >>> from nightshift.report import ReportItem
    >>> url = "https://x.lambda-url.eu-central-1.on.aws/?token=p.s&target=arn%40sha256%3Aab"
    >>> item = ReportItem("arn:aws:ecs:eu-central-1:1:service/prod/api", "ecs-service", HOLD,
    ...     Outcome.PLANNED, "held", MappingProxyType({"approve_url": url,
    ...     "expires": "2026-12-05T09:00:00+00:00"}))
    >>> report = Report("redeploy", "hold:k", "2026-12-04T09:00:00+00:00", "prod", False,
    ...     "approval needed", items=(item,))
    >>> [(b.label, b.token) for b in approvals(report)]
    [('Approve api', 'p.s')]
    """
    if report.function != "redeploy":
        return ()
    found = []
    for item in report.items:
        url = item.details.get("approve_url")
        if item.action != HOLD or not isinstance(url, str) or not url:
            continue
        token = parse_qs(urlsplit(url).query).get("token", [""])[0]
        if not token:
            continue
        name = item.resource.rsplit("/", 1)[-1]
        why = f"{name}'s redeploy is held: it can be approved until {item.details.get('expires')}"
        found.append(ActionButton(f"Approve {name}", url, token, why))
    return tuple(found[:MAX_OFFERS])
