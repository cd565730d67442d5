"""The `schedules` policy section as typed, frozen data (the `scheduler` section, and the
scheduler's whole view of the policy, are in `nightshift.schedule.policy`: the canary reads
schedules and builds none of that at a cold start, tests/unit/test_cold_start.py).

The JSON schema checks the shape; `from_section` checks what a schema cannot (the time zone
exists, the dates are real, a period is not empty) and raises PolicyError naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nightshift.errors import PolicyError
from nightshift.policy import Policy

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()


def parse_days(text: str) -> frozenset[int]:
    """Weekday numbers (Monday = 0) named by a days expression; a range may wrap the week.

    >>> sorted(parse_days("mon,wed-fri"))
    [0, 2, 3, 4]
    >>> sorted(parse_days("fri-mon"))
    [0, 4, 5, 6]
    """
    days: set[int] = set()
    for part in text.replace(" ", "").lower().split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"{part!r} is not a day or a range of days ({', '.join(DAY_NAMES)})")
        begin = DAY_NAMES.index(first)
        end = DAY_NAMES.index(last) if last else begin
        days.update((begin + offset) % 7 for offset in range((end - begin) % 7 + 1))
    return frozenset(days)


@dataclass(frozen=True)
class Period:
    """Resources run from `start` to `stop` (local wall-clock time) on each of `days`.

    `days` are the days the period starts on; a `stop` earlier than `start` is on the next day
    (an overnight period).

    >>> Period.parse({"days": "mon-fri", "start": "22:00", "stop": "06:00"}).overnight
    True
    """

    days: frozenset[int]
    start: dt.time
    stop: dt.time
    days_text: str

    @property
    def overnight(self) -> bool:
        return self.stop < self.start

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Period:
        start = dt.time.fromisoformat(data["start"])
        stop = dt.time.fromisoformat(data["stop"])
        if start == stop:
            raise ValueError(
                f"start and stop are both {data['start']}; a period needs a length "
                "(stop earlier than start means it runs overnight)"
            )
        return cls(
            days=parse_days(data["days"]),
            start=start,
            stop=stop,
            days_text=data["days"],
        )

    def __str__(self) -> str:
        return f"{self.days_text} {self.start:%H:%M}-{self.stop:%H:%M}"


@dataclass(frozen=True)
class Schedule:
    """A named schedule: when the resources that carry `nightshift:schedule=<name>` run.

    >>> s = Schedule.from_section("office-hours", {"timezone": "Europe/Berlin",
    ...     "periods": [{"days": "mon-fri", "start": "07:30", "stop": "19:00"}]})
    >>> (s.timezone, str(s.periods[0]), s.enforce)
    ('Europe/Berlin', 'mon-fri 07:30-19:00', False)
    """

    name: str
    zone: ZoneInfo
    periods: tuple[Period, ...]
    except_dates: frozenset[dt.date] = frozenset()
    enforce: bool = False
    heads_up_minutes: int | None = None  # a message this long before each stop (heads_up.py)

    @property
    def timezone(self) -> str:
        return self.zone.key

    @classmethod
    def from_section(cls, name: str, data: Mapping[str, Any], source: str = "<policy>") -> Schedule:
        """Build one schedule from its validated policy entry `schedules.<name>`."""
        path = f"schedules.{name}"
        try:
            zone = ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PolicyError(
                source,
                f"{path}.timezone",
                f"unknown time zone {data['timezone']!r}; expected an IANA name like Europe/Berlin",
            ) from exc
        periods = []
        for index, period in enumerate(data["periods"]):
            try:
                periods.append(Period.parse(period))
            except ValueError as exc:
                raise PolicyError(source, f"{path}.periods[{index}]", str(exc)) from exc
        except_dates = set()
        for index, text in enumerate(data.get("except", ())):
            try:
                except_dates.add(dt.date.fromisoformat(text))
            except ValueError as exc:
                raise PolicyError(
                    source, f"{path}.except[{index}]", f"{text!r} is not a date (YYYY-MM-DD)"
                ) from exc
        heads_up = data.get("heads_up_minutes")
        if heads_up is not None and (
            isinstance(heads_up, bool) or not isinstance(heads_up, int) or not 1 <= heads_up <= 720
        ):
            raise PolicyError(
                source, f"{path}.heads_up_minutes", "a whole number of minutes from 1 to 720"
            )
        return cls(
            name=name,
            zone=zone,
            periods=tuple(periods),
            except_dates=frozenset(except_dates),
            enforce=bool(data.get("enforce", False)),
            heads_up_minutes=heads_up,
        )


def schedules_from_section(
    schedules: Mapping[str, Any] | None, source: str = "<policy>"
) -> Mapping[str, Schedule]:
    """The named schedules of a `schedules` section, by name (sorted)."""
    return MappingProxyType(
        {
            name: Schedule.from_section(name, data, source)
            for name, data in sorted((schedules or {}).items())
        }
    )


def schedules_of(policy: Policy) -> Mapping[str, Schedule]:
    """The named schedules of a loaded policy (what the canary reads).

    >>> from nightshift.policy import parse_policy
    >>> dict(schedules_of(parse_policy("version: 1")))
    {}
    """
    return schedules_from_section(policy.section("schedules"), policy.source)
