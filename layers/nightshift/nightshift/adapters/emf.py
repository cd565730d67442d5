"""Metric points out as CloudWatch embedded metric format (EMF) documents on stdout.

One document per dimension set, carrying exactly the points' dimensions: Powertools' `Metrics`
adds a `service` dimension to everything it emits, and an alarm on Success{Check=api} would never
see Success{Check=api, service=canary}. `EphemeralMetrics` with `service=""` emits none (Powertools
only adds a non-empty service), and does not share state with the handler's own `Metrics`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics
from aws_lambda_powertools.metrics.functions import validate_emf_timestamp

from nightshift.canary.metrics import MetricPoint

logger = Logger(child=True)


# The IAM actions this module needs: none (EMF lines go to the log).
IAM_ACTIONS = frozenset[str]()


class EmfMetrics:
    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    def emit(self, points: Sequence[MetricPoint], at: dt.datetime) -> int:
        """Write `points`, stamped with `at` (the schedule's time, so each run lands in its own
        alarm period); return how many EMF documents were written.

        A time CloudWatch would drop (more than two weeks old or two hours ahead, as in a replay)
        is replaced by the clock's, so the values still count.
        """
        groups: dict[tuple[tuple[str, str], ...], list[MetricPoint]] = {}
        for point in points:
            groups.setdefault(point.dimensions, []).append(point)
        stamp_with_schedule = validate_emf_timestamp(at)
        if groups and not stamp_with_schedule:
            logger.warning("run time outside CloudWatch's window; metrics stamped now", at=str(at))
        for dimensions, group in groups.items():
            document = EphemeralMetrics(namespace=self._namespace, service="")
            for name, value in dimensions:
                document.add_dimension(name=name, value=value)
            for point in group:
                document.add_metric(name=point.name, unit=point.unit.value, value=point.value)
            if stamp_with_schedule:
                document.set_timestamp(at)
            document.flush_metrics()
        return len(groups)
