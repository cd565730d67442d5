"""A run's Nightshift report (pure): one ReportItem per check and per alarm change, a summary,
the totals; and the report of a run that could not start.

A check that is down is FAILED with every failing condition and what was observed
("[BODY].services.database.status == up: got down"). A certificate close to expiry is a
warning inside a DONE item (it has its own alarm); it is not downtime. A check whose environment
is parked or starting (`parking`) is SKIPPED with why, one not healthy within its bound after a
start is FAILED, and the first healthy probe after a start says how long it took.

One incident pages once: a FAILED check whose alarm (the down alarm, or the start alarm when
the start is late) is in place carries `details.paged_by`, that alarm's name. The alarm is the
page (and its OK the resolve); the notifier then shows this report as routine
(`nightshift.notify.sources.nightshift_report.report_severity`). Without alarms in place (a dry
run, alarms that could not be checked, a check that was not probed) the report still pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.canary.alarms import CheckAlarmKind, alarm_summary
from nightshift.canary.events import FUNCTION
from nightshift.canary.metrics import dependencies_of
from nightshift.canary.parking import Phase, WatchDecision
from nightshift.canary.verdict import CheckResult, ProbeResults
from nightshift.report import Outcome, Report, ReportItem
from nightshift.trigger import ScheduledTrigger

KIND = "http-check"
ACTION = "probe"


@dataclass(frozen=True)
class AlarmUpkeep:
    """What keeping the alarms did: report lines, how many changes were made, the first problem."""

    items: tuple[ReportItem, ...] = ()
    applied: int = 0
    problem: str | None = None
    errors: tuple[str, ...] = ()


Watches = Mapping[str, WatchDecision]
# The name of a check's alarm of a kind, when the run knows its alarms are in place.
AlarmNames = Callable[[CheckAlarmKind, str], str]


def report_items(
    results: ProbeResults, watches: Watches | None = None, alarms: AlarmNames | None = None
) -> tuple[ReportItem, ...]:
    """One report line per check, in policy order: resource is the check's name, kind
    "http-check", action "probe", outcome DONE (up) or FAILED (down, or not probed), e.g.
    ReportItem("api", "http-check", "probe", FAILED,
               "down: [BODY].services.database.status == up: got down", {...})
    """
    return tuple(
        _item(result, (watches or {}).get(result.check.name), alarms) for result in results.results
    )


def down_checks(results: ProbeResults, watches: Watches | None = None) -> tuple[str, ...]:
    """The checks that count as down: failing while live, or late after a start."""
    watched = watches or {}
    return tuple(
        r.check.name
        for r in results.failing
        if r.check.name not in watched or watched[r.check.name].phase in (Phase.LIVE, Phase.LATE)
    )


def run_summary(results: ProbeResults, watches: Watches | None = None) -> str:
    """One line for the report's summary.

    >>> from nightshift.canary.verdict import ProbeResults
    >>> import datetime as dt
    >>> run_summary(ProbeResults(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), (), 0.0))
    'no canary checks configured'
    """
    total = len(results.results)
    if not total:
        return "no canary checks configured"
    watched = watches or {}
    down = down_checks(results, watched)
    resting = {
        phase: [name for name, w in watched.items() if w.phase is phase and name not in down]
        for phase in (Phase.PARKED, Phase.STARTING)
    }
    up = total - len(down) - sum(map(len, resting.values()))
    warned = [r.check.name for r in results.results if r.verdict is not None and r.verdict.warnings]
    text = f"{up} of {total} checks up"
    if down:
        text += f"; down: {', '.join(down)}"
    for phase, names in resting.items():
        if names:
            text += f"; {phase.value}: {', '.join(names)}"
    if warned:
        text += f"; certificate warning: {', '.join(warned)}"
    return text


def run_report(
    trigger: ScheduledTrigger,
    run_id: str,
    environment: str,
    results: ProbeResults,
    upkeep: AlarmUpkeep,
    errors: tuple[str, ...],
    watches: Watches | None = None,
    alarms: AlarmNames | None = None,
) -> Report:
    """The run's report: the checks' lines, then the alarm changes', with the totals; `alarms`
    names each check's alarms when they are in place (a failure then says which alarm pages)."""
    watched = watches or {}
    summary = run_summary(results, watched)
    changed = alarm_summary(upkeep.items)
    if changed:
        summary = f"{summary}; {changed}"
    return Report(
        function=FUNCTION,
        run_id=run_id,
        time=trigger.label,
        environment=environment,
        dry_run=trigger.dry_run,
        summary=summary,
        items=(*report_items(results, watched, alarms), *upkeep.items),
        totals={
            "checks_count": len(results.results),
            "checks_down_count": len(down_checks(results, watched)),
            "alarms_changed_count": upkeep.applied,
            **_parked_total(watched),
        },
        errors=errors,
    )


def _parked_total(watches: Watches) -> dict[str, int]:
    """`checks_parked_count` (parked or starting), when a check has `depends_on`."""
    if not watches:
        return {}
    resting = (Phase.PARKED, Phase.STARTING)
    return {"checks_parked_count": sum(1 for w in watches.values() if w.phase in resting)}


def unprobed_report(trigger: ScheduledTrigger, run_id: str, environment: str, error: str) -> Report:
    """The report of a run that could not start (the policy did not load): nothing probed,
    nothing changed, the error for people to fix."""
    return Report(
        function=FUNCTION,
        run_id=run_id,
        time=trigger.label,
        environment=environment,
        dry_run=trigger.dry_run,
        summary="nothing probed: the canary could not load its policy",
        errors=(error,),
    )


def _item(
    result: CheckResult, watch: WatchDecision | None = None, alarms: AlarmNames | None = None
) -> ReportItem:
    outcome = Outcome.DONE if result.up else Outcome.FAILED
    reason, details = result.reason, _details(result)
    if watch is not None and result.verdict is not None:
        details.update(_watch_details(watch))
        if watch.phase in (Phase.PARKED, Phase.STARTING):
            outcome, reason = Outcome.SKIPPED, f"{watch.reason}; probe: {result.reason}"
        elif watch.phase is Phase.LATE:
            outcome, reason = Outcome.FAILED, f"{watch.reason}; {result.reason}"
        elif watch.healthy_after is not None:
            reason = f"{result.reason}; {watch.reason}"
    if outcome is Outcome.FAILED and alarms is not None and result.verdict is not None:
        late = watch is not None and watch.phase is Phase.LATE
        kind = CheckAlarmKind.START if late else CheckAlarmKind.DOWN
        details["paged_by"] = alarms(kind, result.check.name)
    return ReportItem(
        resource=result.check.name,
        kind=KIND,
        action=ACTION,
        outcome=outcome,
        reason=reason,
        details=details,
    )


def _watch_details(watch: WatchDecision) -> dict[str, Any]:
    details: dict[str, Any] = {"phase": watch.phase.value}
    if watch.phase is Phase.PARKED:
        details["parked_since"] = watch.watch.since.isoformat()
    if watch.start is not None:
        details["started_at"] = watch.start.isoformat()
    if watch.healthy_after is not None:
        details["time_to_healthy_s"] = round(watch.healthy_after.total_seconds())
    return details


def _details(result: CheckResult) -> dict[str, Any]:
    check = result.check
    details: dict[str, Any] = {
        "url": check.url,
        "method": check.method,
        "attempts": result.attempts,
    }
    verdict = result.verdict
    if verdict is None:
        return details
    seen = verdict.observation
    if result.first_failure:
        details["first_attempt"] = result.first_failure
    if seen.error is not None:
        details["error"] = seen.error
    else:
        details["status"] = seen.status
        details["latency_ms"] = round(seen.response_time_ms or 0.0, 1)
    if seen.days_to_certificate_expiry is not None:
        details["days_to_cert_expiry"] = round(seen.days_to_certificate_expiry, 2)
    details["conditions"] = [
        {"condition": r.condition, "ok": r.ok, "observed": r.observed} for r in verdict.results
    ]
    if verdict.failures:
        details["failures"] = [r.reason for r in verdict.failures]
    if verdict.warnings:
        details["warnings"] = [r.reason for r in verdict.warnings]
    if seen.connected:
        dependencies = dependencies_of(seen.body_json)
        if dependencies.kept:
            details["dependencies"] = {
                d.name: "unknown" if d.up is None else ("up" if d.up else "down")
                for d in dependencies.kept
            }
        if dependencies.dropped:
            details["dependencies_left_out"] = dependencies.dropped
    return details
