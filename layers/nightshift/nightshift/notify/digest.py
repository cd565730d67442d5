"""The daily digest (pure): which messages may wait for it, when it is due, and what it says.

A route of the policy may say `deliver: digest`: the routine messages it matches are kept (one
item per message and destination in the state table) and sent together once a day, at the
policy's `notify.digest.at` in its `timezone`. Three decisions live here, none with I/O or a
clock:

- `routine`: only a routine message may wait. A page never does, whatever the route says: an
  ALARM, an OK that closes one, a failure or refusal (severity critical or warning), a start
  that did not come back healthy (the canary reports it as a failure), an unrecognised message.
- `next_due`: the first `at` strictly after a message's time, in the digest's time zone (so the
  digest follows the wall clock across DST; an `at` that does not exist on the day clocks go
  forward is sent an hour later by the wall clock, one that happens twice is sent the first time).
- `compose`: the day's messages in people's words, one line per kind of thing ("staging parked
  19:00 to 07:30 (12.5 h, ≈ $3.10 saved), started and healthy at 07:34; 3 snapshots pruned (60 GiB,
  $3.00/month)"), as a Notification every renderer (Slack, Teams, email) already shows.

Nothing to say, no digest: no item is stored, so none is due, so nothing is sent. A daily
"nothing happened" line would be the noise people mute a channel for; the notifier's own alarms
(errors, dead-letter queue) say when it is broken, not a digest's silence.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from nightshift.notify.model import Fact, Notification, Severity, Source, State
from nightshift.notify.sources.reading import dollars, instant, number_text
from nightshift.report import SCHEMA_ID, Outcome, Report

DIGEST_NAME = "digest"
_TO = "\N{EN DASH}"  # between the two ends of a span of time


@dataclass(frozen=True)
class DigestSchedule:
    """When the digest is sent: `at` (local wall time) in `zone`."""

    at: dt.time
    zone: ZoneInfo

    @classmethod
    def parse(cls, at: str, timezone: str) -> DigestSchedule:
        """>>> DigestSchedule.parse("08:00", "Europe/Berlin").describe()
        '08:00 Europe/Berlin'
        """
        hours, minutes = (int(part) for part in at.split(":"))
        return cls(dt.time(hours, minutes), ZoneInfo(timezone))

    def describe(self) -> str:
        return f"{self.at:%H:%M} {self.zone.key}"


def routine(n: Notification) -> tuple[bool, str]:
    """Whether `n` may wait for a digest, and why.

    >>> alarm = Notification(Source.CLOUDWATCH_ALARM, Severity.CRITICAL, State.ALARM,
    ...                      "ALARM: cpu", "cpu", "", (), (), "cw:cpu", "")
    >>> routine(alarm)
    (False, 'an ALARM is a page: sent at once')
    """
    if n.source is Source.UNRECOGNISED:
        return False, "an unrecognised message is sent at once (nobody knows what it says)"
    if n.state is State.ALARM:
        return False, "an ALARM is a page: sent at once"
    if n.state is not State.INFO:
        return False, f"an {n.state.name} closes or qualifies an alarm: sent at once"
    if n.severity is not Severity.INFO:
        return False, f"a {n.severity.value} message is a page: sent at once"
    if n.heads_up:
        return False, "a heads-up before a stop is sent at once (a digest would come after it)"
    return True, "routine"


def next_due(schedule: DigestSchedule, after: dt.datetime) -> dt.datetime:
    """The first digest time strictly after `after`, in UTC.

    >>> berlin = DigestSchedule.parse("08:00", "Europe/Berlin")
    >>> next_due(berlin, dt.datetime(2026, 10, 24, 18, 0, tzinfo=dt.UTC)).isoformat()
    '2026-10-25T07:00:00+00:00'
    >>> next_due(berlin, dt.datetime(2026, 10, 25, 7, 0, tzinfo=dt.UTC)).isoformat()
    '2026-10-26T07:00:00+00:00'
    """
    moment = after if after.tzinfo is not None else after.replace(tzinfo=dt.UTC)
    local_day = moment.astimezone(schedule.zone).date()
    for offset in range(3):  # today's or tomorrow's; a third day only across odd offsets
        day = local_day + dt.timedelta(days=offset)
        wall = dt.datetime.combine(day, schedule.at, tzinfo=schedule.zone)
        # A wall time that does not exist (clocks forward) is normalised by the round trip.
        due = wall.astimezone(dt.UTC)
        if due > moment:
            return due
    raise AssertionError("unreachable: a daily time recurs within three days")


@dataclass(frozen=True)
class DigestEntry:
    """One message kept for one destination's digest: its id, when it happened, its body as it
    came in (a Nightshift report's JSON, an event), and when the digest that carries it is due."""

    message_id: str
    destination: str
    due: dt.datetime
    at: dt.datetime
    title: str
    body: str


@dataclass(frozen=True)
class DigestPlan:
    """Send `entries` to `destination` as one digest, or only forget those already sent."""

    destination: str
    send: tuple[DigestEntry, ...]
    already_sent: tuple[DigestEntry, ...]
    reason: str


def plan_digests(
    due: Iterable[DigestEntry], sent: Iterable[tuple[str, str]]
) -> tuple[DigestPlan, ...]:
    """One plan per destination with entries due: what still needs sending, given the
    (message_id, destination) pairs the delivery ledger says that destination already has (a
    run retried after its digest went out sends nothing again, and forgets the entries).

    >>> t = dt.datetime(2026, 11, 24, 7, tzinfo=dt.UTC)
    >>> a, b = (DigestEntry(m, "ops", t, t, m, "") for m in ("m-1", "m-2"))
    >>> [(p.destination, len(p.send), p.reason) for p in plan_digests([a, b], [("m-1", "ops")])]
    [('ops', 1, '1 message due, 1 already sent in an earlier digest')]
    """
    had = set(sent)
    by_destination: dict[str, list[DigestEntry]] = {}
    for entry in due:
        by_destination.setdefault(entry.destination, []).append(entry)
    plans = []
    for destination, entries in sorted(by_destination.items()):
        ordered = sorted(entries, key=lambda e: (e.at, e.message_id))
        send = tuple(e for e in ordered if (e.message_id, destination) not in had)
        done = tuple(e for e in ordered if (e.message_id, destination) in had)
        reason = f"{len(send)} message{'s' if len(send) != 1 else ''} due"
        if done:
            reason += f", {len(done)} already sent in an earlier digest"
        plans.append(DigestPlan(destination, send, done, reason))
    return tuple(plans)


# ------------------------------------------------------------------------------ composition


@dataclass(frozen=True)
class _Night:
    stopped: dt.datetime | None
    started: dt.datetime | None
    hours: float | None
    saved_usd: float
    healthy: dt.datetime | None = None


def compose(
    entries: Sequence[DigestEntry], environment: str, zone: dt.tzinfo, due: dt.datetime
) -> Notification:
    """The digest of `entries` for people: a title and one sentence; the messages no part of
    the sentence says are listed under "Also" (so none is lost).

    >>> zone = ZoneInfo("Europe/Berlin")
    >>> due = dt.datetime(2026, 11, 24, 7, tzinfo=dt.UTC)
    >>> n = compose([], "staging", zone, due)
    >>> n.title, n.summary
    ('staging digest · Tue 24 Nov', 'Nothing to report.')
    """
    reports = [(e, _report(e.body)) for e in sorted(entries, key=lambda e: (e.at, e.message_id))]
    nights = _nights([(e.at, r) for e, r in reports if r is not None])
    facts: list[Fact] = []
    phrases: list[str] = []
    span = max((e.at for e in entries), default=due) - min((e.at for e in entries), default=due)
    for night in nights:
        phrase = _night_phrase(night, zone, long=span > dt.timedelta(hours=24))  # weekdays
        phrases.append(f"{environment} {phrase}")
    pruned = _pruned([r for _, r in reports if r is not None and r.function == "pruner"])
    if pruned:
        phrases.append(pruned)
    deployed = _deployed(reports, zone)
    if deployed:
        phrases.append(deployed)
    used = _used(reports)
    others = [f"{_clock(e.at, zone)} {e.title}" for e, _ in reports if e.message_id not in used]
    if others:
        facts.append(Fact("Also", "\n".join(others)))
        phrases.append(f"{len(others)} other report{'s' if len(others) > 1 else ''}")
    long = span > dt.timedelta(hours=24)
    first = min((e.at for e in entries), default=due).astimezone(zone)
    lead = (f"Since {first:%a}: " if long else "Last night: ") if nights else ""
    summary = (lead + "; ".join(phrases) + ".") if phrases else "Nothing to report."
    local_due = due.astimezone(zone)
    return Notification(
        source=Source.NIGHTSHIFT_REPORT,
        severity=Severity.INFO,
        state=State.INFO,
        title=f"{environment} digest · {local_due:%a} {local_due.day} {local_due:%b}",
        name=DIGEST_NAME,
        summary=summary,
        facts=tuple(facts),
        links=(),
        dedup_key=f"digest:{environment}:{due.isoformat()}",
        raw="\n".join(e.body for e in entries),
        occurred_at=due.isoformat(),
    )


def _report(body: str) -> Report | None:
    try:
        document = json.loads(body)
        if isinstance(document, dict) and document.get("schema") == SCHEMA_ID:
            return Report.from_json(document)
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return None


def _done(report: Report, action: str) -> list[dict[str, Any]]:
    return [
        dict(item.details)
        for item in report.items
        if item.action == action and item.outcome is Outcome.DONE
    ]


def _nights(reports: Sequence[tuple[dt.datetime, Report]]) -> list[_Night]:
    """Each stop paired with the start after it, and the canary's first healthy probe after it.
    An environment parked or started over several of the scheduler's runs (a database first,
    its service a run later, once the database is available) is one night: parked at the first
    stop, started at the last start, its dollars summed."""
    nights: list[_Night] = []
    stopped: dt.datetime | None = None
    starting = False  # the last night's start may go on in the next run (no stop since)
    for at, report in reports:
        when = instant(report.time) or at
        if report.function == "scheduler" and _done(report, "stop"):
            stopped = stopped or when
            starting = False
        starts = _done(report, "start") if report.function == "scheduler" else []
        if starts:
            hours = [float(d["hours_parked"]) for d in starts if "hours_parked" in d]
            saved = sum(float(d.get("saved_usd", 0) or 0) for d in starts)
            if starting and nights:  # the rest of the last night's start
                last = nights[-1]
                known = [h for h in (last.hours, *hours) if h is not None]
                # healthy before the last resource started is not the environment's
                healthy_at = (
                    last.healthy if last.healthy is not None and last.healthy >= when else None
                )
                nights[-1] = _Night(
                    last.stopped,
                    when,
                    max(known) if known else None,
                    last.saved_usd + saved,
                    healthy_at,
                )
            else:
                nights.append(_Night(stopped, when, max(hours) if hours else None, saved))
            stopped, starting = None, True
        healthy = report.function == "canary" and any(
            item.outcome is Outcome.DONE and "time_to_healthy_s" in item.details
            for item in report.items
        )
        if healthy and nights and nights[-1].healthy is None:
            last = nights[-1]
            nights[-1] = _Night(last.stopped, last.started, last.hours, last.saved_usd, when)
        elif healthy:  # the start's own report went elsewhere (or came earlier): still said
            nights.append(_Night(None, None, None, 0.0, when))
    if stopped is not None:
        nights.append(_Night(stopped, None, None, 0.0))
    return nights


def _night_phrase(night: _Night, zone: dt.tzinfo, *, long: bool) -> str:
    """>>> t = dt.datetime(2026, 11, 23, 18, tzinfo=dt.UTC)
    >>> night = _Night(t, t + dt.timedelta(hours=12.5), None, 3.1,
    ...                t + dt.timedelta(hours=12, minutes=34))
    >>> print(_night_phrase(night, ZoneInfo("Europe/Berlin"), long=False).replace(_TO, " to "))
    parked 19:00 to 07:30 (12.5 h, ≈ $3.10 saved), started and healthy at 07:34
    """

    def clock(moment: dt.datetime) -> str:
        return _clock(moment, zone, weekday=long)

    if night.started is None and night.stopped is not None:
        return f"parked since {clock(night.stopped)}"
    if night.started is None and night.healthy is not None:
        return f"started and healthy at {clock(night.healthy)}"
    assert night.started is not None
    hours = night.hours
    if hours is None and night.stopped is not None:
        hours = (night.started - night.stopped).total_seconds() / 3600
    figures = [f"{number_text(round(hours, 1))} h"] if hours is not None else []
    if night.saved_usd:
        figures.append(f"≈ {dollars(night.saved_usd)} saved")
    shown = f" ({', '.join(figures)})" if figures else ""
    span = (
        f"{clock(night.stopped)}{_TO}{clock(night.started)}"
        if night.stopped is not None
        else f"until {clock(night.started)}"
    )
    healthy = (
        f", started and healthy at {clock(night.healthy)}"
        if night.healthy is not None
        else f", started at {clock(night.started)}"
    )
    return f"parked {span}{shown}{healthy}"


def _pruned(reports: Sequence[Report]) -> str | None:
    """>>> r = Report("pruner", "r", "2026-11-24T02:00:00Z", "staging", False, "",
    ...            totals={"deleted": 3, "deleted_gib": 60.0, "monthly_savings_usd": 3.0})
    >>> _pruned([r])
    '3 snapshots pruned (60 GiB, $3.00/month)'
    """
    count = sum(float(r.totals.get("deleted", 0) or 0) for r in reports)
    if not count:
        return None
    gib = sum(float(r.totals.get("deleted_gib", 0) or 0) for r in reports)
    usd = sum(float(r.totals.get("monthly_savings_usd", 0) or 0) for r in reports)
    verb = "would be pruned (dry run)" if all(r.dry_run for r in reports) else "pruned"
    figures = [f"{number_text(gib)} GiB"] if gib else []
    if usd:
        figures.append(f"{dollars(usd)}/month")
    shown = f" ({', '.join(figures)})" if figures else ""
    noun = "snapshot" if count == 1 else "snapshots"
    return f"{number_text(count)} {noun} {verb}{shown}"


def _deployed(reports: Sequence[tuple[DigestEntry, Report | None]], zone: dt.tzinfo) -> str | None:
    """One phrase per redeploy, with the completion of the deployment it started: a push's
    redeploy and ECS's word that its deployment completed are one redeploy ("api redeployed at
    10:00, completed 10:04"), not two. A completion with no redeploy before it in the digest (a
    deployment Nightshift did not start, or one started before the digest's window) is said on
    its own ("api deployment completed at 13:00")."""
    said: list[list[str]] = []
    open_by_service: dict[str, list[str]] = {}  # a redeploy whose completion is not yet said
    for entry, report in reports:
        if report is None:
            if entry.title.startswith("Deployment completed"):
                said.append([f"{entry.title} at {_clock(entry.at, zone)}"])
            continue
        if report.function != "redeploy":
            continue
        for item in report.items:
            if item.outcome is not Outcome.DONE:
                continue
            clock = _clock(entry.at, zone)
            if item.action == "deployment" and item.resource in open_by_service:
                open_by_service.pop(item.resource).append(f"completed {clock}")
            elif item.action == "deployment":
                said.append([f"{_short(item.resource)} deployment completed at {clock}"])
            else:
                phrase = [f"{_short(item.resource)} redeployed at {clock}"]
                said.append(phrase)
                open_by_service[item.resource] = phrase
    return "; ".join(", ".join(phrase) for phrase in said) or None


def _used(reports: Sequence[tuple[DigestEntry, Report | None]]) -> set[str]:
    """The messages a line above already says (stops and starts, pruning, redeploys, completed
    deployments, the canary's all-up runs); every other one is listed under "Also"."""
    used: set[str] = set()
    for entry, report in reports:
        if report is None:
            said = entry.title.startswith("Deployment completed")
        elif report.errors:
            said = False
        elif report.function == "scheduler":
            said = bool(_done(report, "stop") or _done(report, "start"))
        elif report.function == "pruner":
            said = bool(report.totals.get("deleted")) or not any(
                item.outcome is not Outcome.SKIPPED for item in report.items
            )
        elif report.function == "redeploy":
            said = any(item.outcome is Outcome.DONE for item in report.items)
        else:  # the canary: all up, or healthy after a start, is said by "parked"
            said = report.function == "canary" and all(
                item.outcome is Outcome.DONE for item in report.items
            )
        if said:
            used.add(entry.message_id)
    return used


def _clock(moment: dt.datetime, zone: dt.tzinfo, *, weekday: bool = False) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a %H:%M}" if weekday else f"{local:%H:%M}"


def _short(resource: str) -> str:
    return resource.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or resource
