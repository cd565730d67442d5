"""The status page's pure core: rows decided from facts, and the HTML (escaped, no script)."""

from __future__ import annotations

import datetime as dt
import doctest
import re
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from nightshift.actions import status
from nightshift.actions.status import CheckFacts, Hour, StatusFacts, render, status_page
from nightshift.canary.parking import TaggedResource
from nightshift.schedule.model import Schedule
from nightshift.schedule.resources import ParkedRecord, ResourceKind

BERLIN = ZoneInfo("Europe/Berlin")
# Friday 2026-12-04 21:10 in Berlin: office-hours (mon-fri 07:30-19:00) is off until Monday.
NOW = dt.datetime(2026, 12, 4, 20, 10, tzinfo=dt.UTC)
OFFICE = Schedule.from_section(
    "office-hours",
    {
        "timezone": "Europe/Berlin",
        "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}],
    },
)
WEB = "arn:aws:ecs:eu-central-1:123456789012:service/todoapp/web"
API = "arn:aws:ecs:eu-central-1:123456789012:service/todoapp/api"
ON_SCHEDULE = {"nightshift:schedule": "office-hours"}


def facts(**changes: object) -> StatusFacts:
    base = StatusFacts(
        environment="staging",
        now=NOW,
        zone=BERLIN,
        schedules={"office-hours": OFFICE},
        records=(ParkedRecord(WEB, ResourceKind.ECS_SERVICE, NOW, "office-hours"),),
        resources=(TaggedResource(WEB, ON_SCHEDULE), TaggedResource(API, ON_SCHEDULE)),
        checks=(),
        stopped=2,
        started=0,
        dollars_saved=0,
        link_expires=NOW + dt.timedelta(days=7),
    )
    return StatusFacts(**{**vars(base), **changes})  # type: ignore[arg-type]


class Visible(HTMLParser):
    """The page as a browser sees it: its text, its elements, any script."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible(html: str) -> Visible:
    parser = Visible()
    parser.feed(html)
    return parser


def test_a_parked_environment_says_so_and_when_it_starts() -> None:
    (row,) = status_page(facts()).environments
    assert (row.parked, row.state) == (True, "parked: 1 of 2")
    assert row.next_change == "starts 2026-12-07 07:30 CET"
    assert row.overrides == ()


def test_a_running_environment_says_when_it_stops() -> None:
    morning = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
    (row,) = status_page(facts(now=morning, records=())).environments
    assert (row.parked, row.state) == (False, "running")
    assert row.next_change == "stops 2026-12-04 19:00 CET"


def test_active_overrides_are_listed_expired_ones_are_not() -> None:
    resources = (
        TaggedResource(
            WEB, {**ON_SCHEDULE, "nightshift:override": "running-until=2026-12-04T23:00Z"}
        ),
        TaggedResource(
            API, {**ON_SCHEDULE, "nightshift:override": "stopped-until=2026-12-04T10:00Z"}
        ),
        TaggedResource(API + "2", {**ON_SCHEDULE, "nightshift:override": "later"}),
    )
    (row,) = status_page(facts(resources=resources)).environments
    assert row.overrides == (
        "web: override holds it running until 2026-12-05 00:00 CET",
        "api2: 'later' is not understood (the scheduler ignores it)",
    )


def test_each_hour_of_a_check_is_up_down_parked_or_without_data() -> None:
    hours = status.hour_starts(NOW)
    check = CheckFacts(
        "backend",
        "office-hours",
        "parked",
        success={hours[0]: 1.0, hours[1]: 0.5},
        parked={hours[2]: 1.0, hours[3]: 0.0},
    )
    (row,) = status_page(facts(checks=(check,))).checks
    assert len(row.hours) == 24
    assert [hour for _, hour in row.hours[:4]] == [Hour.UP, Hour.DOWN, Hour.PARKED, Hour.NONE]
    assert row.hours[-1][0] == "21:00"  # the current hour, on the page's clock
    assert row.state == "parked"


def test_the_page_escapes_every_value_and_has_no_script() -> None:
    hostile = "<script>alert(1)</script>"
    check = CheckFacts(hostile, None, None, {}, {})
    html = render(status_page(facts(environment=hostile, checks=(check,))))
    page = visible(html)
    assert "script" not in page.tags
    assert hostile in "".join(page.text)  # shown as text, not run
    assert "<script>" not in html


def test_the_page_shows_the_environments_checks_and_the_last_day() -> None:
    check = CheckFacts("backend", "office-hours", "up", {}, {})
    html = render(status_page(facts(checks=(check,), started=2, dollars_saved=4.2)))
    text = " ".join(visible(html).text)
    assert re.search(r'<tr class=environment data-schedule="office-hours">', html)
    assert '<tr class=check data-check="backend">' in html
    assert "2 resources stopped, 2 started, ≈ $4.20 saved" in text
    assert "Read only. This link works until 2026-12-11 21:10 CET." in text
    assert "not reported yet" not in text


def test_empty_states_say_what_is_missing() -> None:
    html = render(status_page(facts(schedules={}, checks=(), stopped=0)))
    text = " ".join(visible(html).text)
    assert "The policy has no schedules: nothing is parked." in text
    assert "The policy has no canary checks." in text
    assert "nothing stopped or started" in text
    unreported = CheckFacts("api", None, None, {}, {})
    assert "not reported yet" in render(status_page(facts(checks=(unreported,))))


def test_doctests() -> None:
    assert doctest.testmod(status).failed == 0
