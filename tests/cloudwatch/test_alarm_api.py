"""Every alarm and dashboard operation through CBOR, JSON and query, with AWS's errors."""

import json

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.usefixtures("cleanup_alarms")


def code_of(call) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def metric_alarm(name, **kw):
    args = dict(AlarmName=name, Namespace="App", MetricName="Load", Statistic="Average", Period=60,
                EvaluationPeriods=2, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
                Dimensions=[{"Name": "InstanceId", "Value": "i-0abc"}])
    args.update(kw)
    return {k: v for k, v in args.items() if v is not None}


def test_put_describe_set_state_and_delete(cw, account):
    cw.put_metric_alarm(**metric_alarm("a-one", AlarmDescription="first", Unit="Percent",
                                       AlarmActions=["arn:aws:automate:us-east-1:ec2:stop"],
                                       Tags=[{"Key": "team", "Value": "ops"}]))
    cw.put_metric_alarm(**metric_alarm("a-two", ExtendedStatistic="p99", Statistic=None,
                                       OKActions=[f"arn:aws:sns:us-east-1:{account}:ok"]))
    cw.put_metric_alarm(**metric_alarm("b-three", MetricName="Other"))
    cw.put_composite_alarm(AlarmName="c-four", AlarmRule="ALARM(a-one) OR ALARM(a-two)",
                           AlarmActions=[f"arn:aws:sns:us-east-1:{account}:page"])
    found = cw.describe_alarms()
    assert [a["AlarmName"] for a in found["MetricAlarms"]] == ["a-one", "a-two", "b-three"]
    assert found["CompositeAlarms"] == []  # only metric alarms unless AlarmTypes says otherwise
    one = found["MetricAlarms"][0]
    assert one["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{account}:alarm:a-one"
    assert one["StateValue"] == "INSUFFICIENT_DATA" and one["StateReason"] == "Unchecked: Initial alarm creation"
    assert one["ActionsEnabled"] is True and one["Unit"] == "Percent" and one["AlarmDescription"] == "first"
    assert one["Dimensions"] == [{"Name": "InstanceId", "Value": "i-0abc"}]
    assert one["OKActions"] == [] and one["AlarmActions"] == ["arn:aws:automate:us-east-1:ec2:stop"]
    assert one["AlarmConfigurationUpdatedTimestamp"] and one["StateUpdatedTimestamp"]
    assert found["MetricAlarms"][1]["ExtendedStatistic"] == "p99" and "Statistic" not in found["MetricAlarms"][1]

    both = cw.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"], AlarmNamePrefix="c-")
    assert [a["AlarmName"] for a in both["CompositeAlarms"]] == ["c-four"] and both["MetricAlarms"] == []
    assert both["CompositeAlarms"][0]["AlarmRule"] == "ALARM(a-one) OR ALARM(a-two)"
    assert [a["AlarmName"] for a in cw.describe_alarms(AlarmNames=["b-three", "zzz"])["MetricAlarms"]] == ["b-three"]
    by_action = cw.describe_alarms(ActionPrefix="arn:aws:automate:", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert [a["AlarmName"] for a in by_action["MetricAlarms"]] == ["a-one"]
    page = cw.describe_alarms(MaxRecords=2)
    rest = cw.describe_alarms(MaxRecords=2, NextToken=page["NextToken"])
    assert [a["AlarmName"] for a in page["MetricAlarms"] + rest["MetricAlarms"]] == ["a-one", "a-two", "b-three"]
    assert "NextToken" not in rest

    for_metric = cw.describe_alarms_for_metric(Namespace="App", MetricName="Load",
                                               Dimensions=[{"Name": "InstanceId", "Value": "i-0abc"}])
    assert [a["AlarmName"] for a in for_metric["MetricAlarms"]] == ["a-one", "a-two"]
    assert [a["AlarmName"] for a in cw.describe_alarms_for_metric(
        Namespace="App", MetricName="Load", ExtendedStatistic="p99")["MetricAlarms"]] == ["a-two"]

    cw.set_alarm_state(AlarmName="a-one", StateValue="ALARM", StateReason="manual",
                       StateReasonData=json.dumps({"why": "test"}))
    now = cw.describe_alarms(StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert [a["AlarmName"] for a in now["MetricAlarms"]] == ["a-one"]
    assert [a["AlarmName"] for a in now["CompositeAlarms"]] == ["c-four"]
    assert now["MetricAlarms"][0]["StateReason"] == "manual"
    assert json.loads(now["MetricAlarms"][0]["StateReasonData"]) == {"why": "test"}

    cw.disable_alarm_actions(AlarmNames=["a-one", "c-four"])
    assert cw.describe_alarms(AlarmNames=["a-one"])["MetricAlarms"][0]["ActionsEnabled"] is False
    cw.enable_alarm_actions(AlarmNames=["a-one"])
    assert cw.describe_alarms(AlarmNames=["a-one"])["MetricAlarms"][0]["ActionsEnabled"] is True

    # An update keeps the state and overwrites the configuration.
    cw.put_metric_alarm(**metric_alarm("a-one", Threshold=5.0))
    updated = cw.describe_alarms(AlarmNames=["a-one"])["MetricAlarms"][0]
    assert updated["StateValue"] == "ALARM" and updated["Threshold"] == 5.0 and "AlarmDescription" not in updated
    history = cw.describe_alarm_history(AlarmName="a-one", HistoryItemType="ConfigurationUpdate")
    summaries = [h["HistorySummary"] for h in history["AlarmHistoryItems"]]
    assert summaries == ['Alarm "a-one" updated', 'Alarm "a-one" created']
    assert json.loads(history["AlarmHistoryItems"][0]["HistoryData"])["originalUpdatedFields"]["threshold"] == 1.0
    everything = cw.describe_alarm_history(AlarmTypes=["MetricAlarm", "CompositeAlarm"], MaxRecords=3)
    assert len(everything["AlarmHistoryItems"]) == 3 and everything["NextToken"]

    assert code_of(lambda: cw.delete_alarms(AlarmNames=["a-two", "nope"])) == "ResourceNotFound"
    cw.delete_alarms(AlarmNames=["a-two", "b-three", "c-four"])
    assert [a["AlarmName"] for a in cw.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"])[
        "MetricAlarms"]] == ["a-one"]
    deleted = cw.describe_alarm_history(AlarmName="b-three")["AlarmHistoryItems"]
    assert deleted[0]["HistorySummary"] == 'Alarm "b-three" deleted'


def test_alarm_validation(cw, account):
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm("x", AlarmActions=["arn:aws:sns:us-east-1:bad"]))) \
        == "ValidationError"
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm("x", AlarmActions=["not-an-arn"]))) \
        == "ValidationError"
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm(
        "x", AlarmActions=["arn:aws:automate:eu-west-1:ec2:stop"]))) == "ValidationError"
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm(
        "x", Dimensions=[], AlarmActions=["arn:aws:automate:us-east-1:ec2:reboot"]))) == "ValidationError"
    # Well-formed ARNs are accepted even when no kumo service handles them yet.
    cw.put_metric_alarm(**metric_alarm("ok", AlarmActions=[
        "arn:aws:automate:us-east-1:ec2:recover",
        f"arn:aws:autoscaling:us-east-1:{account}:scalingPolicy:12345678-1234-1234-1234-123456789012:"
        "autoScalingGroupName/web:policyName/up",
        f"arn:aws:lambda:us-east-1:{account}:function:fix-it",
        f"arn:aws:ssm:us-east-1:{account}:opsitem:2"]))
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm("x", Period=45))) == "InvalidParameterValue"
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm("x", DatapointsToAlarm=3))) == "ValidationError"
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm("x", Period=3600, EvaluationPeriods=200))) \
        == "ValidationError"
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm("x", TreatMissingData="sometimes"))) \
        == "InvalidParameterValue"
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm("x", ExtendedStatistic="p90"))) \
        == "InvalidParameterCombination"
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm(
        "x", ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold"))) == "InvalidParameterValue"
    assert code_of(lambda: cw.put_metric_alarm(**metric_alarm("x", Metrics=[
        {"Id": "m1", "Expression": "TIME_SERIES(1)"}]))) == "InvalidParameterCombination"
    assert code_of(lambda: cw.put_metric_alarm(AlarmName="x", EvaluationPeriods=1, Threshold=1,
                                               ComparisonOperator="GreaterThanThreshold", Metrics=[
                                                   {"Id": "a", "Expression": "TIME_SERIES(1)"},
                                                   {"Id": "b", "Expression": "TIME_SERIES(2)"}])) \
        == "ValidationError"
    assert code_of(lambda: cw.put_metric_alarm(AlarmName="x", EvaluationPeriods=1, Threshold=1,
                                               ComparisonOperator="GreaterThanThreshold", Metrics=[
                                                   {"Id": "m", "ReturnData": False, "MetricStat": {
                                                       "Metric": {"Namespace": "A", "MetricName": "B"},
                                                       "Period": 60, "Stat": "Sum"}},
                                                   {"Id": "all", "Expression": "METRICS()"}])) == "ValidationError"
    assert code_of(lambda: cw.put_composite_alarm(AlarmName="c", AlarmRule="ALARM(ok) AND")) == "ValidationError"
    assert code_of(lambda: cw.put_composite_alarm(AlarmName="c", AlarmRule="ALARM(ok)", AlarmActions=[
        "arn:aws:automate:us-east-1:ec2:stop"])) == "ValidationError"
    assert code_of(lambda: cw.set_alarm_state(AlarmName="nope", StateValue="OK", StateReason="r")) \
        == "ResourceNotFound"
    assert code_of(lambda: cw.set_alarm_state(AlarmName="ok", StateValue="OK", StateReason="r",
                                              StateReasonData="{not json")) == "InvalidFormat"
    assert code_of(lambda: cw.describe_alarms(AlarmNames=["a"], AlarmNamePrefix="a")) \
        == "InvalidParameterCombination"
    assert code_of(lambda: cw.describe_alarms(ChildrenOfAlarmName="a", StateValue="OK")) \
        == "InvalidParameterCombination"
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["ok"]


def test_dashboards_and_tags(cw, account):
    body = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 3, "height": 3,
                                    "properties": {"markdown": "hi"}}]})
    assert cw.put_dashboard(DashboardName="ops", DashboardBody=body)["DashboardValidationMessages"] == []
    cw.put_dashboard(DashboardName="ops-2", DashboardBody=json.dumps({"widgets": []}))
    got = cw.get_dashboard(DashboardName="ops")
    assert got["DashboardBody"] == body and got["DashboardArn"] == f"arn:aws:cloudwatch::{account}:dashboard/ops"
    entries = cw.list_dashboards(DashboardNamePrefix="ops")["DashboardEntries"]
    assert [(e["DashboardName"], e["Size"]) for e in entries] == [("ops", len(body)), ("ops-2", len(json.dumps({"widgets": []})))]
    assert code_of(lambda: cw.put_dashboard(DashboardName="bad", DashboardBody="{nope")) == "InvalidParameterInput"
    assert code_of(lambda: cw.get_dashboard(DashboardName="missing")) == "ResourceNotFound"
    assert code_of(lambda: cw.delete_dashboards(DashboardNames=["ops", "missing"])) == "ResourceNotFound"
    cw.delete_dashboards(DashboardNames=["ops", "ops-2"])
    assert cw.list_dashboards()["DashboardEntries"] == []

    cw.put_metric_alarm(**metric_alarm("tagged", Tags=[{"Key": "team", "Value": "ops"}]))
    arn = f"arn:aws:cloudwatch:us-east-1:{account}:alarm:tagged"
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}])
    assert sorted((t["Key"], t["Value"]) for t in cw.list_tags_for_resource(ResourceARN=arn)["Tags"]) == [
        ("env", "prod"), ("team", "ops")]
    cw.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert code_of(lambda: cw.list_tags_for_resource(ResourceARN=arn + "-gone")) == "ResourceNotFoundException"


def test_metric_math_alarm_round_trips(cw):
    queries = [{"Id": "errors", "ReturnData": False, "Label": "Errors",
                "MetricStat": {"Metric": {"Namespace": "Svc", "MetricName": "Errors",
                                          "Dimensions": [{"Name": "Api", "Value": "pay"}]},
                               "Period": 300, "Stat": "Sum", "Unit": "Count"}},
               {"Id": "rate", "Expression": "errors / PERIOD(errors)", "Label": "Errors per second",
                "ReturnData": True}]
    cw.put_metric_alarm(AlarmName="math", EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=0.5,
                        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="ignore",
                        Metrics=queries)
    got = cw.describe_alarms(AlarmNames=["math"])["MetricAlarms"][0]
    assert got["Metrics"] == queries
    assert got["EvaluationPeriods"] == 3 and got["DatapointsToAlarm"] == 2 and got["TreatMissingData"] == "ignore"
    assert "MetricName" not in got and "Period" not in got
