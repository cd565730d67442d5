"""CloudWatch alarm evaluation for the local cloud: moto stores metric alarms and metrics but never
evaluates an alarm, so nothing ever reaches the alarm's SNS actions. `AlarmEvaluator.evaluate(at)`
does what CloudWatch does every minute, at a time the caller chooses (a simulated clock):

1. reads every metric alarm in moto (DescribeAlarms, optionally under a name prefix);
2. reads the alarm's datapoints over its evaluation range ending at `at` (GetMetricData with the
   alarm's namespace, metric, exact dimensions, statistic and period);
3. applies CloudWatch's rules (`evaluate_window`, pure): ComparisonOperator and Threshold,
   EvaluationPeriods and DatapointsToAlarm (M out of N), TreatMissingData, the evaluation range
   and the "premature alarm" rule of "Configuring how CloudWatch alarms treat missing data";
4. on a state change, sets the state in moto (SetAlarmState, with CloudWatch's reason text) and
   publishes to each AlarmActions / OKActions / InsufficientDataActions topic the message
   CloudWatch publishes: the JSON of tests/fixtures/reference/sns-cloudwatch-alarm-metric.json's
   `Message` and the subject `ALARM: "<name>" in EU (Frankfurt)`, through the Router so the
   notifier runs (one drain per topic at the end of the evaluation).

Everything above the `AlarmEvaluator` class is pure (no I/O, time as an argument) and unit-tested
in tools/localcloud/tests/test_alarm_evaluation.py. See docs/local-cloud.md, "Metrics and alarms".
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from localcloud.router import PublishReport, Router
from localcloud.server import Endpoint

logger = logging.getLogger(__name__)


class AlarmState(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class MissingData(StrEnum):
    """TreatMissingData: how a missing datapoint counts when there are too few real ones."""

    MISSING = "missing"
    IGNORE = "ignore"
    BREACHING = "breaching"
    NOT_BREACHING = "notBreaching"


@dataclass(frozen=True)
class Comparison:
    """A ComparisonOperator: the test `value <op> threshold` and CloudWatch's words for it."""

    test: Callable[[float, float], bool]
    words: str


COMPARISONS: Mapping[str, Comparison] = {
    "GreaterThanThreshold": Comparison(operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": Comparison(operator.ge, "greater than or equal to"),
    "LessThanThreshold": Comparison(operator.lt, "less than"),
    "LessThanOrEqualToThreshold": Comparison(operator.le, "less than or equal to"),
}
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
# The evaluation range: CloudWatch reads more periods than EvaluationPeriods, in case recent ones
# are missing. Its exact size is not documented; the documentation's example (3 periods, range 5)
# is N + 2, which is what the local cloud uses.
EXTRA_PERIODS = 2
# moto creates an alarm in OK with this reason; CloudWatch creates it in INSUFFICIENT_DATA.
INITIAL_REASON = "Unchecked: Initial alarm creation"
# Alarms on AWS/DynamoDB metrics always ignore missing data, whatever TreatMissingData says.
IGNORES_MISSING_DATA = frozenset({"AWS/DynamoDB"})
MAX_REASON_CHARS = 1023
MAX_QUERIES = 500  # GetMetricData's MetricDataQueries
MAX_SUBJECT_CHARS = 100
# Region display names: `Region` in the message (the console's current names) and the subject
# (CloudWatch still writes the old "EU (...)" names there, as the reference payload shows).
REGION_NAMES: Mapping[str, tuple[str, str]] = {
    "us-east-1": ("US East (N. Virginia)", "US East (N. Virginia)"),
    "us-east-2": ("US East (Ohio)", "US East (Ohio)"),
    "us-west-1": ("US West (N. California)", "US West (N. California)"),
    "us-west-2": ("US West (Oregon)", "US West (Oregon)"),
    "eu-central-1": ("Europe (Frankfurt)", "EU (Frankfurt)"),
    "eu-central-2": ("Europe (Zurich)", "EU (Zurich)"),
    "eu-west-1": ("Europe (Ireland)", "EU (Ireland)"),
    "eu-west-2": ("Europe (London)", "EU (London)"),
    "eu-west-3": ("Europe (Paris)", "EU (Paris)"),
    "eu-north-1": ("Europe (Stockholm)", "EU (Stockholm)"),
    "eu-south-1": ("Europe (Milan)", "EU (Milan)"),
    "eu-south-2": ("Europe (Spain)", "EU (Spain)"),
    "ap-northeast-1": ("Asia Pacific (Tokyo)", "Asia Pacific (Tokyo)"),
    "ap-south-1": ("Asia Pacific (Mumbai)", "Asia Pacific (Mumbai)"),
    "ap-southeast-1": ("Asia Pacific (Singapore)", "Asia Pacific (Singapore)"),
    "ap-southeast-2": ("Asia Pacific (Sydney)", "Asia Pacific (Sydney)"),
    "ca-central-1": ("Canada (Central)", "Canada (Central)"),
    "sa-east-1": ("South America (Sao Paulo)", "South America (Sao Paulo)"),
}
_FILL_WORDS: Mapping[MissingData, str] = {
    MissingData.BREACHING: "Breaching",
    MissingData.NOT_BREACHING: "NonBreaching",
}


# ------------------------------------------------------------------------------ the rules
@dataclass(frozen=True)
class Datapoint:
    """One period's statistic: `start` is the period's start, as CloudWatch labels it."""

    start: dt.datetime
    value: float


@dataclass(frozen=True)
class AlarmRule:
    """What decides an alarm's state: `value <comparison> threshold` breaches, and M
    (`datapoints_to_alarm`) breaching datapoints out of the last N (`evaluation_periods`) alarm."""

    comparison: str
    threshold: float
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    treat_missing_data: MissingData = MissingData.MISSING

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(f"not a static-threshold ComparisonOperator: {self.comparison!r}")
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ValueError("need 1 <= DatapointsToAlarm <= EvaluationPeriods")

    def breaches(self, value: float) -> bool:
        """>>> AlarmRule("LessThanThreshold", 1.0).breaches(0.0)
        True
        """
        return COMPARISONS[self.comparison].test(value, self.threshold)

    @property
    def evaluation_range(self) -> int:
        """How many periods are read: N + EXTRA_PERIODS."""
        return self.evaluation_periods + EXTRA_PERIODS


@dataclass(frozen=True)
class Evaluation:
    """The state the data calls for, and what it was decided on.

    `evaluated` are the real datapoints that counted (newest first); `filled` how many missing
    datapoints were filled in and, in `fill`, as what (None: they were not counted either way).
    `retained` says the data did not decide and the current state was kept.
    """

    state: AlarmState
    why: str
    evaluated: tuple[Datapoint, ...] = ()
    filled: int = 0
    fill: MissingData | None = None
    retained: bool = False


def evaluate_window(
    rule: AlarmRule, window: Sequence[Datapoint | None], current: AlarmState
) -> Evaluation:
    """The state CloudWatch gives an alarm whose evaluation range holds `window` (oldest first,
    one entry per period, None where no datapoint exists) while its state is `current`.

    - No datapoint at all: INSUFFICIENT_DATA (`missing`), the current state (`ignore`), ALARM
      (`breaching`) or OK (`notBreaching`).
    - At least N real datapoints in the range: the newest N real ones are evaluated, gaps
      skipped, TreatMissingData unused; M or more breaching is ALARM, else OK.
    - Fewer than N: every real datapoint counts, and N minus their number missing ones are filled
      in: as breaching or not breaching, as TreatMissingData says. With `missing` and `ignore`
      they count for nothing: M breaching real datapoints are ALARM; if every real one breaches,
      the oldest at least M periods back is ALARM with `missing` ("avoiding premature
      transitions to alarm state") and keeps the state with `ignore`, a more recent one keeps
      the state (it may be followed by a good one); otherwise OK.

    >>> rule = AlarmRule("GreaterThanThreshold", 0.5, evaluation_periods=3, datapoints_to_alarm=3)
    >>> t = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    >>> p = lambda minute, v: Datapoint(t + dt.timedelta(minutes=minute), v)
    >>> evaluate_window(rule, [None, None, p(2, 1.0), None, None], AlarmState.OK).state.value
    'ALARM'
    """
    newest_first = list(reversed(window))
    real = [(age, point) for age, point in enumerate(newest_first, 1) if point is not None]
    needed, alarming = rule.evaluation_periods, rule.datapoints_to_alarm
    if not real:
        return _all_missing(rule, current)
    if len(real) >= needed:
        evaluated = tuple(point for _, point in real[:needed])
        return _counted(rule, evaluated, "the newest real datapoints")
    evaluated = tuple(point for _, point in real)
    shortfall = needed - len(real)
    treatment = rule.treat_missing_data
    if treatment in (MissingData.BREACHING, MissingData.NOT_BREACHING):
        return _counted(
            rule, evaluated, "missing datapoints filled in", filled=shortfall, fill=treatment
        )
    breaching = [point for point in evaluated if rule.breaches(point.value)]
    if len(breaching) >= alarming:
        return _counted(rule, evaluated, "enough real datapoints breach", filled=shortfall)
    if len(breaching) == len(evaluated):
        oldest_age = real[-1][0]
        if oldest_age < alarming:
            return Evaluation(
                current, "breaching datapoints too recent to decide", evaluated, retained=True
            )
        if treatment is MissingData.IGNORE:
            return Evaluation(current, "missing datapoints ignored", evaluated, retained=True)
        return Evaluation(
            AlarmState.ALARM,
            f"the oldest breaching datapoint is {oldest_age} periods back, none since is good",
            evaluated,
            filled=shortfall,
        )
    return _counted(rule, evaluated, "too few breaching datapoints", filled=shortfall)


def _all_missing(rule: AlarmRule, current: AlarmState) -> Evaluation:
    treatment = rule.treat_missing_data
    needed = rule.evaluation_periods
    if treatment is MissingData.BREACHING:
        return Evaluation(AlarmState.ALARM, "no data", filled=needed, fill=treatment)
    if treatment is MissingData.NOT_BREACHING:
        return Evaluation(AlarmState.OK, "no data", filled=needed, fill=treatment)
    if treatment is MissingData.IGNORE:
        return Evaluation(current, "no data, ignored", retained=True)
    return Evaluation(AlarmState.INSUFFICIENT_DATA, "no data", filled=needed)


def _counted(
    rule: AlarmRule,
    evaluated: tuple[Datapoint, ...],
    why: str,
    *,
    filled: int = 0,
    fill: MissingData | None = None,
) -> Evaluation:
    breaching = sum(1 for point in evaluated if rule.breaches(point.value))
    if fill is MissingData.BREACHING:
        breaching += filled
    state = AlarmState.ALARM if breaching >= rule.datapoints_to_alarm else AlarmState.OK
    return Evaluation(state, why, evaluated, filled, fill)


def state_reason(rule: AlarmRule, evaluation: Evaluation, old: AlarmState) -> str:
    """CloudWatch's NewStateReason for a change from `old` to `evaluation.state`.

    >>> rule = AlarmRule("GreaterThanThreshold", 80.0, evaluation_periods=2, datapoints_to_alarm=2)
    >>> t = dt.datetime(2026, 11, 20, 17, 58, tzinfo=dt.UTC)
    >>> points = (Datapoint(t + dt.timedelta(minutes=5), 91.4), Datapoint(t, 87.2))
    >>> print(state_reason(rule, Evaluation(AlarmState.ALARM, "", points), AlarmState.OK))
    Threshold Crossed: 2 out of the last 2 datapoints [91.4 (20/11/26 18:03:00), 87.2 (20/11/26 17:58:00)] were greater than the threshold (80.0) (minimum 2 datapoints for OK -> ALARM transition).
    """  # noqa: E501
    new = evaluation.state
    needed = rule.evaluation_periods
    if new is AlarmState.INSUFFICIENT_DATA:
        return f"Insufficient Data: {_count(needed, 'datapoint')} {_were(needed)} unknown."
    fill = evaluation.fill
    if not evaluation.evaluated and fill is not None:
        return (
            f"Threshold Crossed: no datapoints were received for {_count(needed, 'period')} and "
            f"{_count(needed, 'missing datapoint')} {_were(needed)} treated as "
            f"[{_FILL_WORDS[fill]}]."
        )
    alarm = new is AlarmState.ALARM
    shown = tuple(p for p in evaluation.evaluated if rule.breaches(p.value) == alarm)
    counted_fills = evaluation.filled if fill is _FILL_FOR[new] else 0
    matching = len(shown) + counted_fills
    words = COMPARISONS[rule.comparison].words
    statement = words if alarm else f"not {words}"
    points = ", ".join(f"{java_double(p.value)} ({_reason_time(p.start)})" for p in shown)
    threshold = java_double(rule.threshold)
    if needed == 1:
        return (
            f"Threshold Crossed: 1 datapoint [{points}] was {statement} the threshold "
            f"({threshold})."
        )
    minimum = rule.datapoints_to_alarm if alarm else needed - rule.datapoints_to_alarm + 1
    fills = (
        f", and {_count(counted_fills, 'missing datapoint')} {_were(counted_fills)} treated as "
        f"[{_FILL_WORDS[fill]}]"
        if counted_fills and fill is not None
        else ""
    )
    return (
        f"Threshold Crossed: {matching} out of the last {needed} datapoints [{points}] "
        f"{_were(matching)} {statement} the threshold ({threshold}){fills} "
        f"(minimum {_count(minimum, 'datapoint')} for {old.value} -> {new.value} transition)."
    )


_FILL_FOR: Mapping[AlarmState, MissingData | None] = {
    AlarmState.ALARM: MissingData.BREACHING,
    AlarmState.OK: MissingData.NOT_BREACHING,
    AlarmState.INSUFFICIENT_DATA: None,
}


def java_double(value: float) -> str:
    """A number as CloudWatch (Java's Double.toString) writes it.

    >>> java_double(80), java_double(91.4), java_double(0.0001), java_double(12345678.0)
    ('80.0', '91.4', '1.0E-4', '1.2345678E7')
    """
    number = float(value)
    if number == 0 or 1e-3 <= abs(number) < 1e7:
        return repr(number)
    mantissa, exponent = f"{number:.16e}".split("e")
    digits = repr(float(mantissa))
    return f"{digits}E{int(exponent)}"


def window_starts(at: dt.datetime, period: int, periods: int) -> tuple[dt.datetime, ...]:
    """The starts of the `periods` periods CloudWatch reads when it evaluates at `at`, oldest
    first: they end at the minute `at` falls in (CloudWatch evaluates once a minute).

    >>> at = dt.datetime(2026, 11, 21, 9, 3, 12, tzinfo=dt.UTC)
    >>> [s.strftime("%H:%M") for s in window_starts(at, 60, 3)]
    ['09:00', '09:01', '09:02']
    """
    moment = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    end = moment.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return tuple(end - dt.timedelta(seconds=period * k) for k in range(periods, 0, -1))


# ------------------------------------------------------------------------------ the alarm
@dataclass(frozen=True)
class MetricAlarm:
    """A static-threshold metric alarm as DescribeAlarms returns it, typed."""

    name: str
    arn: str
    description: str | None
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period: int
    rule: AlarmRule
    state: AlarmState
    state_reason: str = ""
    unit: str | None = None
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    configuration_updated: dt.datetime | None = None

    @classmethod
    def from_description(cls, alarm: Mapping[str, Any]) -> MetricAlarm:
        periods = int(alarm["EvaluationPeriods"])
        treatment = MissingData(alarm.get("TreatMissingData") or MissingData.MISSING.value)
        if alarm.get("Namespace") in IGNORES_MISSING_DATA:
            treatment = MissingData.IGNORE
        return cls(
            name=alarm["AlarmName"],
            arn=alarm["AlarmArn"],
            description=alarm.get("AlarmDescription"),
            namespace=alarm["Namespace"],
            metric_name=alarm["MetricName"],
            dimensions=tuple((d["Name"], d["Value"]) for d in alarm.get("Dimensions") or ()),
            statistic=alarm["Statistic"],
            period=int(alarm["Period"]),
            rule=AlarmRule(
                comparison=alarm["ComparisonOperator"],
                threshold=float(alarm["Threshold"]),
                evaluation_periods=periods,
                datapoints_to_alarm=int(alarm.get("DatapointsToAlarm") or periods),
                treat_missing_data=treatment,
            ),
            state=AlarmState(alarm.get("StateValue") or AlarmState.INSUFFICIENT_DATA.value),
            state_reason=alarm.get("StateReason") or "",
            unit=alarm.get("Unit"),
            actions_enabled=bool(alarm.get("ActionsEnabled", True)),
            alarm_actions=tuple(alarm.get("AlarmActions") or ()),
            ok_actions=tuple(alarm.get("OKActions") or ()),
            insufficient_data_actions=tuple(alarm.get("InsufficientDataActions") or ()),
            configuration_updated=alarm.get("AlarmConfigurationUpdatedTimestamp"),
        )

    @property
    def current_state(self) -> AlarmState:
        """The state CloudWatch would show: a new alarm is INSUFFICIENT_DATA (moto says OK)."""
        if self.state_reason == INITIAL_REASON:
            return AlarmState.INSUFFICIENT_DATA
        return self.state

    def actions(self, state: AlarmState) -> tuple[str, ...]:
        """The actions a change to `state` runs (none while actions are disabled)."""
        if not self.actions_enabled:
            return ()
        return {
            AlarmState.ALARM: self.alarm_actions,
            AlarmState.OK: self.ok_actions,
            AlarmState.INSUFFICIENT_DATA: self.insufficient_data_actions,
        }[state]


def _query(query_id: str, alarm: MetricAlarm) -> dict[str, Any]:
    """The GetMetricData query for an alarm's metric, statistic, period and unit."""
    metric: dict[str, Any] = {"Namespace": alarm.namespace, "MetricName": alarm.metric_name}
    if alarm.dimensions:
        metric["Dimensions"] = [{"Name": n, "Value": v} for n, v in alarm.dimensions]
    stat: dict[str, Any] = {"Metric": metric, "Period": alarm.period, "Stat": alarm.statistic}
    if alarm.unit:
        stat["Unit"] = alarm.unit
    return {"Id": query_id, "MetricStat": stat, "ReturnData": True}


def unsupported(alarm: Mapping[str, Any]) -> str | None:
    """Why the local cloud cannot evaluate this described alarm, or None if it can.

    >>> unsupported({"AlarmName": "m", "Metrics": [{"Id": "e1", "Expression": "m1 + m2"}]})
    'metric math alarms are not evaluated'
    """
    if "ThresholdMetricId" in alarm:
        return "anomaly detection alarms are not evaluated"
    if not alarm.get("MetricName"):
        return "metric math alarms are not evaluated"
    if alarm.get("ExtendedStatistic"):
        return f"percentile statistics ({alarm['ExtendedStatistic']}) are not evaluated"
    if alarm.get("Statistic") not in STATISTICS:
        return f"statistic {alarm.get('Statistic')!r} is not evaluated"
    if alarm.get("ComparisonOperator") not in COMPARISONS:
        return f"comparison {alarm.get('ComparisonOperator')!r} is not evaluated"
    if (alarm.get("TreatMissingData") or "missing") not in set(MissingData):
        return f"TreatMissingData {alarm.get('TreatMissingData')!r} is not one CloudWatch knows"
    periods = int(alarm.get("EvaluationPeriods") or 0)
    if not 1 <= int(alarm.get("DatapointsToAlarm") or periods) <= periods:
        return "DatapointsToAlarm must be between 1 and EvaluationPeriods"
    return None


def alarm_message(
    alarm: MetricAlarm, new: AlarmState, old: AlarmState, reason: str, at: dt.datetime
) -> dict[str, Any]:
    """The JSON CloudWatch publishes to an alarm's SNS actions on a state change (the shape of
    the reference payload's `Message`, keys in its order)."""
    _, _, _, region, account, *_ = alarm.arn.split(":")
    rule = alarm.rule
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": _message_time(alarm.configuration_updated or at),
        "NewStateValue": new.value,
        "NewStateReason": reason,
        "StateChangeTime": _message_time(at),
        "Region": REGION_NAMES.get(region, (region, region))[0],
        "AlarmArn": alarm.arn,
        "OldStateValue": old.value,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": _statistic_name(alarm.statistic),
            "Unit": alarm.unit,
            "Dimensions": [{"value": value, "name": name} for name, value in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": rule.evaluation_periods,
            "DatapointsToAlarm": rule.datapoints_to_alarm,
            "ComparisonOperator": rule.comparison,
            "Threshold": rule.threshold,
            "TreatMissingData": rule.treat_missing_data.value,
            "EvaluateLowSampleCountPercentile": "",
        },
    }


def alarm_subject(alarm: MetricAlarm, new: AlarmState) -> str:
    """The SNS subject CloudWatch sets (SNS allows at most 100 characters).

    >>> rule = AlarmRule("GreaterThanThreshold", 80.0)
    >>> arn = "arn:aws:cloudwatch:eu-central-1:111122223333:alarm:cpu"
    >>> alarm = MetricAlarm("cpu", arn, None, "AWS/ECS", "CPU", (), "Average", 300, rule,
    ...                     AlarmState.OK)
    >>> alarm_subject(alarm, AlarmState.ALARM)
    'ALARM: "cpu" in EU (Frankfurt)'
    """
    region = alarm.arn.split(":")[3]
    subject = f'{new.value}: "{alarm.name}" in {REGION_NAMES.get(region, (region, region))[1]}'
    return subject[:MAX_SUBJECT_CHARS]


def reason_data(
    alarm: MetricAlarm, evaluation: Evaluation, window: Sequence[Datapoint | None], at: dt.datetime
) -> dict[str, Any]:
    """The StateReasonData CloudWatch stores with the state (what the evaluation read)."""
    starts = [point.start for point in window if point is not None]
    return {
        "version": "1.0",
        "queryDate": _message_time(at),
        "startDate": _message_time(starts[0]) if starts else None,
        "statistic": alarm.statistic,
        "period": alarm.period,
        "recentDatapoints": [point.value for point in window if point is not None],
        "threshold": alarm.rule.threshold,
        "evaluatedDatapoints": [
            {"timestamp": _message_time(point.start), "value": point.value}
            for point in evaluation.evaluated
        ],
    }


def _statistic_name(statistic: str) -> str:
    """>>> _statistic_name("SampleCount"), _statistic_name("Minimum")
    ('SAMPLE_COUNT', 'MINIMUM')
    """
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(statistic)).upper()


def _message_time(moment: dt.datetime) -> str:
    """>>> _message_time(dt.datetime(2026, 11, 20, 18, 4, 12, 205000, tzinfo=dt.UTC))
    '2026-11-20T18:04:12.205+0000'
    """
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def _reason_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%d/%m/%y %H:%M:%S")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _were(number: int) -> str:
    return "was" if number == 1 else "were"


# ------------------------------------------------------------------------------ the shell
@dataclass(frozen=True)
class AlarmTransition:
    """One alarm's change of state, and where its message went."""

    alarm: str
    old_state: AlarmState
    new_state: AlarmState
    reason: str
    subject: str
    message: Mapping[str, Any]
    topics: tuple[str, ...] = ()  # SNS actions the message was published to
    not_run: tuple[str, ...] = ()  # other actions (EC2, Auto Scaling, ...): not emulated


@dataclass(frozen=True)
class SkippedAlarm:
    alarm: str
    reason: str


@dataclass(frozen=True)
class EvaluationReport:
    """What one evaluation at `at` did: the alarms evaluated, the transitions, the alarms it
    cannot evaluate (and why) and the publishes (with the notifier's deliveries)."""

    at: dt.datetime
    evaluated: tuple[str, ...] = ()
    transitions: tuple[AlarmTransition, ...] = ()
    skipped: tuple[SkippedAlarm, ...] = ()
    publishes: tuple[PublishReport, ...] = ()

    def transition(self, alarm: str) -> AlarmTransition | None:
        return next((t for t in self.transitions if t.alarm == alarm), None)


class AlarmEvaluator:
    """Evaluates moto's metric alarms like CloudWatch, at the times the caller says.

    With a `router`, messages are published through it, so the functions subscribed to the topic
    (the notifier, behind its queue) run; without one, a plain sns.publish into moto (SQS
    subscribers get the message; nothing drains them). `alarm_name_prefix` limits the evaluation
    to the alarms whose names start with it. `alarms_unchanged`, when given, says whether any
    alarm was created, changed or deleted since it was last asked (the evaluator's own state
    changes included); while none was, the last DescribeAlarms answer is used again.

    The datapoints of every alarm with the same period are read with one GetMetricData (one
    query per alarm, the same EndTime and Period each alone would get, the StartTime of the
    longest evaluation range among them), so an evaluation costs one request per period, not
    one per alarm.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        router: Router | None = None,
        *,
        alarm_name_prefix: str = "",
        alarms_unchanged: Callable[[], bool] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._router = router
        self._prefix = alarm_name_prefix
        self._unchanged = alarms_unchanged
        self._last_described: list[Mapping[str, Any]] | None = None

    def evaluate(self, at: dt.datetime) -> EvaluationReport:
        """Evaluate every metric alarm at `at`; change states and publish as CloudWatch would."""
        moment = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
        skipped: list[SkippedAlarm] = []
        alarms: list[MetricAlarm] = []
        for described in self._described():
            why = unsupported(described)
            if why is not None:
                skipped.append(SkippedAlarm(described["AlarmName"], why))
                continue
            alarms.append(MetricAlarm.from_description(described))
        values = self._datapoints(alarms, moment)
        transitions = [
            transition
            for alarm in alarms
            if (transition := self._evaluate(alarm, moment, values[alarm.name])) is not None
        ]
        publishes = self._publish(transitions)
        return EvaluationReport(
            moment, tuple(a.name for a in alarms), tuple(transitions), tuple(skipped), publishes
        )

    def _described(self) -> list[Mapping[str, Any]]:
        unchanged = self._unchanged() if self._unchanged is not None else False
        if unchanged and self._last_described is not None:
            return self._last_described
        request: dict[str, Any] = {"AlarmTypes": ["MetricAlarm"]}
        if self._prefix:
            request["AlarmNamePrefix"] = self._prefix
        pages = self._endpoint.client("cloudwatch").get_paginator("describe_alarms")
        found = [alarm for page in pages.paginate(**request) for alarm in page["MetricAlarms"]]
        self._last_described = found
        return found

    def _evaluate(
        self, alarm: MetricAlarm, at: dt.datetime, values: Mapping[dt.datetime, float]
    ) -> AlarmTransition | None:
        starts = window_starts(at, alarm.period, alarm.rule.evaluation_range)
        window = [Datapoint(start, values[start]) if start in values else None for start in starts]
        old = alarm.current_state
        evaluation = evaluate_window(alarm.rule, window, old)
        if evaluation.state is old:
            if alarm.state is not old and not evaluation.retained:
                # A new alarm moto shows as OK stays INSUFFICIENT_DATA: say so in moto too.
                self._set_state(alarm, evaluation, window, at)
            return None
        reason = self._set_state(alarm, evaluation, window, at)
        topics = tuple(a for a in alarm.actions(evaluation.state) if a.startswith("arn:aws:sns:"))
        others = tuple(a for a in alarm.actions(evaluation.state) if a not in topics)
        logger.info("alarm %s: %s -> %s", alarm.name, old.value, evaluation.state.value)
        return AlarmTransition(
            alarm=alarm.name,
            old_state=old,
            new_state=evaluation.state,
            reason=reason,
            subject=alarm_subject(alarm, evaluation.state),
            message=alarm_message(alarm, evaluation.state, old, reason, at),
            topics=topics,
            not_run=others,
        )

    def _datapoints(
        self, alarms: Sequence[MetricAlarm], at: dt.datetime
    ) -> dict[str, dict[dt.datetime, float]]:
        """Each alarm's datapoints over its evaluation range ending at `at`, by alarm name."""
        # GetMetricData, not GetMetricStatistics: moto's GetMetricStatistics matches any metric
        # that has the asked dimensions (Success{Check} would include Success{Check,Dependency})
        # and starts its periods at the first datapoint; GetMetricData matches dimensions exactly
        # and starts its periods at StartTime, as CloudWatch does.
        # One read per period: the longest evaluation range of the alarms with that period.
        # A shorter range's periods are the newest of the longest's (window_starts), and each
        # alarm is evaluated on its own periods only, so the older datapoints are not used.
        groups: dict[int, list[MetricAlarm]] = {}
        for alarm in alarms:
            groups.setdefault(alarm.period, []).append(alarm)
        values: dict[str, dict[dt.datetime, float]] = {alarm.name: {} for alarm in alarms}
        for period, members in groups.items():
            periods = max(alarm.rule.evaluation_range for alarm in members)
            starts = window_starts(at, period, periods)
            for offset in range(0, len(members), MAX_QUERIES):
                batch = members[offset : offset + MAX_QUERIES]
                result = self._endpoint.client("cloudwatch").get_metric_data(
                    MetricDataQueries=[_query(f"a{n}", alarm) for n, alarm in enumerate(batch)],
                    StartTime=starts[0],
                    EndTime=starts[-1] + dt.timedelta(seconds=period),
                )
                for series in result["MetricDataResults"]:
                    found = values[batch[int(series["Id"][1:])].name]
                    for stamp, value in zip(series["Timestamps"], series["Values"], strict=True):
                        found[stamp.astimezone(dt.UTC)] = float(value)
        return values

    def _set_state(
        self,
        alarm: MetricAlarm,
        evaluation: Evaluation,
        window: Sequence[Datapoint | None],
        at: dt.datetime,
    ) -> str:
        reason = state_reason(alarm.rule, evaluation, alarm.current_state)[:MAX_REASON_CHARS]
        self._endpoint.client("cloudwatch").set_alarm_state(
            AlarmName=alarm.name,
            StateValue=evaluation.state.value,
            StateReason=reason,
            StateReasonData=json.dumps(reason_data(alarm, evaluation, window, at)),
        )
        return reason

    def _publish(self, transitions: Sequence[AlarmTransition]) -> tuple[PublishReport, ...]:
        sends = [(topic, t) for t in transitions for topic in t.topics]
        last_for_topic = {topic: index for index, (topic, _) in enumerate(sends)}
        reports: list[PublishReport] = []
        for index, (topic, transition) in enumerate(sends):
            text = json.dumps(transition.message, separators=(",", ":"))
            if self._router is None:
                self._endpoint.client("sns").publish(
                    TopicArn=topic, Message=text, Subject=transition.subject
                )
                continue
            # Drain once per topic, after its last message: one batch for the notifier.
            drain = last_for_topic[topic] == index
            reports.append(self._router.publish(topic, text, transition.subject, drain=drain))
        return tuple(reports)
