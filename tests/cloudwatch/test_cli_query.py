"""``aws cloudwatch`` speaking the query protocol, as awscli 1.x does, for every implemented operation."""

import json
import math

import pytest

pytestmark = pytest.mark.usefixtures("cleanup_alarms")


def test_every_operation_through_the_cli_in_query(aws_cli_query, account, kumo_server):
    def aws(*args):
        proc = aws_cli_query("cloudwatch", *args)
        operation = "".join(w.capitalize() for w in args[0].split("-"))
        # The request really was query (a form body; PutMetricData's arrives already url-encoded).
        assert f"'Action': '{operation}'" in proc.stderr or f"Action={operation}&" in proc.stderr
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    base = math.floor(kumo_server.kumo.clock.now() / 60) * 60 - 120
    aws("put-metric-data", "--namespace", "Cli", "--metric-data", json.dumps([
        {"MetricName": "Hits", "Timestamp": base + 1, "Value": 3, "Unit": "Count",
         "Dimensions": [{"Name": "Page", "Value": "home"}]},
        {"MetricName": "Hits", "Timestamp": base + 61, "Values": [1, 2], "Counts": [1, 1], "Unit": "Count",
         "Dimensions": [{"Name": "Page", "Value": "home"}]}]))
    stats = aws("get-metric-statistics", "--namespace", "Cli", "--metric-name", "Hits", "--dimensions",
                "Name=Page,Value=home", "--start-time", str(base), "--end-time", str(base + 120), "--period", "60",
                "--statistics", "Sum", "SampleCount")
    assert sorted((p["Sum"], p["SampleCount"]) for p in stats["Datapoints"]) == [(3.0, 1.0), (3.0, 2.0)]
    assert aws("list-metrics", "--namespace", "Cli")["Metrics"] == [
        {"Namespace": "Cli", "MetricName": "Hits", "Dimensions": [{"Name": "Page", "Value": "home"}]}]
    data = aws("get-metric-data", "--start-time", str(base), "--end-time", str(base + 120), "--scan-by",
               "TimestampAscending", "--metric-data-queries", json.dumps([
                   {"Id": "h", "MetricStat": {"Metric": {"Namespace": "Cli", "MetricName": "Hits",
                                                         "Dimensions": [{"Name": "Page", "Value": "home"}]},
                                              "Period": 60, "Stat": "Sum"}, "ReturnData": False},
                   {"Id": "double", "Expression": "h * 2", "Label": "Twice"}]))
    result = data["MetricDataResults"][0]
    assert result["Id"] == "double" and result["Label"] == "Twice" and result["Values"] == [6.0, 6.0]
    assert len(result["Timestamps"]) == 2

    aws("put-metric-alarm", "--alarm-name", "cli-alarm", "--namespace", "Cli", "--metric-name", "Hits",
        "--dimensions", "Name=Page,Value=home", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
        "--threshold", "100", "--comparison-operator", "GreaterThanThreshold", "--treat-missing-data",
        "notBreaching", "--alarm-actions", f"arn:aws:sns:us-east-1:{account}:cli")
    alarms = aws("describe-alarms", "--alarm-names", "cli-alarm")["MetricAlarms"]
    assert alarms[0]["AlarmName"] == "cli-alarm" and alarms[0]["TreatMissingData"] == "notBreaching"
    assert aws("describe-alarms-for-metric", "--namespace", "Cli", "--metric-name", "Hits", "--dimensions",
               "Name=Page,Value=home")["MetricAlarms"][0]["AlarmName"] == "cli-alarm"
    aws("set-alarm-state", "--alarm-name", "cli-alarm", "--state-value", "ALARM", "--state-reason", "cli")
    aws("put-composite-alarm", "--alarm-name", "cli-composite", "--alarm-rule", "ALARM(cli-alarm)")
    both = aws("describe-alarms", "--alarm-types", "MetricAlarm", "CompositeAlarm", "--state-value", "ALARM")
    assert [a["AlarmName"] for a in both["MetricAlarms"] + both["CompositeAlarms"]] == ["cli-alarm", "cli-composite"]
    history = aws("describe-alarm-history", "--alarm-name", "cli-alarm", "--history-item-type", "StateUpdate")
    assert history["AlarmHistoryItems"][0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    aws("disable-alarm-actions", "--alarm-names", "cli-alarm")
    aws("enable-alarm-actions", "--alarm-names", "cli-alarm")
    arn = f"arn:aws:cloudwatch:us-east-1:{account}:alarm:cli-alarm"
    aws("tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=ops")
    assert aws("list-tags-for-resource", "--resource-arn", arn)["Tags"] == [{"Key": "team", "Value": "ops"}]
    aws("untag-resource", "--resource-arn", arn, "--tag-keys", "team")
    aws("delete-alarms", "--alarm-names", "cli-composite", "cli-alarm")
    assert aws("describe-alarms")["MetricAlarms"] == []

    aws("put-dashboard", "--dashboard-name", "cli", "--dashboard-body", '{"widgets": []}')
    assert aws("get-dashboard", "--dashboard-name", "cli")["DashboardBody"] == '{"widgets": []}'
    assert [d["DashboardName"] for d in aws("list-dashboards")["DashboardEntries"]] == ["cli"]
    aws("delete-dashboards", "--dashboard-names", "cli")


def test_cli_query_errors_are_awss(aws_cli_query):
    proc = aws_cli_query("cloudwatch", "put-metric-data", "--namespace", "AWS/EC2", "--metric-name", "x",
                         "--value", "1", check=False)
    assert proc.returncode != 0 and "(InvalidParameterValue)" in proc.stderr
