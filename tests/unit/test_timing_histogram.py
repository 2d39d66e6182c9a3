"""The request-timing histogram (aws/timing.py): quantiles within a bucket's 5% of the true value."""

from __future__ import annotations

from kumo.aws.timing import Histogram, Timing


def test_quantiles_are_within_five_percent_above_the_true_value():
    hist = Histogram()
    values = [i / 1000 for i in range(1, 1001)]  # 1 ms .. 1 s
    for v in values:
        hist.add(v)
    assert hist.n == 1000
    for q, true_ms in ((0.5, 500.0), (0.9, 900.0), (0.99, 990.0)):
        got = hist.quantile(q)
        assert true_ms * 0.95 <= got <= true_ms * 1.05 * 1.05, (q, got)
    assert hist.report()["max_ms"] == 1000.0


def test_quantile_never_exceeds_the_largest_value():
    hist = Histogram()
    hist.add(0.0021)
    assert hist.quantile(0.99) == hist.max * 1000


def test_zero_and_huge_durations_land_in_the_edge_buckets():
    hist = Histogram()
    hist.add(0.0)
    hist.add(10_000.0)
    assert hist.counts[0] == 1 and hist.counts[-1] == 1


def test_report_sums_operations_and_clear_empties_them():
    timing = Timing()
    timing.add("sts.GetCallerIdentity", 0.001, 0.0005)
    timing.add("iam.ListRoles", 0.010, 0.008)
    report = timing.report()
    assert report["wall"]["all"]["count"] == 2 and report["cpu"]["all"]["count"] == 2
    assert set(report["wall"]["operations"]) == {"sts.GetCallerIdentity", "iam.ListRoles"}
    timing.clear()
    assert timing.report()["wall"]["all"]["count"] == 0
