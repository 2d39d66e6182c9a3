"""Anomaly detectors and ANOMALY_DETECTION_BAND: the band in GetMetricData and an alarm on it (boto3)."""

import datetime as dt

import pytest
from botocore.exceptions import ClientError

METRIC = {"Namespace": "AD/App", "MetricName": "Latency", "Dimensions": [{"Name": "Api", "Value": "orders"}]}


def _queries(k=2):
    return [{"Id": "m1", "MetricStat": {"Metric": METRIC, "Period": 60, "Stat": "Average"}, "ReturnData": True},
            {"Id": "ad1", "Expression": f"ANOMALY_DETECTION_BAND(m1, {k})", "ReturnData": True}]


def test_detectors_crud(cw):
    cw.put_anomaly_detector(SingleMetricAnomalyDetector={**METRIC, "Stat": "Average"}, Configuration={
        "ExcludedTimeRanges": [{"StartTime": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                                "EndTime": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)}]})
    found = cw.describe_anomaly_detectors(Namespace="AD/App")["AnomalyDetectors"]
    assert len(found) == 1 and found[0]["SingleMetricAnomalyDetector"]["Stat"] == "Average"
    assert found[0]["StateValue"] == "PENDING_TRAINING"
    assert len(found[0]["Configuration"]["ExcludedTimeRanges"]) == 1
    with pytest.raises(ClientError) as e:
        cw.put_anomaly_detector(SingleMetricAnomalyDetector={**METRIC, "Stat": "Bogus"})
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    cw.delete_anomaly_detector(SingleMetricAnomalyDetector={**METRIC, "Stat": "Average"})
    assert cw.describe_anomaly_detectors()["AnomalyDetectors"] == []
    with pytest.raises(ClientError) as e:
        cw.delete_anomaly_detector(SingleMetricAnomalyDetector={**METRIC, "Stat": "Average"})
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_band_and_alarm_on_the_clock(aws, kumo_server, cleanup_alarms):
    cw = aws("cloudwatch")
    now = kumo_server.kumo.clock.now() // 60 * 60
    history = [100, 102, 98, 101, 99, 100, 103, 97, 100, 100]
    cw.put_metric_data(Namespace="AD/App", MetricData=[
        {"MetricName": "Latency", "Dimensions": METRIC["Dimensions"], "Value": v, "Timestamp": now - 600 + i * 60}
        for i, v in enumerate(history)])
    out = cw.get_metric_data(MetricDataQueries=_queries(), StartTime=now - 120, EndTime=now + 60,
                             ScanBy="TimestampAscending")["MetricDataResults"]
    lower, upper = [r for r in out if r["Id"] == "ad1"]
    assert (lower["Label"], upper["Label"]) == ("Lower", "Upper")
    # mean ± 2·stddev of the values before each period: about 100 ± 3.5.
    assert all(95 < v < 100 for v in lower["Values"]) and all(100 < v < 105 for v in upper["Values"])

    cw.put_metric_alarm(AlarmName="latency-anomaly", Metrics=_queries(), ThresholdMetricId="ad1",
                        ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold", EvaluationPeriods=1)
    assert cw.describe_anomaly_detectors(MetricName="Latency")["AnomalyDetectors"][0]["StateValue"] == "TRAINED"
    kumo_server.advance(60 - kumo_server.kumo.clock.now() % 60 + 1)
    cw.put_metric_data(Namespace="AD/App", MetricData=[{"MetricName": "Latency", "Dimensions": METRIC["Dimensions"],
                                                        "Value": 101, "Timestamp": kumo_server.kumo.clock.now()}])
    kumo_server.advance(60)
    alarm = cw.describe_alarms(AlarmNames=["latency-anomaly"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "OK", alarm["StateReason"]
    cw.put_metric_data(Namespace="AD/App", MetricData=[{"MetricName": "Latency", "Dimensions": METRIC["Dimensions"],
                                                        "Value": 250, "Timestamp": kumo_server.kumo.clock.now()}])
    kumo_server.advance(60)
    alarm = cw.describe_alarms(AlarmNames=["latency-anomaly"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Thresholds Crossed: 1 out of the last 1 datapoints [250.0")
    assert alarm["ThresholdMetricId"] == "ad1" and "Threshold" not in alarm

    with pytest.raises(ClientError) as e:
        cw.put_metric_alarm(AlarmName="bad", Metrics=_queries(), ThresholdMetricId="ad1", Threshold=1,
                            ComparisonOperator="GreaterThanUpperThreshold", EvaluationPeriods=1)
    assert e.value.response["Error"]["Code"] == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        cw.put_metric_alarm(AlarmName="bad", Metrics=_queries(), ThresholdMetricId="m1",
                            ComparisonOperator="GreaterThanUpperThreshold", EvaluationPeriods=1)
    assert e.value.response["Error"]["Code"] == "ValidationError"
