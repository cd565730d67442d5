"""AWS Budgets plain-text alerts: ACTUAL/FORECASTED, monthly/daily, amount/percentage thresholds."""

from __future__ import annotations

import pytest

from nightshift.notify.events import Inbound
from nightshift.notify.model import Notification, Severity, Source, State
from nightshift.notify.sources import parse

from .fixtures import envelope, notification


def facts(n: Notification) -> dict[str, str]:
    return {fact.label: fact.value for fact in n.facts}


def budget(text: str, subject: str | None = None) -> Notification:
    return parse(Inbound("m-1", subject, text, None, "2026-11-20T07:02:55.120Z"))


REFERENCE = envelope("budgets-actual")["Message"]


@pytest.mark.parametrize(
    ("case", "severity", "title", "spend_label", "spend", "threshold", "period"),
    [
        (
            "budgets-actual",
            Severity.WARNING,
            "Budget todoapp-monthly: actual cost $41.37 is over the $40.00 threshold",
            "Actual cost",
            "$41.37 of $50.00 budgeted (83%)",
            "> $40.00 (80% of budget)",
            "monthly",
        ),
        (
            "budgets-forecasted",
            Severity.WARNING,
            "Budget todoapp-monthly: forecasted cost $63.12 is over the $50.00 threshold",
            "Forecasted cost",
            "$63.12 of $50.00 budgeted (126%)",
            "> $50.00 (100% of budget)",
            "monthly",
        ),
        (
            "budgets-daily",
            Severity.CRITICAL,
            "Budget todoapp-daily: actual cost $2.14 is over the $1.60 threshold",
            "Actual cost",
            "$2.14 of $2.00 budgeted (107%)",
            "> $1.60 (80% of budget)",
            "daily",
        ),
        (
            "budgets-percentage-threshold",
            Severity.WARNING,
            "Budget todoapp-monthly: actual cost $41.37 is over the $40.00 threshold",
            "Actual cost",
            "$41.37 of $50.00 budgeted (83%)",
            "> $40.00 (80% of budget)",
            "monthly",
        ),
        (
            "budgets-percentage-with-amount",
            Severity.WARNING,
            "Budget todoapp-monthly: actual cost $41.37 is over the $40.00 threshold",
            "Actual cost",
            "$41.37 of $50.00 budgeted (83%)",
            "> $40.00 (80% of budget)",
            "monthly",
        ),
        (
            "budgets-whole-dollars",
            Severity.WARNING,
            "Budget todoapp-platform: actual cost $83.00 is over the $80.00 threshold",
            "Actual cost",
            "$83.00 of $100.00 budgeted (83%)",
            "> $80.00 (80% of budget)",
            "monthly",
        ),
    ],
)
def test_each_budget_fixture_shows_spend_against_budget_and_threshold(
    case: str,
    severity: Severity,
    title: str,
    spend_label: str,
    spend: str,
    threshold: str,
    period: str,
) -> None:
    n = notification(case)

    assert (n.source, n.state, n.severity) == (Source.BUDGET, State.ALARM, severity)
    assert n.title == title
    assert facts(n)[spend_label] == spend
    assert facts(n)["Alert threshold"] == threshold
    assert facts(n)["Period"] == period
    assert n.account == "111122223333"
    assert n.region is None
    assert [link.url for link in n.links] == [
        "https://console.aws.amazon.com/billing/home#/budgets"
    ]


def test_daily_budget_speaks_of_yesterday() -> None:
    n = notification("budgets-daily")

    assert n.summary == "Yesterday's actual cost is $2.14, 107% of the $2.00 daily budget."


def test_forecast_is_a_warning_even_far_over_budget() -> None:
    assert notification("budgets-forecasted").severity is Severity.WARNING


def test_actual_spend_past_the_whole_budget_is_critical() -> None:
    text = REFERENCE.replace("ACTUAL Amount: $41.37", "ACTUAL Amount: $50.00")

    assert budget(text).severity is Severity.CRITICAL


def test_actual_and_forecast_alerts_of_one_budget_are_remembered_apart() -> None:
    actual = notification("budgets-actual")
    forecast = notification("budgets-forecasted")

    assert actual.name == forecast.name == "todoapp-monthly"
    assert actual.dedup_key != forecast.dedup_key


def test_percentage_threshold_without_a_budgeted_amount_stays_a_percentage() -> None:
    text = REFERENCE.replace("Budgeted Amount: $50.00\n", "").replace(
        "Alert Threshold: > $40.00", "Alert Threshold: > 80% of budget"
    )

    n = budget(text)

    assert facts(n)["Alert threshold"] == "> 80% of budget"
    assert facts(n)["Actual cost"] == "$41.37"
    assert (
        n.title == "Budget todoapp-monthly: actual cost $41.37 is over the 80%-of-budget threshold"
    )


def test_amounts_with_thousands_separators_are_read() -> None:
    text = (
        REFERENCE.replace("$50.00", "$5,000.00")
        .replace("$40.00", "$4,000.00")
        .replace("$41.37", "$4,137.10")
    )

    assert facts(budget(text))["Actual cost"] == "$4,137.10 of $5,000.00 budgeted (83%)"


def test_without_the_key_value_block_the_sentence_is_enough() -> None:
    text = REFERENCE.split("Budget Name:")[0]

    n = budget(text)

    assert n.name == "todoapp-monthly"
    assert facts(n)["Actual cost"] == "$41.37"
    assert facts(n)["Alert threshold"] == "> $40.00"


def test_budget_name_can_come_from_the_subject_alone() -> None:
    text = "AWS Budget Notification\nAlert Type: FORECASTED\nFORECASTED Amount: $12\n"

    n = budget(text, subject="AWS Budgets: sandbox has exceeded your alert threshold")

    assert n.name == "sandbox"
    assert n.title == "Budget sandbox: forecasted cost $12.00 is over its alert threshold"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("AWS Budget Notification\nAlert Type: ACTUAL\nACTUAL Amount: $3\n", "no budget name"),
        (REFERENCE.replace("ACTUAL", "MAYBE"), "alert type"),
        (
            REFERENCE.replace("ACTUAL Amount: $41.37", "ACTUAL Amount: lots").replace(
                "this budget is $41.37", "this budget is lots"
            ),
            "no ACTUAL amount",
        ),
    ],
)
def test_a_budget_alert_that_cannot_be_read_falls_back_to_raw(text: str, why: str) -> None:
    n = budget(text)

    assert n.source is Source.UNRECOGNISED
    assert n.raw == text
    assert why in n.facts[0].value


def with_threshold(threshold: str, *, budgeted: bool = True) -> str:
    """The reference ACTUAL alert with its `Alert Threshold:` line in another of AWS's wordings."""
    text = REFERENCE.replace("Alert Threshold: > $40.00", f"Alert Threshold: {threshold}")
    return text if budgeted else text.replace("Budgeted Amount: $50.00\n", "")


@pytest.mark.parametrize(
    ("threshold", "budgeted", "expected"),
    [
        ("> $40.00", True, "> $40.00 (80% of budget)"),
        ("> $40", True, "> $40.00 (80% of budget)"),
        ("> 80% of budget", True, "> $40.00 (80% of budget)"),
        ("> 80% of budget ($40.00)", True, "> $40.00 (80% of budget)"),
        ("> 80% of budget ($40)", True, "> $40.00 (80% of budget)"),
        ("> 80.00% of budget ($40.00)", True, "> $40.00 (80% of budget)"),
        ("> 80% of budget ($40.00)", False, "> $40.00 (80% of budget)"),
        ("> 80% of budget", False, "> 80% of budget"),
        ("> $40.00", False, "> $40.00"),
        ("> $4,000.00", True, "> $4,000.00 (8000% of budget)"),
    ],
)
def test_every_threshold_wording_aws_uses_is_read(
    threshold: str, budgeted: bool, expected: str
) -> None:
    n = budget(with_threshold(threshold, budgeted=budgeted))

    assert facts(n)["Alert threshold"] == expected


def test_percentage_threshold_with_its_amount_in_parentheses_names_the_amount() -> None:
    n = budget(with_threshold("> 80% of budget ($40.00)", budgeted=False))

    assert n.title == "Budget todoapp-monthly: actual cost $41.37 is over the $40.00 threshold"


def test_sentence_with_a_percentage_and_its_amount_is_enough_without_the_block() -> None:
    text = REFERENCE.split("Budget Name:")[0].replace(
        "greater than $40.00 for", "greater than 80% of budget ($40.00) for"
    )

    assert facts(budget(text))["Alert threshold"] == "> $40.00 (80% of budget)"


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("> 80% of budget ($40.00)", "> 100% of budget ($50.00)"),
        ("> 80% of budget", "> 100% of budget"),
        ("> $40.00", "> $50.00"),
    ],
)
def test_two_thresholds_of_one_budget_are_remembered_apart(lower: str, higher: str) -> None:
    for budgeted in (True, False):
        first = budget(with_threshold(lower, budgeted=budgeted))
        second = budget(with_threshold(higher, budgeted=budgeted))

        assert first.dedup_key != second.dedup_key


def unreadable(threshold: str) -> str:
    """The reference alert with a threshold neither the block nor the sentence states readably."""
    return with_threshold(f"> {threshold}").replace("than $40.00", f"than {threshold}")


def test_unreadable_thresholds_never_merge_two_different_alerts() -> None:
    first = budget(unreadable("eighty percent"))
    second = budget(unreadable("a hundred percent").replace("$41.37", "$52.10"))

    assert facts(first)["Alert threshold"] == "(not stated)"
    assert first.dedup_key != second.dedup_key


def test_unreadable_threshold_keys_on_the_message_so_a_redelivery_is_still_one_alert() -> None:
    text = unreadable("eighty percent")

    assert budget(text).dedup_key == budget(text).dedup_key
