"""The status page (pure): each environment at a glance, from facts the handler gathered.

Per schedule of the policy (an environment is what one schedule parks): running or parked (the
scheduler's parked records), what the schedule does next, and the active `nightshift:override`
tags. Per canary check: the state of the canary's last report and its last 24 hours, an hour a
cell (the Success and Parked metrics the canary publishes). Then the last 24 hours of the
scheduler: resources stopped and started, and the dollars its starts saved (its Stopped, Started
and DollarsSaved metrics). `status_page` decides, `render` writes the HTML: no script, no
external resource, every value escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from html import escape
from zoneinfo import ZoneInfo

from nightshift.canary.parking import TaggedResource
from nightshift.schedule.model import Schedule
from nightshift.schedule.override import InvalidOverride, parse_override
from nightshift.schedule.resources import OVERRIDE_TAG, SCHEDULE_TAG, ParkedRecord
from nightshift.schedule.timeline import format_local, is_running_at, next_transition

HOURS = 24
NOT_REPORTED = "not reported yet"


class Hour(StrEnum):
    """One hour of a check: every probe passed, one failed, parked, or nothing published."""

    UP = "up"
    DOWN = "down"
    PARKED = "parked"
    NONE = "no data"


@dataclass(frozen=True)
class CheckFacts:
    """A canary check as the policy names it, its last reported state and its metrics per hour
    (the start of the hour, UTC -> the hour's average Success, maximum Parked)."""

    name: str
    schedule: str | None
    state: str | None
    success: Mapping[dt.datetime, float]
    parked: Mapping[dt.datetime, float]


@dataclass(frozen=True)
class StatusFacts:
    """Everything the page shows, as the adapters found it."""

    environment: str
    now: dt.datetime
    zone: ZoneInfo
    schedules: Mapping[str, Schedule]
    records: Sequence[ParkedRecord]
    resources: Sequence[TaggedResource]
    checks: Sequence[CheckFacts]
    stopped: float
    started: float
    dollars_saved: float
    link_expires: dt.datetime


@dataclass(frozen=True)
class EnvironmentRow:
    schedule: str
    parked: bool
    state: str  # "parked 2 of 3" / "running"
    reason: str  # the schedule's reason, at this instant
    next_change: str  # "stops 2026-12-04 19:00 CET" / "no change within 400 days"
    overrides: tuple[str, ...]


@dataclass(frozen=True)
class CheckRow:
    name: str
    schedule: str | None
    state: str
    hours: tuple[tuple[str, Hour], ...]  # (local hour label, what it was), oldest first


@dataclass(frozen=True)
class StatusPage:
    environment: str
    at: str
    environments: tuple[EnvironmentRow, ...]
    checks: tuple[CheckRow, ...]
    last_day: str
    link_expires: str


def hour_starts(now: dt.datetime) -> tuple[dt.datetime, ...]:
    """The starts of the last 24 hours, the current one last (UTC)."""
    current = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return tuple(current - dt.timedelta(hours=n) for n in range(HOURS - 1, -1, -1))


def hour_state(success: float | None, parked: float | None) -> Hour:
    """>>> [str(hour_state(s, p)) for s, p in ((1.0, None), (0.9, None), (None, 1.0), (None, 0))]
    ['up', 'down', 'parked', 'no data']
    """
    if success is not None:
        return Hour.UP if success >= 1.0 else Hour.DOWN
    if parked:
        return Hour.PARKED
    return Hour.NONE


def environment_row(
    schedule: Schedule,
    records: Sequence[ParkedRecord],
    resources: Sequence[TaggedResource],
    now: dt.datetime,
    zone: ZoneInfo,
) -> EnvironmentRow:
    """Parked when the scheduler holds a parked record of the schedule; else running."""
    ours = [r for r in resources if r.tags.get(SCHEDULE_TAG) == schedule.name]
    parked = sum(1 for r in records if r.schedule == schedule.name)
    total = max(len(ours), parked)
    state = f"parked: {parked} of {total}" if parked else "running"
    change = next_transition(schedule, now)
    if change is None:
        next_change = "no change within 400 days"
    else:
        verb = "starts" if change.running else "stops"
        next_change = f"{verb} {format_local(change.at.astimezone(zone))}"
    overrides = []
    for resource in ours:
        text = resource.tags.get(OVERRIDE_TAG)
        if text is None:
            continue
        name = short_name(resource.arn)
        try:
            override = parse_override(text, schedule.zone)
        except InvalidOverride:
            overrides.append(f"{name}: {text!r} is not understood (the scheduler ignores it)")
            continue
        if override.active_at(now):
            overrides.append(f"{name}: {override.describe(zone)}")
    return EnvironmentRow(
        schedule=schedule.name,
        parked=bool(parked),
        state=state,
        reason=is_running_at(schedule, now).reason,
        next_change=next_change,
        overrides=tuple(overrides),
    )


def check_row(check: CheckFacts, hours: Sequence[dt.datetime], zone: ZoneInfo) -> CheckRow:
    return CheckRow(
        name=check.name,
        schedule=check.schedule,
        state=check.state or NOT_REPORTED,
        hours=tuple(
            (
                f"{hour.astimezone(zone):%H:00}",
                hour_state(check.success.get(hour), check.parked.get(hour)),
            )
            for hour in hours
        ),
    )


def last_day(stopped: float, started: float, dollars: float) -> str:
    """>>> last_day(3, 3, 4.2)
    '3 resources stopped, 3 started, ≈ $4.20 saved'
    >>> last_day(0, 0, 0)
    'nothing stopped or started'
    """
    if not stopped and not started:
        return "nothing stopped or started"
    text = f"{_count(stopped, 'resource')} stopped, {started:g} started"
    return f"{text}, ≈ ${dollars:,.2f} saved" if dollars else text


def status_page(facts: StatusFacts) -> StatusPage:
    hours = hour_starts(facts.now)
    return StatusPage(
        environment=facts.environment,
        at=format_local(facts.now.astimezone(facts.zone)),
        environments=tuple(
            environment_row(s, facts.records, facts.resources, facts.now, facts.zone)
            for _, s in sorted(facts.schedules.items())
        ),
        checks=tuple(check_row(c, hours, facts.zone) for c in facts.checks),
        last_day=last_day(facts.stopped, facts.started, facts.dollars_saved),
        link_expires=format_local(facts.link_expires.astimezone(facts.zone)),
    )


def short_name(arn: str) -> str:
    """>>> short_name("arn:aws:ecs:eu-central-1:123456789012:service/todoapp/web")
    'web'
    >>> short_name("arn:aws:rds:eu-central-1:123456789012:db:todoapp-db")
    'todoapp-db'
    """
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _count(value: float, noun: str) -> str:
    return f"{value:g} {noun}" + ("" if value == 1 else "s")


# -- HTML ---------------------------------------------------------------------------------------

_STYLE = (
    ":root{color-scheme:light dark;--up:#2e9d5b;--down:#d64545;--parked:#7a86a8;--none:#8884}"
    "body{font:15px/1.45 system-ui,sans-serif;max-width:54rem;margin:2rem auto;padding:0 1rem}"
    "h1{font-size:1.4rem;margin:0}h2{font-size:1.05rem;margin:2rem 0 .5rem}"
    ".sub,.note{color:#888;font-size:.85rem}table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #8883;vertical-align:top}"
    "th{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:#888}"
    ".pill{display:inline-block;padding:.05rem .55rem;border-radius:1rem;color:#fff;"
    "font-size:.8rem;font-weight:600;white-space:nowrap}td:first-child{white-space:nowrap}"
    ".legend{display:flex;gap:1rem;margin:.4rem 0 0;font-size:.8rem;color:#888}"
    ".legend span::before{content:'';display:inline-block;width:.7rem;height:.7rem;"
    "border-radius:2px;margin-right:.3rem;vertical-align:-1px;background:var(--c)}"
    ".running,.up{background:var(--up)}.parked{background:var(--parked)}"
    ".down,.late{background:var(--down)}.other{background:#b7791f}"
    ".bar{display:flex;gap:2px}.bar span{flex:1;height:1.2rem;border-radius:2px;min-width:6px}"
    ".h-up{background:var(--up)}.h-down{background:var(--down)}.h-parked{background:var(--parked)}"
    ".h-none{background:var(--none)}ul{margin:.2rem 0;padding-left:1.1rem}"
)

_STATE_CLASS = {
    "up": "up",
    "down": "down",
    "parked": "parked",
    "not healthy after its start": "late",
}


def render(page: StatusPage) -> str:
    """The page's HTML: every value from facts escaped, no script."""
    title = f"Nightshift: {page.environment}"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width">'
        '<meta name=robots content="noindex"><link rel=icon href="data:,">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class=sub>as of {escape(page.at)}</p>"
        f"<h2>Environments</h2>{_environments(page.environments)}"
        f"<h2>Canary checks, last 24 h</h2>{_checks(page.checks)}"
        f"<h2>Last 24 h of the scheduler</h2><p id=last-day>{escape(page.last_day)}</p>"
        f"<p class=note>Read only. This link works until {escape(page.link_expires)}.</p>"
        "</body></html>"
    )


def _environments(rows: Sequence[EnvironmentRow]) -> str:
    if not rows:
        return "<p class=empty>The policy has no schedules: nothing is parked.</p>"
    body = "".join(
        f'<tr class=environment data-schedule="{escape(row.schedule)}">'
        f"<td><strong>{escape(row.schedule)}</strong></td>"
        f'<td><span class="pill {"parked" if row.parked else "running"}">'
        f"{escape(row.state)}</span></td>"
        f"<td>{escape(row.next_change)}<div class=note>{escape(row.reason)}</div></td>"
        f"<td>{_overrides(row.overrides)}</td></tr>"
        for row in rows
    )
    return (
        "<table><thead><tr><th>Schedule</th><th>Now</th><th>Next</th><th>Overrides</th></tr>"
        f"</thead><tbody>{body}</tbody></table>"
    )


def _overrides(overrides: Sequence[str]) -> str:
    if not overrides:
        return "<span class=note>none</span>"
    return "<ul>" + "".join(f"<li>{escape(text)}</li>" for text in overrides) + "</ul>"


def _checks(rows: Sequence[CheckRow]) -> str:
    if not rows:
        return "<p class=empty>The policy has no canary checks.</p>"
    body = "".join(
        f'<tr class=check data-check="{escape(row.name)}">'
        f"<td><strong>{escape(row.name)}</strong>"
        + (f"<div class=note>on {escape(row.schedule)}</div>" if row.schedule else "")
        + f'</td><td><span class="pill {_STATE_CLASS.get(row.state, "other")}">'
        f"{escape(row.state)}</span></td><td><div class=bar>"
        + "".join(
            f'<span class="h-{hour.name.lower()}" title="{escape(label)}: {escape(hour.value)}">'
            "</span>"
            for label, hour in row.hours
        )
        + "</div></td></tr>"
        for row in rows
    )
    return (
        "<table><thead><tr><th>Check</th><th>Last report</th><th>Each hour, oldest first</th>"
        f"</tr></thead><tbody>{body}</tbody></table>{_LEGEND}"
    )


_LEGEND = (
    "<p class=legend>"
    + "".join(f'<span style="--c:var(--{hour.name.lower()})">{hour.value}</span>' for hour in Hour)
    + "</p>"
)
