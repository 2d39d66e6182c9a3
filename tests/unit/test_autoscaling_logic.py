"""Pure Auto Scaling logic: adjustments and their rounding, steps, recurrences, zones, termination choice."""

import datetime as dt
import math
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from kumo.services.autoscaling import launching, recurrence, scaling, termination


@pytest.mark.parametrize("current,kind,adj,magnitude,expected", [
    (4, "ChangeInCapacity", 2, None, 6),
    (4, "ChangeInCapacity", -3, None, 1),
    (4, "ExactCapacity", 7, None, 7),
    (10, "PercentChangeInCapacity", 25, None, 12),  # 2.5 rounds down
    (10, "PercentChangeInCapacity", -25, None, 8),  # -2.5 rounds up (toward zero)
    (2, "PercentChangeInCapacity", 10, None, 3),  # 0.2 becomes 1
    (2, "PercentChangeInCapacity", -10, None, 1),  # -0.2 becomes -1
    (10, "PercentChangeInCapacity", 10, 3, 13),  # MinAdjustmentMagnitude lifts 1 to 3
    (0, "PercentChangeInCapacity", 50, None, 0),
])
def test_adjustments_round_as_aws_does(current, kind, adj, magnitude, expected):
    assert scaling.adjust(current, kind, adj, magnitude) == expected


STEPS = [{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20, "ScalingAdjustment": 1},
         {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 3},
         {"MetricIntervalUpperBound": 0, "ScalingAdjustment": -1}]


@pytest.mark.parametrize("metric,expected", [(50, 1), (60, 1), (69.99, 1), (70, 3), (500, 3), (49, -1), (-10, -1)])
def test_step_bounds_lower_inclusive_above_upper_inclusive_below(metric, expected):
    assert scaling.step_adjustment(STEPS, metric, 50)["ScalingAdjustment"] == expected


def test_step_checks():
    assert scaling.check_steps(STEPS[:2]) is None
    assert "overlap" in scaling.check_steps([{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10},
                                             {"MetricIntervalLowerBound": 5}])
    assert "gaps" in scaling.check_steps([{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10},
                                          {"MetricIntervalLowerBound": 20}])
    assert scaling.check_steps([]) is not None


def test_target_tracking_capacity_and_slow_scale_in():
    assert scaling.tracking_capacity(2, 100, 50) == 4
    assert scaling.tracking_capacity(3, 50, 50) == 3
    assert scaling.tracking_capacity(3, 10, 50) == 1
    assert scaling.scale_in_floor(3) == 2 and scaling.scale_in_floor(40) == 36


def _at(text: str, zone: str = "UTC") -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def test_recurrence_in_a_time_zone():
    rule = recurrence.parse("0 9 * * MON-FRI", "America/New_York")
    # Friday 2026-11-27 10:00 in New York: next is Monday 09:00 there.
    assert rule.next_after(_at("2026-11-27T10:00:00", "America/New_York")) == _at("2026-11-30T09:00:00",
                                                                                   "America/New_York")
    assert recurrence.parse("*/15 * * * *").next_after(_at("2026-01-01T00:07:00")) == _at("2026-01-01T00:15:00")
    assert recurrence.parse("30 2 1 * *").next_after(_at("2026-01-01T03:00:00")) == _at("2026-02-01T02:30:00")


def test_recurrence_days_either_field_and_sunday_as_7():
    rule = recurrence.parse("0 0 13 * 5")  # the 13th, or any Friday (Unix cron's OR)
    assert rule.next_after(_at("2026-11-12T00:00:00")) == _at("2026-11-13T00:00:00")
    assert rule.next_after(_at("2026-11-13T00:00:00")) == _at("2026-11-20T00:00:00")  # a Friday
    assert recurrence.parse("0 0 * * 7").next_after(_at("2026-11-27T00:00:00")) == _at("2026-11-29T00:00:00")


def test_recurrence_skips_a_wall_time_that_dst_removes():
    rule = recurrence.parse("30 2 * * *", "Europe/Berlin")  # 02:30 does not exist on 2026-03-29 in Berlin
    after = rule.next_after(_at("2026-03-28T03:00:00", "Europe/Berlin"))
    assert after == _at("2026-03-30T02:30:00", "Europe/Berlin")


@pytest.mark.parametrize("bad", ["", "* * * *", "61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "a b c d e"])
def test_bad_recurrences(bad):
    with pytest.raises(recurrence.RecurrenceError):
        recurrence.parse(bad)
    with pytest.raises(recurrence.RecurrenceError):
        recurrence.parse("* * * * *", "Mars/Olympus")


def test_zones_fill_evenly_and_imbalance():
    assert launching.plan_zones(Counter({"a": 0, "b": 0, "c": 0}), 4) == ["a", "b", "c", "a"]
    assert launching.plan_zones(Counter({"a": 2, "b": 0}), 2) == ["b", "b"]
    assert launching.imbalance(Counter({"a": 2, "b": 2, "c": 0})) == ("b", "c")
    assert launching.imbalance(Counter({"a": 2, "b": 1})) is None


def test_on_demand_share():
    dist = {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 50}
    assert [launching.wanted_on_demand(dist, n) for n in (0, 1, 2, 3, 4, 5)] == [0, 1, 2, 2, 3, 3]
    assert launching.wanted_on_demand({"OnDemandBaseCapacity": 0, "OnDemandPercentageAboveBaseCapacity": 0}, 4) == 0


def _m(iid, zone, launched, version="1", itype="t3.micro", market="on-demand"):
    return {"InstanceId": iid, "AvailabilityZone": zone, "_launched": launched, "_template_id": "lt-1",
            "_template_version": version, "InstanceType": itype, "_requested": market}


def test_termination_picks_the_fullest_zone_then_applies_policies():
    members = [_m("i-1", "a", 100), _m("i-2", "a", 200), _m("i-3", "b", 50)]
    ctx = termination.Context(now=1000)
    assert [m["InstanceId"] for m in termination.choose(members, members, 1, ["OldestInstance"], ctx)] == ["i-1"]
    assert [m["InstanceId"] for m in termination.choose(members, members, 1, ["NewestInstance"], ctx)] == ["i-2"]
    # Two to go from two even zones: one from each, keeping them balanced.
    even = members + [_m("i-4", "b", 60)]
    assert sorted(m["AvailabilityZone"] for m in termination.choose(even, even, 2, ["Default"], ctx)) == ["a", "b"]
    # Protected instances still count toward their zone's size (i-4 is protected: b is the fuller zone).
    counted = [_m("i-1", "a", 100), _m("i-3", "b", 50), _m("i-4", "b", 60)]
    assert termination.choose(counted, counted[:2], 1, ["Default"], ctx)[0]["InstanceId"] == "i-3"


def test_default_policy_prefers_the_oldest_template_then_the_next_billing_hour():
    members = [_m("i-1", "a", 0, version="2"), _m("i-2", "a", 0, version="1"), _m("i-3", "a", 3000, version="2")]
    ctx = termination.Context(now=3500, template_id="lt-1", template_version=2)
    assert termination.choose(members, members, 1, ["Default"], ctx)[0]["InstanceId"] == "i-2"
    same = [_m("i-1", "a", 0), _m("i-2", "a", 3000)]  # at 3500 s: i-1 is 100 s from its next hour, i-2 is 3100 s
    ctx = termination.Context(now=3500, template_id="lt-1", template_version=1)
    assert termination.choose(same, same, 1, ["Default"], ctx)[0]["InstanceId"] == "i-1"
    assert math.isclose(termination.HOUR, 3600)


def test_allocation_strategy_terminates_the_market_over_its_share():
    members = [_m("i-1", "a", 0, market="on-demand"), _m("i-2", "a", 0, market="spot", itype="t3.medium"),
               _m("i-3", "a", 0, market="spot", itype="t3.small")]
    ctx = termination.Context(now=10, on_demand_excess=-1, overrides=("t3.small", "t3.medium"))
    assert termination.choose(members, members, 1, ["AllocationStrategy"], ctx)[0]["InstanceId"] == "i-2"
