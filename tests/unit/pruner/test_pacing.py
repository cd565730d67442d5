"""The token bucket and the adaptive pacer, on a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nightshift.errors import AwsError
from nightshift.pacing import (
    EC2_DELETE_SNAPSHOT,
    RDS_API,
    Backoff,
    DeadlineReached,
    Pacer,
    RateLimit,
    TokenBucket,
)

PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_documented_limits_are_the_ones_aws_publishes() -> None:
    assert (EC2_DELETE_SNAPSHOT.burst, EC2_DELETE_SNAPSHOT.rate) == (100, 5.0)
    assert (RDS_API.burst, RDS_API.rate) == (300, 12.0)
    assert EC2_DELETE_SNAPSHOT.source.startswith("https://docs.aws.amazon.com/")
    assert RDS_API.source.startswith("https://docs.aws.amazon.com/")


def test_bucket_spends_its_burst_at_once_then_waits_one_refill_per_call(clock) -> None:
    bucket = TokenBucket(burst=3, rate=2.0, clock=clock, sleep=clock.sleep)

    waits = [bucket.acquire() for _ in range(5)]

    assert waits == [0.0, 0.0, 0.0, 0.5, 0.5]
    assert clock.slept == [0.5, 0.5]


def test_bucket_refills_while_idle_but_never_beyond_its_burst(clock) -> None:
    bucket = TokenBucket(burst=3, rate=2.0, clock=clock, sleep=clock.sleep, tokens=0)
    clock.advance(60)

    assert bucket.tokens == 3
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_drained_bucket_waits_a_full_refill_for_the_next_call(clock) -> None:
    bucket = TokenBucket(burst=100, rate=5.0, clock=clock, sleep=clock.sleep)

    bucket.drain()

    assert bucket.delay() == 0.2


def test_bucket_refuses_to_wait_past_the_deadline_and_does_not_sleep(clock) -> None:
    bucket = TokenBucket(burst=1, rate=0.5, clock=clock, sleep=clock.sleep, tokens=0, name="rds:*")

    with pytest.raises(DeadlineReached) as caught:
        bucket.acquire(deadline=clock() + 1.0)

    assert caught.value.limit == "rds:*"
    assert caught.value.needed == 2.0
    assert clock.slept == []


@PROPERTY
@given(
    burst=st.integers(min_value=1, max_value=20),
    rate=st.floats(min_value=0.5, max_value=20),
    gaps=st.lists(st.floats(min_value=0, max_value=2), min_size=1, max_size=80),
)
def test_calls_in_any_window_never_exceed_burst_plus_refill(new_clock, burst, rate, gaps) -> None:
    clock = new_clock()
    bucket = TokenBucket(burst=burst, rate=rate, clock=clock, sleep=clock.sleep)
    times = []
    for gap in gaps:
        clock.advance(gap)
        bucket.acquire()
        times.append(clock())

    for i, start in enumerate(times):
        for j in range(i, len(times)):
            window = times[j] - start
            assert j - i + 1 <= burst + rate * window + 1e-6


def throttling(times: int, code: str = "ThrottlingException"):
    calls = []

    def operation() -> str:
        calls.append(code)
        if len(calls) <= times:
            raise AwsError("DeleteDBSnapshot", code, "Rate exceeded")
        return "deleted"

    return operation, calls


def test_pacer_retries_throttling_halving_its_rate_and_backing_off(clock) -> None:
    pacer = Pacer(
        RDS_API, clock=clock, sleep=clock.sleep, rand=lambda: 1.0, backoff=Backoff(base=0.5, cap=20)
    )
    operation, calls = throttling(2)

    assert pacer.call(operation) == "deleted"

    assert len(calls) == 3
    assert pacer.throttled == 2
    assert clock.slept[:1] == [1.0]  # first back-off: 0.5 * 2**1, full jitter at its top
    assert pacer.rate < RDS_API.rate / 2


def test_pacer_wins_its_rate_back_with_successes(clock) -> None:
    pacer = Pacer(EC2_DELETE_SNAPSHOT, clock=clock, sleep=clock.sleep, rand=lambda: 0.0)
    operation, _ = throttling(1, "RequestLimitExceeded")
    pacer.call(operation)
    slowed = pacer.rate

    for _ in range(40):
        pacer.call(lambda: None)

    # halved by the throttle, then one step (rate / 20) back for the retry that succeeded
    assert slowed == EC2_DELETE_SNAPSHOT.rate / 2 + EC2_DELETE_SNAPSHOT.rate / 20
    assert pacer.rate == EC2_DELETE_SNAPSHOT.rate


def test_pacer_passes_other_errors_through_without_retrying(clock) -> None:
    pacer = Pacer(RDS_API, clock=clock, sleep=clock.sleep, rand=lambda: 0.5)
    operation, calls = throttling(5, "InvalidDBSnapshotState")

    with pytest.raises(AwsError) as caught:
        pacer.call(operation)

    assert caught.value.code == "InvalidDBSnapshotState"
    assert len(calls) == 1
    assert pacer.rate == RDS_API.rate


def test_pacer_gives_up_after_its_attempts_with_the_throttling_error(clock) -> None:
    pacer = Pacer(RDS_API, clock=clock, sleep=clock.sleep, rand=lambda: 0.5, max_attempts=3)
    operation, calls = throttling(10, "Throttling")

    with pytest.raises(AwsError) as caught:
        pacer.call(operation)

    assert caught.value.code == "Throttling"
    assert len(calls) == 3


def test_pacer_never_sleeps_past_the_deadline(clock) -> None:
    pacer = Pacer(
        RDS_API, clock=clock, sleep=clock.sleep, rand=lambda: 1.0, backoff=Backoff(base=10, cap=60)
    )
    operation, _ = throttling(1)

    with pytest.raises(DeadlineReached):
        pacer.call(operation, deadline=clock() + 5)

    assert sum(clock.slept) <= 5


def test_pacer_floor_keeps_the_rate_above_zero(clock) -> None:
    limit = RateLimit("test", burst=1, rate=8.0, source="test")
    pacer = Pacer(
        limit, clock=clock, sleep=clock.sleep, rand=lambda: 0.0, max_attempts=50, floor=1.0
    )
    operation, _ = throttling(20)

    pacer.call(operation)

    assert pacer.rate >= 1.0


def test_rate_limit_and_bucket_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="burst"):
        RateLimit("x", burst=0, rate=1, source="")
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(burst=1, rate=0, clock=lambda: 0.0, sleep=lambda s: None)
