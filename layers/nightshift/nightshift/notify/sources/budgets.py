"""AWS Budgets alerts: plain text (not JSON), ACTUAL or FORECASTED, monthly or daily budgets,
thresholds as an amount (`> $40.00`), a share of the budget (`> 80% of budget`) or a share with
its amount (`> 80% of budget ($40.00)`), amounts with or without cents (`$100`).

The key/value block at the end of the text ("Budget Name: ...") is preferred; the opening
sentence ("... is greater than $1.60 per day. Yesterday, the ACTUAL Cost ... is $2.14.") fills in
what the block lacks and tells a daily budget from a monthly one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from nightshift.notify.events import content_id
from nightshift.notify.model import Fact, Link, Notification, Severity, Source, State
from nightshift.notify.sources.message import Message, Recogniser
from nightshift.notify.sources.reading import UnreadableMessage, dollars, iso_instant, money

_MARKER = "AWS Budget Notification"
_SUBJECT = re.compile(r"^AWS Budgets: (?P<name>.{1,200}?) has exceeded your alert threshold")
_FIELD = re.compile(
    r"^(?P<key>[A-Za-z][A-Za-z ]{1,40}): *(?P<value>[^\n]{0,500}?) *$", re.MULTILINE
)
_SENTENCE = re.compile(
    r"alert you when the (?P<alert>ACTUAL|FORECASTED) (?P<measure>\w+) associated with your "
    r"(?P<name>[^\n]{1,200}?) budget is greater than "
    r"(?P<threshold>\S{1,40}(?: of budget(?: \(\$[\d,]{1,20}(?:\.\d{1,4})?\))?)?)"
    r"(?P<period> per day| for the current \w+)?"
)
_CURRENT = re.compile(
    r"(?:The|Yesterday, the) (?P<alert>ACTUAL|FORECASTED) \w+ associated with this budget is "
    r"(?P<amount>\$?[\d,]+(?:\.\d+)?)"
)
_ACCOUNT = re.compile(r"^AWS Account (?P<account>\d{12})\s*$", re.MULTILINE)
_DASHBOARD = re.compile(r"^\[1\] (?P<url>https://\S{1,500})", re.MULTILINE)
# `> $40.00`, `> $80`, `> 80% of budget`, `> 80% of budget ($40.00)`.
_THRESHOLD = re.compile(
    r"^>?\s*(?:(?P<percent>\d{1,6}(?:\.\d{1,4})?)\s*% of budget"
    r"(?:\s*\((?P<share>\$[\d,]{1,20}(?:\.\d{1,4})?)\))?"
    r"|(?P<amount>\$[\d,]{1,20}(?:\.\d{1,4})?))$"
)
_ALERT_WORDS = {"ACTUAL": "actual", "FORECASTED": "forecasted"}


@dataclass(frozen=True)
class BudgetPeriod:
    name: str  # how the budget is described: "monthly budget"
    spend: str  # whose cost the amount is: "This month's"


# Keyed by the sentence's ending: "per day" or "for the current <month|quarter|year>".
_PERIODS = {
    "day": BudgetPeriod("daily", "Yesterday's"),
    "month": BudgetPeriod("monthly", "This month's"),
    "quarter": BudgetPeriod("quarterly", "This quarter's"),
    "year": BudgetPeriod("annual", "This year's"),
}


@dataclass(frozen=True)
class Threshold:
    """An alert threshold, with whichever of amount and share the message let us work out."""

    amount: Decimal | None
    percent: Decimal | None

    def describe(self) -> str:
        """>>> Threshold(Decimal("40"), Decimal("80")).describe()
        '> $40.00 (80% of budget)'
        """
        if self.amount is not None and self.percent is not None:
            return f"> {dollars(self.amount)} ({_percent(self.percent)} of budget)"
        if self.amount is not None:
            return f"> {dollars(self.amount)}"
        if self.percent is not None:
            return f"> {_percent(self.percent)} of budget"
        return "(not stated)"

    def key(self) -> str | None:
        """What tells this threshold from another of the same budget, or None when unknown.

        >>> Threshold(Decimal("40"), Decimal("80")).key(), Threshold(None, Decimal("80.5")).key()
        ('> $40.00 (80% of budget)', '> 80.5% of budget')
        >>> Threshold(None, None).key() is None
        True
        """
        if self.amount is not None:
            return self.describe()
        if self.percent is not None:
            return f"> {self.percent.normalize():f}% of budget"
        return None

    def headline(self) -> str:
        """>>> Threshold(Decimal("40"), Decimal("80")).headline()
        'the $40.00 threshold'
        """
        if self.amount is not None:
            return f"the {dollars(self.amount)} threshold"
        if self.percent is not None:
            return f"the {_percent(self.percent)}-of-budget threshold"
        return "its alert threshold"


def claims(message: Message) -> bool:
    subject = message.inbound.subject or ""
    return _MARKER in message.inbound.body[:2000] or subject.startswith("AWS Budgets:")


def read(message: Message) -> Notification:
    """Turn an AWS Budgets alert into a Notification.

    >>> from nightshift.notify.events import Inbound
    >>> text = ("AWS Budget Notification\\nBudget Name: dev\\nBudgeted Amount: $100\\n"
    ...         "Alert Type: ACTUAL\\nAlert Threshold: > 80% of budget\\nACTUAL Amount: $83\\n")
    >>> n = read(Message.of(Inbound("m-1", None, text, None, None)))
    >>> n.title
    'Budget dev: actual cost $83.00 is over the $80.00 threshold'
    """
    body = message.inbound.body
    fields = {match["key"].strip(): match["value"] for match in _FIELD.finditer(body)}
    sentence = _SENTENCE.search(body)
    subject = _SUBJECT.match(message.inbound.subject or "")
    name = (
        fields.get("Budget Name")
        or (sentence["name"] if sentence else None)
        or (subject["name"] if subject else None)
    )
    if not name:
        raise UnreadableMessage("no budget name (no 'Budget Name:' line and no subject naming it)")
    alert = fields.get("Alert Type") or (sentence["alert"] if sentence else None)
    if alert not in _ALERT_WORDS:
        raise UnreadableMessage(f"alert type {alert!r} is neither ACTUAL nor FORECASTED")
    current = _CURRENT.search(body)
    amount = money(fields.get(f"{alert} Amount")) or money(current["amount"] if current else None)
    if amount is None:
        raise UnreadableMessage(f"no {alert} amount in the budget alert")
    budgeted = money(fields.get("Budgeted Amount"))
    threshold = _threshold(fields.get("Alert Threshold"), budgeted)
    if threshold.key() is None and sentence:
        threshold = _threshold(sentence["threshold"], budgeted)
    period = _PERIODS.get(
        (sentence["period"] or "").split(" ")[-1] if sentence else "", _PERIODS["month"]
    )
    word = _ALERT_WORDS[alert]

    facts = [Fact(f"{word.capitalize()} cost", _spend(amount, budgeted))]
    facts.append(Fact("Alert threshold", threshold.describe()))
    facts.append(Fact("Period", period.name))
    if fields.get("Budget Type"):
        facts.append(Fact("Budget type", fields["Budget Type"]))
    facts.append(Fact("Alert type", alert))
    dashboard = _DASHBOARD.search(body)
    account = _ACCOUNT.search(body)
    over_budget = budgeted is not None and amount >= budgeted
    return Notification(
        source=Source.BUDGET,
        # Spending past the whole budget is critical; crossing a lower threshold, or a forecast,
        # is a warning that leaves time to act.
        severity=Severity.CRITICAL if alert == "ACTUAL" and over_budget else Severity.WARNING,
        state=State.ALARM,
        title=f"Budget {name}: {word} cost {dollars(amount)} is over {threshold.headline()}",
        name=name,
        summary=_summary(word, period, amount, budgeted),
        facts=tuple(facts),
        links=(Link("Budgets dashboard", dashboard["url"]),) if dashboard else (),
        dedup_key=f"budget:{name}:{alert}:{_identity(threshold, message)}",
        raw=body,
        occurred_at=iso_instant(message.inbound.timestamp),
        account=account["account"] if account else None,
    )


RECOGNISER = Recogniser(
    source=Source.BUDGET, describes="an AWS Budgets alert", claims=claims, read=read
)


def _threshold(text: str | None, budgeted: Decimal | None) -> Threshold:
    """The threshold in any of AWS's wordings; both parts None when it cannot be read.

    >>> _threshold("> 80% of budget ($8.00)", None)
    Threshold(amount=Decimal('8.00'), percent=Decimal('80'))
    >>> _threshold("> $80", Decimal("100"))
    Threshold(amount=Decimal('80'), percent=Decimal('80'))
    """
    match = _THRESHOLD.match((text or "").strip())
    if match is None:
        return Threshold(amount=None, percent=None)
    if match["percent"] is not None:
        percent = Decimal(match["percent"])
        share = money(match["share"])
        if share is None and budgeted is not None:
            share = budgeted * percent / 100
        return Threshold(amount=share, percent=percent)
    amount = money(match["amount"])
    ratio = amount * 100 / budgeted if amount is not None and budgeted else None
    return Threshold(amount=amount, percent=ratio)


def _identity(threshold: Threshold, message: Message) -> str:
    """The threshold, which tells one alert of a budget from another; when it cannot be read,
    the message's own content, so two different alerts are never remembered as one."""
    key = threshold.key()
    if key is not None:
        return key
    inbound = message.inbound
    return content_id(f"{inbound.subject or ''}\n{inbound.body}")


def _spend(amount: Decimal, budgeted: Decimal | None) -> str:
    if not budgeted:
        return dollars(amount)
    return (
        f"{dollars(amount)} of {dollars(budgeted)} budgeted ({_percent(amount * 100 / budgeted)})"
    )


def _summary(word: str, period: BudgetPeriod, amount: Decimal, budgeted: Decimal | None) -> str:
    text = f"{period.spend} {word} cost is {dollars(amount)}"
    if budgeted:
        share = _percent(amount * 100 / budgeted)
        text += f", {share} of the {dollars(budgeted)} {period.name} budget"
    return text + "."


def _percent(value: Decimal) -> str:
    """>>> _percent(Decimal("82.74")), _percent(Decimal("80"))
    ('83%', '80%')
    """
    return f"{value.quantize(Decimal(1)):f}%"
