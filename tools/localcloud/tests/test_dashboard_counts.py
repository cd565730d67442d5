"""Charts of counts read as counts: whole-number ticks when every line is a whole-valued sum."""

import datetime as dt

from localcloud.dashboard import MetricLine, Series, counts_only

AT = dt.datetime(2026, 11, 19, 19, tzinfo=dt.UTC)


def line(stat: str = "Sum") -> MetricLine:
    return MetricLine("Nightshift", "ResourcesStopped", (), stat, 300, "Stopped")


def test_whole_sums_are_counts() -> None:
    assert counts_only(
        [Series(line(), ((AT, 2.0), (AT, 0.0))), Series(line("SampleCount"), ((AT, 1.0),))]
    )


def test_a_fraction_or_an_average_is_not_a_count() -> None:
    assert not counts_only([Series(line(), ((AT, 2.5),))])
    assert not counts_only([Series(line("Average"), ((AT, 2.0),))])


def test_an_axis_without_points_draws_no_counts() -> None:
    assert not counts_only([Series(line(), ())])
    assert not counts_only([])
