"""Alarms evaluate on kumo's clock with AWS's semantics, record their history and fire their actions."""

import json

import pytest

pytestmark = pytest.mark.usefixtures("cleanup_alarms")


def alarm(client, name):
    found = client.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    return (found["MetricAlarms"] + found["CompositeAlarms"])[0]


def put_alarm(client, name, **kw):
    args = dict(AlarmName=name, Namespace="App", MetricName="Load", Statistic="Average", Period=60,
                EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=50.0, ComparisonOperator="GreaterThanThreshold")
    args.update(kw)
    client.put_metric_alarm(**args)


def test_two_of_three_goes_to_alarm_exactly_then_back_to_ok(aws, minutes):
    cw = aws("cloudwatch")
    put_alarm(cw, "two-of-three")
    assert alarm(cw, "two-of-three")["StateValue"] == "INSUFFICIENT_DATA"
    m = minutes()
    expected = [
        (60, "INSUFFICIENT_DATA"),  # X: one breaching datapoint, too few to decide
        (10, "OK"),                 # X 0
        (70, "ALARM"),              # X 0 X: 2 of the last 3 breach
        (10, "OK"),                 # 0 X 0
        (10, "OK"),                 # X 0 0
        (80, "OK"),                 # 0 0 X
        (80, "ALARM"),              # 0 X X
        (80, "ALARM"),              # X X X
        (10, "ALARM"),              # X X 0
        (10, "OK"),                 # X 0 0
    ]
    seen = []
    for value, _state in expected:
        m.put(value)
        seen.append(alarm(cw, "two-of-three")["StateValue"])
    assert seen == [state for _, state in expected]

    current = alarm(cw, "two-of-three")
    assert current["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints [10.0 (")
    assert current["StateReason"].endswith("were not greater than the threshold (50.0) "
                                           "(minimum 2 datapoints for ALARM -> OK transition).")
    data = json.loads(current["StateReasonData"])
    assert data["statistic"] == "Average" and data["period"] == 60 and data["threshold"] == 50.0
    assert [p["value"] for p in data["evaluatedDatapoints"]] == [10.0, 10.0, 80.0]

    history = cw.describe_alarm_history(AlarmName="two-of-three", HistoryItemType="StateUpdate",
                                        ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from INSUFFICIENT_DATA to OK", "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"]
    first = json.loads(history[1]["HistoryData"])
    assert first["version"] == "1.0"
    assert first["oldState"]["stateValue"] == "OK" and first["newState"]["stateValue"] == "ALARM"
    assert first["newState"]["stateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints")
    assert first["newState"]["stateReasonData"]["recentDatapoints"][-3:] == [60.0, 10.0, 70.0]
    assert all(h["AlarmType"] == "MetricAlarm" and h["AlarmName"] == "two-of-three" for h in history)
    config = cw.describe_alarm_history(AlarmName="two-of-three",
                                       HistoryItemType="ConfigurationUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in config] == ['Alarm "two-of-three" created']
    assert json.loads(config[0]["HistoryData"])["createdAlarm"]["alarmName"] == "two-of-three"


@pytest.mark.parametrize("treat, state", [("missing", "INSUFFICIENT_DATA"), ("breaching", "ALARM"),
                                          ("notBreaching", "OK"), ("ignore", "INSUFFICIENT_DATA")])
def test_no_data_at_all_per_treat_missing_data(aws, kumo_server, treat, state):
    cw = aws("cloudwatch")
    put_alarm(cw, f"quiet-{treat}", MetricName="Silent", TreatMissingData=treat)
    kumo_server.advance(120)
    current = alarm(cw, f"quiet-{treat}")
    assert current["StateValue"] == state
    assert current["TreatMissingData"] == treat
    if treat == "breaching":
        assert current["StateReason"] == ("Threshold Crossed: no datapoints were received for 3 periods and 3 "
                                          "missing datapoints were treated as [Breaching].")


def test_ignore_keeps_the_state_when_data_stops(aws, minutes):
    cw = aws("cloudwatch")
    put_alarm(cw, "sticky", EvaluationPeriods=1, DatapointsToAlarm=1, TreatMissingData="ignore")
    m = minutes()
    m.put(90)
    assert alarm(cw, "sticky")["StateValue"] == "ALARM"
    m.put(None, advance=600)
    assert alarm(cw, "sticky")["StateValue"] == "ALARM"


def test_missing_keeps_the_last_verdict_until_the_range_is_empty(aws, minutes):
    cw = aws("cloudwatch")
    put_alarm(cw, "stopped", EvaluationPeriods=3, DatapointsToAlarm=3)
    m = minutes()
    for _ in range(3):
        m.put(90)
    assert alarm(cw, "stopped")["StateValue"] == "ALARM"
    m.put(None, advance=120)  # X X X - - : still ALARM
    assert alarm(cw, "stopped")["StateValue"] == "ALARM"
    m.put(None, advance=300)  # nothing left in the evaluation range
    assert alarm(cw, "stopped")["StateValue"] == "INSUFFICIENT_DATA"


def test_actions_dispatch_with_the_sns_notification_and_events(aws, account, kumo_server, minutes):
    """The alarm's action ARN reaches its service: SNS publishes AWS's alarm notification to a real queue."""
    kumo = kumo_server.kumo
    events = []
    kumo.events.subscribe(lambda e: events.append(e) if e["account"] == account else None)
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name="pager")["TopicArn"]
    queue = sqs.create_queue(QueueName="pager-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    def notifications():
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        for msg in got:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"])
        return [json.loads(msg["Body"]) for msg in got]

    cw = aws("cloudwatch")
    orphan = f"arn:aws:sns:us-east-1:{account}:nobody-listens"
    put_alarm(cw, "paged", EvaluationPeriods=1, DatapointsToAlarm=1, AlarmDescription="page me",
              AlarmActions=[topic, orphan], OKActions=[topic],
              Dimensions=[{"Name": "Host", "Value": "a"}])
    m = minutes(dims=[{"Name": "Host", "Value": "a"}])
    m.put(99)
    sent = notifications()
    assert len(sent) == 1
    context = sent[0]
    assert context["AlarmName"] == "paged" and context["AlarmDescription"] == "page me"
    assert context["AWSAccountId"] == account and context["NewStateValue"] == "ALARM"
    assert context["OldStateValue"] == "INSUFFICIENT_DATA" and context["Region"] == "US East (N. Virginia)"
    assert context["NewStateReason"].startswith("Threshold Crossed: 1 datapoint [99.0 (")
    assert context["StateChangeTime"].endswith("+0000") and context["AlarmActions"] == [topic, orphan]
    assert context["Trigger"]["MetricName"] == "Load" and context["Trigger"]["Statistic"] == "AVERAGE"
    assert context["Trigger"]["Dimensions"] == [{"value": "a", "name": "Host"}]
    assert context["Trigger"]["Threshold"] == 50.0 and context["Trigger"]["ComparisonOperator"] == \
        "GreaterThanThreshold"
    assert "kumo" not in context  # kumo's own part of the context is not published

    actions = cw.describe_alarm_history(AlarmName="paged", HistoryItemType="Action")["AlarmHistoryItems"]
    by_arn = {json.loads(h["HistoryData"])["notificationResource"]: h for h in actions}
    assert by_arn[topic]["HistorySummary"] == f"Successfully executed action {topic}"
    assert json.loads(by_arn[topic]["HistoryData"])["actionState"] == "Succeeded"
    assert by_arn[orphan]["HistorySummary"].startswith(f"Failed to execute action {orphan}")
    assert json.loads(by_arn[orphan]["HistoryData"])["actionState"] == "Failed"

    change = [e for e in events if e["detail-type"] == "CloudWatch Alarm State Change"]
    assert len(change) == 1 and change[0]["source"] == "aws.cloudwatch"
    assert change[0]["resources"] == [f"arn:aws:cloudwatch:us-east-1:{account}:alarm:paged"]
    detail = change[0]["detail"]
    assert detail["alarmName"] == "paged" and detail["state"]["value"] == "ALARM"
    assert detail["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert detail["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] == {"Host": "a"}

    cw.disable_alarm_actions(AlarmNames=["paged"])
    m.put(1)
    assert alarm(cw, "paged")["StateValue"] == "OK" and notifications() == []  # actions disabled: no OK action
    cw.enable_alarm_actions(AlarmNames=["paged"])
    m.put(99)
    again = notifications()
    assert len(again) == 1 and again[0]["OldStateValue"] == "OK"


def test_alarm_on_a_metric_math_expression(aws, minutes):
    cw = aws("cloudwatch")
    stat = {"Period": 60, "Stat": "Sum"}
    cw.put_metric_alarm(AlarmName="error-rate", EvaluationPeriods=1, Threshold=10.0,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching", Metrics=[
                            {"Id": "e", "MetricStat": {"Metric": {"Namespace": "Svc", "MetricName": "Errors"}, **stat},
                             "ReturnData": False},
                            {"Id": "r", "MetricStat": {"Metric": {"Namespace": "Svc", "MetricName": "Requests"},
                                                       **stat}, "ReturnData": False},
                            {"Id": "rate", "Expression": "100 * e / r", "Label": "Error %"}])
    errors, requests = minutes("Svc", "Errors"), minutes("Svc", "Requests")
    requests.put(100, advance=0)
    errors.put(20)
    assert alarm(cw, "error-rate")["StateValue"] == "ALARM"
    requests.put(100, advance=0)
    errors.put(2)
    current = alarm(cw, "error-rate")
    assert current["StateValue"] == "OK" and current["Metrics"][2]["Expression"] == "100 * e / r"


def test_high_resolution_alarm_evaluates_every_ten_seconds(aws, kumo_server):
    cw = aws("cloudwatch")
    put_alarm(cw, "fast", MetricName="Burst", Period=10, EvaluationPeriods=1, DatapointsToAlarm=1)
    now = kumo_server.kumo.clock.now()
    kumo_server.advance(10 - now % 10 + 1)  # one second into a 10-second period
    cw.put_metric_data(Namespace="App", MetricData=[{"MetricName": "Burst", "Value": 99, "StorageResolution": 1,
                                                     "Timestamp": kumo_server.kumo.clock.now()}])
    kumo_server.advance(10)
    assert alarm(cw, "fast")["StateValue"] == "ALARM"


def test_composite_alarm_follows_its_rule(aws, account, kumo_server):
    cw = aws("cloudwatch")
    put_alarm(cw, "cpu", MetricName="Cpu")
    put_alarm(cw, "disk", MetricName="Disk")
    cw.put_composite_alarm(AlarmName="host", AlarmRule='ALARM(cpu) AND NOT ALARM("disk")')
    host = alarm(cw, "host")
    assert host["StateValue"] == "OK" and host["AlarmRule"] == 'ALARM(cpu) AND NOT ALARM("disk")'
    cw.set_alarm_state(AlarmName="cpu", StateValue="ALARM", StateReason="testing")
    host = alarm(cw, "host")
    assert host["StateValue"] == "ALARM"
    assert host["StateReason"].startswith(f"arn:aws:cloudwatch:us-east-1:{account}:alarm:cpu transitioned to ALARM")
    assert json.loads(host["StateReasonData"])["triggeringAlarms"][0]["state"]["value"] == "ALARM"
    cw.set_alarm_state(AlarmName="disk", StateValue="ALARM", StateReason="testing")
    assert alarm(cw, "host")["StateValue"] == "OK"
    cw.set_alarm_state(AlarmName="disk", StateValue="OK", StateReason="testing")
    assert alarm(cw, "host")["StateValue"] == "ALARM"
    # Composites of composites, and the parent/children listings.
    cw.put_composite_alarm(AlarmName="fleet", AlarmRule="ALARM(host) OR ALARM(cpu)")
    assert alarm(cw, "fleet")["StateValue"] == "ALARM"
    children = cw.describe_alarms(ChildrenOfAlarmName="fleet")
    assert [a["AlarmName"] for a in children["MetricAlarms"]] == ["cpu"]
    assert [a["AlarmName"] for a in children["CompositeAlarms"]] == ["host"]
    parents = cw.describe_alarms(ParentsOfAlarmName="cpu")
    assert [a["AlarmName"] for a in parents["CompositeAlarms"]] == ["fleet", "host"]
    history = cw.describe_alarm_history(AlarmName="host", AlarmTypes=["CompositeAlarm"],
                                        HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert len(history) == 4 and all(h["AlarmType"] == "CompositeAlarm" for h in history)
    # The next evaluation of a metric alarm overrides SetAlarmState.
    kumo_server.advance(60)
    assert alarm(cw, "cpu")["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm(cw, "host")["StateValue"] == "OK"


def test_kumos_own_metrics_arrive_through_the_metric_sink(aws, account, kumo_server):
    from kumo.core.hub import Datapoint

    kumo = kumo_server.kumo
    base = kumo.clock.now() // 300 * 300 - 300
    points = [Datapoint(account, "us-east-1", "AWS/EC2", "CPUUtilization", 90.0 + i, base + i * 30,
                        {"InstanceId": "i-0123456789abcdef0"}, "Percent") for i in range(4)]
    kumo_server.run(kumo.metrics.put, points)
    cw = aws("cloudwatch")
    out = cw.get_metric_statistics(Namespace="AWS/EC2", MetricName="CPUUtilization",
                                   Dimensions=[{"Name": "InstanceId", "Value": "i-0123456789abcdef0"}],
                                   StartTime=base, EndTime=base + 300, Period=300, Statistics=["Average"])
    assert [p["Average"] for p in out["Datapoints"]] == [91.5] and out["Datapoints"][0]["Unit"] == "Percent"
    assert cw.list_metrics(Namespace="AWS/EC2")["Metrics"][0]["Dimensions"] == [
        {"Name": "InstanceId", "Value": "i-0123456789abcdef0"}]


def test_composite_actions_wait_while_the_suppressor_is_in_alarm(aws, account, kumo_server):
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name="composite")["TopicArn"]
    queue = sqs.create_queue(QueueName="composite-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    calls = []

    def received(wait: int = 0):
        # The action runs after SetAlarmState answers: a long poll waits for its message.
        for msg in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=wait).get("Messages", []):
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"])
            calls.append(json.loads(msg["Body"]))
        return calls

    cw = aws("cloudwatch")
    put_alarm(cw, "child", MetricName="Child")
    put_alarm(cw, "maintenance", MetricName="Maintenance")
    cw.put_composite_alarm(AlarmName="parent", AlarmRule="ALARM(child)", AlarmActions=[topic],
                           ActionsSuppressor="maintenance", ActionsSuppressorWaitPeriod=60,
                           ActionsSuppressorExtensionPeriod=60)
    cw.set_alarm_state(AlarmName="maintenance", StateValue="ALARM", StateReason="window")
    cw.set_alarm_state(AlarmName="child", StateValue="ALARM", StateReason="broken")
    parent = alarm(cw, "parent")
    assert parent["StateValue"] == "ALARM" and received() == []
    assert parent["ActionsSuppressedBy"] == "Alarm"
    cw.set_alarm_state(AlarmName="child", StateValue="OK", StateReason="fixed")
    cw.set_alarm_state(AlarmName="maintenance", StateValue="OK", StateReason="over")
    cw.set_alarm_state(AlarmName="child", StateValue="ALARM", StateReason="broken again")
    assert [c["AlarmName"] for c in received(wait=5)] == ["parent"] and calls[0]["AlarmRule"] == "ALARM(child)"
    assert "ActionsSuppressedBy" not in alarm(cw, "parent")
