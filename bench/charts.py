"""PNG charts of the bench results, for docs/benchmarks.md (matplotlib, no display needed).

Each function takes one benchmark's results (the JSON bench/run.py stores) and writes one PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display on a build machine

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

NIGHTSHIFT_COLOUR = "#2b6cb0"
CUSTODIAN_COLOUR = "#dd6b20"
FLOOR_COLOUR = "#4a5568"
COLOURS = {"nightshift": NIGHTSHIFT_COLOUR, "custodian": CUSTODIAN_COLOUR}
NAMES = {"nightshift": "Nightshift", "custodian": "Cloud Custodian"}
DPI = 110
COLOUR_CYCLE = (NIGHTSHIFT_COLOUR, CUSTODIAN_COLOUR)


def _save(figure: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def _label_bars(axes: Any, bars: Any, fmt: str) -> None:
    for bar in bars:
        height = bar.get_height()
        axes.annotate(
            _seconds(height) if fmt == "seconds" else fmt.format(height),
            (bar.get_x() + bar.get_width() / 2, height),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 2),
            textcoords="offset points",
        )


def pruner(results: dict[str, Any], path: Path) -> Path:
    """Median wall time per tool, unthrottled and throttled, with the throttled floor."""
    scenarios = list(results["scenarios"])
    figure, axes = plt.subplots(figsize=(7.5, 4))
    width = 0.36
    for offset, tool in ((-width / 2, "nightshift"), (width / 2, "custodian")):
        values = [results["scenarios"][s]["medians"][tool]["wall_s"] for s in scenarios]
        bars = axes.bar(
            [i + offset for i in range(len(scenarios))],
            values,
            width,
            label=NAMES[tool],
            color=COLOURS[tool],
        )
        _label_bars(axes, bars, "seconds")
    floor = max(results["floor_s"].values())
    throttled = scenarios.index("throttled")
    axes.hlines(
        floor,
        throttled - 0.45,
        throttled + 0.45,
        colors=FLOOR_COLOUR,
        linestyles="dashed",
        label=f"floor at {results['rate_scale']:g}x rates ({floor:.0f} s)",
    )
    axes.set_xticks(range(len(scenarios)))
    axes.set_xticklabels(
        [
            "unthrottled moto",
            f"AWS token buckets, rates x{results['rate_scale']:g}",
        ]
    )
    deletions = results["expected_deletions"]
    axes.set_title(
        f"Prune {deletions['ebs']:,} EBS + {deletions['rds']:,} RDS snapshots "
        f"(median of {results['repeat']})"
    )
    axes.set_ylabel("wall time, s (lower is better)")
    axes.legend(loc="upper left", fontsize=8)
    axes.set_ylim(0, axes.get_ylim()[1] * 1.1)
    return _save(figure, path)


def scheduler(results: dict[str, Any], path: Path) -> Path:
    """API requests and wall time per tool, steady state and full stop."""
    runs = list(results["medians"])
    figure, (requests_axes, time_axes) = plt.subplots(1, 2, figsize=(9, 3.8))
    width = 0.36
    for axes, measure, fmt, title in (
        (requests_axes, "requests", "{:.0f}", "API requests (server count)"),
        (time_axes, "wall_s", "seconds", "wall time, s"),
    ):
        for offset, tool in ((-width / 2, "nightshift"), (width / 2, "custodian")):
            values = [results["medians"][run][tool][measure] for run in runs]
            bars = axes.bar(
                [i + offset for i in range(len(runs))],
                values,
                width,
                label=NAMES[tool],
                color=COLOURS[tool],
            )
            _label_bars(axes, bars, fmt)
        axes.set_xticks(range(len(runs)))
        axes.set_xticklabels(runs)
        axes.set_title(title, fontsize=10)
        axes.set_ylim(0, axes.get_ylim()[1] * 1.12)
    fleet = results["fleet"]
    total = fleet["ecs_services"] + fleet["rds_instances"] + fleet["ec2_instances"]
    figure.suptitle(
        f"Office hours for {total:,} resources (median of {results['repeat']}; lower is better)",
        fontsize=11,
    )
    requests_axes.legend(loc="upper left", fontsize=8)
    return _save(figure, path)


def cold_start(results: dict[str, Any], path: Path) -> Path:
    """Median import time per handler, as built and precompiled, against the bare handler."""
    modes = list(results["modes"])
    subjects = list(results["modes"][modes[0]])
    figure, axes = plt.subplots(figsize=(9.5, 4))
    width = 0.38
    shades = ("#2c5282", "#90cdf4")
    for index, mode in enumerate(modes):
        offset = (index - 0.5) * width
        values = [results["modes"][mode][name]["import_s"] * 1000 for name in subjects]
        bars = axes.bar(
            [i + offset for i in range(len(subjects))],
            values,
            width,
            label=mode,
            color=shades[index],
        )
        _label_bars(axes, bars, "{:.0f}")
    axes.set_xticks(range(len(subjects)))
    axes.set_xticklabels([name.replace(" (", "\n(") for name in subjects], fontsize=8)
    axes.set_ylabel("import time, ms (median)")
    axes.set_title(
        f"Handler import under Python {results['python']} (median of {results['repeat']})"
    )
    axes.legend(fontsize=8)
    axes.set_ylim(0, axes.get_ylim()[1] * 1.1)
    return _save(figure, path)


def canary(results: dict[str, Any], path: Path) -> Path:
    """Median wall time of one run per probing mode, log scale, with the two floors."""
    modes = list(results["median_s"])
    figure, axes = plt.subplots(figsize=(7.5, 3.4))
    values = [results["median_s"][mode] for mode in modes]
    bars = axes.barh(range(len(modes)), values, color=["#2b6cb0", "#63b3ed", "#a0aec0"])
    for bar, value in zip(bars, values, strict=True):
        axes.annotate(
            f"{value:.2f} s",
            (value, bar.get_y() + bar.get_height() / 2),
            va="center",
            fontsize=8,
            xytext=(3, 0),
            textcoords="offset points",
        )
    axes.set_yticks(range(len(modes)))
    axes.set_yticklabels(modes, fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.axvline(results["floor_concurrent_s"], color=FLOOR_COLOUR, linestyle="dashed", lw=1)
    axes.axvline(results["floor_sequential_s"], color=FLOOR_COLOUR, linestyle="dotted", lw=1)
    axes.set_xlabel("wall time of one run, s (log scale; dashed: one answer, dotted: fifty)")
    axes.set_title(
        f"{results['endpoints']} endpoints answering in {results['answer_delay_s'] * 1000:.0f} ms"
        f" (median of {results['repeat']})",
        fontsize=10,
    )
    axes.set_xlim(0.1, results["floor_sequential_s"] * 3)
    return _save(figure, path)


def scale(results: dict[str, Any], path: Path) -> Path:
    """Seconds and requests against size, log-log: the scheduler (steady state, full stop) with
    its Timeout, the pruner (real time here, Lambda time at the documented rates) with its
    Timeout; a dotted line through the smallest size grows linearly, for comparison."""
    figure, axes = plt.subplots(2, 2, figsize=(9, 6.5))
    scheduler, pruner = results["scheduler"], results["pruner"]

    def panel(axes: Any, sizes: list[int], lines: dict[str, list[float]], title: str) -> None:
        for (label, values), colour in zip(lines.items(), COLOUR_CYCLE, strict=False):
            axes.plot(sizes, values, marker="o", label=label, color=colour)
            axes.plot(
                sizes,
                [values[0] * size / sizes[0] for size in sizes],
                linestyle=":",
                color=colour,
                alpha=0.6,
            )
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(sizes, [f"{size:,}" for size in sizes])
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,g}"))
        axes.yaxis.set_minor_formatter(NullFormatter())
        axes.set_title(title, fontsize=10)
        axes.grid(True, which="both", alpha=0.3)

    if scheduler:
        sizes = [size["size"] for size in scheduler]
        panel(
            axes[0][0],
            sizes,
            {
                "steady state": [size["steady"]["run_s"] for size in scheduler],
                "full stop (all runs)": [
                    sum(run["run_s"] for run in size["full_stop"]) for size in scheduler
                ],
            },
            "Scheduler: handler seconds",
        )
        budget = scheduler[0]["budget_s"]
        axes[0][0].axhline(budget, color=FLOOR_COLOUR, linestyle="--", label=f"Timeout {budget} s")
        panel(
            axes[0][1],
            sizes,
            {
                "steady state": [size["steady"]["requests"] for size in scheduler],
                "full stop (all runs)": [
                    sum(run["requests"] for run in size["full_stop"]) for size in scheduler
                ],
            },
            "Scheduler: requests",
        )
        for column in axes[0]:
            column.set_xlabel("resources")
        axes[0][0].legend(fontsize=8)
    if pruner:
        sizes = [size["size"] for size in pruner]
        panel(
            axes[1][0],
            sizes,
            {
                "real, against moto": [sum(r["real_s"] for r in size["runs"]) for size in pruner],
                "Lambda, documented rates": [
                    sum(r["lambda_s"] for r in size["runs"]) for size in pruner
                ],
            },
            "Pruner: seconds (all runs)",
        )
        budget = pruner[0]["budget_s"]
        axes[1][0].axhline(budget, color=FLOOR_COLOUR, linestyle="--", label=f"Timeout {budget} s")
        panel(
            axes[1][1],
            sizes,
            {"requests": [sum(r["requests"] for r in size["runs"]) for size in pruner]},
            "Pruner: requests (all runs)",
        )
        for column in axes[1]:
            column.set_xlabel("snapshots")
        axes[1][0].legend(fontsize=8)
    figure.suptitle("Scale, one round per size (dotted: linear growth from the smallest size)")
    return _save(figure, path)
