"""`make preview`: every fixture for every destination, readable in a terminal."""

from __future__ import annotations

from pathlib import Path

from nightshift.notify.render import slack, teams
from nightshift_tools.preview import preview_lines, slack_lines, teams_lines

from .fixtures import FIXTURE_DIR, fixture_names, notification


def test_preview_shows_each_fixture_for_each_destination() -> None:
    lines = list(preview_lines(FIXTURE_DIR))

    headlines = [line for line in lines if line.endswith(".json") or ".json: " in line]
    digests = [f"digest/{p.name}" for p in sorted((FIXTURE_DIR / "digest").glob("*.json"))]
    assert [line.split(":")[0] for line in headlines] == [
        *(f"{n}.json" for n in fixture_names()),
        *digests,
    ]
    assert digests, "make preview shows at least one digest"
    assert lines.count("Slack") == lines.count("Teams") == lines.count("Email") == len(headlines)


def test_preview_shows_the_digest_in_peoples_words() -> None:
    lines = list(preview_lines(FIXTURE_DIR))
    start = lines.index(next(line for line in lines if line.startswith("digest/staging-night")))

    shown = "\n".join(lines[start:])
    assert "▌:large_blue_circle: staging digest · Tue 24 Nov" in shown
    assert (
        "Last night: staging parked 19:00\N{EN DASH}07:30 (12.5 h, ≈ $0.59 saved), started and "
        "healthy at 07:34; 3 snapshots pruned (60 GiB, $3.00/month)."
    ) in shown


def test_slack_view_reads_like_the_message() -> None:
    lines = list(slack_lines(slack.render(notification("cloudwatch-alarm-metric"))))

    assert lines[1] == "▌:red_circle: ALARM: todoapp-backend-high-cpu"
    assert "  *State*: OK → ALARM" in lines
    assert "  *Value*: 91.4 vs threshold > 80" in lines
    assert any(line.startswith("  [Alarm] https://eu-central-1.console.aws") for line in lines)


def test_teams_view_reads_like_the_card() -> None:
    lines = list(teams_lines(teams.render(notification("cloudwatch-alarm-metric-ok"))))

    assert lines[:2] == ["  🟢 RESOLVED · CloudWatch alarm", "▌ RESOLVED: todoapp-backend-high-cpu"]
    assert "  State: ALARM → OK" in lines


def test_preview_of_an_empty_folder_is_empty(tmp_path: Path) -> None:
    assert list(preview_lines(tmp_path)) == []


def test_preview_shows_a_heads_ups_actions_as_buttons_and_links() -> None:
    lines = list(preview_lines(FIXTURE_DIR))
    start = lines.index(
        next(line for line in lines if line.startswith("nightshift-report-scheduler-heads-up.json"))
    )
    shown = lines[start : lines.index("Email", start) + 20]

    assert "  [Keep running 1 h] (button)  [Keep running until 22:00] (button)" in shown
    assert any(line.startswith("  [Keep running 1 h] https://preview.lambda-url") for line in shown)
    assert any(line.startswith("  Keep running until 22:00: https://preview.") for line in shown)
