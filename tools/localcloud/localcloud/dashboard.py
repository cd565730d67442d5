"""The template's CloudWatch dashboard, drawn as PNG charts from the metrics in the local cloud.

CloudWatch draws a dashboard from its JSON body; the local cloud has no console, so this module
reads the body of the deployed stack's `AWS::CloudWatch::Dashboard` (the template's, with its
`Fn::Sub` resolved against the stack), asks moto for every widget's metrics with GetMetricData,
and draws each metric widget with matplotlib: one PNG per widget and one grid of them all.

What a widget may say (the subset of the dashboard body reference the template uses):
`metrics` rows `[namespace, name, dim, value, ..., {options}]` with `"."` (same as the row above)
and `"..."` (everything above but the last value), options `label`, `stat`, `period`, `yAxis`,
`color`; `[{"expression": "SEARCH('{Namespace,Dim} MetricName=\\"X\\"', 'Stat', period)"}]`
(found with ListMetrics: every metric of that name with exactly those dimension names, as
CloudWatch's search schema matches); widget `title`, `stat`, `period`, `yAxis.left.min/max`.
Other widget types (text, alarm, log) are not drawn. Statistics: Sum, Average, Minimum, Maximum,
SampleCount.

**The demo's two clocks.** The canary stamps its check metrics with the scheduled (simulated)
time, but Powertools stamps every function's own metrics with the wall clock of the invocation.
A `WallClockMap` (the wall-clock moment each simulated step began) moves the datapoints stamped
during the run to the simulated moment of the step that produced them, so a day played in a
minute is drawn as the day it plays.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.errors import LocalCloudError
from localcloud.stack import Stack

DASHBOARD_TYPE = "AWS::CloudWatch::Dashboard"
_SEARCH = re.compile(
    r"""SEARCH\(\s*'\{(?P<schema>[^}]*)\}\s+MetricName="(?P<name>[^"]+)"'\s*,"""
    r"""\s*'(?P<stat>\w+)'\s*,\s*(?P<period>\d+)\s*\)"""
)
_STATS = ("Sum", "SampleCount", "Minimum", "Maximum")
_FINE_PERIOD = 1  # seconds: datapoints stamped during the run are read per second, then moved


class DashboardError(LocalCloudError):
    """The stack has no dashboard, or its body says something this renderer cannot draw."""


# ------------------------------------------------------------------------------ the model
@dataclass(frozen=True)
class MetricLine:
    """One metric a widget draws: namespace, name, exact dimensions, statistic, period, label."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    period: int
    label: str
    right_axis: bool = False
    color: str | None = None


@dataclass(frozen=True)
class SearchLine:
    """A `SEARCH` expression: every metric `name` in `namespace` with exactly `schema`'s dims."""

    namespace: str
    schema: frozenset[str]
    name: str
    stat: str
    period: int


@dataclass(frozen=True)
class Widget:
    title: str
    lines: tuple[MetricLine | SearchLine, ...]
    y_min: float | None = None
    y_max: float | None = None


@dataclass(frozen=True)
class Series:
    """A drawn line: its metric and its (time, value) points, oldest first."""

    line: MetricLine
    points: tuple[tuple[dt.datetime, float], ...]


@dataclass(frozen=True)
class WallClockMap:
    """Where the wall clock was when each simulated moment began.

    >>> t0 = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)
    >>> day = dt.datetime(2026, 11, 19, 8, 0, tzinfo=dt.UTC)
    >>> clock = WallClockMap(((t0, day), (t0 + dt.timedelta(seconds=20), day.replace(hour=18))))
    >>> clock.simulated(t0 + dt.timedelta(seconds=25)).hour
    18
    """

    marks: tuple[tuple[dt.datetime, dt.datetime], ...]  # (wall clock, simulated), in order
    ended: dt.datetime | None = None  # wall clock when the run ended; default: the last mark

    @property
    def wall_start(self) -> dt.datetime:
        return self.marks[0][0]

    @property
    def wall_end(self) -> dt.datetime:
        return self.ended or self.marks[-1][0]

    def covers(self, at: dt.datetime) -> bool:
        return self.wall_start <= at <= self.wall_end

    def simulated(self, at: dt.datetime) -> dt.datetime:
        """The simulated moment of the step that was playing at wall-clock `at`."""
        walls = [wall for wall, _ in self.marks]
        index = max(bisect.bisect_right(walls, at) - 1, 0)
        return self.marks[index][1]


@dataclass
class WallClockRecorder:
    """Collects a `WallClockMap` while a simulated run plays: `mark(simulated)` at each step."""

    marks: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)

    def mark(self, simulated: dt.datetime) -> None:
        """Mark the start of the moment `simulated`, on the next whole second of the wall clock:
        datapoints are read back per second, so no second may hold two steps' metrics."""
        now = dt.datetime.now(dt.UTC)
        second = now.replace(microsecond=0) + dt.timedelta(seconds=1)
        time.sleep((second - now).total_seconds())
        self.marks.append((second, simulated))

    def finish(self) -> WallClockMap | None:
        if not self.marks:
            return None
        return WallClockMap(tuple(self.marks), ended=dt.datetime.now(dt.UTC))


# ---------------------------------------------------------------------------- the body
def dashboard_body(stack: Stack, logical_id: str | None = None) -> dict[str, Any]:
    """The dashboard's body as CloudWatch has it: the template's, resolved against `stack`."""
    dashboards = stack.resources_of_type(DASHBOARD_TYPE)
    if logical_id is None:
        if len(dashboards) != 1:
            raise DashboardError(
                f"stack {stack.name} should have one {DASHBOARD_TYPE}, it has {sorted(dashboards)}"
            )
        (logical_id,) = dashboards
    properties = stack.resolver().resolve(stack.resource(logical_id).get("Properties", {}))
    body = properties["DashboardBody"]
    parsed: dict[str, Any] = json.loads(body) if isinstance(body, str) else body
    return parsed


def parse_widgets(body: Mapping[str, Any]) -> tuple[Widget, ...]:
    """The metric widgets of a dashboard body, in their order, their rows expanded.

    >>> body = {"widgets": [{"type": "metric", "properties": {"title": "T", "stat": "Sum",
    ...     "period": 300, "metrics": [["N", "A", "service", "x"], [".", "B", ".", "."]]}}]}
    >>> [(line.name, line.dimensions) for line in parse_widgets(body)[0].lines]
    [('A', (('service', 'x'),)), ('B', (('service', 'x'),))]
    """
    widgets = []
    for number, widget in enumerate(body.get("widgets", [])):
        if widget.get("type") != "metric":
            continue
        props = widget.get("properties", {})
        stat, period = props.get("stat", "Average"), int(props.get("period", 300))
        lines: list[MetricLine | SearchLine] = []
        previous: list[str] = []
        for row in props.get("metrics", []):
            options = row[-1] if row and isinstance(row[-1], dict) else {}
            values = [item for item in row if not isinstance(item, dict)]
            if "expression" in options:
                lines.append(_search(options["expression"], period))
                continue
            values = _expand(values, previous, number)
            previous = values
            namespace, name, *pairs = values
            if len(pairs) % 2:
                raise DashboardError(f"widget {number}: dimensions must come in pairs: {row}")
            dimensions = tuple(zip(pairs[::2], pairs[1::2], strict=True))
            lines.append(
                MetricLine(
                    namespace=namespace,
                    name=name,
                    dimensions=dimensions,
                    stat=options.get("stat", stat),
                    period=int(options.get("period", period)),
                    label=options.get("label", name),
                    right_axis=options.get("yAxis") == "right",
                    color=options.get("color"),
                )
            )
        left = props.get("yAxis", {}).get("left", {})
        widgets.append(
            Widget(
                props.get("title", f"widget {number}"),
                tuple(lines),
                left.get("min"),
                left.get("max"),
            )
        )
    return tuple(widgets)


def _expand(values: list[str], previous: list[str], number: int) -> list[str]:
    if values and values[0] == "...":
        # Everything of the row above but as many trailing items as this row gives.
        return previous[: len(previous) - (len(values) - 1)] + values[1:]
    expanded = []
    for index, value in enumerate(values):
        if value == ".":
            if index >= len(previous):
                raise DashboardError(f"widget {number}: '.' with nothing above it")
            value = previous[index]
        expanded.append(value)
    return expanded


def _search(expression: str, default_period: int) -> SearchLine:
    match = _SEARCH.fullmatch(expression.strip())
    if match is None:
        raise DashboardError(
            f"only SEARCH('{{Namespace,Dim}} MetricName=\"X\"', 'Stat', period) is drawn, "
            f"not {expression}"
        )
    namespace, *schema = (part.strip() for part in match["schema"].split(","))
    return SearchLine(
        namespace,
        frozenset(schema),
        match["name"],
        match["stat"],
        int(match["period"] or default_period),
    )


# --------------------------------------------------------------------------- the data
def widget_series(
    stack: Stack,
    widget: Widget,
    start: dt.datetime,
    end: dt.datetime,
    clock: WallClockMap | None = None,
) -> tuple[Series, ...]:
    """Every line of `widget` with its datapoints in [start, end), each period's statistic."""
    cloudwatch = stack.endpoint.client("cloudwatch")
    lines = [found for line in widget.lines for found in _lines(cloudwatch, line)]
    return tuple(Series(line, _points(cloudwatch, line, start, end, clock)) for line in lines)


def _lines(cloudwatch: Any, line: MetricLine | SearchLine) -> list[MetricLine]:
    if isinstance(line, MetricLine):
        return [line]
    found = []
    paginator = cloudwatch.get_paginator("list_metrics")
    for page in paginator.paginate(Namespace=line.namespace, MetricName=line.name):
        for metric in page["Metrics"]:
            dimensions = tuple((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            if {name for name, _ in dimensions} == line.schema:
                label = " ".join(value for _, value in sorted(dimensions))
                found.append(
                    MetricLine(
                        line.namespace,
                        line.name,
                        tuple(sorted(dimensions)),
                        line.stat,
                        line.period,
                        label,
                    )
                )
    return sorted(set(found), key=lambda m: m.label)


@dataclass
class _Bucket:
    total: float = 0.0
    count: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    def add(self, total: float, count: float, low: float, high: float) -> None:
        self.total += total
        self.count += count
        self.low = min(self.low, low)
        self.high = max(self.high, high)

    def value(self, stat: str) -> float:
        return {
            "Sum": self.total,
            "SampleCount": self.count,
            "Minimum": self.low,
            "Maximum": self.high,
            "Average": self.total / self.count if self.count else math.nan,
        }[stat]


def _points(
    cloudwatch: Any,
    line: MetricLine,
    start: dt.datetime,
    end: dt.datetime,
    clock: WallClockMap | None,
) -> tuple[tuple[dt.datetime, float], ...]:
    if line.stat not in (*_STATS, "Average"):
        raise DashboardError(f"{line.name}: statistic {line.stat} is not drawn locally")
    buckets: dict[dt.datetime, _Bucket] = {}
    period = dt.timedelta(seconds=line.period)

    def bucket_of(at: dt.datetime) -> _Bucket:
        slot = start + period * ((at - start) // period)
        return buckets.setdefault(slot, _Bucket())

    for at, stats in _read(cloudwatch, line, start, end, line.period):
        if clock is None or not clock.covers(at):
            bucket_of(at).add(*stats)
    if clock is not None:
        wall_end = clock.wall_end + dt.timedelta(seconds=2)
        for at, stats in _read(cloudwatch, line, clock.wall_start, wall_end, _FINE_PERIOD):
            moved = clock.simulated(at)
            if start <= moved < end:
                bucket_of(moved).add(*stats)
    return tuple(
        (slot, bucket.value(line.stat)) for slot, bucket in sorted(buckets.items()) if bucket.count
    )


def _read(
    cloudwatch: Any, line: MetricLine, start: dt.datetime, end: dt.datetime, period: int
) -> list[tuple[dt.datetime, tuple[float, float, float, float]]]:
    """Each period's (Sum, SampleCount, Minimum, Maximum) of the metric, where it has data."""
    metric = {
        "Namespace": line.namespace,
        "MetricName": line.name,
        "Dimensions": [{"Name": name, "Value": value} for name, value in line.dimensions],
    }
    queries = [
        {"Id": f"q{index}", "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}}
        for index, stat in enumerate(_STATS)
    ]
    reply = cloudwatch.get_metric_data(
        MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
    )
    by_stat: dict[str, dict[dt.datetime, float]] = {}
    for result in reply["MetricDataResults"]:
        stat = _STATS[int(result["Id"][1:])]
        by_stat[stat] = dict(zip(result["Timestamps"], result["Values"], strict=True))
    return [
        (at.astimezone(dt.UTC), tuple(by_stat[stat].get(at, 0.0) for stat in _STATS))  # type: ignore[misc]
        for at in sorted(by_stat["SampleCount"])
        if by_stat["SampleCount"][at]
    ]


# -------------------------------------------------------------------------- the drawing
def render_dashboard(
    stack: Stack,
    start: dt.datetime,
    end: dt.datetime,
    out_dir: Path,
    *,
    clock: WallClockMap | None = None,
    zone: dt.tzinfo = dt.UTC,
) -> list[Path]:
    """Draw the stack's dashboard over [start, end): `dashboard.png` (every widget in a grid)
    first, then one `<nn>-<title>.png` per widget; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    widgets = parse_widgets(dashboard_body(stack))
    drawn = [(widget, widget_series(stack, widget, start, end, clock)) for widget in widgets]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    columns = 2
    rows = math.ceil(len(drawn) / columns)
    figure, axes = pyplot.subplots(rows, columns, figsize=(16, 4.4 * rows), squeeze=False)
    for index, (widget, series) in enumerate(drawn):
        _draw(axes[index // columns][index % columns], widget, series, start, end, zone)
    for index in range(len(drawn), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    figure.suptitle(
        f"{stack.name}: {start.astimezone(zone):%a %d %b %Y %H:%M} to "
        f"{end.astimezone(zone):%a %H:%M} ({zone})"
    )
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    grid = out_dir / "dashboard.png"
    figure.savefig(grid, dpi=80)
    pyplot.close(figure)
    paths.append(grid)
    for index, (widget, series) in enumerate(drawn):
        figure, ax = pyplot.subplots(figsize=(8, 4.4))
        _draw(ax, widget, series, start, end, zone)
        figure.tight_layout()
        slug = re.sub(r"[^a-z0-9]+", "-", widget.title.lower()).strip("-")
        path = out_dir / f"{index + 1:02d}-{slug}.png"
        figure.savefig(path, dpi=80)
        pyplot.close(figure)
        paths.append(path)
    return paths


def _draw(
    ax: Any,
    widget: Widget,
    series: Sequence[Series],
    start: dt.datetime,
    end: dt.datetime,
    zone: dt.tzinfo,
) -> None:
    from matplotlib import dates, ticker

    ax.set_title(widget.title, fontsize=10, loc="left")
    right = None
    for number, item in enumerate(series):
        target = ax
        if item.line.right_axis:
            right = right or ax.twinx()
            target = right
        times, values = _with_gaps(item.points, dt.timedelta(seconds=item.line.period))
        label = f"{item.line.label} ({item.line.stat})" + (" →" if item.line.right_axis else "")
        target.plot(
            times,
            values,
            marker="o",
            markersize=3,
            linewidth=1.2,
            label=label,
            color=item.line.color or f"C{number % 10}",
        )
    if not series or not any(item.points for item in series):
        ax.text(
            0.5,
            0.5,
            "no data in this window",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="grey",
        )
    ax.set_xlim(start, end)
    if widget.y_min is not None or widget.y_max is not None:
        margin = 0.05 * ((widget.y_max or 1) - (widget.y_min or 0))
        ax.set_ylim(
            None if widget.y_min is None else widget.y_min - margin,
            None if widget.y_max is None else widget.y_max + margin,
        )
    else:
        ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(dates.DateFormatter("%H:%M", tz=zone))
    ax.grid(alpha=0.3)
    for axis, on_right in ((ax, False), (right, True)):
        if axis is not None and counts_only([s for s in series if s.line.right_axis == on_right]):
            axis.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    handles, labels = ax.get_legend_handles_labels()
    if right is not None:
        more = right.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
        right.set_ylim(bottom=0)
    if handles:
        # Below the chart: inside it, a legend hides the points it sits on.
        ax.legend(
            handles,
            labels,
            fontsize=7,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            ncol=3,
            frameon=False,
        )


def counts_only(series: Sequence[Series]) -> bool:
    """Whether an axis draws counts: every line a sum or a sample count with whole values only,
    so its ticks are whole numbers too (no "2.25 resources stopped").

    >>> at = dt.datetime(2026, 11, 19, 19, tzinfo=dt.UTC)
    >>> line = MetricLine("Nightshift", "Stopped", (), "Sum", 300, "Stopped")
    >>> counts_only([Series(line, ((at, 2.0), (at, 0.0)))])
    True
    >>> counts_only([Series(line, ((at, 2.5),))])
    False
    """
    values = [value for item in series for _, value in item.points]
    return (
        bool(values)
        and all(item.line.stat in ("Sum", "SampleCount") for item in series)
        and all(float(value).is_integer() for value in values)
    )


def _with_gaps(
    points: Sequence[tuple[dt.datetime, float]], period: dt.timedelta
) -> tuple[list[dt.datetime], list[float]]:
    """Times and values, with a NaN wherever periods without data lie between two points, so a
    line never bridges hours without data (a lone period shows as its marker)."""
    times: list[dt.datetime] = []
    values: list[float] = []
    for at, value in points:
        if times and at - times[-1] > period:
            times.append(times[-1] + period)
            values.append(math.nan)
        times.append(at)
        values.append(value)
    return times, values
