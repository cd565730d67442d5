"""The reconciling planner: one test per rule, on a Berlin office-hours schedule in March 2026
(Monday 2 March; 07:30-19:00 CET is 06:30-18:00 UTC)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from nightshift.policy import DEFAULT_PROTECT, parse_policy
from nightshift.report import Outcome
from nightshift.schedule import (
    Capacity,
    ParkedRecord,
    ParkState,
    PowerState,
    ResourceKind,
    ScheduledResource,
    SchedulerPolicy,
)
from nightshift.schedule.plan import Action, plan_run

UTC = dt.UTC
FIVE_MINUTES = dt.timedelta(minutes=5)
EVENING = dt.datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # Monday 19:00 CET: office hours end
NIGHT = dt.datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # Monday 23:00 CET: no boundary near
MORNING = dt.datetime(2026, 3, 3, 6, 30, tzinfo=UTC)  # Tuesday 07:30 CET: office hours begin
MIDDAY = dt.datetime(2026, 3, 3, 11, 0, tzinfo=UTC)  # Tuesday 12:00 CET: no boundary near
PARKED_AT = EVENING

POLICY_YAML = """
version: 1
schedules:
  office-hours:
    timezone: Europe/Berlin
    periods: [{days: mon-fri, start: "07:30", stop: "19:00"}]
  office-hours-enforced:
    timezone: Europe/Berlin
    periods: [{days: mon-fri, start: "07:30", stop: "19:00"}]
    enforce: true
scheduler:
  max_stops: 10
"""
POLICY = SchedulerPolicy.from_policy(parse_policy(POLICY_YAML))


def tags(schedule: str | None = "office-hours", **more: str) -> dict[str, str]:
    found = {"nightshift:schedule": schedule} if schedule else {}
    found.update({key.replace("__", ":"): value for key, value in more.items()})
    return found


def rds(name: str = "app-db", status: str = "available", **fields: Any) -> ScheduledResource:
    return ScheduledResource(
        f"arn:aws:rds:eu-central-1:111122223333:db:{name}",
        ResourceKind.RDS_INSTANCE,
        fields.pop("tags", tags()),
        status=status,
        **fields,
    )


def aurora(name: str = "app-cluster", status: str = "available") -> ScheduledResource:
    return ScheduledResource(
        f"arn:aws:rds:eu-central-1:111122223333:cluster:{name}",
        ResourceKind.AURORA_CLUSTER,
        tags(),
        status=status,
    )


def ec2(name: str = "i-0abc", status: str = "running", **more: str) -> ScheduledResource:
    return ScheduledResource(
        f"arn:aws:ec2:eu-central-1:111122223333:instance/{name}",
        ResourceKind.EC2_INSTANCE,
        tags(**more),
        status=status,
    )


SERVICE_CAPACITY = Capacity(2, 1, 4)
GROUP_CAPACITY = Capacity(3, 2, 6)


def ecs(
    name: str = "api",
    capacity: Capacity = SERVICE_CAPACITY,
    schedule: str | None = "office-hours",
    **more: str,
) -> ScheduledResource:
    return ScheduledResource(
        f"arn:aws:ecs:eu-central-1:111122223333:service/app/{name}",
        ResourceKind.ECS_SERVICE,
        tags(schedule, **more),
        status="ACTIVE",
        capacity=capacity,
    )


def asg(name: str = "workers", capacity: Capacity = GROUP_CAPACITY) -> ScheduledResource:
    return ScheduledResource(
        f"arn:aws:autoscaling:eu-central-1:111122223333:autoScalingGroup:uuid:"
        f"autoScalingGroupName/{name}",
        ResourceKind.ASG,
        tags(),
        capacity=capacity,
    )


def record(
    resource: ScheduledResource,
    capacity: Capacity | None = None,
    state: ParkState = ParkState.PARKED,
) -> ParkedRecord:
    return ParkedRecord(resource.arn, resource.kind, PARKED_AT, "office-hours", capacity, state)


def plan(
    *resources: ScheduledResource,
    at: dt.datetime,
    parked: tuple[ParkedRecord, ...] = (),
    last_run: dt.datetime | str | None = "just before",
    policy: SchedulerPolicy = POLICY,
):
    previous = at - FIVE_MINUTES if last_run == "just before" else last_run
    assert not isinstance(previous, str)
    return plan_run(resources, {r.arn: r for r in parked}, policy, DEFAULT_PROTECT, at, previous)


def only(run) -> Any:
    assert len(run.decisions) == 1
    return run.decisions[0]


# -- the schedule drives stops and starts ---------------------------------------------------


def test_running_database_is_stopped_when_office_hours_end_with_hours_saved() -> None:
    decision = only(plan(rds(), at=EVENING))

    assert decision.action is Action.STOP
    assert decision.desired is PowerState.STOPPED
    assert "office-hours: outside its periods" in decision.reason
    assert decision.hours_saved == 12.5  # 19:00 to 07:30 the next morning
    assert decision.park == ParkedRecord(
        rds().arn, ResourceKind.RDS_INSTANCE, EVENING, "office-hours", None, ParkState.STOPPING
    )
    assert decision.settled == replace(decision.park, state=ParkState.PARKED)


def test_stop_on_friday_evening_saves_the_hours_until_monday_morning() -> None:
    friday_evening = dt.datetime(2026, 3, 6, 18, 0, tzinfo=UTC)

    decision = only(plan(rds(), at=friday_evening))

    assert decision.hours_saved == 60.5


def test_stopping_ecs_service_parks_desired_count_and_autoscaling_min_max() -> None:
    decision = only(plan(ecs(capacity=Capacity(2, 1, 4)), at=EVENING))

    assert decision.action is Action.STOP
    assert decision.capacity_to_store == Capacity(desired=2, minimum=1, maximum=4)
    assert decision.target_capacity == Capacity(desired=0, minimum=0, maximum=0)
    assert "park its capacity (desired 2, min 1, max 4)" in decision.reason


def test_stopping_ecs_service_without_scalable_target_parks_desired_count_only() -> None:
    decision = only(plan(ecs(capacity=Capacity(3)), at=EVENING))

    assert decision.capacity_to_store == Capacity(desired=3)
    assert decision.target_capacity == Capacity(desired=0)


def test_stopping_auto_scaling_group_parks_min_desired_and_max() -> None:
    decision = only(plan(asg(capacity=Capacity(3, 2, 6)), at=EVENING))

    assert decision.action is Action.STOP
    assert decision.capacity_to_store == Capacity(desired=3, minimum=2, maximum=6)
    assert decision.target_capacity == Capacity(0, 0, 0)


def test_parked_ecs_service_is_restored_to_exactly_the_stored_capacity() -> None:
    service = ecs(capacity=Capacity(0, 0, 0))

    decision = only(plan(service, at=MORNING, parked=(record(service, Capacity(2, 1, 4)),)))

    assert decision.action is Action.START
    assert decision.capacity_to_restore == Capacity(2, 1, 4)
    assert decision.target_capacity == Capacity(2, 1, 4)
    assert decision.unpark


def test_parked_database_is_started_in_the_morning_and_its_record_released() -> None:
    db = rds(status="stopped")

    decision = only(plan(db, at=MORNING, parked=(record(db),)))

    assert decision.action is Action.START
    assert decision.unpark
    assert "office-hours: running in period mon-fri 07:30-19:00" in decision.reason


def test_aurora_cluster_is_stopped_at_cluster_level() -> None:
    decision = only(plan(aurora(), at=EVENING))

    assert decision.action is Action.STOP
    assert decision.kind is ResourceKind.AURORA_CLUSTER


# -- exact parking: a change made while parked is not overwritten ---------------------------


def test_service_scaled_up_by_hand_while_parked_is_not_overwritten_and_reported() -> None:
    service = ecs(capacity=Capacity(3, 0, 0))

    decision = only(plan(service, at=MORNING, parked=(record(service, Capacity(2, 1, 4)),)))

    assert decision.action is Action.NONE
    assert decision.capacity_to_restore is None
    assert decision.conflict == (
        "changed while parked: now desired 3, min 0, max 0, parked with desired 2, min 1, max 4; "
        "left as it is"
    )
    assert decision.unpark


def test_service_whose_autoscaling_min_changed_while_parked_is_refused_with_conflict() -> None:
    service = ecs(capacity=Capacity(0, 1, 0))

    decision = only(plan(service, at=MORNING, parked=(record(service, Capacity(2, 1, 4)),)))

    assert decision.action is Action.REFUSE
    assert decision.capacity_to_restore is None
    assert "now desired 0, min 1, max 0, Nightshift left desired 0, min 0, max 0" in (
        decision.conflict or ""
    )
    assert decision.report_item().outcome is Outcome.REFUSED


def test_service_that_was_already_at_zero_when_parked_has_nothing_to_restore() -> None:
    service = ecs(capacity=Capacity(0))

    decision = only(plan(service, at=MORNING, parked=(record(service, Capacity(0)),)))

    assert decision.action is Action.NONE
    assert "nothing to restore" in decision.reason
    assert decision.unpark


# -- what the scheduler never touches -------------------------------------------------------


def test_rds_instance_in_aurora_cluster_is_skipped_with_reason() -> None:
    decision = only(plan(rds(cluster="app-cluster"), at=EVENING))

    assert decision.action is Action.SKIP
    assert decision.reason == (
        "member of Aurora cluster app-cluster; Aurora is stopped and started at cluster level "
        "(tag the cluster)"
    )


def test_rds_read_replica_is_skipped_with_reason() -> None:
    decision = only(plan(rds(replica_of="app-db"), at=EVENING))

    assert decision.action is Action.SKIP
    assert decision.reason == "read replica of app-db; AWS cannot stop a read replica"


def test_rds_instance_with_read_replicas_is_skipped_with_reason() -> None:
    decision = only(plan(rds(replicas=("app-db-replica",)), at=EVENING))

    assert decision.action is Action.SKIP
    assert "has read replicas (app-db-replica)" in decision.reason


def test_ec2_instance_of_an_auto_scaling_group_is_skipped_with_reason() -> None:
    decision = only(plan(ec2(aws__autoscaling__groupName="workers"), at=EVENING))

    assert decision.action is Action.SKIP
    assert "instance of Auto Scaling group workers" in decision.reason


def test_protected_resource_is_refused_even_with_a_schedule_tag() -> None:
    decision = only(plan(ecs(Environment="production"), at=EVENING))

    assert decision.action is Action.REFUSE
    assert decision.reason == "protected (Environment=production): never stopped or started"
    assert decision.park is None


def test_unknown_schedule_is_refused_and_named_not_guessed() -> None:
    decision = only(plan(ecs(schedule="office-hour"), at=EVENING))

    assert decision.action is Action.REFUSE
    assert decision.reason == (
        "unknown schedule 'office-hour' in nightshift:schedule "
        "(defined: office-hours, office-hours-enforced); not guessed"
    )


def test_database_in_transition_is_skipped_and_decided_on_the_next_run() -> None:
    decision = only(plan(rds(status="backing-up"), at=EVENING))

    assert decision.action is Action.SKIP
    assert "status 'backing-up' is neither running nor stopped" in decision.reason


# -- by hand or by schedule: the boundary rule and enforce ----------------------------------


def test_database_started_by_hand_off_hours_is_left_running_without_enforce() -> None:
    db = rds(status="available")

    decision = only(plan(db, at=NIGHT, parked=(record(db),)))

    assert decision.action is Action.NONE
    assert "started by hand, or by AWS after 7 days stopped" in decision.reason
    assert "left running until the next scheduled transition (2026-03-03 07:30 CET)" in (
        decision.reason
    )


def test_database_restarted_by_aws_after_seven_days_is_stopped_again_under_enforce() -> None:
    db = rds(status="available", tags=tags("office-hours-enforced"))

    decision = only(plan(db, at=NIGHT, parked=(record(db),)))

    assert decision.action is Action.STOP
    assert "stop again: office-hours-enforced enforces" in decision.reason
    assert decision.park == record(db, state=ParkState.STOPPING)  # the first stop's record


def test_database_started_by_hand_is_stopped_when_a_boundary_passed_since_the_last_run() -> None:
    db = rds(status="available")

    decision = only(plan(db, at=NIGHT, parked=(record(db),), last_run=MIDDAY - dt.timedelta(1)))

    assert decision.action is Action.STOP
    assert "a schedule boundary passed since the last run" in decision.reason


def test_running_resource_off_hours_without_parked_record_is_stopped_as_missed() -> None:
    # e.g. its stop failed at 19:00, or it was tagged at 22:00: it has not been parked yet
    decision = only(plan(rds(status="available"), at=NIGHT))

    assert decision.action is Action.STOP


def test_already_stopped_resource_is_recorded_as_parked_when_off_hours_begin() -> None:
    db = rds(status="stopped")

    decision = only(plan(db, at=EVENING))

    assert decision.action is Action.NONE
    assert decision.park is not None
    assert "recorded as parked so that a start by hand is recognised" in decision.reason


def test_database_stopped_by_hand_during_hours_is_left_stopped_without_enforce() -> None:
    decision = only(plan(rds(status="stopped"), at=MIDDAY))

    assert decision.action is Action.NONE
    assert "stopped outside Nightshift; left stopped until the next scheduled transition" in (
        decision.reason
    )


def test_database_stopped_by_hand_during_hours_is_started_under_enforce() -> None:
    db = rds(status="stopped", tags=tags("office-hours-enforced"))

    decision = only(plan(db, at=MIDDAY))

    assert decision.action is Action.START
    assert "office-hours-enforced enforces" in decision.reason


def test_stopped_database_without_record_is_started_when_office_hours_begin() -> None:
    decision = only(plan(rds(status="stopped"), at=MORNING))

    assert decision.action is Action.START
    assert "a schedule boundary passed since the last run" in decision.reason


def test_stopped_service_without_parked_capacity_is_not_given_a_guessed_count() -> None:
    decision = only(plan(ecs(capacity=Capacity(0, 0, 0)), at=MORNING))

    assert decision.action is Action.SKIP
    assert "no parked capacity is recorded; Nightshift does not guess one" in decision.reason


def test_first_run_brings_every_resource_to_its_schedule() -> None:
    decision = only(plan(rds(status="stopped"), at=MIDDAY, last_run=None))

    assert decision.action is Action.START


def test_steady_state_decides_nothing_and_writes_nothing() -> None:
    db = rds(status="stopped")
    running = rds("other-db", status="available")

    at_night = plan(db, at=NIGHT, parked=(record(db),))
    at_noon = plan(running, at=MIDDAY)

    for decision in (*at_night.decisions, *at_noon.decisions):
        assert decision.action is Action.NONE
        assert decision.park is None
        assert not decision.unpark
    assert at_night.actions == ()


# -- overrides ------------------------------------------------------------------------------


def test_running_until_override_keeps_a_resource_running_after_hours() -> None:
    db = rds(tags=tags(nightshift__override="running-until=2026-03-02T23:00"))

    decision = only(plan(db, at=EVENING))

    assert decision.action is Action.NONE
    assert decision.desired is PowerState.RUNNING
    assert "override holds it running until 2026-03-02 23:00 CET" in decision.reason


def test_running_until_override_restores_a_parked_service() -> None:
    service = ecs(capacity=Capacity(0, 0, 0), nightshift__override="running-until=2026-03-03T01:00")

    decision = only(plan(service, at=NIGHT, parked=(record(service, Capacity(2, 1, 4)),)))

    assert decision.action is Action.START
    assert decision.capacity_to_restore == Capacity(2, 1, 4)


def test_stopped_until_override_holds_a_resource_stopped_during_hours() -> None:
    db = rds(tags=tags(nightshift__override="stopped-until=2026-03-03T14:00+01:00"))

    decision = only(plan(db, at=MIDDAY))

    assert decision.action is Action.STOP
    assert decision.hours_saved == 2.0  # until the override ends at 14:00 CET
    assert "override holds it stopped until 2026-03-03 14:00 CET" in decision.reason


def test_schedule_takes_over_when_the_override_expires() -> None:
    db = rds(status="available", tags=tags(nightshift__override="running-until=2026-03-02T23:00"))

    at_expiry = only(plan(db, at=NIGHT, parked=(record(db),)))
    later = only(plan(db, at=NIGHT + dt.timedelta(hours=1), parked=(record(db),)))

    assert at_expiry.action is Action.STOP  # the override's end is a boundary
    assert "expired at 2026-03-02 23:00 CET; the tag can go" in at_expiry.notes[0]
    assert later.action is Action.NONE


def test_invalid_override_is_reported_and_ignored() -> None:
    db = rds(tags=tags(nightshift__override="running-till=tomorrow"))

    decision = only(plan(db, at=EVENING))

    assert decision.action is Action.STOP
    assert decision.notes == (
        (
            "nightshift:override ignored: override 'running-till=tomorrow' is not understood; "
            "expected running-until=<ISO time> or stopped-until=<ISO time>"
        ),
    )
    assert decision.report_item().details["notes"] == list(decision.notes)


# -- the run as a whole: order, waiting for databases, circuit breaker ----------------------


def test_stops_go_services_first_and_databases_last() -> None:
    run = plan(rds(), aurora(), ecs(), asg(), ec2(), at=EVENING)

    assert [d.kind for d in run.actions] == [  # within a tier, by ARN
        ResourceKind.ASG,
        ResourceKind.EC2_INSTANCE,
        ResourceKind.ECS_SERVICE,
        ResourceKind.AURORA_CLUSTER,
        ResourceKind.RDS_INSTANCE,
    ]
    assert all(d.action is Action.STOP for d in run.actions)


def test_starts_go_databases_first_and_services_wait_for_them() -> None:
    db, service = rds(status="stopped"), ecs(capacity=Capacity(0, 0, 0))
    parked = (record(db), record(service, Capacity(2, 1, 4)))

    first = plan(db, service, at=MORNING, parked=parked)
    booting = rds(status="starting")
    second = plan(booting, service, at=MORNING + FIVE_MINUTES, parked=parked)
    third = plan(rds(), service, at=MORNING + 2 * FIVE_MINUTES, parked=parked)

    assert [(d.kind, d.action) for d in first.decisions] == [
        (ResourceKind.RDS_INSTANCE, Action.START),
        (ResourceKind.ECS_SERVICE, Action.NONE),
    ]
    assert "waits for the databases of office-hours to start first (app-db)" in (
        first.decisions[1].reason
    )
    assert not first.decisions[1].unpark
    assert [d.action for d in second.decisions if d.kind is ResourceKind.ECS_SERVICE] == [
        Action.NONE
    ]
    assert [d.action for d in third.decisions] == [Action.START, Action.NONE]
    assert third.decisions[0].kind is ResourceKind.ECS_SERVICE


def test_starts_order_databases_before_services_when_nothing_waits() -> None:
    db = rds(status="stopped")
    service = ecs("web", capacity=Capacity(0), schedule="office-hours-enforced")
    parked = (record(db), record(service, Capacity(2)))

    run = plan(service, db, at=MORNING, parked=parked)

    assert [(d.kind, d.action) for d in run.decisions] == [
        (ResourceKind.RDS_INSTANCE, Action.START),
        (ResourceKind.ECS_SERVICE, Action.START),  # another schedule: nothing to wait for
    ]


def test_circuit_breaker_refuses_every_stop_of_a_run_over_max_stops() -> None:
    services = [ecs(f"svc-{n:02}") for n in range(11)]
    db = rds(status="stopped")

    run = plan(*services, db, at=EVENING, parked=(record(db),))

    assert (
        run.refused
        == "this run would stop 11 resources, more than max_stops 10; nothing was stopped"
    )
    assert all(
        d.action is Action.REFUSE for d in run.decisions if d.kind is ResourceKind.ECS_SERVICE
    )
    assert all(d.park is None for d in run.decisions)
    assert run.decisions[0].reason.startswith("circuit breaker: this run would stop 11")


def test_circuit_breaker_refuses_a_run_over_max_stop_share_but_lets_starts_through() -> None:
    policy = SchedulerPolicy.from_sections(
        parse_policy(POLICY_YAML).section("schedules"), {"max_stop_share": 0.5}
    )
    stopped_db = rds("old-db", status="stopped", tags=tags("office-hours-enforced"))
    running = [rds(f"db-{n}", tags=tags("office-hours-enforced")) for n in range(2)]

    # at night: both running databases would stop (2 of 3 = 67% > 50%)
    night = plan(*running, stopped_db, at=NIGHT, parked=(record(stopped_db),), policy=policy)
    # at noon the stopped one is started under enforce, whatever the breaker says
    noon = plan(*running, stopped_db, at=MIDDAY, policy=policy)

    assert night.refused is not None
    assert "would stop 2 of 3 scheduled resources (67%), more than max_stop_share 50%" in (
        night.refused
    )
    assert [d.action for d in noon.decisions] == [Action.START, Action.NONE, Action.NONE]


def test_dry_run_plan_reports_planned_outcomes() -> None:
    policy = SchedulerPolicy.from_sections(
        parse_policy(POLICY_YAML).section("schedules"), {"dry_run": True}
    )

    run = plan(ecs(capacity=Capacity(2)), at=EVENING, policy=policy)
    item = run.decisions[0].report_item()

    assert run.dry_run
    assert item.outcome is Outcome.PLANNED
    assert item.action == "stop"
    assert item.details["capacity_stored"] == {"desired": 2, "minimum": None, "maximum": None}
    assert item.details["hours_saved"] == 12.5
    assert run.hours_saved == {ecs().arn: 12.5}


def test_parked_record_without_a_resource_is_reported_as_orphaned() -> None:
    gone = record(rds("deleted-db"))

    run = plan(rds(status="stopped"), at=NIGHT, parked=(gone,))

    assert run.orphaned == (gone,)


def test_summary_counts_each_action() -> None:
    run = plan(rds(), ecs(Environment="prod"), at=EVENING)

    assert run.summary == "start 0, stop 1, none 0, refuse 1, skip 0"


def test_naive_run_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_run([], {}, POLICY, DEFAULT_PROTECT, dt.datetime(2026, 3, 2, 18), None)


# -- the parking protocol: an interrupted stop or start is finished or undone --------------------

STORED = Capacity(2, 1, 4)


def test_stop_writes_its_record_stopping_before_and_parked_after() -> None:
    decision = only(plan(ecs(capacity=STORED), at=EVENING))

    assert decision.park is not None
    assert (decision.park.state, decision.park.capacity) == (ParkState.STOPPING, STORED)
    assert decision.settled == replace(decision.park, state=ParkState.PARKED)
    assert decision.unpark is False


def test_start_moves_its_record_to_starting_and_deletes_it_after() -> None:
    service = ecs(capacity=STORED.parked())

    decision = only(plan(service, at=MORNING, parked=(record(service, STORED),)))

    assert decision.action is Action.START
    assert decision.park == record(service, STORED, ParkState.STARTING)
    assert (decision.settled, decision.unpark) == (None, True)


def test_stop_half_done_off_hours_is_finished_from_the_record() -> None:
    # Target at 0/0, UpdateService failed: desired still 2.
    service = ecs(capacity=Capacity(2, 0, 0))

    decision = only(plan(service, at=NIGHT, parked=(record(service, STORED, ParkState.STOPPING),)))

    assert decision.action is Action.STOP
    assert "a stop was interrupted" in decision.reason
    assert decision.target_capacity == Capacity(0, 0, 0)
    assert decision.park is not None
    assert decision.park.capacity == STORED  # never the half-stopped capacity
    assert decision.settled is not None
    assert decision.settled.state is ParkState.PARKED


def test_stop_half_done_when_office_hours_begin_is_undone_to_the_recorded_capacity() -> None:
    service = ecs(capacity=Capacity(2, 0, 0))

    decision = only(
        plan(service, at=MORNING, parked=(record(service, STORED, ParkState.STOPPING),))
    )

    assert decision.action is Action.START
    assert decision.capacity_to_restore == STORED
    assert "undo the stop" in decision.reason
    assert decision.unpark is True


def test_start_interrupted_after_the_target_is_finished_not_refused_as_changed() -> None:
    # Min/max restored, the process died before UpdateService: desired 0, min 1, max 4.
    service = ecs(capacity=Capacity(0, 1, 4))

    decision = only(
        plan(
            service,
            at=MORNING + FIVE_MINUTES,
            parked=(record(service, STORED, ParkState.STARTING),),
        )
    )

    assert decision.action is Action.START
    assert decision.capacity_to_restore == STORED
    assert decision.conflict is None
    assert "a start was interrupted" in decision.reason


def test_start_interrupted_when_office_hours_end_is_undone_by_a_stop() -> None:
    service = ecs(capacity=Capacity(0, 1, 4))

    decision = only(
        plan(service, at=EVENING, parked=(record(service, STORED, ParkState.STARTING),))
    )

    assert decision.action is Action.STOP
    assert decision.target_capacity == Capacity(0, 0, 0)
    assert decision.park is not None
    assert decision.park.capacity == STORED


def test_stop_whose_calls_all_succeeded_before_a_crash_is_marked_parked() -> None:
    service = ecs(capacity=STORED.parked())

    decision = only(plan(service, at=NIGHT, parked=(record(service, STORED, ParkState.STOPPING),)))

    assert decision.action is Action.NONE
    assert decision.settled == record(service, STORED, ParkState.PARKED)


def test_start_whose_calls_all_succeeded_before_a_crash_releases_the_record() -> None:
    service = ecs(capacity=STORED)

    decision = only(plan(service, at=MIDDAY, parked=(record(service, STORED, ParkState.STARTING),)))

    assert (decision.action, decision.unpark) == (Action.NONE, True)
    assert "it runs as parked: released" in decision.reason


def test_record_written_before_states_existed_reads_as_parked() -> None:
    data = record(rds()).to_json()
    del data["state"]

    assert ParkedRecord.from_json(data).state is ParkState.PARKED


def test_start_held_back_for_the_databases_does_not_touch_the_service_record() -> None:
    db, service = rds(status="stopped"), ecs(capacity=STORED.parked())
    parked = (record(db), record(service, STORED, ParkState.STARTING))

    decisions = {d.arn: d for d in plan(db, service, at=MORNING, parked=parked).decisions}

    waiting = decisions[service.arn]
    assert (waiting.action, waiting.park, waiting.settled, waiting.unpark) == (
        Action.NONE,
        None,
        None,
        False,
    )
