"""The price table shipped with the layer, the policy's override, and what is never guessed."""

from __future__ import annotations

import datetime as dt

import pytest

from nightshift.errors import PolicyError
from nightshift.policy import parse_policy
from nightshift.pricing import (
    DatabaseSize,
    FargateSize,
    InstanceSize,
    PriceTable,
    hourly_price,
    shipped_table,
)
from nightshift.schedule import Capacity, ParkedRecord, ResourceKind
from nightshift.schedule import ScheduledResource as Resource
from nightshift.schedule.plan import Action, Decision
from nightshift.schedule.policy import SchedulerPolicy
from nightshift.schedule.ports import TaskSize
from nightshift.schedule.savings import price_switches, price_table, task_definitions_to_size

REGION = "eu-central-1"
SERVICE_ARN = "arn:aws:ecs:eu-central-1:111122223333:service/todoapp-cluster/backend"
TASK_DEF = "arn:aws:ecs:eu-central-1:111122223333:task-definition/backend:3"


def test_shipped_table_prices_the_example_apps_fargate_service_per_task_size() -> None:
    price = hourly_price(FargateSize(REGION, 0.25, 0.5, tasks=2), shipped_table())

    # 2 tasks x (0.25 vCPU x $0.04656 + 0.5 GiB x $0.00511)
    assert price.usd == pytest.approx(2 * (0.25 * 0.04656 + 0.5 * 0.00511))
    assert price.reason == "2 x Fargate 0.25 vCPU 0.5 GiB x86_64 in eu-central-1"


def test_graviton_fargate_tasks_use_the_arm64_rates() -> None:
    x86 = hourly_price(FargateSize(REGION, 1, 2, 1), shipped_table()).usd
    arm = hourly_price(FargateSize(REGION, 1, 2, 1, "arm64"), shipped_table()).usd

    assert x86 is not None
    assert arm is not None
    assert arm < x86


def test_multi_az_database_costs_twice_the_single_az_class() -> None:
    single = hourly_price(DatabaseSize(REGION, "postgres", "db.t4g.micro"), shipped_table())
    multi = hourly_price(DatabaseSize(REGION, "postgres", "db.t4g.micro", True), shipped_table())

    assert single.usd == 0.019
    assert multi.usd == 0.038
    assert "Multi-AZ" in multi.reason


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        (
            InstanceSize(REGION, "p5.48xlarge"),
            "unpriced: EC2 p5.48xlarge is not in the price table for eu-central-1",
        ),
        (
            DatabaseSize(REGION, "oracle-ee", "db.t4g.micro"),
            "unpriced: RDS oracle-ee db.t4g.micro is not in the price table for eu-central-1",
        ),
        (InstanceSize("ap-south-2", "t4g.nano"), "unpriced: no prices for region ap-south-2"),
        (None, "unpriced: its size is not known"),
    ],
)
def test_a_size_not_in_the_table_is_unpriced_never_guessed(
    size: InstanceSize | DatabaseSize | None, reason: str
) -> None:
    price = hourly_price(size, shipped_table())

    assert (price.usd, price.priced, price.reason) == (None, False, reason)


def test_every_shipped_price_is_a_positive_hourly_rate() -> None:
    for region, services in shipped_table().regions.items():
        rates = [r for arch in services["fargate"].values() for r in arch.values()]
        rates += [p for engine in services["rds"].values() for p in engine.values()]
        rates += list(services["ec2"].values())
        assert rates, region
        assert all(0 < rate < 10 for rate in rates), region


def test_policy_override_replaces_one_price_and_keeps_the_rest() -> None:
    policy = parse_policy(
        "version: 1\n"
        "scheduler:\n"
        "  pricing:\n"
        "    source: our EDP discount sheet 2026-11\n"
        "    regions:\n"
        "      eu-central-1:\n"
        "        rds: {postgres: {db.t4g.micro: 0.015}}\n"
        "      ap-south-2:\n"
        "        ec2: {t4g.nano: 0.005}\n"
    )
    table = price_table(SchedulerPolicy.from_policy(policy).settings.pricing)

    assert hourly_price(DatabaseSize(REGION, "postgres", "db.t4g.micro"), table).usd == 0.015
    assert hourly_price(DatabaseSize(REGION, "postgres", "db.t4g.medium"), table).usd == 0.074
    assert hourly_price(InstanceSize("ap-south-2", "t4g.nano"), table).usd == 0.005
    assert table.source.endswith("overridden by our EDP discount sheet 2026-11")


@pytest.mark.parametrize(
    ("pricing", "path"),
    [
        ("regions: {eu-central-1: {ec2: {t4g.nano: -1}}}", "scheduler.pricing.regions"),
        ("regions: {eu-central-1: {lambda: {x: 1}}}", "scheduler.pricing.regions"),
        ("regions: {Frankfurt: {ec2: {t4g.nano: 1}}}", "scheduler.pricing.regions"),
        ("regions: {eu-central-1: {fargate: {x86_64: {vcpu_hour: 1}}}}", "scheduler.pricing"),
    ],
)
def test_policy_check_refuses_a_malformed_price_override(pricing: str, path: str) -> None:
    with pytest.raises(PolicyError, match=path.replace(".", r"\.")):
        parse_policy(f"version: 1\nscheduler:\n  pricing: {{{pricing}}}\n")


def test_override_without_regions_leaves_the_table_as_shipped() -> None:
    table = PriceTable({REGION: {"ec2": {"t4g.nano": 0.0048}}}, "shipped")

    assert table.overridden(None) is table
    assert table.overridden({"source": "x"}) is table


# -- the scheduler's starts and stops, priced ---------------------------------------------------

PARKED_AT = dt.datetime(2026, 12, 3, 18, tzinfo=dt.UTC)
MORNING = dt.datetime(2026, 12, 4, 6, 30, tzinfo=dt.UTC)


def service(desired: int = 2) -> Resource:
    return Resource(
        SERVICE_ARN,
        ResourceKind.ECS_SERVICE,
        status="ACTIVE",
        capacity=Capacity(desired, 2, 10),
        task_definition=TASK_DEF,
    )


def test_a_stop_is_priced_forward_until_the_next_start_as_an_estimate() -> None:
    stop = Decision(service(), Action.STOP, "stop", hours_saved=12.5)

    [saving] = price_switches([stop], PARKED_AT, shipped_table(), {TASK_DEF: TaskSize(0.25, 0.5)})

    assert not saving.realised
    assert saving.usd == pytest.approx(12.5 * 2 * (0.25 * 0.04656 + 0.5 * 0.00511))


def test_a_start_is_priced_back_to_when_the_record_says_it_was_parked() -> None:
    parked = service(desired=0)
    record = ParkedRecord(SERVICE_ARN, ResourceKind.ECS_SERVICE, PARKED_AT, "office-hours")
    start = Decision(
        parked, Action.START, "restore", park=record, capacity_to_restore=Capacity(2, 2, 10)
    )

    [saving] = price_switches([start], MORNING, shipped_table(), {TASK_DEF: TaskSize(0.25, 0.5)})

    # 12.5 hours parked, priced at the 2 tasks the start restores (not the 0 it found)
    assert (saving.realised, saving.hours) == (True, 12.5)
    assert saving.usd == pytest.approx(12.5 * 2 * (0.25 * 0.04656 + 0.5 * 0.00511))


def test_a_service_whose_task_definition_was_not_read_is_unpriced() -> None:
    stop = Decision(service(), Action.STOP, "stop", hours_saved=12.5)

    [saving] = price_switches([stop], PARKED_AT, shipped_table(), {})

    assert saving.usd is None
    assert saving.price.reason == "unpriced: its task definition's size is not known"


def test_aurora_clusters_are_unpriced_with_the_reason() -> None:
    cluster = Resource(
        "arn:aws:rds:eu-central-1:1:cluster:app", ResourceKind.AURORA_CLUSTER, status="available"
    )

    [saving] = price_switches(
        [Decision(cluster, Action.STOP, "stop", hours_saved=12.5)], PARKED_AT, shipped_table(), {}
    )

    assert saving.usd is None
    assert "Aurora" in saving.price.reason


def test_only_switched_services_task_definitions_are_described_once_each() -> None:
    other = Resource(
        SERVICE_ARN + "-2",
        ResourceKind.ECS_SERVICE,
        status="ACTIVE",
        capacity=Capacity(1),
        task_definition=TASK_DEF,
    )
    db = Resource("arn:aws:rds:eu-central-1:1:db:app", ResourceKind.RDS_INSTANCE)
    decisions = [Decision(r, Action.STOP, "stop") for r in (service(), other, db)]

    assert task_definitions_to_size(decisions) == (TASK_DEF,)


def test_task_size_reads_fargate_units_and_architecture() -> None:
    assert TaskSize.from_units("1024", "2048", None) == TaskSize(1.0, 2.0, "x86_64")
    assert TaskSize.from_units(512, 1024, "ARM64") == TaskSize(0.5, 1.0, "arm64")
