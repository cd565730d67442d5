"""The schedule-aware canary's pure decision (`nightshift.canary.parking.decide`): parked,
overridden, starting within its bound, late (paged once), healthy after a start (time to
healthy), over the shipped `office-hours` schedule (Europe/Berlin, Mon-Fri 07:30-19:00)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from nightshift.canary.parking import (
    Dependency,
    ParkingFacts,
    Phase,
    TaggedResource,
    Watch,
    WatchDecision,
    decide,
)
from nightshift.schedule import Capacity, ParkedRecord, ParkState, ResourceKind, Schedule

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE_HOURS = Schedule.from_section(
    "office-hours",
    {
        "timezone": "Europe/Berlin",
        "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}],
        "except": ["2026-12-24"],
    },
)
SCHEDULES = {"office-hours": OFFICE_HOURS}
SERVICE = "arn:aws:ecs:eu-central-1:111122223333:service/todoapp/todoapp-backend"
DATABASE = "arn:aws:rds:eu-central-1:111122223333:db:todoapp-db"
OTHER_APP = "arn:aws:ecs:eu-central-1:111122223333:service/billing/billing-api"
BY_SCHEDULE = Dependency(schedule="office-hours")
BY_TAGS = Dependency(tags=(("app", "todoapp"),))


def berlin(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An instant in December 2026 (Monday the 7th) on Berlin's wall clock, as UTC."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=BERLIN).astimezone(dt.UTC)


def record(
    arn: str = SERVICE, state: ParkState = ParkState.PARKED, schedule: str = "office-hours"
) -> ParkedRecord:
    kind = ResourceKind.ECS_SERVICE if ":ecs:" in arn else ResourceKind.RDS_INSTANCE
    capacity = Capacity(2, 1, 4) if kind is ResourceKind.ECS_SERVICE else None
    return ParkedRecord(arn, kind, berlin(7, 19), schedule, capacity, state)


def tagged(arn: str = SERVICE, override: str | None = None, app: str = "todoapp") -> TaggedResource:
    tags = {"nightshift:schedule": "office-hours", "app": app}
    if override is not None:
        tags["nightshift:override"] = override
    return TaggedResource(arn, tags)


def judge(
    now: dt.datetime,
    *,
    up: bool = False,
    records: tuple[ParkedRecord, ...] = (),
    resources: tuple[TaggedResource, ...] = (),
    previous: Watch | None = None,
    dependency: Dependency = BY_SCHEDULE,
    facts: ParkingFacts | str | None = "given",
) -> WatchDecision:
    found = ParkingFacts(records, resources) if facts == "given" else facts
    assert not isinstance(found, str)
    return decide(
        "backend",
        dependency,
        up=up,
        now=now,
        facts=found,
        schedules=SCHEDULES,
        previous=previous,
    )


def parked_since(since: dt.datetime, seen_at: dt.datetime) -> Watch:
    return Watch(Phase.PARKED, since, seen_at)


# ------------------------------------------------------------------------------------ parked


def test_environment_parked_by_its_schedule_is_parked_not_down():
    decision = judge(berlin(7, 20), records=(record(), record(DATABASE)), resources=(tagged(),))

    assert decision.phase is Phase.PARKED
    assert (decision.counts, decision.page) == (False, False)
    assert decision.reason == (
        "parked: todoapp-backend, todoapp-db (office-hours: outside its periods; "
        "next start 2026-12-08 07:30 CET)"
    )


def test_record_written_before_the_stop_call_makes_the_failing_19_00_probe_parked():
    decision = judge(berlin(7, 19), records=(record(state=ParkState.STOPPING),))

    assert decision.phase is Phase.PARKED


def test_parked_keeps_the_time_it_was_first_parked():
    first = judge(berlin(7, 19), records=(record(),))
    later = judge(berlin(8, 3), records=(record(),), previous=first.watch)

    assert later.watch == Watch(Phase.PARKED, berlin(7, 19), berlin(8, 3))


def test_except_date_keeps_the_environment_parked_all_day():
    decision = judge(berlin(24, 11), records=(record(),))

    assert decision.phase is Phase.PARKED
    assert "2026-12-24 is an except date" in decision.reason


def test_stopped_until_override_parks_it_during_office_hours():
    override = tagged(override="stopped-until=2026-12-08T12:00")

    decision = judge(berlin(8, 10), records=(record(),), resources=(override,))

    assert decision.phase is Phase.PARKED
    assert "override holds it stopped until 2026-12-08 12:00 CET" in decision.reason


def test_record_of_a_schedule_not_in_the_policy_stays_parked_with_the_reason():
    decision = judge(
        berlin(8, 10),
        records=(record(schedule="weekends"),),
        dependency=BY_TAGS,
        resources=(tagged(),),
    )

    assert decision.phase is Phase.PARKED
    assert "its schedule 'weekends' is not in the policy" in decision.reason


def test_without_a_parked_record_an_off_schedule_is_not_parking():
    # Off hours, but the scheduler parked nothing (dry run, protected): a failure is downtime.
    decision = judge(berlin(7, 22), resources=(tagged(),))

    assert decision.phase is Phase.LIVE
    assert decision.counts


# ---------------------------------------------------------------------------------- override


def test_running_until_override_makes_the_check_live_again_after_a_start_window():
    keep_up = tagged(override="running-until=2026-12-07T23:00")
    previous = parked_since(berlin(7, 19), berlin(7, 19, 59))

    starting = judge(berlin(7, 20), records=(record(),), resources=(keep_up,), previous=previous)
    healthy = judge(berlin(7, 20, 6), up=True, resources=(keep_up,), previous=starting.watch)

    assert (starting.phase, starting.start, starting.counts) == (
        Phase.STARTING,
        berlin(7, 20),
        False,
    )
    assert "1 resource(s) still starting" in starting.reason
    assert healthy.phase is Phase.LIVE
    assert healthy.healthy_after == dt.timedelta(minutes=6)


def test_override_that_kept_staging_up_leaves_no_record_and_the_check_counts():
    keep_up = tagged(override="running-until=2026-12-07T23:00")

    decision = judge(
        berlin(7, 20),
        resources=(keep_up,),
        previous=Watch(Phase.LIVE, berlin(7, 8), berlin(7, 19, 59)),
    )

    assert decision.phase is Phase.LIVE
    assert decision.counts


def test_start_after_a_stopped_until_override_ended_is_timed_from_its_end():
    ended = tagged(override="stopped-until=2026-12-08T10:00")
    previous = parked_since(berlin(7, 19), berlin(8, 9, 59))

    decision = judge(berlin(8, 10, 1), records=(record(),), resources=(ended,), previous=previous)

    # Timed from the schedule's 07:30 start this would already be late and page.
    assert (decision.phase, decision.start, decision.page) == (Phase.STARTING, berlin(8, 10), False)


# ------------------------------------------------------------------------------------- start


def test_just_started_and_failing_within_the_bound_is_starting_not_down():
    previous = parked_since(berlin(7, 19), berlin(8, 7, 29))

    decision = judge(berlin(8, 7, 31), previous=previous)

    assert decision.phase is Phase.STARTING
    assert (decision.counts, decision.page, decision.start) == (False, False, berlin(8, 7, 30))
    assert decision.reason == (
        "starting since 2026-12-08 07:30 CET: not healthy yet, allowed 15 min"
    )


def test_start_missed_by_a_canary_outage_is_still_timed_from_the_schedule():
    previous = parked_since(berlin(7, 19), berlin(8, 7, 20))

    decision = judge(berlin(8, 7, 40), previous=previous)

    assert (decision.phase, decision.start) == (Phase.STARTING, berlin(8, 7, 30))


def test_services_waiting_for_their_database_are_starting_while_the_schedule_runs():
    previous = parked_since(berlin(7, 19), berlin(8, 7, 29))

    decision = judge(berlin(8, 7, 35), records=(record(),), previous=previous)

    assert decision.phase is Phase.STARTING
    assert decision.start == berlin(8, 7, 30)


def test_healthy_after_the_start_reports_the_time_to_healthy():
    previous = parked_since(berlin(7, 19), berlin(8, 7, 29))
    runs = [judge(berlin(8, 7, 30), previous=previous)]
    for minute in range(31, 35):
        runs.append(judge(berlin(8, 7, minute), up=minute == 34, previous=runs[-1].watch))

    assert [r.phase for r in runs] == [Phase.STARTING] * 4 + [Phase.LIVE]
    assert runs[-1].healthy_after == dt.timedelta(minutes=4)
    assert runs[-1].reason == "healthy 4 min after the start at 2026-12-08 07:30 CET"
    assert not any(r.page for r in runs)


def test_start_not_healthy_within_the_bound_pages_once_then_recovers():
    watch: Watch | None = parked_since(berlin(7, 19), berlin(8, 7, 29))
    runs = []
    for minute in range(30, 60):
        decision = judge(berlin(8, 7, minute), up=minute == 52, previous=watch)
        runs.append(decision)
        watch = decision.watch

    pages = [r for r in runs if r.page]
    assert [p.reason for p in pages] == [
        "not healthy 15 min after the start at 2026-12-08 07:30 CET (allowed 15 min)"
    ]
    assert [r.phase for r in runs[:15]] == [Phase.STARTING] * 15
    assert [r.phase for r in runs[15:22]] == [Phase.LATE] * 7
    assert runs[22].phase is Phase.LIVE
    assert runs[22].healthy_after == dt.timedelta(minutes=22)
    assert all(r.phase is Phase.LIVE and r.counts for r in runs[23:])


@pytest.mark.parametrize("minutes", [5, 30])
def test_the_bound_is_the_checks_own(minutes):
    dependency = Dependency(schedule="office-hours", healthy_within=dt.timedelta(minutes=minutes))
    previous = parked_since(berlin(7, 19), berlin(8, 7, 29))

    now = berlin(8, 7, 30) + dt.timedelta(minutes=minutes)

    decision = judge(now, previous=previous, dependency=dependency)

    assert (decision.phase, decision.page) == (Phase.LATE, True)


def test_starting_records_without_memory_are_timed_from_now_not_from_hours_ago():
    # A canary deployed at 09:00 while the scheduler is starting something: no false page.
    decision = judge(berlin(8, 9), records=(record(state=ParkState.STARTING),))

    assert (decision.phase, decision.start) == (Phase.STARTING, berlin(8, 9))


# ------------------------------------------------------------------------------- by tags, gaps


def test_dependency_by_tags_counts_only_the_records_of_its_resources():
    records = (record(OTHER_APP),)
    resources = (tagged(), tagged(OTHER_APP, app="billing"))

    decision = judge(berlin(7, 20), records=records, resources=resources, dependency=BY_TAGS)
    parked = judge(berlin(7, 20), records=(record(),), resources=resources, dependency=BY_TAGS)

    assert (decision.phase, parked.phase) == (Phase.LIVE, Phase.PARKED)


def test_a_dependency_in_a_target_account_and_region_counts_only_the_records_parked_there():
    # Hub and spoke: the hub's table holds every target's parked records, keyed by ARN.
    staging_west = "arn:aws:ecs:eu-west-1:222222222222:service/todoapp/todoapp-backend"
    staging_central = "arn:aws:ecs:eu-central-1:222222222222:service/todoapp/todoapp-backend"
    in_staging_west = Dependency(
        schedule="office-hours", account="222222222222", region="eu-west-1"
    )
    in_staging = Dependency(schedule="office-hours", account="222222222222")

    hub_only = judge(berlin(7, 20), records=(record(),), dependency=in_staging_west)
    other_region = judge(
        berlin(7, 20), records=(record(staging_central),), dependency=in_staging_west
    )
    parked = judge(berlin(7, 20), records=(record(staging_west),), dependency=in_staging_west)
    any_region = judge(berlin(7, 20), records=(record(staging_central),), dependency=in_staging)
    anywhere = judge(berlin(7, 20), records=(record(staging_west),))  # no account: every one's

    assert (hub_only.phase, other_region.phase) == (Phase.LIVE, Phase.LIVE)
    assert (parked.phase, any_region.phase, anywhere.phase) == (Phase.PARKED,) * 3
    assert parked.reason.startswith("parked: todoapp-backend (office-hours: outside its periods")


def test_unreadable_facts_keep_a_parked_check_parked_and_a_live_one_live():
    parked = judge(berlin(7, 22), facts=None, previous=parked_since(berlin(7, 19), berlin(7, 21)))
    live = judge(berlin(7, 12), facts=None, previous=Watch(Phase.LIVE, berlin(7, 8), berlin(7, 11)))

    assert (parked.phase, live.phase) == (Phase.PARKED, Phase.LIVE)
    assert "could not be read" in parked.reason


def test_unreadable_facts_without_memory_take_an_off_schedule_for_parking():
    night = judge(berlin(7, 22), facts=None)
    day = judge(berlin(8, 11), facts=None)

    assert night.phase is Phase.PARKED
    assert night.reason.startswith(
        "parked (assumed: what is parked could not be read; office-hours"
    )
    assert day.phase is Phase.LIVE


def test_watch_round_trips_through_json():
    watch = Watch(Phase.LATE, berlin(8, 7, 30), berlin(8, 7, 50))

    assert Watch.from_json(watch.to_json()) == watch
