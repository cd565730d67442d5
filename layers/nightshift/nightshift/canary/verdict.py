"""What one probe saw, and the pure verdict on it: is the check up, and why (or why not)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from nightshift.canary.checks import Check
from nightshift.canary.conditions import NOT_JSON, ConditionResult, evaluate


@dataclass(frozen=True)
class Observation:
    """The facts of one HTTP(S) exchange, as the probe engine recorded them.

    `error` is set when no response came (connection refused, timed out, TLS failure), and then
    the other facts are absent. `observed_at` is the run's time (the schedule's), used for the
    days left on the certificate, so a run is reproducible.
    """

    observed_at: dt.datetime
    error: str | None = None
    status: int | None = None
    response_time_ms: float | None = None
    body: bytes = b""
    body_truncated: bool = False
    certificate_not_after: dt.datetime | None = None

    @property
    def connected(self) -> bool:
        return self.error is None

    @property
    def body_text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @cached_property
    def body_json(self) -> Any:
        """The body as JSON, or NOT_JSON (also when it was cut at the size limit)."""
        if not self.body or self.body_truncated:
            return NOT_JSON
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested documents
            return NOT_JSON

    @property
    def certificate_expires_in_ms(self) -> float | None:
        if self.certificate_not_after is None:
            return None
        return (self.certificate_not_after - self.observed_at).total_seconds() * 1000

    @property
    def days_to_certificate_expiry(self) -> float | None:
        remaining = self.certificate_expires_in_ms
        return None if remaining is None else remaining / 86_400_000


@dataclass(frozen=True)
class CheckVerdict:
    """A check judged against one observation.

    `up` ignores [CERTIFICATE_EXPIRATION] conditions: a certificate close to expiry is a
    warning with its own alarm, not downtime. A failed TLS handshake is downtime.
    """

    observation: Observation
    results: tuple[ConditionResult, ...]
    certificate_conditions: frozenset[str] = field(default_factory=frozenset)

    @property
    def failures(self) -> tuple[ConditionResult, ...]:
        return tuple(
            r for r in self.results if not r.ok and r.condition not in self.certificate_conditions
        )

    @property
    def warnings(self) -> tuple[ConditionResult, ...]:
        return tuple(
            r for r in self.results if not r.ok and r.condition in self.certificate_conditions
        )

    @property
    def up(self) -> bool:
        return self.observation.connected and not self.failures

    @property
    def reason(self) -> str:
        """One line for people: why it is down, or that it is up (and any warning)."""
        seen = self.observation
        if not seen.connected:
            text = f"down: {seen.error}"
        elif self.failures:
            text = "down: " + "; ".join(r.reason for r in self.failures)
        else:
            passed = sum(1 for r in self.results if r.ok)
            text = (
                f"up: {passed}/{len(self.results)} conditions passed, "
                f"HTTP {seen.status} in {seen.response_time_ms or 0:.0f} ms"
            )
        if self.warnings:
            text += "; warning: " + "; ".join(r.reason for r in self.warnings)
        return text


def assess(check: Check, observation: Observation) -> CheckVerdict:
    """Evaluate every condition of a check against one observation.

    >>> import datetime as dt
    >>> from nightshift.canary.checks import Check
    >>> api = Check.build("api", "http://app/health", ["[STATUS] == 200"])
    >>> assess(api, Observation(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), status=503)).reason
    'down: [STATUS] == 200: got 503'
    """
    return CheckVerdict(
        observation=observation,
        results=tuple(evaluate(condition, observation) for condition in check.conditions),
        certificate_conditions=frozenset(
            c.text for c in check.conditions if c.concerns_certificate
        ),
    )


@dataclass(frozen=True)
class CheckResult:
    """The outcome of probing one check in a run, after the retry.

    `verdict` is None when the probe could not even be attempted (`setup_error` says why, for
    example a header secret that could not be read): that is a failure of ours, not downtime.
    `first_failure` is the first attempt's reason when a second attempt was needed.
    """

    check: Check
    verdict: CheckVerdict | None
    attempts: int
    first_failure: str | None = None
    setup_error: str | None = None

    @property
    def attempted(self) -> bool:
        return self.verdict is not None

    @property
    def up(self) -> bool:
        return self.verdict is not None and self.verdict.up

    @property
    def reason(self) -> str:
        if self.verdict is None:
            return f"not probed: {self.setup_error}"
        if self.first_failure and self.verdict.up:
            return f"{self.verdict.reason} (on retry; first attempt {self.first_failure})"
        return self.verdict.reason


@dataclass(frozen=True)
class ProbeResults:
    """Every check of one run, in policy order, and how long the whole run took."""

    time: dt.datetime
    results: tuple[CheckResult, ...]
    wall_time_ms: float

    @property
    def failing(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.up)

    def __getitem__(self, name: str) -> CheckResult:
        for result in self.results:
            if result.check.name == name:
                return result
        raise KeyError(name)
