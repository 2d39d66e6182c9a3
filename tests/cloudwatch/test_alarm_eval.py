"""Alarm evaluation against AWS's documented tables ("How the alarm state is evaluated when data is missing").

In each row, 0 is a non-breaching datapoint, X a breaching one and - a missing
one, oldest first, over the 5 most recent periods CloudWatch retrieves.
"""

import json

import pytest

from kumo.services.cloudwatch.alarm_eval import Point, evaluate, reason_data

KEEP = "Retain current state"
STATES = {"OK": "OK", "ALARM": "ALARM", "Insufficient data": "INSUFFICIENT_DATA"}
MODES = ("missing", "ignore", "breaching", "notBreaching")

# Datapoints to Alarm 3, Evaluation Periods 3.
TABLE_3_OF_3 = [
    ("0 - X - X", ("OK", "OK", "OK", "OK")),
    ("0 - - - -", ("OK", "OK", "OK", "OK")),
    ("- - - - -", ("Insufficient data", KEEP, "ALARM", "OK")),
    ("0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("- - - - X", ("Insufficient data", KEEP, "ALARM", "OK")),
    ("X - - - -", ("ALARM", KEEP, "ALARM", "OK")),
]
# Datapoints to Alarm 2, Evaluation Periods 3.
TABLE_2_OF_3 = [
    ("0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 - X - -", ("OK", "OK", "ALARM", "OK")),
    ("- - - - 0", ("OK", "OK", "ALARM", "OK")),
    ("- - - - X", ("Insufficient data", KEEP, "ALARM", "OK")),
]


def points(row: str, period: int = 300, start: float = 1_800_000_000) -> list[Point]:
    values = {"0": 10.0, "X": 90.0, "-": None}
    return [Point(start + i * period, values[c], 1.0 if values[c] is not None else 0.0)
            for i, c in enumerate(row.split())]


def cases():
    for m, table in ((3, TABLE_3_OF_3), (2, TABLE_2_OF_3)):
        for row, outcomes in table:
            for mode, outcome in zip(MODES, outcomes):
                yield pytest.param(m, row, mode, outcome, id=f"{m}of3[{row}]-{mode}")


@pytest.mark.parametrize("m, row, mode, outcome", list(cases()))
@pytest.mark.parametrize("current", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_documented_missing_data_tables(m, row, mode, outcome, current):
    verdict = evaluate(points(row), m=m, n=3, comparison="GreaterThanThreshold", threshold=50.0, treat=mode,
                       current=current)
    if outcome == KEEP:
        assert verdict is None
    else:
        assert verdict is not None and verdict.state == STATES[outcome]


def test_m_out_of_n_counts_only_the_last_n_real_points():
    # Six real points: only the last three count, and two of them breach.
    pts = points("X X X 0 X X", period=60)
    v = evaluate(pts, m=2, n=3, comparison="GreaterThanOrEqualToThreshold", threshold=90.0, treat="missing",
                 current="OK")
    assert v.state == "ALARM"
    assert v.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints [90.0 (")
    assert "were greater than or equal to the threshold (90.0) (minimum 2 datapoints for OK -> ALARM transition)." \
        in v.reason


@pytest.mark.parametrize("comparison, value, breach", [
    ("GreaterThanThreshold", 50.0, False), ("GreaterThanThreshold", 50.1, True),
    ("GreaterThanOrEqualToThreshold", 50.0, True), ("LessThanThreshold", 50.0, False),
    ("LessThanThreshold", 49.9, True), ("LessThanOrEqualToThreshold", 50.0, True),
])
def test_every_static_comparison_operator(comparison, value, breach):
    v = evaluate([Point(0, value, 1)], m=1, n=1, comparison=comparison, threshold=50.0, treat="missing",
                 current="INSUFFICIENT_DATA")
    assert v.state == ("ALARM" if breach else "OK")


def test_reasons_read_as_aws_writes_them():
    ok = evaluate(points("0 0 0 0 0", period=60), m=1, n=1, comparison="GreaterThanThreshold", threshold=50.0,
                  treat="missing", current="ALARM")
    assert ok.reason == "Threshold Crossed: 1 datapoint [10.0 (15/01/27 08:04:00)] was not greater than the " \
                        "threshold (50.0)."
    none = evaluate(points("- - - - -"), m=3, n=3, comparison="GreaterThanThreshold", threshold=1, treat="missing",
                    current="OK")
    assert none.reason == "Insufficient Data: 3 datapoints were unknown."
    filled = evaluate(points("- - - - -"), m=3, n=3, comparison="GreaterThanThreshold", threshold=1,
                      treat="breaching", current="OK")
    assert filled.reason == ("Threshold Crossed: no datapoints were received for 3 periods and 3 missing "
                             "datapoints were treated as [Breaching].")


def test_reason_data_is_awss_json():
    pts = points("- - 0 X X", period=60)
    v = evaluate(pts, m=2, n=3, comparison="GreaterThanThreshold", threshold=50.0, treat="missing", current="OK")
    data = json.loads(reason_data(v, pts, now=pts[-1].timestamp + 60, period=60, threshold=50.0,
                                  statistic="Average", unit="Percent", n=3))
    assert data["version"] == "1.0" and data["statistic"] == "Average" and data["period"] == 60
    assert data["recentDatapoints"] == [10.0, 90.0, 90.0] and data["threshold"] == 50.0
    assert data["unit"] == "Percent"
    assert [p["value"] for p in data["evaluatedDatapoints"]] == [90.0, 90.0, 10.0]  # newest first
    assert data["evaluatedDatapoints"][0]["timestamp"].endswith(":00.000+0000")
    assert data["queryDate"].endswith(".000+0000") and "startDate" in data
