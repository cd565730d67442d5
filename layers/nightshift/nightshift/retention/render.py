"""The plan as text, for the `plan` command and for people reading logs: one row per snapshot."""

from __future__ import annotations

from datetime import datetime, timedelta

from nightshift.retention.model import SnapshotKind
from nightshift.retention.plan import RetentionPlan

HEADERS = ("KIND", "LINEAGE", "SNAPSHOT", "AGE", "SIZE", "DECISION")
# RDS instances and Aurora clusters may share a name: the kind column tells their lineages apart.
SHORT_KIND = {
    SnapshotKind.EBS: "ebs",
    SnapshotKind.RDS: "rds",
    SnapshotKind.AURORA: "aurora",
}
RIGHT_ALIGNED = (3, 4)  # age, size


def format_age(age: timedelta) -> str:
    """Whole days, or hours under a day.

    >>> format_age(timedelta(days=3, hours=5)), format_age(timedelta(hours=5))
    ('3d', '5h')
    """
    seconds = max(0, int(age.total_seconds()))
    days, rest = divmod(seconds, 86400)
    return f"{days}d" if days else f"{rest // 3600}h"


def format_gib(size: float) -> str:
    """>>> format_gib(100.0), format_gib(12.25)
    ('100 GiB', '12.2 GiB')
    """
    return f"{size:.0f} GiB" if float(size).is_integer() else f"{size:.1f} GiB"


def render_plan(plan: RetentionPlan) -> str:
    """A table of every decision (grouped by lineage, newest first) and the totals.

    >>> from datetime import UTC
    >>> print(render_plan(RetentionPlan(datetime(2026, 11, 19, tzinfo=UTC), (), 0.5)))
    Retention plan at 2026-11-19T00:00:00+00:00: 0 snapshots
    keep 0, protect 0, delete 0 (0 GiB, saves up to $0.00/month)
    """
    lines = [f"Retention plan at {_iso(plan.now)}: {len(plan.decisions)} snapshots"]
    if plan.refused:
        lines.append(f"REFUSED, nothing will be deleted: {plan.refused}")
    if plan.decisions:
        rows = [HEADERS] + [
            (
                SHORT_KIND[d.lineage.kind],
                str(d.lineage),
                d.id,
                format_age(plan.now - d.snapshot.created),
                format_gib(d.snapshot.size_gib),
                d.reason,
            )
            for d in plan.decisions
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS) - 1)]
        lines.append("")
        for row in rows:
            cells = [
                cell.rjust(width) if i in RIGHT_ALIGNED else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row[:-1], widths, strict=True))
            ]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
        lines.append("")
    summary = plan.summary
    actions = summary.actions
    lines.append(
        f"keep {actions['keep']}, protect {actions['protect']}, delete {actions['delete']}"
        f" ({format_gib(summary.delete_gib)}, saves up to ${summary.monthly_savings:.2f}/month)"
    )
    for category, count in summary.categories.items():
        lines.append(f"  {category}: {count}")
    return "\n".join(lines)


def _iso(moment: datetime) -> str:
    return moment.isoformat()
