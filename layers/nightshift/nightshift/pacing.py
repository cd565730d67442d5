"""Pace AWS calls to the documented request rates, and slow down when AWS says so.

AWS throttles per account and Region with token buckets: a bucket holds `burst` tokens, every
call takes one, and it refills at `rate` tokens per second. `TokenBucket` keeps a local copy of
that bucket so we wait *before* AWS has to refuse us; `Pacer` adds what the local copy cannot
know (other callers share the account's bucket): on a throttling error it halves its rate,
empties its bucket, backs off with full jitter and retries; each success wins back a little rate.

Pure: the clock, the sleep and the random source are arguments, so tests run on a fake clock.
Thread-safe: concurrent callers share one bucket; each reserves its token under a lock (the
bucket may go into debt) and waits for it outside the lock, so the calls still start no faster
than the rate however many threads make them.
The rates and where they are documented: docs/pruner.md, "Pacing".

>>> now = [0.0]
>>> bucket = TokenBucket(burst=2, rate=1.0, clock=lambda: now[0], sleep=lambda s: None)
>>> bucket.delay(), bucket.take(), bucket.take(), bucket.delay()
(0.0, True, True, 1.0)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from nightshift.errors import AwsError, NightshiftError

Clock = Callable[[], float]
"""Monotonic seconds (time.monotonic in production)."""
Sleep = Callable[[float], None]
"""Blocks for the given seconds (time.sleep in production)."""
Random = Callable[[], float]
"""Uniform in [0, 1) (random.random in production); used for back-off jitter."""

T = TypeVar("T")

# Error codes AWS uses to say "slow down": botocore's list (botocore/retries/standard.py),
# minus quota errors that are not about the request rate (LimitExceededException) and
# data-plane codes no pruner call returns (SlowDown, ProvisionedThroughputExceededException ...).
THROTTLING_CODES = frozenset(
    {
        "Throttling",  # RDS (Query protocol)
        "ThrottlingException",  # RDS, most JSON services
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",  # EC2
        "RequestThrottled",
        "EC2ThrottledException",
    }
)


@dataclass(frozen=True)
class RateLimit:
    """A documented token bucket: `burst` calls at once, refilled at `rate` calls per second."""

    name: str
    burst: float
    rate: float
    source: str

    def __post_init__(self) -> None:
        if self.burst < 1 or self.rate <= 0:
            raise ValueError(f"{self.name}: burst must be >= 1 and rate > 0")


# EC2 gives DeleteSnapshot its own bucket ("Uncategorized actions": 100 tokens, 5 per second).
EC2_DELETE_SNAPSHOT = RateLimit(
    name="ec2:DeleteSnapshot",
    burst=100,
    rate=5.0,
    source="https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html",
)
# RDS has one bucket for all its API operations, Aurora's included: 300 in a burst, 12 per second.
RDS_API = RateLimit(
    name="rds:*",
    burst=300,
    rate=12.0,
    source="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html",
)


class DeadlineReached(NightshiftError):
    """The next call could not start (or finish waiting) before the deadline; stop and resume."""

    def __init__(self, limit: str, needed: float, left: float) -> None:
        self.limit = limit
        self.needed = needed
        self.left = left
        super().__init__(f"{limit}: next call needs {needed:.2f}s, deadline in {left:.2f}s")


class TokenBucket:
    """A local token bucket: `take` succeeds when a token is there, `acquire` waits for one.

    The rate can be changed while running (the `Pacer` does so); the bucket never holds more
    than `burst` tokens.
    """

    def __init__(
        self,
        burst: float,
        rate: float,
        *,
        clock: Clock,
        sleep: Sleep,
        tokens: float | None = None,
        name: str = "token bucket",
    ) -> None:
        if burst < 1 or rate <= 0:
            raise ValueError("burst must be >= 1 and rate > 0")
        self.name = name
        self.burst = float(burst)
        self._rate = float(rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst if tokens is None else min(float(tokens), self.burst)
        self._updated = clock()
        self._lock = threading.RLock()

    @property
    def rate(self) -> float:
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        if value <= 0:
            raise ValueError("rate must be > 0")
        with self._lock:
            self._refill()  # tokens earned so far count at the old rate
            self._rate = float(value)

    @property
    def tokens(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens

    def delay(self, count: float = 1.0) -> float:
        """Seconds until `count` tokens are available (0.0 if they are there now)."""
        with self._lock:
            self._refill()
            missing = count - self._tokens
            return 0.0 if missing <= 0 else missing / self._rate

    def take(self, count: float = 1.0) -> bool:
        """Take `count` tokens if they are there now; never waits."""
        with self._lock:
            if self.delay(count) > 0:
                return False
            self._tokens -= count
            return True

    def acquire(self, count: float = 1.0, *, deadline: float | None = None) -> float:
        """Wait until `count` tokens are there and take them; returns the seconds waited.

        Raises DeadlineReached, without waiting or taking anything, if the wait would end after
        `deadline` (a time on the same clock).
        """
        with self._lock:
            wait = self.delay(count)
            if deadline is not None:
                left = deadline - self._clock()
                if wait > left:
                    raise DeadlineReached(self.name, wait, left)
            # Reserved now, paid by the wait: the bucket goes into debt, and the next caller
            # (another thread, perhaps) waits for its own token behind this one.
            self._tokens -= count
        if wait > 0:
            self._sleep(wait)
        return wait

    def drain(self) -> None:
        """Forget the tokens we thought we had (AWS just told us the real bucket is empty)."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.burst, self._tokens + elapsed * self._rate)
        self._updated = now


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with full jitter: attempt n waits rand * min(cap, base * 2**n)."""

    base: float = 0.5
    cap: float = 20.0

    def delay(self, attempt: int, rand: Random) -> float:
        return rand() * min(self.cap, self.base * 2.0**attempt)


class Pacer:
    """Calls AWS no faster than a documented rate, and adapts when AWS throttles anyway.

    Additive increase, multiplicative decrease: a throttling error halves the rate (not below
    `floor`) and empties the bucket; each success adds `ceiling / recovery_calls` back, up to the
    documented rate. Errors that are not throttling pass through untouched. Threads may share
    a pacer: the bucket reserves each call's token under its lock, and the rate and the throttle
    count change under the pacer's.

    >>> clock = [0.0]
    >>> pacer = Pacer(RDS_API, clock=lambda: clock[0], sleep=lambda s: None, rand=lambda: 0.5)
    >>> pacer.call(lambda: "deleted")
    'deleted'
    """

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Clock,
        sleep: Sleep,
        rand: Random,
        max_attempts: int = 6,
        backoff: Backoff | None = None,
        floor: float | None = None,
        recovery_calls: int = 20,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.limit = limit
        self.bucket = TokenBucket(
            limit.burst, limit.rate, clock=clock, sleep=sleep, name=limit.name
        )
        self.throttled = 0  # throttling errors seen, for the report and metrics
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._max_attempts = max_attempts
        self._backoff = backoff or Backoff()
        self._floor = floor if floor is not None else limit.rate / 16
        self._step = limit.rate / recovery_calls
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self.bucket.rate

    def call(self, operation: Callable[[], T], *, deadline: float | None = None) -> T:
        """Run `operation` when the bucket allows; retry it on throttling errors.

        Raises the last AwsError when every attempt was throttled, and DeadlineReached when the
        next attempt could not start before `deadline`.
        """
        attempt = 0
        while True:
            self.bucket.acquire(deadline=deadline)
            try:
                result = operation()
            except AwsError as exc:
                if exc.code not in THROTTLING_CODES:
                    raise
                self._slow_down()
                attempt += 1
                if attempt >= self._max_attempts:
                    raise
                pause = self._backoff.delay(attempt, self._rand)
                if deadline is not None and self._clock() + pause > deadline:
                    raise DeadlineReached(self.limit.name, pause, deadline - self._clock()) from exc
                self._sleep(pause)
                continue
            self._speed_up()
            return result

    def _slow_down(self) -> None:
        with self._lock:
            self.throttled += 1
            self.bucket.rate = max(self._floor, self.bucket.rate / 2)
            self.bucket.drain()

    def _speed_up(self) -> None:
        with self._lock:
            if self.bucket.rate < self.limit.rate:
                self.bucket.rate = min(self.limit.rate, self.bucket.rate + self._step)
