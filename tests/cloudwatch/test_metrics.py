"""PutMetricData, GetMetricStatistics, ListMetrics and GetMetricData through each of CloudWatch's protocols."""

import math

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def base(kumo_server):
    """An hour boundary about an hour ago on kumo's clock, so every test's data is recent."""
    return math.floor(kumo_server.kumo.clock.now() / 3600) * 3600 - 3600


DIMS = [{"Name": "Service", "Value": "web"}, {"Name": "Stage", "Value": "prod"}]


def stamps(points):
    return [p["Timestamp"].timestamp() for p in points]


def error_code(call) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def test_values_statistic_sets_and_arrays_aggregate_per_period(cw, base):
    cw.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": base + 5, "Value": 10.0, "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": base + 50, "Value": 30.0, "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": base + 70, "Unit": "Milliseconds",
         "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 60}},
        {"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": base + 130, "Unit": "Milliseconds",
         "Values": [1.0, 2.0, 3.0], "Counts": [1, 2, 1]},
    ])
    out = cw.get_metric_statistics(Namespace="App", MetricName="Latency", Dimensions=DIMS[::-1], StartTime=base,
                                   EndTime=base + 180, Period=60,
                                   Statistics=["SampleCount", "Average", "Sum", "Minimum", "Maximum"])
    assert out["Label"] == "Latency"
    points = sorted(out["Datapoints"], key=lambda p: p["Timestamp"])
    assert stamps(points) == [base, base + 60, base + 120]
    assert [(p["SampleCount"], p["Sum"], p["Minimum"], p["Maximum"], p["Average"]) for p in points] == [
        (2.0, 40.0, 10.0, 30.0, 20.0), (4.0, 100.0, 5.0, 60.0, 25.0), (4.0, 8.0, 1.0, 3.0, 2.0)]
    assert {p["Unit"] for p in points} == {"Milliseconds"}
    # Five-minute periods merge them all; a unit that was never published finds nothing.
    five = cw.get_metric_statistics(Namespace="App", MetricName="Latency", Dimensions=DIMS, StartTime=base,
                                    EndTime=base + 300, Period=300, Statistics=["Sum", "SampleCount"])["Datapoints"]
    assert [(p["Sum"], p["SampleCount"]) for p in five] == [(148.0, 10.0)]
    assert cw.get_metric_statistics(Namespace="App", MetricName="Latency", Dimensions=DIMS, StartTime=base,
                                    EndTime=base + 300, Period=300, Statistics=["Sum"],
                                    Unit="Seconds")["Datapoints"] == []
    # Dimensions must match exactly.
    assert cw.get_metric_statistics(Namespace="App", MetricName="Latency", Dimensions=DIMS[:1], StartTime=base,
                                    EndTime=base + 300, Period=300, Statistics=["Sum"])["Datapoints"] == []


def test_percentiles_need_raw_values(cw, base):
    cw.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Time", "Timestamp": base + 1, "Values": [float(v) for v in range(1, 101)]},
        {"MetricName": "Time", "Timestamp": base + 61, "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1,
                                                                          "Maximum": 2}},
    ])
    out = cw.get_metric_statistics(Namespace="App", MetricName="Time", StartTime=base, EndTime=base + 120,
                                   Period=60, ExtendedStatistics=["p50", "p99"])
    points = sorted(out["Datapoints"], key=lambda p: p["Timestamp"])
    assert points[0]["ExtendedStatistics"] == {"p50": 50.0, "p99": 99.0}
    assert points[1].get("ExtendedStatistics", {}) == {}  # a statistic set without raw values


def test_high_resolution_data_keeps_its_seconds(cw, base):
    cw.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Hi", "Timestamp": base + s, "Value": float(s), "StorageResolution": 1} for s in (1, 11, 21)
    ] + [{"MetricName": "Lo", "Timestamp": base + s, "Value": float(s)} for s in (1, 11, 21)])
    hi = cw.get_metric_statistics(Namespace="App", MetricName="Hi", StartTime=base, EndTime=base + 30, Period=10,
                                  Statistics=["Sum"])["Datapoints"]
    assert sorted((p["Timestamp"].timestamp() - base, p["Sum"]) for p in hi) == [(0, 1.0), (10, 11.0), (20, 21.0)]
    lo = cw.get_metric_statistics(Namespace="App", MetricName="Lo", StartTime=base, EndTime=base + 30, Period=10,
                                  Statistics=["Sum"])["Datapoints"]
    assert [(p["Timestamp"].timestamp() - base, p["Sum"]) for p in lo] == [(0, 33.0)]  # stored on the minute


def test_list_metrics_filters(cw, base):
    cw.put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": "Orders", "Dimensions": [{"Name": "Region", "Value": "eu"}], "Value": 1},
        {"MetricName": "Orders", "Dimensions": [{"Name": "Region", "Value": "us"}], "Value": 1},
        {"MetricName": "Orders", "Value": 1},
        {"MetricName": "Refunds", "Dimensions": [{"Name": "Region", "Value": "eu"}], "Value": 1},
    ])
    cw.put_metric_data(Namespace="Other", MetricData=[{"MetricName": "Orders", "Value": 1}])
    everything = cw.list_metrics()["Metrics"]
    assert len(everything) == 5
    shop = cw.list_metrics(Namespace="Shop")["Metrics"]
    assert {(m["MetricName"], tuple(d["Value"] for d in m["Dimensions"])) for m in shop} == {
        ("Orders", ("eu",)), ("Orders", ("us",)), ("Orders", ()), ("Refunds", ("eu",))}
    by_name = cw.list_metrics(Namespace="Shop", MetricName="Orders", Dimensions=[{"Name": "Region"}])["Metrics"]
    assert len(by_name) == 2
    eu = cw.list_metrics(Dimensions=[{"Name": "Region", "Value": "eu"}])["Metrics"]
    assert {m["MetricName"] for m in eu} == {"Orders", "Refunds"}
    assert len(cw.list_metrics(RecentlyActive="PT3H")["Metrics"]) == 5


def test_get_metric_data_with_math_labels_and_return_data(cw, base):
    cw.put_metric_data(Namespace="Lambda", MetricData=[
        {"MetricName": name, "Timestamp": base + i * 60 + 1, "Value": value}
        for i in range(5) for name, value in (("Errors", float(i)), ("Invocations", 10.0))])
    stat = {"Period": 60, "Stat": "Sum"}
    out = cw.get_metric_data(StartTime=base, EndTime=base + 300, MetricDataQueries=[
        {"Id": "errors", "MetricStat": {"Metric": {"Namespace": "Lambda", "MetricName": "Errors"}, **stat},
         "ReturnData": False},
        {"Id": "calls", "MetricStat": {"Metric": {"Namespace": "Lambda", "MetricName": "Invocations"}, **stat},
         "Label": "Calls"},
        {"Id": "rate", "Expression": "100 * errors / calls", "Label": "Error rate"},
        {"Id": "high", "Expression": "IF(rate > 20, 1, 0)"},
    ])
    results = {r["Id"]: r for r in out["MetricDataResults"]}
    assert set(results) == {"calls", "rate", "high"}
    assert results["calls"]["Label"] == "Calls" and results["rate"]["Label"] == "Error rate"
    assert results["high"]["Label"] == "high"
    rate = results["rate"]
    assert [t.timestamp() for t in rate["Timestamps"]] == [base + 240, base + 180, base + 120, base + 60, base]
    assert rate["Values"] == [40.0, 30.0, 20.0, 10.0, 0.0]
    assert results["high"]["Values"] == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert rate["StatusCode"] == "Complete"
    ascending = cw.get_metric_data(StartTime=base, EndTime=base + 300, ScanBy="TimestampAscending",
                                   MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": {
                                       "Namespace": "Lambda", "MetricName": "Errors"}, **stat}}])
    assert ascending["MetricDataResults"][0]["Values"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert ascending["MetricDataResults"][0]["Label"] == "Errors"


def test_get_metric_data_pages_by_max_datapoints(cw, base):
    cw.put_metric_data(Namespace="Page", MetricData=[
        {"MetricName": "N", "Timestamp": base + i * 60, "Value": float(i)} for i in range(7)])
    query = dict(StartTime=base, EndTime=base + 420, MaxDatapoints=3, ScanBy="TimestampAscending",
                 MetricDataQueries=[{"Id": "n", "MetricStat": {"Metric": {"Namespace": "Page", "MetricName": "N"},
                                                               "Period": 60, "Stat": "Maximum"}}])
    seen, token = [], None
    for _ in range(5):
        page = cw.get_metric_data(**query, **({"NextToken": token} if token else {}))
        seen += page["MetricDataResults"][0]["Values"] if page["MetricDataResults"] else []
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [float(i) for i in range(7)]


def test_bad_input_gets_awss_error_codes(cw, base):
    assert error_code(lambda: cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "x", "Value": 1}])) \
        == "InvalidParameterValue"
    assert error_code(lambda: cw.put_metric_data(Namespace="A", MetricData=[
        {"MetricName": "x", "Value": 1, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1,
                                                            "Maximum": 1}}])) == "InvalidParameterCombination"
    assert error_code(lambda: cw.put_metric_data(Namespace="A", MetricData=[
        {"MetricName": "x", "Values": [1, 2], "Counts": [1]}])) == "InvalidParameterValue"
    assert error_code(lambda: cw.put_metric_data(Namespace="A", MetricData=[
        {"MetricName": "x", "Value": 1, "StorageResolution": 5}])) == "InvalidParameterValue"
    assert error_code(lambda: cw.put_metric_data(Namespace="A", MetricData=[
        {"MetricName": "x", "Value": 1, "Timestamp": base - 20 * 86400}])) == "InvalidParameterValue"
    assert error_code(lambda: cw.put_metric_data(Namespace="A", MetricData=[{"MetricName": "x"}])) \
        == "MissingParameter"
    gms = dict(Namespace="A", MetricName="x", StartTime=base, EndTime=base + 60)
    assert error_code(lambda: cw.get_metric_statistics(**gms, Period=45, Statistics=["Sum"])) == \
        "InvalidParameterValue"
    assert error_code(lambda: cw.get_metric_statistics(**gms, Period=60)) == "InvalidParameterCombination"
    assert error_code(lambda: cw.get_metric_statistics(**gms, Period=60, Statistics=["Sum"],
                                                       ExtendedStatistics=["p9"])) == "InvalidParameterCombination"
    assert error_code(lambda: cw.get_metric_statistics(Namespace="A", MetricName="x", StartTime=base,
                                                       EndTime=base - 60, Period=60, Statistics=["Sum"])) == \
        "InvalidParameterValue"
    assert error_code(lambda: cw.get_metric_statistics(Namespace="A", MetricName="x", StartTime=base,
                                                       EndTime=base + 86400 * 2, Period=60,
                                                       Statistics=["Sum"])) == "InvalidParameterCombination"
    bad_expr = [{"Id": "e", "Expression": "SUM(nothing"}]
    assert error_code(lambda: cw.get_metric_data(MetricDataQueries=bad_expr, StartTime=base,
                                                 EndTime=base + 60)) == "ValidationError"
    assert error_code(lambda: cw.get_metric_data(MetricDataQueries=[{"Id": "E1", "Expression": "TIME_SERIES(1)"}],
                                                 StartTime=base, EndTime=base + 60)) == "ValidationError"


def test_list_metrics_pages_500_at_a_time(aws, base):
    cw = aws("cloudwatch")
    cw.put_metric_data(Namespace="Many", MetricData=[{"MetricName": f"m{i:04d}", "Value": 1} for i in range(600)])
    first = cw.list_metrics(Namespace="Many")
    assert len(first["Metrics"]) == 500 and first["NextToken"]
    second = cw.list_metrics(Namespace="Many", NextToken=first["NextToken"])
    assert len(second["Metrics"]) == 100 and "NextToken" not in second
    names = [m["MetricName"] for m in first["Metrics"] + second["Metrics"]]
    assert names == sorted(names) and len(set(names)) == 600
