"""CloudWatch's alarm rules as the local cloud plays them (localcloud.alarms): pure functions over
datapoints, checked against the tables of "Configuring how CloudWatch alarms treat missing data"
and the reference alarm payloads (tests/fixtures/reference)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from localcloud.alarms import (
    AlarmRule,
    AlarmState,
    Datapoint,
    Evaluation,
    MetricAlarm,
    MissingData,
    alarm_message,
    alarm_subject,
    evaluate_window,
    java_double,
    reason_data,
    state_reason,
    unsupported,
    window_starts,
)
from localcloud.project import Project

# The reference payloads the product's tests use (tests/fixtures/reference in the checkout).
REFERENCE = Project.at().root / "tests" / "fixtures" / "reference"

settings.register_profile("localcloud-alarms", max_examples=200, deadline=None)
PROPERTIES = settings.get_profile("localcloud-alarms")

T0 = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA
RETAIN = "retain"
TREATMENTS = (
    MissingData.MISSING,
    MissingData.IGNORE,
    MissingData.BREACHING,
    MissingData.NOT_BREACHING,
)


def window(pattern: str, period_minutes: int = 5) -> list[Datapoint | None]:
    """The documentation's notation, oldest first: 0 good, X breaching, - missing
    (threshold 0.5, GreaterThanThreshold)."""
    values = {"0": 0.0, "X": 1.0}
    return [
        None
        if mark == "-"
        else Datapoint(T0 + dt.timedelta(minutes=period_minutes * n), values[mark])
        for n, mark in enumerate(pattern.split())
    ]


def rule(m: int, n: int, treatment: MissingData = MissingData.MISSING) -> AlarmRule:
    return AlarmRule("GreaterThanThreshold", 0.5, n, m, treatment)


def expected_state(expected: AlarmState | str, current: AlarmState) -> AlarmState:
    return current if expected == RETAIN else AlarmState(expected)


# ------------------------------------------------------------ the documentation's tables
# Datapoints to Alarm 3 of Evaluation Periods 3; evaluation range 5.
THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT, RETAIN, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - X - -", ALARM, RETAIN, ALARM, OK),
]
# Datapoints to Alarm 2 of Evaluation Periods 3 (M out of N); evaluation range 5.
TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - X -", ALARM, RETAIN, ALARM, OK),
]


@pytest.mark.parametrize("current", [OK, ALARM, INSUFFICIENT])
@pytest.mark.parametrize(
    ("m", "n", "pattern", "expected"),
    [(3, 3, row[0], row[1:]) for row in THREE_OF_THREE]
    + [(2, 3, row[0], row[1:]) for row in TWO_OF_THREE],
)
def test_documented_missing_data_tables_give_the_documented_state_for_every_treatment(
    m: int, n: int, pattern: str, expected: tuple[Any, ...], current: AlarmState
) -> None:
    for treatment, wanted in zip(TREATMENTS, expected, strict=True):
        outcome = evaluate_window(rule(m, n, treatment), window(pattern), current)

        assert outcome.state is expected_state(wanted, current), (pattern, treatment.value)
        assert outcome.retained == (wanted == RETAIN)


def test_breaching_datapoints_too_recent_to_decide_keep_the_state_with_missing_treatment() -> None:
    # "- - - - X" and "- - - X -" with 3 of 3: the next datapoint may be good (premature alarm).
    for pattern in ("- - - - X", "- - - X -"):
        for current in (OK, INSUFFICIENT):
            outcome = evaluate_window(rule(3, 3), window(pattern), current)

            assert outcome.state is current
            assert outcome.retained


def test_gaps_are_skipped_when_the_range_holds_enough_real_datapoints() -> None:
    outcome = evaluate_window(rule(3, 3, MissingData.NOT_BREACHING), window("X - X - X"), OK)

    assert outcome.state is ALARM
    assert [p.value for p in outcome.evaluated] == [1.0, 1.0, 1.0]
    assert outcome.filled == 0


def test_only_the_shortfall_is_filled_in_never_every_gap() -> None:
    outcome = evaluate_window(rule(3, 3, MissingData.BREACHING), window("0 - X - -"), OK)

    assert outcome.filled == 1  # two real datapoints, three needed
    assert outcome.state is OK  # X and one filled X: 2 of 3 breach


def test_dynamodb_alarms_ignore_missing_data_whatever_they_say() -> None:
    described = described_alarm(Namespace="AWS/DynamoDB", TreatMissingData="breaching")

    assert MetricAlarm.from_description(described).rule.treat_missing_data is MissingData.IGNORE


# ------------------------------------------------------------------ the canary's down alarm
def canary_window(runs: str, evaluation_range: int = 7) -> list[Datapoint | None]:
    """Success per run, one a minute (H up: 1, D down: 0), the newest `evaluation_range`."""
    points: list[Datapoint | None] = [
        Datapoint(T0 + dt.timedelta(minutes=n), 1.0 if run == "H" else 0.0)
        for n, run in enumerate(runs)
    ]
    padded = [None] * evaluation_range + points
    return padded[-evaluation_range:]


def test_canary_down_alarm_fires_on_the_third_failed_run_and_clears_on_the_third_good_one() -> None:
    down = AlarmRule("LessThanThreshold", 1.0, evaluation_periods=5, datapoints_to_alarm=3)
    runs = "HHDDDHHH"
    state = INSUFFICIENT
    states = []
    for count in range(1, len(runs) + 1):
        state = evaluate_window(down, canary_window(runs[:count]), state).state
        states.append(state)

    assert states == [OK, OK, OK, OK, ALARM, ALARM, ALARM, OK]


def test_a_check_failing_from_its_first_run_holds_insufficient_data_until_m_runs_failed() -> None:
    down = AlarmRule("LessThanThreshold", 1.0, evaluation_periods=5, datapoints_to_alarm=3)

    first = evaluate_window(down, canary_window("D"), INSUFFICIENT)
    third = evaluate_window(down, canary_window("DDD"), INSUFFICIENT)

    assert first.state is INSUFFICIENT  # not a misleading OK while the endpoint fails
    assert third.state is ALARM


# ----------------------------------------------------------------------- comparisons
@pytest.mark.parametrize(
    ("comparison", "at_threshold", "above", "below"),
    [
        ("GreaterThanThreshold", False, True, False),
        ("GreaterThanOrEqualToThreshold", True, True, False),
        ("LessThanThreshold", False, False, True),
        ("LessThanOrEqualToThreshold", True, False, True),
    ],
)
def test_each_comparison_operator_breaches_on_its_side_of_the_threshold(
    comparison: str, at_threshold: bool, above: bool, below: bool
) -> None:
    alarm_rule = AlarmRule(comparison, 14.0)

    assert alarm_rule.breaches(14.0) is at_threshold
    assert alarm_rule.breaches(14.5) is above
    assert alarm_rule.breaches(13.5) is below


def test_anomaly_band_operator_is_not_a_static_threshold_rule() -> None:
    with pytest.raises(ValueError, match="not a static-threshold"):
        AlarmRule("LessThanLowerOrGreaterThanUpperThreshold", 1.0)


def test_more_datapoints_to_alarm_than_evaluation_periods_is_refused() -> None:
    with pytest.raises(ValueError, match="DatapointsToAlarm"):
        AlarmRule("LessThanThreshold", 1.0, evaluation_periods=3, datapoints_to_alarm=4)


@given(
    runs=st.lists(st.floats(min_value=-10, max_value=10), min_size=1, max_size=12),
    m_n=st.integers(1, 6).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))),
    treatment=st.sampled_from(TREATMENTS),
    current=st.sampled_from([OK, ALARM, INSUFFICIENT]),
)
@PROPERTIES
def test_with_every_period_reported_the_state_is_m_of_the_newest_n_whatever_the_treatment(
    runs: list[float], m_n: tuple[int, int], treatment: MissingData, current: AlarmState
) -> None:
    m, n = m_n
    alarm_rule = AlarmRule("GreaterThanThreshold", 0.0, n, m, treatment)
    points = [Datapoint(T0 + dt.timedelta(minutes=k), v) for k, v in enumerate(runs)]
    full = points[-alarm_rule.evaluation_range :]
    assume(len(full) >= n)
    breaching = sum(1 for p in full[-n:] if p.value > 0.0)

    outcome = evaluate_window(alarm_rule, full, current)

    assert outcome.state is (ALARM if breaching >= m else OK)
    assert [p.start for p in outcome.evaluated] == [p.start for p in reversed(full[-n:])]


@given(
    marks=st.lists(st.sampled_from([None, 0.0, 1.0]), min_size=3, max_size=7),
    treatment=st.sampled_from(TREATMENTS),
    current=st.sampled_from([OK, ALARM, INSUFFICIENT]),
)
@PROPERTIES
def test_evaluation_never_fails_and_only_missing_treatment_leads_to_insufficient_data(
    marks: list[float | None], treatment: MissingData, current: AlarmState
) -> None:
    alarm_rule = rule(2, 3, treatment)
    data = [
        None if v is None else Datapoint(T0 + dt.timedelta(minutes=k), v)
        for k, v in enumerate(marks)
    ]

    outcome = evaluate_window(alarm_rule, data, current)

    if outcome.state is INSUFFICIENT and current is not INSUFFICIENT:
        assert treatment is MissingData.MISSING
        assert all(point is None for point in data)
    if outcome.retained:
        assert outcome.state is current


# ------------------------------------------------------------------- the window
def test_window_ends_at_the_minute_of_the_evaluation_and_reads_n_plus_two_periods() -> None:
    at = dt.datetime(2026, 11, 21, 9, 5, 42, tzinfo=dt.UTC)
    down = AlarmRule("LessThanThreshold", 1.0, evaluation_periods=5, datapoints_to_alarm=3)

    starts = window_starts(at, 60, down.evaluation_range)

    assert down.evaluation_range == 7
    assert starts[0] == dt.datetime(2026, 11, 21, 8, 58, tzinfo=dt.UTC)
    assert starts[-1] == dt.datetime(2026, 11, 21, 9, 4, tzinfo=dt.UTC)


def test_hourly_window_is_not_aligned_to_the_hour_but_to_the_evaluation_minute() -> None:
    at = dt.datetime(2026, 11, 21, 9, 5, tzinfo=dt.UTC)

    assert window_starts(at, 3600, 1) == (dt.datetime(2026, 11, 21, 8, 5, tzinfo=dt.UTC),)


# -------------------------------------------------- reasons, messages, as CloudWatch writes them
def reference_message(name: str) -> tuple[dict[str, Any], str]:
    envelope = json.loads((REFERENCE / name).read_text(encoding="utf-8"))["Records"][0]["Sns"]
    return json.loads(envelope["Message"]), envelope["Subject"]


def described_alarm(**overrides: Any) -> dict[str, Any]:
    """The reference alarm (todoapp-backend-high-cpu) as DescribeAlarms returns it."""
    described = {
        "AlarmName": "todoapp-backend-high-cpu",
        "AlarmArn": "arn:aws:cloudwatch:eu-central-1:111122223333:alarm:todoapp-backend-high-cpu",
        "AlarmDescription": "CPU utilization is too high",
        "AlarmConfigurationUpdatedTimestamp": dt.datetime(
            2026, 11, 2, 10, 1, 17, 120000, tzinfo=dt.UTC
        ),
        "ActionsEnabled": True,
        "OKActions": ["arn:aws:sns:eu-central-1:111122223333:nightshift-ops"],
        "AlarmActions": ["arn:aws:sns:eu-central-1:111122223333:nightshift-ops"],
        "InsufficientDataActions": [],
        "StateValue": "OK",
        "StateReason": "Threshold Crossed: ...",
        "MetricName": "CPUUtilization",
        "Namespace": "AWS/ECS",
        "Statistic": "Average",
        "Dimensions": [
            {"Name": "ServiceName", "Value": "todoapp-backend-service"},
            {"Name": "ClusterName", "Value": "todoapp-cluster"},
        ],
        "Period": 300,
        "EvaluationPeriods": 2,
        "DatapointsToAlarm": 2,
        "Threshold": 80.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "missing",
    }
    return {**described, **overrides}


def test_alarm_message_and_subject_are_exactly_the_reference_payload() -> None:
    expected, subject = reference_message("sns-cloudwatch-alarm-metric.json")
    alarm = MetricAlarm.from_description(described_alarm())
    at = dt.datetime(2026, 11, 20, 18, 4, 12, 205000, tzinfo=dt.UTC)
    evaluation = evaluate_window(
        alarm.rule,
        [
            None,
            Datapoint(dt.datetime(2026, 11, 20, 17, 58, tzinfo=dt.UTC), 87.2),
            Datapoint(dt.datetime(2026, 11, 20, 18, 3, tzinfo=dt.UTC), 91.4),
        ],
        OK,
    )

    message = alarm_message(
        alarm, evaluation.state, OK, state_reason(alarm.rule, evaluation, OK), at
    )

    assert message == expected
    assert list(message) == list(expected)
    assert list(message["Trigger"]) == list(expected["Trigger"])
    assert alarm_subject(alarm, evaluation.state) == subject


def test_ok_reason_names_the_good_datapoints_and_the_minimum_for_the_way_back() -> None:
    expected, subject = reference_message("sns-cloudwatch-alarm-metric-ok.json")
    alarm = MetricAlarm.from_description(described_alarm(StateValue="ALARM"))
    evaluation = evaluate_window(
        alarm.rule,
        [
            Datapoint(dt.datetime(2026, 11, 20, 18, 18, tzinfo=dt.UTC), 85.0),
            Datapoint(dt.datetime(2026, 11, 20, 18, 23, tzinfo=dt.UTC), 42.0),
        ],
        ALARM,
    )

    assert evaluation.state is OK
    assert state_reason(alarm.rule, evaluation, ALARM) == expected["NewStateReason"]
    assert alarm_subject(alarm, OK) == subject


def test_one_datapoint_alarm_reason_uses_cloudwatchs_short_form() -> None:
    certificate = AlarmRule("LessThanOrEqualToThreshold", 14.0)
    point = Datapoint(dt.datetime(2026, 11, 21, 8, 5, tzinfo=dt.UTC), 9.99)
    evaluation = evaluate_window(certificate, [None, None, point], INSUFFICIENT)

    assert state_reason(certificate, evaluation, INSUFFICIENT) == (
        "Threshold Crossed: 1 datapoint [9.99 (21/11/26 08:05:00)] was less than or equal to "
        "the threshold (14.0)."
    )


@pytest.mark.parametrize(
    ("treatment", "state", "reason"),
    [
        (
            MissingData.BREACHING,
            ALARM,
            (
                "Threshold Crossed: no datapoints were received for 3 periods and 3 missing "
                "datapoints were treated as [Breaching]."
            ),
        ),
        (
            MissingData.NOT_BREACHING,
            OK,
            (
                "Threshold Crossed: no datapoints were received for 3 periods and 3 missing "
                "datapoints were treated as [NonBreaching]."
            ),
        ),
        (MissingData.MISSING, INSUFFICIENT, "Insufficient Data: 3 datapoints were unknown."),
    ],
)
def test_no_data_at_all_is_explained_by_the_treatment(
    treatment: MissingData, state: AlarmState, reason: str
) -> None:
    alarm_rule = rule(2, 3, treatment)
    evaluation = evaluate_window(alarm_rule, window("- - - - -"), ALARM)

    assert evaluation.state is state
    assert state_reason(alarm_rule, evaluation, OK) == reason


def test_filled_breaching_datapoints_are_counted_in_the_reason() -> None:
    alarm_rule = rule(3, 3, MissingData.BREACHING)
    evaluation = evaluate_window(alarm_rule, window("- - X - -"), OK)

    assert evaluation.state is ALARM
    assert state_reason(alarm_rule, evaluation, OK) == (
        "Threshold Crossed: 3 out of the last 3 datapoints [1.0 (21/11/26 09:10:00)] were "
        "greater than the threshold (0.5), and 2 missing datapoints were treated as "
        "[Breaching] (minimum 3 datapoints for OK -> ALARM transition)."
    )


def test_reason_data_records_what_was_read_and_what_was_evaluated() -> None:
    alarm = MetricAlarm.from_description(described_alarm())
    data = window("0 - X - X")
    evaluation = evaluate_window(alarm.rule, data, OK)

    recorded = reason_data(alarm, evaluation, data, T0 + dt.timedelta(minutes=25))

    assert recorded["recentDatapoints"] == [0.0, 1.0, 1.0]
    assert [p["timestamp"] for p in recorded["evaluatedDatapoints"]] == [
        "2026-11-21T09:20:00.000+0000",
        "2026-11-21T09:10:00.000+0000",
    ]
    assert json.loads(json.dumps(recorded)) == recorded


@pytest.mark.parametrize(
    ("value", "text"),
    [(80, "80.0"), (91.4, "91.4"), (0.0, "0.0"), (1, "1.0"), (-2.5, "-2.5"), (1e-4, "1.0E-4"),
     (12345678.0, "1.2345678E7"), (9.99, "9.99")],
)  # fmt: skip
def test_numbers_are_written_as_cloudwatch_writes_them(value: float, text: str) -> None:
    assert java_double(value) == text


# ------------------------------------------------------------------- the alarms themselves
def test_a_new_alarm_moto_shows_as_ok_is_insufficient_data_as_in_cloudwatch() -> None:
    alarm = MetricAlarm.from_description(
        described_alarm(StateValue="OK", StateReason="Unchecked: Initial alarm creation")
    )

    assert alarm.current_state is INSUFFICIENT


def test_disabled_actions_run_nothing_on_any_state() -> None:
    alarm = MetricAlarm.from_description(described_alarm(ActionsEnabled=False))

    assert alarm.actions(ALARM) == ()
    assert alarm.actions(OK) == ()


def test_datapoints_to_alarm_left_out_means_all_evaluation_periods() -> None:
    described = described_alarm()
    del described["DatapointsToAlarm"]

    assert MetricAlarm.from_description(described).rule.datapoints_to_alarm == 2


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"MetricName": None, "Metrics": [{"Id": "e1", "Expression": "m1"}]}, "metric math"),
        ({"ThresholdMetricId": "ad1"}, "anomaly detection"),
        ({"Statistic": None, "ExtendedStatistic": "p99"}, "percentile statistics (p99)"),
        ({"TreatMissingData": "sometimes"}, "TreatMissingData 'sometimes'"),
        ({"DatapointsToAlarm": 3}, "DatapointsToAlarm must be between 1 and EvaluationPeriods"),
    ],
)
def test_alarms_the_local_cloud_cannot_evaluate_say_why(
    overrides: dict[str, Any], why: str
) -> None:
    reason = unsupported(described_alarm(**overrides))

    assert reason is not None
    assert why in reason


def test_a_static_threshold_metric_alarm_is_evaluated() -> None:
    assert unsupported(described_alarm()) is None


def test_evaluation_records_the_datapoints_it_decided_on_newest_first() -> None:
    outcome: Evaluation = evaluate_window(rule(2, 3), window("0 0 X 0 X"), OK)

    assert [p.value for p in outcome.evaluated] == [1.0, 0.0, 1.0]
    assert outcome.evaluated[0].start > outcome.evaluated[-1].start
