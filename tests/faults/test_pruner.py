"""The pruner under faults: a daily run deleting what retention no longer keeps of one EBS
volume, one RDS instance and one Aurora cluster (four days of snapshots each, beside a retained
and a production snapshot), replayed with a fault at every call, then the next two daily runs
fault-free (the first continues the unfinished cycle from the cursor, the second starts a new
one and retries what failed).

The account and its snapshot histories are the functional tier's (`tests/functional/
test_pruner.py`): `Cloud` builds them with moto's clock set to each snapshot's time.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from tests.conftest import load_handler
from tests.faults.harness import (
    SEEDS,
    Ledger,
    assert_clean_and_documented,
    faulty_cloud,
    ledger,
    new_process,
    random_plan,
    run_armed,
    targeted_plans,
)
from tests.functional.test_pruner import (
    DELETE_OPERATIONS,
    EVENT_TIME,
    POLICY,
    REGION,
    STAGING,
    Cloud,
    RealTimeContext,
)
from tests.support.faults import Call, FaultInjector, FaultKind, ProcessCrash
from tests.support.nightshift import create_ops_topic, create_state_table, function_environment

DAYS = 4  # `keep: {last: 2, daily: 3}` keeps three of each and deletes one
DAILY_RUNS = 3  # the faulted run, then two fault-free days
RETAINED = [*STAGING, {"Key": "nightshift:retain", "Value": "true"}]
PRODUCTION = [{"Key": "Environment", "Value": "production"}]
# Faults whose call took effect although the caller never heard so.
ANSWER_LOST = (FaultKind.TIMEOUT, FaultKind.CRASH_AFTER)


class Account:
    """A fresh moto account with the snapshot histories, and what the invariants look at."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, policy: Path) -> None:
        session = boto3.DEFAULT_SESSION
        create_state_table(session.client("dynamodb", region_name=REGION), "nightshift-state")
        ops = create_ops_topic(session.client("sns"), session.client("sqs"), "nightshift-ops")
        self.cloud = Cloud(monkeypatch, policy, ops)
        volume = self.cloud.ebs_history(days=DAYS)
        self.protected = {
            self.cloud.ebs_snapshot(volume, days_ago=DAYS + 5, tags=RETAINED),
            self.cloud.ebs_snapshot(volume, days_ago=DAYS + 6, tags=PRODUCTION),
        }
        self.cloud.rds_history("orders-db", days=DAYS)
        self.cloud.aurora_history("orders-aurora", days=DAYS)
        self.protected |= {s for s in self.snapshots() if s.startswith("rds:")}  # automated

    def snapshots(self) -> set[str]:
        return self.cloud.ebs_ids() | self.cloud.rds_ids() | self.cloud.aurora_ids()

    def shape(self) -> Counter[str]:
        """How many snapshots of each kind are left (ids differ from account to account)."""
        return Counter(
            "rds"
            if name in self.cloud.rds_ids()
            else "aurora"
            if name in self.cloud.aurora_ids()
            else "ebs"
            for name in self.snapshots()
        )


def delete_target(call: Call) -> str | None:
    key = DELETE_OPERATIONS.get(call.operation)
    return None if key is None else call.fields.get(key)


class Cycle:
    def __init__(self, book: Ledger, injector: FaultInjector, account: Account) -> None:
        self.book = book
        self.injector = injector
        self.account = account
        self.app = load_handler("pruner")

    def play(self, faults: dict[int, dict[int, FaultKind]]) -> list[int]:
        counts = []
        deletes: list[tuple[str, bool]] = []  # (snapshot, whether the caller heard back)
        for day in range(DAILY_RUNS):
            event = {"time": (EVENT_TIME + timedelta(days=day)).isoformat()}
            _, ended, calls = run_armed(
                self.book,
                self.injector,
                faults.get(day, {}),
                lambda event=event: self.app.lambda_handler(event, RealTimeContext()),
            )
            counts.append(len(calls))
            lost = {call.index for call, kind in self.injector.injected if kind in ANSWER_LOST}
            for call in self.injector.reached():
                target = delete_target(call)
                if target is not None:
                    deletes.append((target, call.index not in lost))
            if isinstance(ended, ProcessCrash):
                new_process(self.app)
        self._check(deletes)
        return counts

    def _check(self, deletes: list[tuple[str, bool]]) -> None:
        heard = Counter(target for target, answered in deletes if answered)
        twice = sorted(target for target, count in heard.items() if count > 1)
        self.book.check(
            "nothing is deleted twice",
            not twice,
            lambda: f"deleted twice: {twice} ({self.injector.injected})",
        )
        touched = sorted({target for target, _ in deletes} & self.account.protected)
        gone = sorted(self.account.protected - self.account.snapshots())
        self.book.check(
            "nothing protected is deleted",
            not touched and not gone,
            lambda: f"delete calls for {touched}, gone: {gone}",
        )
        self.book.check(
            "the cycle resumes from its cursor and keeps exactly what retention keeps",
            self.account.shape() == EXPECTED,
            lambda: f"left {dict(self.account.shape())}, expected {dict(EXPECTED)}",
        )


EXPECTED = Counter({"ebs": 3 + 2, "rds": 3 + 1, "aurora": 3 + 1})  # + protected, automated


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "nightshift.yaml"
    path.write_text(POLICY, encoding="utf-8")
    function_environment(
        monkeypatch,
        service="pruner",
        policy_file=path,
        table="nightshift-state",
        topic_arn=f"arn:aws:sns:{REGION}:123456789012:nightshift-ops",
        region=REGION,
        extra={
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
            "NIGHTSHIFT_PRUNER_DRY_RUN": "false",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        },
    )
    return path


def replays(calls: int) -> Iterator[dict[int, dict[int, FaultKind]]]:
    for plan in targeted_plans(calls):
        yield {0: plan}
    for seed in range(SEEDS):
        rng = random.Random(seed)
        yield {day: random_plan(rng, calls) for day in range(2)}


def test_every_daily_run_faulted_at_every_call_converges_without_deleting_twice(
    monkeypatch: pytest.MonkeyPatch, policy: Path
) -> None:
    book = ledger("pruner")
    injector = FaultInjector()
    with faulty_cloud(injector):
        account = Account(monkeypatch, policy)
        answer_locks(account.cloud)
        [calls, *_] = Cycle(book, injector, account).play({})
    book.boundaries = calls
    for faults in replays(calls):
        book.replays += 1
        with faulty_cloud(injector):
            account = Account(monkeypatch, policy)
            answer_locks(account.cloud)
            Cycle(book, injector, account).play(faults)

    assert_clean_and_documented(book)


_CURRENT: list[Cloud] = []


def answer_locks(cloud: Cloud) -> None:
    """moto lacks DescribeLockedSnapshots: the functional tier's Cloud answers it (no locks).
    One handler on the shared session, answering for the account of the moment."""
    if not _CURRENT:
        boto3.DEFAULT_SESSION.events.register(
            "before-call.ec2.DescribeLockedSnapshots",
            lambda **kwargs: _CURRENT[-1]._answer_locks(**kwargs),
        )
    _CURRENT.append(cloud)
