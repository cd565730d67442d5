"""The canary's alarms (pure): the pair each check calls for, and the plan that brings CloudWatch
in step with the policy.

Checks live in the policy file, which CloudFormation cannot read, so the canary keeps its alarms
itself (docs/canary.md, "Alarms"): each run compares the alarms under its name prefix with what
the checks call for, and creates, updates or deletes the difference. Per check:

- `nightshift-<env>-canary-check-down-<check>`: Success{Check} below 1 in M of the last N runs
  (Minimum, one period per scheduled run): the endpoint is down.
- `nightshift-<env>-canary-check-certificate-<check>` (HTTPS only): DaysToCertExpiry at or under the
  check's `[CERTIFICATE_EXPIRATION] > 14d` threshold (14 days without such a condition). A
  warning on its own alarm: a certificate close to expiry is not downtime.
- `nightshift-<env>-canary-check-start-<check>` (checks with `depends_on` only): LateStart is 1,
  the check was not healthy within its bound after its environment was started (`parking`).

No data never changes a canary alarm's state (`ignore`): while a check is parked or starting
its Success is not published, and the night's gap must neither drop the down alarm to
INSUFFICIENT_DATA (whose way back to OK would post a "resolved" every morning) nor let one
failing datapoint after the gap decide alone (docs/canary.md, "Alarms across parking").

The kind comes before the check in the name, so notify routes can match either kind by prefix.
The canary owns every name under `nightshift-<env>-canary-check-`, and nothing else: the
template's own `nightshift-<env>-canary-errors` is outside that prefix and its IAM scope.
Both alarms use exactly the dimensions `metric_points` emits (Check only, no `service`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nightshift.canary.checks import Check
from nightshift.canary.conditions import Value
from nightshift.errors import ConfigurationError
from nightshift.report import Outcome, ReportItem

MS_PER_DAY = 86_400_000
DEFAULT_CERTIFICATE_WARNING_DAYS = 14.0
# Days to expiry move slowly: one hourly minimum is enough and never flaps with the schedule.
CERTIFICATE_PERIOD_SECONDS = 3600
MAX_DESCRIPTION_CHARS = 1024
MAX_EVALUATION_SECONDS = 86_400  # CloudWatch: EvaluationPeriods x Period at most one day
# PutMetricAlarm is throttled at a few calls a second per account: a first deployment with 32
# HTTPS checks (64 alarms) is spread over a few runs rather than stretching one past its timeout.
MAX_CHANGES_PER_RUN = 10
REPORT_KIND = "cloudwatch-alarm"
# A `[CERTIFICATE_EXPIRATION] <op> <days>` condition fails, and its alarm fires, on the opposite.
CERTIFICATE_COMPARISONS: Mapping[str, str] = {
    ">": "LessThanOrEqualToThreshold",
    ">=": "LessThanThreshold",
}
DEFAULT_CERTIFICATE_COMPARISON = "LessThanThreshold"


class CheckAlarmKind(StrEnum):
    DOWN = "down"
    CERTIFICATE = "certificate"
    START = "start"


# No data holds the alarm's state, for every canary alarm (see the module's docstring).
TREAT_MISSING_DATA = "ignore"


class AlarmAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


def canary_alarm_prefix(environment: str) -> str:
    """The name prefix of every alarm the canary of `environment` creates (outside the stack).

    >>> canary_alarm_prefix("staging")
    'nightshift-staging-canary-check-'
    """
    return f"nightshift-{environment}-canary-check-"


@dataclass(frozen=True)
class AlarmRules:
    """How the canary's alarms are shaped: from the stack's settings, the same for every check.

    `period_seconds` is the schedule's interval, so each period holds one run; the down alarm
    fires when `datapoints_to_alarm` of the last `evaluation_periods` runs failed.
    """

    environment: str
    namespace: str
    topic_arn: str
    period_seconds: int
    datapoints_to_alarm: int = 3
    evaluation_periods: int = 5

    def __post_init__(self) -> None:
        if self.period_seconds < 60 or self.period_seconds % 60:
            raise ConfigurationError(
                f"canary alarm period must be whole minutes, got {self.period_seconds} s"
            )
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ConfigurationError(
                f"canary alarms need 1 <= datapoints ({self.datapoints_to_alarm}) "
                f"<= evaluation periods ({self.evaluation_periods})"
            )
        if self.period_seconds * self.evaluation_periods > MAX_EVALUATION_SECONDS:
            raise ConfigurationError(
                f"canary alarms would look back {self.period_seconds * self.evaluation_periods} s; "
                "CloudWatch allows one day"
            )

    @property
    def prefix(self) -> str:
        """Every canary alarm's name starts with this; the canary owns the names under it."""
        return canary_alarm_prefix(self.environment)

    def name(self, kind: CheckAlarmKind, check: str) -> str:
        """>>> AlarmRules("staging", "Nightshift", "arn:t", 60).name(CheckAlarmKind.DOWN, "api")
        'nightshift-staging-canary-check-down-api'
        """
        return f"{self.prefix}{kind.value}-{check}"


@dataclass(frozen=True)
class AlarmSpec:
    """A CloudWatch metric alarm as the canary wants it (or as CloudWatch has it).

    `check` and `kind` say why it exists; they are not part of the alarm and never compared.
    """

    name: str
    description: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str
    alarm_actions: tuple[str, ...]
    ok_actions: tuple[str, ...]
    actions_enabled: bool = True
    check: str = field(default="", compare=False)
    kind: CheckAlarmKind | None = field(default=None, compare=False)

    def differences(self, wanted: AlarmSpec) -> tuple[str, ...]:
        """What differs from `wanted`, for people: "threshold 7.0 -> 14.0"."""
        changed: list[str] = []
        for name in _COMPARED:
            have, want = getattr(self, name), getattr(wanted, name)
            if _normalised(have) == _normalised(want):
                continue
            shown = name.replace("_", " ")
            if name == "description":
                changed.append("description")
            else:
                changed.append(f"{shown} {_shown(have)} -> {_shown(want)}")
        return tuple(changed)


_COMPARED = (
    "description",
    "namespace",
    "metric_name",
    "dimensions",
    "statistic",
    "period",
    "evaluation_periods",
    "datapoints_to_alarm",
    "threshold",
    "comparison",
    "treat_missing_data",
    "alarm_actions",
    "ok_actions",
    "actions_enabled",
)


@dataclass(frozen=True)
class AlarmChange:
    """One step of the plan: create, update or delete one alarm, and why."""

    action: AlarmAction
    name: str
    reason: str
    spec: AlarmSpec | None = None  # what to put (create, update); None for a delete
    check: str = ""


@dataclass(frozen=True)
class AlarmPlan:
    """The changes that bring CloudWatch in step with the policy (`changes` now, `deferred` to
    the next runs), and the alarms already in step."""

    changes: tuple[AlarmChange, ...] = ()
    in_step: tuple[str, ...] = ()
    deferred: tuple[AlarmChange, ...] = ()


def certificate_threshold(check: Check) -> tuple[float, str]:
    """Days and comparison of a check's certificate alarm: taken from its
    `[CERTIFICATE_EXPIRATION] > <duration>` condition (the strictest, if several), else 14 days.

    >>> certificate_threshold(Check.build("api", "https://a/h", ["[CERTIFICATE_EXPIRATION] > 21d"]))
    (21.0, 'LessThanOrEqualToThreshold')
    >>> certificate_threshold(Check.build("api", "https://a/h", ["[STATUS] == 200"]))
    (14.0, 'LessThanThreshold')
    """
    thresholds = [
        (round(condition.right.number / MS_PER_DAY, 4), CERTIFICATE_COMPARISONS[condition.operator])
        for condition in check.conditions
        if condition.concerns_certificate
        and condition.operator in CERTIFICATE_COMPARISONS
        and isinstance(condition.right, Value)
        and condition.right.number is not None
    ]
    if not thresholds:
        return DEFAULT_CERTIFICATE_WARNING_DAYS, DEFAULT_CERTIFICATE_COMPARISON
    return max(thresholds)


def desired_alarms(checks: Iterable[Check], rules: AlarmRules) -> tuple[AlarmSpec, ...]:
    """The alarms the checks call for: a down alarm per check, a certificate alarm per HTTPS check.

    >>> rules = AlarmRules("staging", "Nightshift", "arn:aws:sns:eu-central-1:1:ops", 60)
    >>> [a.name for a in desired_alarms([Check.build("api", "https://a/h", ["[STATUS] == 200"])],
    ...                                 rules)]
    ['nightshift-staging-canary-check-down-api', 'nightshift-staging-canary-check-certificate-api']
    """
    alarms: list[AlarmSpec] = []
    for check in checks:
        alarms.append(_down_alarm(check, rules))
        if check.https:
            alarms.append(_certificate_alarm(check, rules))
        if check.depends_on is not None:
            alarms.append(_start_alarm(check, rules))
    return tuple(alarms)


def plan_alarms(
    desired: Sequence[AlarmSpec],
    existing: Sequence[AlarmSpec],
    limit: int = MAX_CHANGES_PER_RUN,
) -> AlarmPlan:
    """Create what is missing, update what differs, delete what no check needs any more; at most
    `limit` changes now, the rest deferred to the next runs.

    `existing` is every alarm under the canary's prefix; the canary owns those names.

    >>> rules = AlarmRules("staging", "Nightshift", "arn:aws:sns:eu-central-1:1:ops", 60)
    >>> wanted = desired_alarms([Check.build("api", "http://a/h", ["[STATUS] == 200"])], rules)
    >>> [(c.action.value, c.name) for c in plan_alarms(wanted, ()).changes]
    [('create', 'nightshift-staging-canary-check-down-api')]
    >>> plan_alarms(wanted, wanted).in_step
    ('nightshift-staging-canary-check-down-api',)
    """
    have = {alarm.name: alarm for alarm in existing}
    wanted_names = {alarm.name for alarm in desired}
    changes: list[AlarmChange] = []
    in_step: list[str] = []
    for spec in desired:
        current = have.get(spec.name)
        if current is None:
            changes.append(
                AlarmChange(
                    AlarmAction.CREATE,
                    spec.name,
                    f"check {spec.check!r} has no {_kind_text(spec.kind)} alarm yet",
                    spec,
                    spec.check,
                )
            )
            continue
        differences = current.differences(spec)
        if differences:
            changes.append(
                AlarmChange(
                    AlarmAction.UPDATE,
                    spec.name,
                    f"differs from the policy: {'; '.join(differences)}",
                    spec,
                    spec.check,
                )
            )
        else:
            in_step.append(spec.name)
    for name in sorted(set(have) - wanted_names):
        changes.append(
            AlarmChange(AlarmAction.DELETE, name, "no check in the policy needs it any more")
        )
    return AlarmPlan(
        changes=tuple(changes[:limit]), in_step=tuple(in_step), deferred=tuple(changes[limit:])
    )


def alarm_item(change: AlarmChange, outcome: Outcome, note: str | None = None) -> ReportItem:
    """A plan step's line in the report: DONE, PLANNED (dry run), SKIPPED (deferred) or FAILED,
    with `note` (AWS's error, why it waits) after the reason."""
    details: dict[str, Any] = {}
    if change.check:
        details["check"] = change.check
    if change.spec is not None:
        details.update(
            metric=change.spec.metric_name,
            threshold=change.spec.threshold,
            comparison=change.spec.comparison,
            period=change.spec.period,
            datapoints=f"{change.spec.datapoints_to_alarm} of {change.spec.evaluation_periods}",
        )
    reason = change.reason if note is None else f"{change.reason}; {note}"
    return ReportItem(
        resource=change.name,
        kind=REPORT_KIND,
        action=change.action.value,
        outcome=outcome,
        reason=reason,
        details=details,
    )


def alarm_summary(items: Sequence[ReportItem]) -> str | None:
    """The alarm part of a run's summary, or None when nothing was (or would be) changed.

    >>> change = AlarmChange(AlarmAction.CREATE, "nightshift-staging-canary-check-down-api", "new")
    >>> alarm_summary([alarm_item(change, Outcome.DONE), alarm_item(change, Outcome.PLANNED)])
    'alarms: 1 created, 1 to create'
    """
    counted: dict[str, int] = {}
    for item in items:
        label = _OUTCOME_LABELS[item.outcome].format(action=item.action)
        counted[label] = counted.get(label, 0) + 1
    if not counted:
        return None
    return "alarms: " + ", ".join(f"{count} {label}" for label, count in counted.items())


_OUTCOME_LABELS: Mapping[Outcome, str] = {
    Outcome.DONE: "{action}d",
    Outcome.PLANNED: "to {action}",
    Outcome.SKIPPED: "deferred",
    Outcome.FAILED: "failed",
    Outcome.REFUSED: "refused",
}


def _down_alarm(check: Check, rules: AlarmRules) -> AlarmSpec:
    every = _duration(rules.period_seconds)
    return AlarmSpec(
        name=rules.name(CheckAlarmKind.DOWN, check.name),
        description=_description(
            f"Canary check {check.name}: in ALARM while it fails {rules.datapoints_to_alarm} of "
            f"the last {rules.evaluation_periods} runs (one run every {every}). The canary's "
            f"report on the ops topic names the failing conditions. Probes {check.method} "
            f"{check.url}. "
            "Kept by the canary from the policy file; see docs/canary.md."
        ),
        namespace=rules.namespace,
        metric_name="Success",
        dimensions=(("Check", check.name),),
        statistic="Minimum",
        period=rules.period_seconds,
        evaluation_periods=rules.evaluation_periods,
        datapoints_to_alarm=rules.datapoints_to_alarm,
        threshold=1.0,
        comparison="LessThanThreshold",
        # No data means the check is parked or starting, the canary did not run (its own errors
        # alarm says why) or could not probe: not evidence that the endpoint is down, so the
        # alarm holds its state.
        treat_missing_data=TREAT_MISSING_DATA,
        alarm_actions=(rules.topic_arn,),
        ok_actions=(rules.topic_arn,),
        check=check.name,
        kind=CheckAlarmKind.DOWN,
    )


def _certificate_alarm(check: Check, rules: AlarmRules) -> AlarmSpec:
    days, comparison = certificate_threshold(check)
    return AlarmSpec(
        name=rules.name(CheckAlarmKind.CERTIFICATE, check.name),
        description=_description(
            f"Warning: the TLS certificate of canary check {check.name} expires in "
            f"{_days(days)} days or less. Not downtime; renew it before clients refuse it. "
            f"Endpoint {check.url}. Kept by the canary from the policy file; see docs/canary.md."
        ),
        namespace=rules.namespace,
        metric_name="DaysToCertExpiry",
        dimensions=(("Check", check.name),),
        statistic="Minimum",
        period=CERTIFICATE_PERIOD_SECONDS,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        threshold=days,
        comparison=comparison,
        treat_missing_data=TREAT_MISSING_DATA,
        alarm_actions=(rules.topic_arn,),
        ok_actions=(rules.topic_arn,),
        check=check.name,
        kind=CheckAlarmKind.CERTIFICATE,
    )


def _start_alarm(check: Check, rules: AlarmRules) -> AlarmSpec:
    dependency = check.depends_on
    within = 0 if dependency is None else int(dependency.healthy_within.total_seconds() // 60)
    what = "" if dependency is None else dependency.describe()
    return AlarmSpec(
        name=rules.name(CheckAlarmKind.START, check.name),
        description=_description(
            f"Canary check {check.name} was not healthy {within} min after its environment "
            f"({what}) was started; in ALARM until its first healthy probe. Probes "
            f"{check.method} {check.url}. Kept by the canary from the policy file; see "
            "docs/canary.md."
        ),
        namespace=rules.namespace,
        metric_name="LateStart",
        dimensions=(("Check", check.name),),
        statistic="Maximum",
        period=rules.period_seconds,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        threshold=1.0,
        comparison="GreaterThanOrEqualToThreshold",
        treat_missing_data=TREAT_MISSING_DATA,
        alarm_actions=(rules.topic_arn,),
        ok_actions=(rules.topic_arn,),
        check=check.name,
        kind=CheckAlarmKind.START,
    )


def _description(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION_CHARS else text[: MAX_DESCRIPTION_CHARS - 1] + "…"


def _duration(seconds: int) -> str:
    """>>> _duration(60), _duration(300), _duration(3600)
    ('1 min', '5 min', '60 min')
    """
    return f"{seconds // 60} min"


def _days(days: float) -> str:
    return f"{days:g}"


def _kind_text(kind: CheckAlarmKind | None) -> str:
    return "down" if kind is None else kind.value


def _normalised(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(sorted(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return (
            ", ".join("=".join(part) if isinstance(part, tuple) else str(part) for part in value)
            or "none"
        )
    return str(value)
