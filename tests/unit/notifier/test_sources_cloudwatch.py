"""CloudWatch alarms: metric, metric math, anomaly band and composite; ALARM, OK, INSUFFICIENT_DATA."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from nightshift.notify.events import Inbound
from nightshift.notify.model import Fact, Notification, Severity, Source, State
from nightshift.notify.sources import parse

from .fixtures import envelope, notification

ALARM_URL = (
    "https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1"
    "#alarmsV2:alarm/"
)


def facts(n: Notification) -> dict[str, str]:
    return {fact.label: fact.value for fact in n.facts}


def links(n: Notification) -> dict[str, str]:
    return {link.label: link.url for link in n.links}


def alarm_body(**changes: object) -> str:
    """The reference metric alarm's Message, with some fields changed (None removes one)."""
    document = json.loads(envelope("cloudwatch-alarm-metric")["Message"])
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return json.dumps(document)


def parsed(body: str, topic_arn: str | None = None) -> Notification:
    return parse(Inbound("m-1", "ALARM: x", body, topic_arn, None))


@pytest.mark.parametrize(
    ("case", "state", "severity", "title", "kind"),
    [
        (
            "cloudwatch-alarm-metric",
            State.ALARM,
            Severity.CRITICAL,
            "ALARM: todoapp-backend-high-cpu",
            "metric",
        ),
        (
            "cloudwatch-alarm-metric-ok",
            State.OK,
            Severity.CRITICAL,
            "RESOLVED: todoapp-backend-high-cpu",
            "metric",
        ),
        (
            "cloudwatch-alarm-metric-insufficient-data",
            State.INSUFFICIENT_DATA,
            Severity.WARNING,
            "INSUFFICIENT DATA: todoapp-backend-high-cpu",
            "metric",
        ),
        (
            "cloudwatch-alarm-metric-math",
            State.ALARM,
            Severity.CRITICAL,
            "ALARM: todoapp-alb-5xx-rate",
            "metric math",
        ),
        (
            "cloudwatch-alarm-anomaly-band",
            State.ALARM,
            Severity.CRITICAL,
            "ALARM: todoapp-latency-anomaly",
            "anomaly detection",
        ),
        (
            "cloudwatch-alarm-composite",
            State.ALARM,
            Severity.CRITICAL,
            "ALARM: todoapp-service-degraded",
            "composite",
        ),
        (
            "raw-delivery-cloudwatch-alarm",
            State.ALARM,
            Severity.CRITICAL,
            "ALARM: todoapp-backend-high-cpu",
            "metric",
        ),
    ],
)
def test_each_alarm_fixture_becomes_one_alarm_notification(
    case: str, state: State, severity: Severity, title: str, kind: str
) -> None:
    n = notification(case)

    assert n.source is Source.CLOUDWATCH_ALARM
    assert (n.state, n.severity, n.title) == (state, severity, title)
    # A plain metric alarm is the usual kind: only the others say what they are.
    assert facts(n).get("Alarm type", "metric") == kind
    assert n.region == "eu-central-1"
    assert n.account == "111122223333"
    assert links(n)["Alarm"] == ALARM_URL + n.name


def test_metric_alarm_page_says_what_where_since_when_in_few_facts() -> None:
    n = notification("cloudwatch-alarm-metric")

    shown = facts(n)
    assert shown["State"] == "OK → ALARM"
    assert shown["Since"] == "2026-11-20 18:04:12 UTC"
    assert shown["Metric"] == (
        "AWS/ECS CPUUtilization · Average over 5 min · "
        "ServiceName=todoapp-backend-service, ClusterName=todoapp-cluster"
    )
    # CloudWatch's reason says the value against the threshold again: Value says it first.
    assert "Reason" not in shown
    assert not {"Statistic", "Dimensions", "Alarm type"} & set(shown)
    assert shown["Threshold"] == "> 80 for 2 of 2 datapoints of 5 min"
    assert shown["Value"] == "91.4 vs threshold > 80"
    assert shown["Datapoints"] == "91.4 (20/11/26 18:03:00), 87.2 (20/11/26 17:58:00)"
    assert n.summary == "CPU utilization is too high"
    assert n.occurred_at == "2026-11-20T18:04:12.205+00:00"


def test_region_comes_from_the_arn_not_the_display_name() -> None:
    n = notification("cloudwatch-alarm-metric")

    assert json.loads(n.raw)["Region"] == "Europe (Frankfurt)"
    assert n.region == "eu-central-1"
    assert "Europe (Frankfurt)" not in " ".join(link.url for link in n.links)


def test_ok_message_is_resolved_with_the_value_below_threshold() -> None:
    n = notification("cloudwatch-alarm-metric-ok")

    assert n.title.startswith("RESOLVED: ")
    assert facts(n)["State"] == "ALARM → OK"
    assert facts(n)["Value"] == "42.0 vs threshold > 80"
    assert "Datapoints" not in facts(n)  # a single datapoint is the value already


def test_ok_and_alarm_of_one_alarm_share_a_dedup_key_and_severity() -> None:
    alarm = notification("cloudwatch-alarm-metric")
    ok = notification("cloudwatch-alarm-metric-ok")

    assert alarm.dedup_key == ok.dedup_key
    assert alarm.dedup_key == (
        "cloudwatch-alarm:arn:aws:cloudwatch:eu-central-1:111122223333:alarm:"
        "todoapp-backend-high-cpu"
    )
    # The resolution must route where the alarm went.
    assert alarm.severity is ok.severity


def test_insufficient_data_has_no_value_but_keeps_the_condition() -> None:
    n = notification("cloudwatch-alarm-metric-insufficient-data")

    assert "Value" not in facts(n)
    assert facts(n)["Reason"] == "Insufficient Data: 2 datapoints were unknown."
    assert facts(n)["Threshold"] == "> 80 for 2 of 2 datapoints of 5 min"


def test_metric_math_alarm_lists_expression_and_each_input_metric() -> None:
    n = notification("cloudwatch-alarm-metric-math")

    shown = facts(n)
    assert shown["Expression e1"] == "5xx % = 100*errors/requests"
    assert shown["Metric errors"] == (
        "AWS/ApplicationELB HTTPCode_Target_5XX_Count · Sum over 1 min · "
        "LoadBalancer=app/todoapp-alb/50dc6c495c0c9188"
    )
    assert shown["Metric requests"].startswith("AWS/ApplicationELB RequestCount")
    assert shown["Threshold"] == "> 5 for 1 of 1 datapoints of 1 min"
    assert shown["Value"] == "7.5 vs threshold > 5"
    # AlarmDescription is null: the summary says what happened instead.
    assert n.summary == "The metric math alarm todoapp-alb-5xx-rate changed from OK to ALARM."


def test_anomaly_alarm_shows_the_band_and_its_crossed_edge() -> None:
    n = notification("cloudwatch-alarm-anomaly-band")

    shown = facts(n)
    assert shown["Band"] == "ANOMALY_DETECTION_BAND(m1, 2) (TargetResponseTime (expected))"
    assert shown["Threshold"] == "above the band for 3 of 3 datapoints of 5 min"
    assert shown["Upper band"] == "0.85, 0.84, 0.86"
    assert shown["Metric m1"].startswith("AWS/ApplicationELB TargetResponseTime · p99 over 5 min")
    assert "Value" not in shown  # the reason names band edges, not datapoint values


def test_composite_alarm_shows_rule_with_names_and_links_each_triggering_child() -> None:
    n = notification("cloudwatch-alarm-composite")

    shown = facts(n)
    assert shown["Rule"] == 'ALARM("todoapp-canary-api-failed") AND ALARM("todoapp-alb-5xx-rate")'
    assert shown["Triggered by"] == (
        "todoapp-canary-api-failed (ALARM since 2026-11-20T18:31:10.640+00:00)"
    )
    assert links(n)["Alarm todoapp-canary-api-failed"] == ALARM_URL + "todoapp-canary-api-failed"
    assert "Metric" not in links(n)


@pytest.mark.parametrize(
    ("case", "metric_parts"),
    [
        (
            "cloudwatch-alarm-metric",
            ["~'AWS*2fECS~'CPUUtilization~'ServiceName~'todoapp-backend-service", "stat~'Average"],
        ),
        (
            "cloudwatch-alarm-metric-math",
            ["expression~'100*2aerrors*2frequests", "id~'errors", "visible~false"],
        ),
        ("cloudwatch-alarm-anomaly-band", ["ANOMALY_DETECTION_BAND*28m1*2c*202*29", "stat~'p99"]),
    ],
)
def test_metric_link_opens_the_alarmed_metrics_around_the_state_change(
    case: str, metric_parts: list[str]
) -> None:
    url = links(notification(case))["Metric"]

    assert url.startswith(
        "https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1"
        "#metricsV2?graph=~(metrics~("
    )
    for part in metric_parts:
        assert part in url
    assert "~start~'2026-11-20T" in url
    assert url.endswith("~region~'eu-central-1)")


def test_alarm_name_with_special_characters_is_url_encoded_in_the_link() -> None:
    n = parsed(alarm_body(AlarmName="team a/cpu > 80%"))

    url = links(n)["Alarm"]
    assert url == ALARM_URL + "team%20a%2Fcpu%20%3E%2080%25"
    assert unquote(url.rsplit("/", 1)[-1]) == "team a/cpu > 80%"


def test_without_an_alarm_arn_the_region_comes_from_the_topic_arn() -> None:
    n = parsed(
        alarm_body(AlarmArn=None),
        topic_arn="arn:aws:sns:eu-west-1:111122223333:nightshift-ops",
    )

    assert n.region == "eu-west-1"
    assert n.account == "111122223333"
    assert n.dedup_key == "cloudwatch-alarm:eu-west-1:todoapp-backend-high-cpu"


def test_without_any_region_the_alarm_is_still_read_without_links() -> None:
    n = parsed(alarm_body(AlarmArn=None))

    assert n.source is Source.CLOUDWATCH_ALARM
    assert n.region is None
    assert n.links == ()


def test_percentile_statistic_is_shown_as_written() -> None:
    trigger = json.loads(alarm_body())["Trigger"]
    trigger.update(
        {"StatisticType": "ExtendedStatistic", "ExtendedStatistic": "p95", "Statistic": None}
    )

    n = parsed(alarm_body(Trigger=trigger))

    assert facts(n)["Metric"].endswith(
        " · p95 over 5 min · ServiceName=todoapp-backend-service, ClusterName=todoapp-cluster"
    )


@pytest.mark.parametrize(
    ("operator", "shown"),
    [
        ("GreaterThanOrEqualToThreshold", ">= 80"),
        ("LessThanThreshold", "< 80"),
        ("LessThanOrEqualToThreshold", "<= 80"),
        ("LessThanLowerOrGreaterThanUpperThreshold", "outside the band 80"),
    ],
)
def test_comparison_operators_read_as_symbols_or_words(operator: str, shown: str) -> None:
    trigger = json.loads(alarm_body())["Trigger"]
    trigger["ComparisonOperator"] = operator

    n = parsed(alarm_body(Trigger=trigger))

    assert facts(n)["Threshold"].startswith(shown + " for ")


def test_odd_optional_fields_are_left_out_rather_than_failing() -> None:
    trigger = json.loads(alarm_body())["Trigger"]
    trigger.update({"Dimensions": "not a list", "Period": "300", "Threshold": None})

    n = parsed(alarm_body(Trigger=trigger, AlarmDescription=42, OldStateValue=None))

    assert n.source is Source.CLOUDWATCH_ALARM
    assert "=" not in facts(n)["Metric"]  # no dimensions shown
    assert facts(n)["State"] == "ALARM"
    assert facts(n)["Threshold"] == "> for 2 of 2 datapoints"
    assert facts(n)["Value"] == "91.4 vs threshold > 80.0"  # the threshold as the reason says
    assert n.summary == "The metric alarm todoapp-backend-high-cpu changed to ALARM."


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        (
            {"NewStateValue": None},
            "field 'NewStateValue': expected a non-empty string, got nothing",
        ),
        ({"NewStateValue": "PANIC"}, "field 'NewStateValue': unknown alarm state 'PANIC'"),
        ({"AlarmName": ""}, "field 'AlarmName': expected a non-empty string, got str"),
        ({"AlarmName": ["a"]}, "field 'AlarmName': expected a non-empty string, got list"),
    ],
)
def test_a_claimed_alarm_missing_what_it_needs_falls_back_to_raw_with_the_reason(
    changes: dict[str, object], why: str
) -> None:
    body = alarm_body(**changes)

    n = parsed(body)

    assert n.source is Source.UNRECOGNISED
    assert n.raw == body
    assert n.facts[0] == Fact("Why", f"looks like a CloudWatch alarm but could not be read: {why}")


def test_missing_state_fixture_reaches_people_as_raw_with_its_subject() -> None:
    n = notification("cloudwatch-alarm-missing-state")

    assert n.source is Source.UNRECOGNISED
    assert n.title == 'Unrecognised message: ALARM: "todoapp-backend-high-cpu" in EU (Frankfurt)'
    assert '"AlarmName":"todoapp-backend-high-cpu"' in n.raw


@pytest.mark.parametrize("state", ["ALARM", "OK"])
def test_alarm_described_as_a_warning_is_a_warning_in_both_states(state: str) -> None:
    body = alarm_body(
        NewStateValue=state,
        AlarmDescription="Warning: the TLS certificate of canary check api expires in 14 days.",
    )

    assert parsed(body).severity is Severity.WARNING


def test_alarm_without_the_warning_prefix_stays_critical() -> None:
    assert parsed(alarm_body(AlarmDescription="A warning about CPU")).severity is Severity.CRITICAL


def test_a_url_in_the_alarm_description_becomes_the_runbook_link_first() -> None:
    n = parsed(
        alarm_body(AlarmDescription="API down. Runbook: https://wiki.example.com/runbooks/api.")
    )

    assert n.links[0].label == "Runbook"
    assert n.links[0].url == "https://wiki.example.com/runbooks/api"  # the full stop is prose


def test_a_url_the_description_does_not_call_a_runbook_is_not_one() -> None:
    n = parsed(
        alarm_body(AlarmDescription="Canary check api. Probes GET https://api.example.com/health.")
    )

    assert "Runbook" not in links(n)
