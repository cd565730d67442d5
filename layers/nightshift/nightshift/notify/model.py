"""The one record every source becomes, and every destination renders."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# One severity for the whole product: a Nightshift report's severity is its notification's.
from nightshift.report import Severity as Severity


class Source(StrEnum):
    CLOUDWATCH_ALARM = "cloudwatch-alarm"
    BUDGET = "budget"
    COST_ANOMALY = "cost-anomaly"
    ECS_DEPLOYMENT = "ecs-deployment"
    NIGHTSHIFT_REPORT = "nightshift-report"
    UNRECOGNISED = "unrecognised"


class State(StrEnum):
    """Where the thing the message is about now stands."""

    ALARM = "alarm"  # something is wrong (opens an incident)
    OK = "ok"  # resolved (closes what ALARM opened)
    INSUFFICIENT_DATA = "insufficient-data"
    INFO = "info"  # an event with no open/closed state (report, completed deployment, raw)


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class ActionButton:
    """A signed action offered with a message (docs/actions.md): `url` is the signed link (its GET
    shows a confirmation page), `token` the signed token itself (a Slack button's value)."""

    label: str
    url: str
    token: str
    reason: str  # why this action is offered with this message


@dataclass(frozen=True)
class Notification:
    """A message about one thing, independent of where it came from and where it goes.

    `name` is what routes match `name_prefix` against (alarm name, budget name, service,
    function). `dedup_key` identifies the thing whose state repeats (an alarm, a budget
    threshold), so a repeat of the same state can be suppressed and an OK can close an ALARM.
    `raw` is the original message text, kept so that nothing is ever lost.
    """

    source: Source
    severity: Severity
    state: State
    title: str
    name: str
    summary: str
    facts: tuple[Fact, ...]
    links: tuple[Link, ...]
    dedup_key: str
    raw: str
    occurred_at: str | None = None
    region: str | None = None
    account: str | None = None
    # The state the thing left, where the source says (a CloudWatch alarm's OldStateValue).
    previous_state: State | None = None
    # Signed actions for people to take from the message (nightshift.notify.actions).
    actions: tuple[ActionButton, ...] = ()
    # A resolve that may close nothing (a Nightshift report's deployment completed): the dedup
    # key it keeps, as a routine message, when no page is open under `dedup_key`.
    unpaired_key: str | None = None
    # A scheduler report saying a stop is coming (an item `heads-up`, notify.actions.HEADS_UP):
    # set where the report is read (sources.nightshift_report); a digest never holds it back.
    heads_up: bool = False
