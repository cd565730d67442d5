"""When a canary run is worth a report on the ops topic (pure).

The canary runs every minute; a report every minute would bury the ops channel (1,440 messages
a day saying "3 of 3 checks up"). The M-of-N alarms page people; a report tells them why. So a
run publishes its report only when the picture people last saw changed: a check went down or came
back, a certificate warning started or ended, a check was added or removed, the canary's alarms
were changed or could not be kept. The first run on record and every dry run always report.

`StatusBoard` is that picture, stored after each published report (one item in the state table).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nightshift.canary.parking import Phase, WatchDecision
from nightshift.canary.verdict import CheckResult, ProbeResults

ALARMS_IN_STEP = "in step"


class CheckState(StrEnum):
    UP = "up"
    UP_WITH_WARNING = "up, certificate warning"
    DOWN = "down"
    NOT_PROBED = "not probed"
    # A check with `depends_on` (parking.decide): parked, or started and not healthy yet within
    # its bound (both "parked" here, so a morning reports once: when it is healthy, or late).
    PARKED = "parked"
    LATE = "not healthy after its start"


@dataclass(frozen=True)
class StatusBoard:
    """Each check's state in policy order, and whether the canary's alarms are in step.

    >>> board = StatusBoard(checks=(("api", CheckState.UP),))
    >>> StatusBoard.from_json(board.to_json()) == board
    True
    """

    checks: tuple[tuple[str, CheckState], ...]
    alarms: str = ALARMS_IN_STEP

    @classmethod
    def of(
        cls,
        results: ProbeResults,
        alarm_problem: str | None = None,
        watches: Mapping[str, WatchDecision] | None = None,
    ) -> StatusBoard:
        watched = watches or {}
        return cls(
            checks=tuple(
                (r.check.name, check_state(r, watched.get(r.check.name))) for r in results.results
            ),
            alarms=ALARMS_IN_STEP if alarm_problem is None else f"failing: {alarm_problem}",
        )

    @property
    def states(self) -> dict[str, CheckState]:
        return dict(self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "checks": [[name, state.value] for name, state in self.checks],
            "alarms": self.alarms,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StatusBoard:
        return cls(
            checks=tuple((str(name), CheckState(state)) for name, state in data["checks"]),
            alarms=str(data.get("alarms", ALARMS_IN_STEP)),
        )


@dataclass(frozen=True)
class PublishDecision:
    publish: bool
    reason: str


def check_state(result: CheckResult, watch: WatchDecision | None = None) -> CheckState:
    if result.verdict is None:
        return CheckState.NOT_PROBED
    if watch is not None and watch.phase is Phase.LATE:
        return CheckState.LATE
    if watch is not None and not watch.counts:
        return CheckState.PARKED
    if not result.verdict.up:
        return CheckState.DOWN
    return CheckState.UP_WITH_WARNING if result.verdict.warnings else CheckState.UP


def changes(previous: StatusBoard, current: StatusBoard) -> tuple[str, ...]:
    """What changed between two pictures, for people, in the current policy order.

    >>> was = StatusBoard((("api", CheckState.UP), ("old", CheckState.UP)))
    >>> now = StatusBoard((("api", CheckState.DOWN), ("web", CheckState.UP)))
    >>> changes(was, now)
    ('api: up -> down', 'web: new check (up)', 'old: removed from the policy')
    """
    before, after = previous.states, current.states
    found: list[str] = []
    for name, state in current.checks:
        if name not in before:
            found.append(f"{name}: new check ({state.value})")
        elif before[name] is not state:
            found.append(f"{name}: {before[name].value} -> {state.value}")
    found.extend(
        f"{name}: removed from the policy" for name, _ in previous.checks if name not in after
    )
    if previous.alarms != current.alarms:
        found.append(f"alarms: {previous.alarms} -> {current.alarms}")
    return tuple(found)


def publish_decision(
    previous: StatusBoard | None,
    current: StatusBoard,
    *,
    alarms_changed: int = 0,
    dry_run: bool = False,
) -> PublishDecision:
    """Whether this run's report goes to the ops topic, and why (the reason is logged).

    >>> up = StatusBoard((("api", CheckState.UP),))
    >>> publish_decision(up, up)
    PublishDecision(publish=False, reason='nothing changed since the last report')
    >>> publish_decision(up, StatusBoard((("api", CheckState.DOWN),))).reason
    'changed: api: up -> down'
    """
    if dry_run:
        return PublishDecision(True, "a dry run always reports")
    if previous is None:
        return PublishDecision(True, "first run on record")
    found = changes(previous, current)
    if alarms_changed:
        found = (*found, f"{alarms_changed} alarm change{'s' if alarms_changed > 1 else ''} made")
    if not found:
        return PublishDecision(False, "nothing changed since the last report")
    return PublishDecision(True, "changed: " + "; ".join(found))
