"""Metrics Insights queries in GetMetricData (boto3, every protocol): SELECT ... FROM ... WHERE ... GROUP BY ...
ORDER BY ... LIMIT."""

import pytest
from botocore.exceptions import ClientError


def _seed(cw, now):
    data = []
    for host, az, values in (("a", "us-east-1a", [10, 20]), ("b", "us-east-1a", [50, 70]),
                             ("c", "us-east-1b", [1, 3]), ("d", "us-east-1b", [100, 100])):
        for i, v in enumerate(values):
            data.append({"MetricName": "Load", "Dimensions": [{"Name": "Host", "Value": host},
                                                               {"Name": "AZ", "Value": az}],
                         "Value": v, "Timestamp": now - 240 + i * 60})
    data.append({"MetricName": "Load", "Dimensions": [{"Name": "Host", "Value": "solo"}], "Value": 1000,
                 "Timestamp": now - 240})
    cw.put_metric_data(Namespace="MI/App", MetricData=data)


def _query(cw, now, expression, **kw):
    out = cw.get_metric_data(MetricDataQueries=[{"Id": "q", "Expression": expression, "Period": 300, **kw}],
                             StartTime=now - 600, EndTime=now + 60, ScanBy="TimestampAscending")
    return [(r["Label"], r["Values"]) for r in out["MetricDataResults"]]


def test_where_group_by_order_by_limit(cw, kumo_server):
    now = (kumo_server.kumo.clock.now() // 300) * 300 + 280
    _seed(cw, now)
    # The bug: WHERE did not parse.
    assert _query(cw, now, "SELECT AVG(Load) FROM SCHEMA(\"MI/App\", Host, AZ) WHERE AZ = 'us-east-1a'") == \
        [("q", [37.5])]
    assert _query(cw, now, "SELECT SUM(Load) FROM \"MI/App\" WHERE AZ != 'us-east-1a' AND Host != 'd'") == \
        [("q", [1004.0])]  # 'solo' has no AZ, so AZ != 'us-east-1a' holds for it
    assert _query(cw, now, "SELECT MAX(Load) FROM SCHEMA(\"MI/App\", Host, AZ) GROUP BY AZ "
                           "ORDER BY MAX() DESC") == [("us-east-1b", [100.0]), ("us-east-1a", [70.0])]
    assert _query(cw, now, "SELECT AVG(Load) FROM SCHEMA(\"MI/App\", Host, AZ) WHERE Host IN ('a', 'b', 'c') "
                           "GROUP BY Host ORDER BY AVG() DESC LIMIT 2") == [("b", [60.0]), ("a", [15.0])]
    assert _query(cw, now, "SELECT COUNT(Load) FROM SCHEMA(\"MI/App\", Host, AZ) WHERE Host NOT IN ('a') "
                           "OR (AZ = 'us-east-1a' AND Host = 'a') GROUP BY AZ, Host ORDER BY COUNT() ASC LIMIT 1") \
        == [("us-east-1a a", [2.0])]


def test_bad_queries_are_refused(cw, kumo_server):
    now = kumo_server.kumo.clock.now()
    for bad in ("SELECT AVG(Load) FROM", "SELECT MEDIAN(Load) FROM \"MI/App\"",
                "SELECT AVG(Load) FROM \"MI/App\" WHERE Host = ", "SELECT AVG(Load) FROM \"MI/App\" LIMIT 501"):
        with pytest.raises(ClientError) as e:
            _query(cw, now, bad)
        assert e.value.response["Error"]["Code"] == "ValidationError", bad
    with pytest.raises(ClientError) as e:
        cw.get_metric_data(MetricDataQueries=[{"Id": "q", "Expression": "SELECT AVG(Load) FROM \"MI/App\""}],
                           StartTime=now - 600, EndTime=now)
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_alarm_on_a_metrics_insights_query(aws, kumo_server, cleanup_alarms):
    cw = aws("cloudwatch")
    query = "SELECT MAX(Queue) FROM SCHEMA(\"MI/Alarm\", Worker) WHERE Worker != 'idle'"
    cw.put_metric_alarm(AlarmName="mi-queue", EvaluationPeriods=1, Threshold=50,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
                        Metrics=[{"Id": "q", "Expression": query, "Period": 60}])
    kumo_server.advance(60 - kumo_server.kumo.clock.now() % 60 + 1)

    def put(worker, value):
        cw.put_metric_data(Namespace="MI/Alarm", MetricData=[{
            "MetricName": "Queue", "Dimensions": [{"Name": "Worker", "Value": worker}], "Value": value,
            "Timestamp": kumo_server.kumo.clock.now()}])

    put("idle", 500)  # left out by WHERE
    put("w1", 10)
    kumo_server.advance(60)
    assert cw.describe_alarms(AlarmNames=["mi-queue"])["MetricAlarms"][0]["StateValue"] == "OK"
    put("w2", 80)
    kumo_server.advance(60)
    alarm = cw.describe_alarms(AlarmNames=["mi-queue"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]
    with pytest.raises(ClientError) as e:  # a GROUP BY query is many series; an alarm watches one
        cw.put_metric_alarm(AlarmName="mi-many", EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator="GreaterThanThreshold", Metrics=[{
                                "Id": "q", "Period": 60,
                                "Expression": "SELECT MAX(Queue) FROM \"MI/Alarm\" GROUP BY Worker"}])
    assert e.value.response["Error"]["Code"] == "ValidationError"
