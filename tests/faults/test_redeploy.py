"""Redeploy under faults: a push reaching the two staging services that run the backend (one new
revision shared by both), replayed with a fault at every call, then redelivered as Lambda
retries a failed asynchronous invocation (twice), fault-free.

The core stack is the functional tier's (`tests/functional/test_redeploy.py`). One account
serves every replay: each replay is the next push (a new digest, a minute later), so the
invariants are counted per push: one new revision per source revision, one UpdateService that
took effect per service, every following service on the pushed digest, production untouched.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import FakeLambdaContext, load_handler
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
from tests.functional.test_redeploy import (
    ACCOUNT,
    API,
    BACKEND,
    CANARY,
    POLICY,
    PRODUCTION,
    REGION,
    STAGING,
    TABLE,
    TOPIC,
    TOPIC_ARN,
    build_core_stack,
    push_event,
    service_arn,
)
from tests.support.faults import FaultInjector, FaultKind, ProcessCrash
from tests.support.nightshift import create_ops_topic, create_state_table, function_environment

FIRST_PUSH = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
DEPLOYED = (service_arn(STAGING, API), service_arn(STAGING, CANARY))
UNTOUCHED = service_arn(PRODUCTION, API)  # follows release tags only
DELIVERIES = 3  # the first delivery and Lambda's two retries of an asynchronous invocation
RANDOM_FAULTED_DELIVERIES = 2  # faults in the first two; the last retry is fault-free


class Pushes:
    """The account, and one push after another through the handler."""

    def __init__(self, book: Ledger, injector: FaultInjector) -> None:
        self.book = book
        self.injector = injector
        session = boto3.DEFAULT_SESSION
        create_state_table(session.client("dynamodb"), TABLE)
        create_ops_topic(session.client("sns"), session.client("sqs"), TOPIC)
        build_core_stack(session)
        self.ecs = session.client("ecs")
        self.app = load_handler("redeploy")
        self.count = 0

    def revisions(self) -> int:
        pages = self.ecs.get_paginator("list_task_definitions").paginate(
            familyPrefix="todoapp-backend"
        )
        return sum(
            1
            for page in pages
            for arn in page["taskDefinitionArns"]
            if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == "todoapp-backend"
        )

    def image(self, arn: str) -> str:
        cluster = arn.split("/")[-2]
        service = self.ecs.describe_services(cluster=cluster, services=[arn])["services"][0]
        definition = self.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
        containers = definition["taskDefinition"]["containerDefinitions"]
        return next(c["image"] for c in containers if c["name"] == "app")

    def push(self, faults: dict[int, dict[int, FaultKind]]) -> list[int]:
        """Deliver the next push with `faults` (by delivery, then call number), retrying while
        it fails as Lambda would; check the invariants; return each delivery's call count."""
        self.count += 1
        digest = "sha256:" + f"{self.count:064x}"
        event = push_event(
            image_tag=f"main-{self.count:07x}",
            image_digest=digest,
            time=(FIRST_PUSH + dt.timedelta(minutes=self.count)).isoformat(),
        )
        before = self.revisions()
        counts: list[int] = []
        reached: list[Any] = []
        for delivery in range(DELIVERIES):
            result, ended, calls = run_armed(
                self.book,
                self.injector,
                faults.get(delivery, {}),
                # The retry comes after the failed invocation's deadline (Lambda waits a minute
                # or more), so a crashed attempt's in-progress idempotency record has expired.
                lambda: self.app.lambda_handler(event, FakeLambdaContext(remaining_ms=1)),
            )
            counts.append(len(calls))
            reached += self.injector.reached()
            if isinstance(ended, ProcessCrash):
                new_process(self.app)
            if ended is None and result is not None:
                break
        self._check(digest, before, reached)
        return counts

    def _check(self, digest: str, before: int, reached: list[Any]) -> None:
        after = self.revisions()
        self.book.check(
            "one new revision per source revision per push",
            after == before + 1,
            lambda: f"push {self.count}: {after - before} new revisions ({self.injector.injected})",
        )
        for arn in DEPLOYED:
            updates = [c for c in reached if c.operation == "UpdateService" and arn in c.body]
            self.book.check(
                "one UpdateService per service per push",
                len(updates) == 1,
                lambda updates=updates, arn=arn: f"push {self.count}: {len(updates)} for {arn}",
            )
            image = self.image(arn)
            self.book.check(
                "every following service runs the pushed digest after the retries",
                image == f"{BACKEND}@{digest}",
                lambda image=image, arn=arn: f"push {self.count}: {arn} runs {image}",
            )
        touched = [
            c.name for c in reached if c.service == "ecs" and c.writes and UNTOUCHED in c.body
        ]
        self.book.check(
            "no write to a service the push does not reach",
            not touched,
            lambda: f"push {self.count}: {touched} on {UNTOUCHED}",
        )


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    policy = tmp_path / "nightshift.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    function_environment(
        monkeypatch,
        service="redeploy",
        policy_file=policy,
        table=TABLE,
        topic_arn=TOPIC_ARN,
        region=REGION,
        extra={
            "MOTO_ACCOUNT_ID": ACCOUNT,
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "NIGHTSHIFT_ACTIONS_URL": "",  # no approve links: nothing here is held
            "NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET": "",
        },
    )


def replays(calls: int) -> Iterator[dict[int, dict[int, FaultKind]]]:
    for plan in targeted_plans(calls):
        yield {0: plan}
    for seed in range(SEEDS):
        rng = random.Random(seed)
        yield {delivery: random_plan(rng, calls) for delivery in range(RANDOM_FAULTED_DELIVERIES)}


@pytest.mark.usefixtures("environment")
def test_every_push_faulted_at_every_call_deploys_once_after_the_retries() -> None:
    book = ledger("redeploy")
    injector = FaultInjector()
    with faulty_cloud(injector):
        pushes = Pushes(book, injector)
        [calls] = pushes.push({})  # the representative run, fault-free
        book.boundaries = calls
        for faults in replays(calls):
            book.replays += 1
            pushes.push(faults)

    assert_clean_and_documented(book)
