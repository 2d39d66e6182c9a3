"""EC2 in CloudWatch: metrics measured from real process trees, alarm actions on real instances, console logs."""

import time

import pytest

from .conftest import AMI, WEB_EVERY_BOOT, answers, console, wait_state

BURN = "#!/bin/sh\n(while :; do :; done) &\n"


def _cpu(cw, iid, start, end, period):
    points = cw.get_metric_statistics(Namespace="AWS/EC2", MetricName="CPUUtilization",
                                      Dimensions=[{"Name": "InstanceId", "Value": iid}], StartTime=start,
                                      EndTime=end, Period=period, Statistics=["Average", "SampleCount"])
    return sorted(points["Datapoints"], key=lambda d: d["Timestamp"])


def test_cpu_utilization_of_busy_and_idle_instances(aws, kumo_server):
    ec2, cw = aws("ec2"), aws("cloudwatch")
    busy = ec2.run_instances(ImageId=AMI, InstanceType="t2.micro", MinCount=1, MaxCount=1, UserData=BURN,
                             Monitoring={"Enabled": True})["Instances"][0]["InstanceId"]
    idle = ec2.run_instances(ImageId=AMI, InstanceType="t2.micro", MinCount=1, MaxCount=1,
                             Monitoring={"Enabled": True})["Instances"][0]["InstanceId"]
    wait_state(ec2, [busy, idle], "running")
    start = kumo_server.kumo.clock.now()
    time.sleep(3)  # the workloads run in real time; let them run before a simulated minute closes
    kumo_server.advance(120)
    end = kumo_server.kumo.clock.now()
    hot = _cpu(cw, busy, start - 60, end + 60, 60)
    cold = _cpu(cw, idle, start - 60, end + 60, 60)
    assert len(hot) >= 2 and cold
    # The first minute also holds the boot; from the next one on the burner has the CPU to itself.
    assert hot[-1]["Average"] > 80, hot
    assert all(p["Average"] < 10 for p in cold), cold
    names = {m["MetricName"] for m in cw.list_metrics(Namespace="AWS/EC2", Dimensions=[
        {"Name": "InstanceId", "Value": busy}])["Metrics"]}
    assert {"CPUUtilization", "DiskReadBytes", "DiskWriteOps", "StatusCheckFailed",
            "StatusCheckFailed_Instance", "StatusCheckFailed_System"} <= names
    assert "MemoryUtilization" not in names  # no memory metric, as on AWS


def test_basic_monitoring_publishes_five_minute_points(aws, kumo_server):
    ec2, cw = aws("ec2"), aws("cloudwatch")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    start = kumo_server.kumo.clock.now()
    kumo_server.advance(660)
    points = _cpu(cw, iid, start - 300, kumo_server.kumo.clock.now() + 60, 60)
    assert points and all(int(p["Timestamp"].timestamp()) % 300 == 0 for p in points)
    status = cw.get_metric_statistics(Namespace="AWS/EC2", MetricName="StatusCheckFailed",
                                      Dimensions=[{"Name": "InstanceId", "Value": iid}], StartTime=start - 60,
                                      EndTime=kumo_server.kumo.clock.now() + 60, Period=60, Statistics=["Maximum"])
    assert len(status["Datapoints"]) >= 10  # status checks are published every minute either way


def _alarm(cw, name, iid, action, metric="CPUUtilization", threshold=1000.0):
    cw.put_metric_alarm(AlarmName=name, Namespace="AWS/EC2", MetricName=metric,
                        Dimensions=[{"Name": "InstanceId", "Value": iid}], Statistic="Maximum", Period=60,
                        EvaluationPeriods=1, Threshold=threshold, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        AlarmActions=[f"arn:aws:automate:us-east-1:ec2:{action}"])


@pytest.mark.parametrize("action, state", [("stop", "stopped"), ("terminate", "terminated")])
def test_alarm_actions_stop_and_terminate(aws, action, state):
    ec2, cw = aws("ec2"), aws("cloudwatch")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    _alarm(cw, f"{action}-me", iid, action)
    cw.set_alarm_state(AlarmName=f"{action}-me", StateValue="ALARM", StateReason="testing the action")
    inst = wait_state(ec2, [iid], state)[0]
    assert "Alarm 'stop-me'" in inst["StateTransitionReason"] or action != "stop"


def test_alarm_action_reboot(aws):
    ec2, cw = aws("ec2"), aws("cloudwatch")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                            UserData="#!/bin/sh\ntrue\n")["Instances"][0]["InstanceId"]
    console(ec2, iid, "Up 1 boot(s)")
    _alarm(cw, "reboot-me", iid, "reboot")
    cw.set_alarm_state(AlarmName="reboot-me", StateValue="ALARM", StateReason="testing reboot")
    console(ec2, iid, "Up 2 boot(s)")


def test_status_check_alarm_recovers_the_instance_keeping_its_identity(aws, kumo_server, endpoint):
    import json
    import urllib.request

    ec2, cw = aws("ec2"), aws("cloudwatch")
    inst = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, UserData=WEB_EVERY_BOOT,
                             Placement={"AvailabilityZone": "us-east-1b"})["Instances"][0]
    iid = inst["InstanceId"]
    wait_state(ec2, [iid], "running")
    assert answers(f"http://{inst['PublicIpAddress']}:8080/")
    _alarm(cw, "recover-me", iid, "recover", metric="StatusCheckFailed_System", threshold=1.0)
    host_before = kumo_server.kumo.store.table(f"{aws.account}/us-east-1", "ec2.instance").get(iid)["_host"]
    req = urllib.request.Request(f"{endpoint}/_kumo/faults/instances/{iid}", method="POST",
                                 data=json.dumps({"action": "fail-system-check"}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    kumo_server.advance(180)  # the failed check is measured, the alarm fires, EC2 recovers the instance
    alarm = cw.describe_alarms(AlarmNames=["recover-me"])["MetricAlarms"][0]
    history = cw.describe_alarm_history(AlarmName="recover-me", HistoryItemType="Action")["AlarmHistoryItems"]
    assert any("Successfully executed action" in h["HistorySummary"] for h in history), (alarm, history)
    out = console(ec2, iid, "Up 2 boot(s)")
    after = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert after["State"]["Name"] == "running"
    assert (after["PrivateIpAddress"], after["PublicIpAddress"], after["Placement"]["AvailabilityZone"]) == \
        (inst["PrivateIpAddress"], inst["PublicIpAddress"], "us-east-1b")
    record = kumo_server.kumo.store.table(f"{aws.account}/us-east-1", "ec2.instance").get(iid)
    assert record["_host"] != host_before  # a new simulated host
    status = ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"][0]
    assert status["SystemStatus"]["Status"] != "impaired"
    assert answers(f"http://{inst['PublicIpAddress']}:8080/")
    assert "Up 2 boot(s)" in out


def test_console_output_flows_into_cloudwatch_logs(aws, kumo_server):
    ec2, logs = aws("ec2"), aws("logs")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                            UserData="#!/bin/sh\necho 'hello logs'\n")["Instances"][0]["InstanceId"]
    console(ec2, iid, "hello logs")
    deadline = time.monotonic() + 10
    while True:
        try:
            events = logs.get_log_events(logGroupName="/aws/ec2/console", logStreamName=iid)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        if any("hello logs" in e["message"] for e in events):
            break
        assert time.monotonic() < deadline, events
        time.sleep(0.2)


def test_status_check_metrics_follow_the_minute_checks(aws, kumo_server, endpoint):
    import json
    import urllib.request

    from .conftest import next_status_check

    ec2, cw = aws("ec2"), aws("cloudwatch")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                            UserData="#!/bin/sh\ntrue\n")["Instances"][0]["InstanceId"]
    console(ec2, iid, "Up 1 boot(s)")
    next_status_check(kumo_server)
    passed_at = kumo_server.kumo.clock.now() // 60 * 60  # the check that passed
    req = urllib.request.Request(f"{endpoint}/_kumo/faults/instances/{iid}", method="POST",
                                 data=json.dumps({"action": "kill"}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    next_status_check(kumo_server)
    next_status_check(kumo_server)

    def points(name):
        found = cw.get_metric_statistics(Namespace="AWS/EC2", MetricName=name,
                                         Dimensions=[{"Name": "InstanceId", "Value": iid}],
                                         StartTime=passed_at - 60, EndTime=passed_at + 120, Period=60,
                                         Statistics=["Maximum"])["Datapoints"]
        return {int(p["Timestamp"].timestamp()) - passed_at: p["Maximum"] for p in found}

    # Each minute's datapoint is the check that closes it: the minute of the kill fails at the next check.
    assert points("StatusCheckFailed_Instance") == {-60: 0.0, 0: 1.0, 60: 1.0}
    assert points("StatusCheckFailed") == {-60: 0.0, 0: 1.0, 60: 1.0}
    assert points("StatusCheckFailed_System") == {-60: 0.0, 0: 0.0, 60: 0.0}
