"""`make week` (`python -m localcloud.week`): play the simulated week, write docs/a-week.md.

    python -m localcloud.week [--render-only]

The play's record is kept in .localcloud/week/week.json; `--render-only` writes the page again
from it without playing. Exit status: 0 the week was played and the page written (the checks
are reported on the page, not enforced), 2 the local cloud could not be set up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from localcloud.errors import LocalCloudError
from localcloud.project import Project
from localcloud.week.doc import render
from localcloud.week.plan import HOLIDAY, MONDAY, Week
from localcloud.week.play import play_week
from localcloud.week.summary import (
    FleetFacts,
    Message,
    Run,
    WeekSummary,
    from_json,
    summarize,
    to_json,
)

ZONE = ZoneInfo("Europe/Berlin")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud.week", description=__doc__)
    parser.add_argument(
        "--render-only", action="store_true", help="write the page from the last record"
    )
    parser.add_argument(
        "--from",
        dest="begin",
        help="play from this local time (e.g. 'Tue 13:30') instead of Monday 00:00",
    )
    parser.add_argument(
        "--hours", type=float, help="play this many hours (default: to Sunday 24:00)"
    )
    parser.add_argument("--out", type=Path, help="write the page here (default: docs/a-week.md)")
    parser.add_argument(
        "--record",
        type=Path,
        help="keep the play's record here (default: .localcloud/week/week.json)",
    )
    parser.add_argument(
        "--policy",
        type=Path,
        help="play under this policy instead of policy/week.yaml (e.g. one without the digest)",
    )
    parser.add_argument(
        "--no-digest",
        action="store_true",
        help="every route immediate (the channel before the digest), for comparing counts",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        help="a record of the same week played --no-digest: its counts beside these on the page",
    )
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="localcloud: %(message)s", stream=sys.stderr)
    week = Week(MONDAY, ZONE, HOLIDAY)
    project = Project.at()
    record_path = options.record or project.state_dir / "week" / "week.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)

    def keep(*played: Any) -> None:
        record_path.write_text(json.dumps(to_json(*played), indent=1), encoding="utf-8")

    if not options.render_only:
        try:
            played = play_week(
                week,
                progress=lambda s: print(s, flush=True),
                begin=week.at_label(options.begin) if options.begin else None,
                span=dt.timedelta(hours=options.hours) if options.hours else None,
                checkpoint=keep,
                policy_file=options.policy,
                digest=not options.no_digest,
            )
        except LocalCloudError as exc:
            print(f"week: {exc}", file=sys.stderr)
            return 2
        keep(*played)
    messages, runs, facts, figures = from_json(
        json.loads(record_path.read_text(encoding="utf-8")), week.incidents()
    )
    summary = summarize(messages, runs, facts, week.day_of, week.days)
    path = options.out or project.root / "docs" / "a-week.md"
    compared = None
    if options.compare is not None and options.compare.exists():
        before = from_json(
            json.loads(options.compare.read_text(encoding="utf-8")), week.incidents()
        )
        compared = _common(week, (messages, runs, facts, figures), before)
    path.write_text(render(week, messages, summary, figures, compared), encoding="utf-8")
    for check in summary.checks:
        print(f"  {'✓' if check.holds else '✗'} {check.name}: {check.detail}")
    print(f"wrote {path} ({len(messages)} chat messages, played in {figures['seconds']:.0f} s)")
    return 0


Played = tuple[list[Message], list[Run], FleetFacts, dict[str, Any]]


def _common(
    week: Week, after: Played, before: Played
) -> tuple[WeekSummary, WeekSummary, dt.datetime]:
    """Both plays summarized up to the instant both reached, and that instant."""
    ends = [
        dt.datetime.fromisoformat(str(p[3]["played_until"]))
        if p[3].get("played_until")
        else week.start
        for p in (after, before)
    ]
    end = min(ends)

    def upto(played: Played) -> WeekSummary:
        messages, runs, facts, _ = played
        return summarize(
            [m for m in messages if m.at < end],
            [r for r in runs if r.at < end],
            facts,
            week.day_of,
            week.days,
        )

    return upto(after), upto(before), end


if __name__ == "__main__":
    sys.exit(main())
