"""Statistics and percentiles over stored sample sets."""

import pytest

from kumo.services.cloudwatch.stats import Agg, parse_extended, percentile, valid_statistic


def agg_of(values):
    a = Agg()
    for v in values:
        a.add(1, v, v, v, [(v, 1)])
    return a


def test_basic_statistics():
    a = agg_of([1.0, 2.0, 3.0, 10.0])
    assert (a.value("SampleCount"), a.value("Sum"), a.value("Minimum"), a.value("Maximum"), a.value("Average")) == \
        (4.0, 16.0, 1.0, 10.0, 4.0)


def test_percentiles_are_nearest_rank_on_raw_values():
    a = agg_of([float(v) for v in range(1, 101)])
    assert a.value("p50") == 50.0 and a.value("p99") == 99.0 and a.value("p100") == 100.0
    assert a.value("p99.9") == 100.0 and a.value("p0.5") == 1.0
    assert percentile([(5.0, 3.0), (7.0, 1.0)], 75) == 5.0


def test_values_and_counts_weigh_percentiles():
    a = Agg()
    a.add(10, 10 * 1.0 + 0, 1.0, 1.0, [(1.0, 9.0), (100.0, 1.0)])
    assert a.value("p90") == 1.0 and a.value("p91") == 100.0


def test_statistic_sets_without_raw_values_have_no_percentiles():
    a = Agg()
    a.add(4, 20.0, 1.0, 9.0, None)
    assert a.value("Average") == 5.0
    assert a.value("p50") is None
    merged = agg_of([3.0])
    merged.merge(a)
    assert merged.value("p50") is None and merged.value("SampleCount") == 5


@pytest.mark.parametrize("n, total, lo, hi, has", [
    (1, 4.0, 4.0, 4.0, True),     # SampleCount 1 and Min = Max = Sum
    (5, 20.0, 4.0, 4.0, True),    # Min = Max and Sum = Min x SampleCount
    (5, 21.0, 4.0, 4.0, False),
    (2, 8.0, 3.0, 5.0, False),
])
def test_the_two_statistic_sets_aws_allows_percentiles_on(n, total, lo, hi, has):
    a = Agg()
    a.add(n, total, lo, hi, None)
    assert (a.value("p50") is not None) == has


def test_trimmed_and_other_extended_statistics():
    a = agg_of([float(v) for v in range(1, 11)])
    assert a.value("tm90") == pytest.approx(5.0)  # mean of 1..9
    assert a.value("tc90") == 9.0 and a.value("ts90") == 45.0
    assert a.value("TM(10%:90%)") == pytest.approx(5.5)  # 2..9
    assert a.value("IQM") == pytest.approx(6.0)  # above p25 (3), up to p75 (8): 4..8
    assert a.value("PR(:5)") == 50.0
    assert valid_statistic("p99") and valid_statistic("Average") and not valid_statistic("p101")
    assert parse_extended("median") is None
