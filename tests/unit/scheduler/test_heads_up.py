"""The heads-up before a stop: the pure planner (nightshift.schedule.heads_up) and its setting."""

from __future__ import annotations

import datetime as dt

import pytest

from nightshift.errors import PolicyError
from nightshift.policy import DEFAULT_PROTECT
from nightshift.schedule.heads_up import plan_heads_ups
from nightshift.schedule.model import Schedule
from nightshift.schedule.policy import SchedulerPolicy
from nightshift.schedule.resources import ResourceKind, ScheduledResource

OFFICE = {
    "timezone": "Europe/Berlin",
    "heads_up_minutes": 30,
    "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}],
}
STOP = dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.UTC)  # Friday 19:00 CET


def resource(name: str, **tags: str) -> ScheduledResource:
    return ScheduledResource(
        f"arn:aws:rds:eu-central-1:1:db:{name}",
        ResourceKind.RDS_INSTANCE,
        {"nightshift:schedule": "office-hours", **tags},
    )


def plan(*resources: ScheduledResource, at: dt.datetime, **changes: object):  # type: ignore[no-untyped-def]
    policy = SchedulerPolicy.from_sections({"office-hours": {**OFFICE, **changes}})
    return plan_heads_ups(resources, policy, DEFAULT_PROTECT, at)


@pytest.mark.parametrize(
    ("minutes_before", "due"), [(31, False), (30, True), (5, True), (0, False), (-5, False)]
)
def test_due_only_inside_the_window_before_the_stop(minutes_before: int, due: bool) -> None:
    found = plan(resource("app"), at=STOP - dt.timedelta(minutes=minutes_before))
    assert bool(found) is due
    if due:
        assert found[0].stops_at == STOP
        assert found[0].key == "office-hours#2026-11-20T18:00:00+00:00"


def test_names_only_what_the_stop_will_park() -> None:
    kept = resource("kept", **{"nightshift:override": "running-until=2026-11-20T22:00"})
    briefly = resource("briefly", **{"nightshift:override": "running-until=2026-11-20T18:30"})
    protected = resource("prod", Environment="production")
    (heads_up,) = plan(
        resource("app"), kept, briefly, protected, at=STOP - dt.timedelta(minutes=20)
    )
    assert [arn.rsplit(":", 1)[-1] for arn in heads_up.resources] == ["app", "briefly"]
    assert "stops 2 resources at 2026-11-20 19:00 CET, in 20 min" in heads_up.reason
    item = heads_up.report_item()
    assert (item.resource, item.action, item.details["stops_at"]) == (
        "office-hours",
        "heads-up",
        "2026-11-20T18:00:00+00:00",
    )
    # the next start after Friday's stop is Monday 07:30 CET: what "Stop now" holds until
    assert heads_up.starts_at == dt.datetime(2026, 11, 23, 6, 30, tzinfo=dt.UTC)
    assert item.details["starts_at"] == "2026-11-23T06:30:00+00:00"


def test_nothing_when_every_resource_is_held_running_or_the_setting_is_absent() -> None:
    kept = resource("kept", **{"nightshift:override": "running-until=2026-11-20T22:00"})
    assert plan(kept, at=STOP - dt.timedelta(minutes=10)) == ()
    assert plan(resource("app"), at=STOP - dt.timedelta(minutes=10), heads_up_minutes=None) == ()


@pytest.mark.parametrize("value", [0, 721, True, "30"])
def test_the_setting_is_whole_minutes_from_1_to_720(value: object) -> None:
    with pytest.raises(PolicyError, match="heads_up_minutes"):
        Schedule.from_section("office-hours", {**OFFICE, "heads_up_minutes": value})
