"""One meaning of "production" (docs/decisions.md): every function's code protects a resource
exactly when its protect tag, compared case-insensitively, is one of the policy's values, or
when the value has leading or trailing whitespace (IAM cannot trim, so a padded value is
treated as protected)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import example, given, settings
from hypothesis import strategies as st

from nightshift.policy import ProtectRule
from nightshift.redeploy import Verdict, plan_redeploy
from nightshift.retention import Snapshot, SnapshotKind, protection_of
from nightshift.schedule import ResourceKind, ScheduledResource
from nightshift.schedule.plan import Action, scope_decision
from tests.unit.redeploy.samples import push_event, service, task_definition
from tests.unit.redeploy.test_redeploy_plan import RULES
from tests.unit.scheduler.test_schedule_plan import POLICY

RULE = ProtectRule("Environment", frozenset({"production", "prod"}))
NEAR_MISSES = ("prod-eu", "pre-production", "production1", "prodd", "pro d", "staging", "dev")


def production_by_decision(value: str) -> bool:
    """The documented rule, written out on its own as the oracle."""
    return value != value.strip() or value.lower() in {"production", "prod"}


@st.composite
def spellings(draw: st.DrawFn) -> str:
    """Production's values and near misses in random case, sometimes padded."""
    word = draw(st.sampled_from(("production", "prod", *NEAR_MISSES)))
    cased = "".join(letter.upper() if draw(st.booleans()) else letter.lower() for letter in word)
    padding = st.sampled_from(("", "", "", " ", "  ", "\t"))
    return draw(padding) + cased + draw(padding)


def scheduler_protects(value: str) -> bool:
    resource = ScheduledResource(
        "arn:aws:rds:eu-central-1:111122223333:db:app-db",
        ResourceKind.RDS_INSTANCE,
        {"nightshift:schedule": "office-hours", "Environment": value},
        status="available",
    )
    scoped = scope_decision(resource, POLICY, RULE)
    return getattr(scoped, "action", None) is Action.REFUSE


def pruner_protects(value: str) -> bool:
    snapshot = Snapshot(
        "snap-0a1b2c3d4e5f60718",
        SnapshotKind.EBS,
        "vol-0a1b2c3d4e5f60718",
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        tags={"Environment": value},
    )
    found = protection_of(snapshot, RULE)
    return found is not None and found[0] == "protected: production"


def redeploy_gates(value: str) -> bool:
    rules = dataclasses.replace(RULES, protect=RULE)
    definition = task_definition()
    result = plan_redeploy(
        push_event(),  # tag main-4f1c2e7: not a release, so production is gated
        [service(follows="main", environment=value)],
        {definition.arn: definition},
        rules,
        None,
    )
    (decision,) = result.decisions
    return decision.verdict is Verdict.PRODUCTION_GATED


@settings(max_examples=300, derandomize=True, deadline=None)
@given(spellings())
@example("Production")
@example("PROD")
@example("production ")
@example(" prod")
@example("prod-eu")
@example("pre-production")
def test_every_function_protects_exactly_what_the_documented_rule_protects(value: str) -> None:
    expected = production_by_decision(value)

    assert RULE.protects({"Environment": value}) is expected
    assert scheduler_protects(value) is expected
    assert pruner_protects(value) is expected
    assert redeploy_gates(value) is expected


def test_resource_without_the_protect_tag_is_not_protected() -> None:
    assert not RULE.protects({"environment": "production"})
    assert not RULE.protects({})
