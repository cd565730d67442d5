"""Run `custodian run` in Cloud Custodian's own virtual environment, optionally with the clock
of its offhours filters set to a given instant.

    .bench/c7n-venv/bin/python bench/c7n/launch.py [--now ISO-8601] run -s OUT POLICY.yml

Nightshift's scheduler takes the time from its event; Cloud Custodian's `offhour` and `onhour`
filters read `datetime.datetime.now(tz)`. So that both decide for the same instant, this
launcher replaces the clock of `c7n.filters.offhours` (and nothing else: ages, caches and logs
keep the real clock) before handing the remaining arguments to Custodian's own command line.
This file runs under c7n's interpreter and imports nothing from Nightshift.
"""

from __future__ import annotations

import datetime
import sys
import types


def freeze_offhours_clock(moment: datetime.datetime) -> None:
    from c7n.filters import offhours

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]
            return moment.astimezone(tz) if tz is not None else moment

    clock = types.ModuleType("datetime")
    clock.__dict__.update(datetime.__dict__)
    clock.datetime = FrozenDatetime  # type: ignore[attr-defined]
    offhours.datetime = clock  # type: ignore[attr-defined]


def main(arguments: list[str]) -> int:
    if arguments[:1] == ["--now"]:
        freeze_offhours_clock(datetime.datetime.fromisoformat(arguments[1]))
        arguments = arguments[2:]
    from c7n.cli import main as custodian

    sys.argv = ["custodian", *arguments]
    result = custodian()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
