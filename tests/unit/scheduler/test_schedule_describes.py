"""What a run must describe (`plan_describes`), the second phase of discovery: one test per
rule, and a property test that leaving a resource undescribed never changes what the run does.

Berlin office hours in March 2026, as in test_schedule_plan.py (Monday 2 March; 07:30-19:00 CET
is 06:30-18:00 UTC)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nightshift.policy import DEFAULT_PROTECT, parse_policy
from nightshift.schedule import (
    Capacity,
    ParkedRecord,
    ParkState,
    ResourceKind,
    ScheduledResource,
    SchedulerPolicy,
)
from nightshift.schedule.plan import Action, Decision, DescribeNeed, plan_describes, plan_run

UTC = dt.UTC
FIVE_MINUTES = dt.timedelta(minutes=5)
EVENING = dt.datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # Monday 19:00 CET: office hours end
NIGHT = dt.datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # Monday 23:00 CET: no boundary near
MORNING = dt.datetime(2026, 3, 3, 6, 30, tzinfo=UTC)  # Tuesday 07:30 CET: office hours begin
MIDDAY = dt.datetime(2026, 3, 3, 11, 0, tzinfo=UTC)  # Tuesday 12:00 CET: no boundary near
ACCOUNT = "arn:aws:{service}:eu-central-1:111122223333:{path}"

POLICY = SchedulerPolicy.from_policy(
    parse_policy(
        """
version: 1
schedules:
  office-hours:
    timezone: Europe/Berlin
    periods: [{days: mon-fri, start: "07:30", stop: "19:00"}]
  office-hours-enforced:
    timezone: Europe/Berlin
    periods: [{days: mon-fri, start: "07:30", stop: "19:00"}]
    enforce: true
  late-shift:
    timezone: Europe/Berlin
    periods: [{days: mon-fri, start: "10:00", stop: "23:00"}]
scheduler:
  max_stops: 100
"""
    )
)
ARNS = {
    ResourceKind.ECS_SERVICE: ACCOUNT.format(service="ecs", path="service/app/{name}"),
    ResourceKind.RDS_INSTANCE: ACCOUNT.format(service="rds", path="db:{name}"),
    ResourceKind.AURORA_CLUSTER: ACCOUNT.format(service="rds", path="cluster:{name}"),
    ResourceKind.EC2_INSTANCE: ACCOUNT.format(service="ec2", path="instance/{name}"),
}
SWEPT_KINDS = tuple(ARNS)
SERVICE_CAPACITY = Capacity(2, 1, 4)


def tagged(
    kind: ResourceKind, name: str = "app", schedule: str = "office-hours", **more: str
) -> ScheduledResource:
    tags = {"nightshift:schedule": schedule}
    tags.update({key.replace("__", ":"): value for key, value in more.items()})
    return ScheduledResource.tagged(ARNS[kind].format(name=name), kind, tags)


def record(resource: ScheduledResource, state: ParkState = ParkState.PARKED) -> ParkedRecord:
    capacity = SERVICE_CAPACITY if resource.kind is ResourceKind.ECS_SERVICE else None
    return ParkedRecord(resource.arn, resource.kind, EVENING, "office-hours", capacity, state)


def needs(
    *resources: ScheduledResource,
    at: dt.datetime,
    parked: tuple[ParkedRecord, ...] = (),
    last_run: dt.datetime | str | None = "just before",
) -> dict[str, DescribeNeed]:
    previous = at - FIVE_MINUTES if last_run == "just before" else last_run
    assert not isinstance(previous, str)
    found = plan_describes(
        resources, {r.arn: r for r in parked}, POLICY, DEFAULT_PROTECT, at, previous
    )
    return {need.resource.name: need for need in found}


# -- one test per rule ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", SWEPT_KINDS)
def test_resource_wanted_running_without_record_is_not_described_during_the_day(
    kind: ResourceKind,
) -> None:
    need = needs(tagged(kind), at=MIDDAY)["app"]

    assert not need.describe
    assert "not parked" in need.reason


@pytest.mark.parametrize("kind", SWEPT_KINDS)
def test_resource_wanted_stopped_is_described_to_stop_or_record_it(kind: ResourceKind) -> None:
    for at in (EVENING, NIGHT):
        need = needs(tagged(kind), at=at)["app"]
        assert need.describe
        assert need.reason.startswith("wanted stopped")


@pytest.mark.parametrize("state", list(ParkState))
def test_resource_with_a_parked_record_is_described_whatever_the_time(state: ParkState) -> None:
    service = tagged(ResourceKind.ECS_SERVICE)
    for at in (MIDDAY, NIGHT, MORNING):
        need = needs(service, at=at, parked=(record(service, state),))["app"]
        assert need.describe
        assert f"parked record ({state.value})" in need.reason


@pytest.mark.parametrize(
    "kind", [ResourceKind.RDS_INSTANCE, ResourceKind.AURORA_CLUSTER, ResourceKind.EC2_INSTANCE]
)
def test_database_or_instance_is_described_when_a_stopped_one_would_be_started(
    kind: ResourceKind,
) -> None:
    crossed = needs(tagged(kind), at=MORNING)["app"]
    first_run = needs(tagged(kind), at=MIDDAY, last_run=None)["app"]
    enforced = needs(tagged(kind, schedule="office-hours-enforced"), at=MIDDAY)["app"]
    held = needs(tagged(kind, nightshift__override="running-until=2026-03-03T23:00"), at=NIGHT)[
        "app"
    ]

    assert [crossed.describe, first_run.describe, enforced.describe, held.describe] == [True] * 4
    assert "a boundary passed since the last run" in crossed.reason
    assert "office-hours-enforced enforces" in enforced.reason
    assert "the override holds it" in held.reason


def test_service_without_record_is_not_described_even_when_a_boundary_passed() -> None:
    # Without a parked capacity a stopped service is never started: its state changes nothing.
    for at, last_run in ((MORNING, MORNING - FIVE_MINUTES), (MIDDAY, None)):
        need = needs(tagged(ResourceKind.ECS_SERVICE), at=at, last_run=last_run)["app"]
        assert not need.describe
        assert "without a parked capacity" in need.reason


def test_protected_or_unknown_schedule_is_decided_from_its_tags() -> None:
    found = needs(
        tagged(ResourceKind.RDS_INSTANCE, "prod-db", Environment="production"),
        tagged(ResourceKind.RDS_INSTANCE, "typo-db", schedule="ofice-hours"),
        at=EVENING,
    )

    assert not found["prod-db"].describe
    assert found["prod-db"].reason.startswith("protected (Environment=production)")
    assert not found["typo-db"].describe
    assert "unknown schedule 'ofice-hours'" in found["typo-db"].reason


def test_databases_are_described_when_compute_of_their_schedule_may_start() -> None:
    service = tagged(ResourceKind.ECS_SERVICE)
    database = tagged(ResourceKind.RDS_INSTANCE, "app-db")
    other = tagged(ResourceKind.RDS_INSTANCE, "other-db", schedule="late-shift")

    found = needs(service, database, other, at=MIDDAY, parked=(record(service),))

    assert found["app-db"].describe
    assert "whose compute may start this run" in found["app-db"].reason
    # A database of another schedule does not hold this service, and is left unread.
    assert not found["other-db"].describe


def test_already_described_resources_get_no_need_but_count_for_the_databases_rule() -> None:
    group = ScheduledResource(
        ACCOUNT.format(service="autoscaling", path="autoScalingGroup:u:autoScalingGroupName/w"),
        ResourceKind.ASG,
        {"nightshift:schedule": "office-hours"},
        capacity=Capacity(0, 0, 0),
    )
    parked_group = ParkedRecord(
        group.arn, group.kind, EVENING, "office-hours", Capacity(3, 2, 6), ParkState.PARKED
    )
    database = tagged(ResourceKind.RDS_INSTANCE, "app-db")

    found = needs(group, database, at=MIDDAY, parked=(parked_group,))

    assert set(found) == {"app-db"}
    assert found["app-db"].describe


def test_plan_run_refuses_an_undescribed_resource_whose_decision_needs_its_state() -> None:
    with pytest.raises(ValueError, match="was not described"):
        plan_run([tagged(ResourceKind.RDS_INSTANCE)], {}, POLICY, DEFAULT_PROTECT, EVENING, None)


def test_undescribed_resource_is_reported_as_nothing_to_do_with_the_reason() -> None:
    [decision] = plan_run(
        [tagged(ResourceKind.EC2_INSTANCE)],
        {},
        POLICY,
        DEFAULT_PROTECT,
        MIDDAY,
        MIDDAY - FIVE_MINUTES,
    ).decisions

    assert decision.action is Action.NONE
    assert decision.reason.startswith("office-hours: running")
    assert "its state is not read" in decision.reason
    assert (decision.park, decision.settled, decision.unpark) == (None, None, False)


# -- the guarantee: an unread resource would have been decided the same way ------------------

STATUSES = {
    ResourceKind.ECS_SERVICE: ("ACTIVE",),
    ResourceKind.RDS_INSTANCE: ("available", "stopped", "starting", "stopping"),
    ResourceKind.AURORA_CLUSTER: ("available", "stopped", "starting"),
    ResourceKind.EC2_INSTANCE: ("running", "stopped", "pending"),
}
CAPACITIES = (SERVICE_CAPACITY, Capacity(0, 0, 0), Capacity(0, 1, 4), Capacity(3, None, None))


@st.composite
def described_fleet(draw: st.DrawFn) -> list[ScheduledResource]:
    """A few resources of every swept kind, each in a random state, tags and scope."""
    fleet = []
    for index in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(SWEPT_KINDS))
        tags = {
            "nightshift:schedule": draw(
                st.sampled_from(
                    ["office-hours", "office-hours-enforced", "late-shift", "ofice-hours"]
                )
            )
        }
        if draw(st.booleans()):
            tags["nightshift:override"] = draw(
                st.sampled_from(
                    ["running-until=2026-03-03T23:00", "stopped-until=2026-03-03T09:00"]
                )
            )
        if draw(st.integers(0, 9)) == 0:
            tags["Environment"] = "production"
        resource = ScheduledResource(
            ARNS[kind].format(name=f"r{index}"),
            kind,
            tags,
            status=draw(st.sampled_from(STATUSES[kind])),
            capacity=draw(st.sampled_from(CAPACITIES))
            if kind is ResourceKind.ECS_SERVICE
            else None,
            cluster="app-aurora"
            if kind is ResourceKind.RDS_INSTANCE and draw(st.integers(0, 4)) == 0
            else None,
        )
        fleet.append(resource)
    return fleet


@st.composite
def records_for(draw: st.DrawFn, fleet: list[ScheduledResource]) -> dict[str, ParkedRecord]:
    found = {}
    for resource in fleet:
        state = draw(st.sampled_from([None, *ParkState]))
        if state is not None:
            capacity = (
                draw(st.sampled_from(CAPACITIES))
                if resource.kind is ResourceKind.ECS_SERVICE
                else None
            )
            found[resource.arn] = ParkedRecord(
                resource.arn, resource.kind, EVENING, "office-hours", capacity, state
            )
    return found


def effects(decision: Decision) -> tuple[object, ...]:
    """What a decision makes the run do: switches, record writes, conflicts reported."""
    action = decision.action if decision.action in (Action.START, Action.STOP) else None
    return (
        decision.arn,
        action,
        decision.park,
        decision.settled,
        decision.unpark,
        decision.capacity_to_restore,
        decision.conflict,
    )


@settings(max_examples=400, deadline=None)
@given(
    data=st.data(),
    fleet=described_fleet(),
    at=st.sampled_from([EVENING, NIGHT, MORNING, MIDDAY, EVENING + FIVE_MINUTES]),
    last_run=st.sampled_from([None, FIVE_MINUTES, dt.timedelta(hours=3)]),
)
def test_leaving_unread_what_plan_describes_leaves_unread_changes_nothing_the_run_does(
    data: st.DataObject,
    fleet: list[ScheduledResource],
    at: dt.datetime,
    last_run: dt.timedelta | None,
) -> None:
    parked = data.draw(records_for(fleet))
    previous = None if last_run is None else at - last_run
    swept = {r.arn: ScheduledResource.tagged(r.arn, r.kind, r.tags) for r in fleet}
    read = {
        need.arn: need.describe
        for need in plan_describes(swept.values(), parked, POLICY, DEFAULT_PROTECT, at, previous)
    }
    partly = [r if read[r.arn] else swept[r.arn] for r in fleet]

    everything = plan_run(fleet, parked, POLICY, DEFAULT_PROTECT, at, previous)
    two_phase = plan_run(partly, parked, POLICY, DEFAULT_PROTECT, at, previous)

    assert [effects(d) for d in two_phase.decisions] == [effects(d) for d in everything.decisions]
    assert two_phase.orphaned == everything.orphaned
    # Refusals from the tags (protect, unknown schedule) stay refusals, with the same reason.
    refused = {d.arn: d.reason for d in everything.decisions if d.action is Action.REFUSE}
    assert {d.arn: d.reason for d in two_phase.decisions if d.action is Action.REFUSE} == refused
