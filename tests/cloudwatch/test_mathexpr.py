"""Metric math, checked against the examples of AWS's "Using metric math"."""

import math

import pytest

from kumo.services.cloudwatch import mathexpr
from kumo.services.cloudwatch.mathexpr import Env, MathError, Series

GRID = [0.0, 60.0, 120.0, 180.0, 240.0]


def ts(values, label="", sid=""):
    return Series({GRID[i]: float(v) for i, v in enumerate(values) if v is not None}, label, 60, sid, GRID)


def run(expr, **series):
    metrics = {k: v for k, v in series.items()}

    def lookup(name):
        if name not in metrics:
            raise MathError(f"unknown {name}")
        return metrics[name]

    def select(part):
        return [s for k, s in metrics.items() if part is None or part in k]

    return mathexpr.evaluate(mathexpr.parse(expr), Env(lookup, select, GRID, 60))


def values(series):
    return [series.values.get(t) for t in GRID]


METRIC1 = [30, 20, 0, 0, None]
METRIC2 = [20, None, 20, None, None]


@pytest.mark.parametrize("expr, expected", [
    ("(metric1 < metric2)", [0, 0, 1, 0, None]),
    ("(metric1 >= 30)", [1, 0, 0, 0, None]),
    ("(metric1 > 15 AND metric2 > 15)", [1, 0, 0, 0, None]),
    ("metric1 > 15 && metric2 > 15", [1, 0, 0, 0, None]),
    ("metric1 < 5 || metric2 > 15", [1, 0, 1, 1, None]),
])
def test_documented_comparison_and_logical_operators(expr, expected):
    got = run(expr, metric1=ts(METRIC1), metric2=ts(METRIC2))
    assert values(got) == expected


IF_M1 = [1, 1, 0, 0, None]
IF_M2 = [30, None, 0, 0, 30]
IF_M3 = [0, 0, 20, None, 20]


@pytest.mark.parametrize("expr, expected", [
    ("IF(metric1, metric2, metric3)", [30, 0, 20, None, None]),
    ("IF(metric1, 5, metric3)", [5, 5, 20, None, None]),
    ("IF(metric1, metric2, 5)", [30, 0, 5, 5, None]),
])
def test_documented_if_tables(expr, expected):
    got = run(expr, metric1=ts(IF_M1), metric2=ts(IF_M2), metric3=ts(IF_M3))
    assert values(got) == expected


def test_if_with_a_comparison_and_scalars():
    assert values(run("IF(m1 < 400, m1)", m1=ts([100, 500, None, 300, 900]))) == [100, None, None, 300, None]
    assert values(run("IF(m1 < 400, 10, 2)", m1=ts([100, 500, None, 300, 900]))) == [10, 2, None, 10, 2]


def test_arithmetic_treats_missing_as_zero_and_drops_division_by_zero():
    got = run("m1 + m2", m1=ts([1, 2, None, None, 5]), m2=ts([10, None, 30, None, 0]))
    assert values(got) == [11, 2, 30, None, 5]
    assert values(run("m1 / m2", m1=ts([1, 2, None, 4, 5]), m2=ts([2, 0, 1, 4, None]))) == [0.5, None, 0, 1, None]
    assert values(run("-5 * m1 + 2 ^ 3", m1=ts([1, 2, 3, 4, 5]))) == [3, -2, -7, -12, -17]


def test_functions_over_arrays_and_scalars():
    m1, m2 = ts([1, 2, 3, 4, 5], "a", "m1"), ts([10, 20, None, 40, 50], "b", "m2")
    assert values(run("SUM([m1, m2])", m1=m1, m2=m2)) == [11, 22, 3, 44, 55]
    assert values(run("AVG(METRICS())", m1=m1, m2=m2)) == [5.5, 11, 1.5, 22, 27.5]
    assert values(run("MAX(METRICS())", m1=m1, m2=m2)) == [10, 20, 3, 40, 50]
    assert values(run("m1 - AVG(m1)", m1=m1)) == [-2, -1, 0, 1, 2]
    assert values(run("SUM(METRICS(\"m2\"))", m1=m1, m2=m2)) == [10, 20, None, 40, 50]
    arr = run("METRICS()/100", m1=m1, m2=m2)
    assert isinstance(arr, list) and values(arr[1]) == [0.1, 0.2, None, 0.4, 0.5]
    assert values(run("m1/PERIOD(m1)", m1=m1)) == [1 / 60, 2 / 60, 3 / 60, 4 / 60, 5 / 60]
    assert run("METRIC_COUNT(METRICS())", m1=m1, m2=m2) == 2.0
    assert values(run("FIRST(SORT(METRICS(), AVG, DESC))", m1=m1, m2=m2)) == values(m2)
    assert [s.id for s in run("SLICE(SORT(METRICS(), SUM, ASC), 1)", m1=m1, m2=m2)] == ["m2"]
    assert values(run("STDDEV(METRICS())", m1=ts([1, 1, 1, 1, 1]), m2=ts([3, 3, 3, 3, 3]))) == [1, 1, 1, 1, 1]


def test_fill_rate_diff_running_sum_time_series():
    m1 = ts([1, None, None, 7, None])
    assert values(run("FILL(m1, 0)", m1=m1)) == [1, 0, 0, 7, 0]
    assert values(run("FILL(m1, REPEAT)", m1=m1)) == [1, 1, 1, 7, 7]
    assert values(run("FILL(m1, LINEAR)", m1=m1)) == [1, 3, 5, 7, None]
    assert values(run("FILL(m1, m2)", m1=m1, m2=ts([9, 9, None, 9, 9]))) == [1, 9, None, 7, 9]
    assert values(run("RATE(m1)", m1=ts([0, 60, 180, None, 180]))) == [None, 1, 2, None, 0]
    assert values(run("DIFF(m1)", m1=ts([1, 4, 9, None, 25]))) == [None, 3, 5, None, 16]
    assert values(run("DIFF_TIME(m1)", m1=ts([1, 4, None, None, 25]))) == [None, 60, None, None, 180]
    assert values(run("RUNNING_SUM(m1)", m1=ts([1, 2, None, 3, 4]))) == [1, 3, None, 6, 10]
    assert values(run("TIME_SERIES(5)")) == [5, 5, 5, 5, 5]
    assert values(run("CEIL(m1) + FLOOR(m1) + ABS(-m1)", m1=ts([1.5, None, None, None, None]))) == [4.5, None,
                                                                                                      None, None, None]
    assert values(run("LOG10(m1)", m1=ts([10, 100, None, None, None])))[:2] == [1, 2]
    assert run("DATAPOINT_COUNT(m1)", m1=ts([1, None, 2, None, 3])) == 3.0
    assert values(run("REMOVE_EMPTY(METRICS())", a=ts([None] * 5), b=ts([1] * 5))[0]) == [1] * 5
    assert values(run("MINUTE(m1)", m1=ts([None] * 5))) == [0, 1, 2, 3, 4]


def test_errors_are_reported():
    for bad in ("m1 +", "SUM(", "m1 $ 2", "NOPE(m1)", "ANOMALY_DETECTION_BAND(m1)", 'm1 + "a"',
                'SORT(METRICS(), AVG, DESC, "x")', 'ABS("x")', "IF(m1)", "SLICE(m1, 1)", "[m1, 3]"):
        with pytest.raises(MathError):
            run(bad, m1=ts([1] * 5))
    assert math.isnan(run("AVG(m1)", m1=ts([None] * 5)))
    assert mathexpr.references(mathexpr.parse("SUM([m1, e2]) / METRICS()")) == {"m1", "e2", "*"}


def test_overflow_is_no_datapoint():
    huge = ts([2.0 ** 300] * 5)
    assert values(run("m1 * m1 * m1 * m1", m1=huge)) == [None] * 5
    assert values(run("m1 ^ 10", m1=huge)) == [None] * 5
