"""Scaling: target tracking on real CPU, step and simple policies driven by alarms, scheduled actions."""

import datetime as dt
import json
import time
import urllib.request
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from .conftest import group, in_service, template, wait_group

# Burns a CPU while the instance's "load" tag (read from the metadata service) says "on".
BURNER = r'''#!/bin/sh
cat > /opt/burn.py <<'PY'
import time, urllib.request
def load():
    try:
        url = "http://169.254.169.254/latest/meta-data/tags/instance/load"
        return urllib.request.urlopen(url, timeout=1).read().decode()
    except Exception:
        return "off"
while True:
    end = time.time() + 0.5
    if load() == "on":
        while time.time() < end:
            pass
    else:
        time.sleep(0.5)
PY
nohup python3 /opt/burn.py >/dev/null 2>&1 &
'''


def _clock(endpoint) -> float:
    return json.loads(urllib.request.urlopen(f"{endpoint}/_kumo/clock", timeout=5).read())["now"]


def _causes(asg, name):
    return [a["Cause"] for a in asg.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]]


def test_target_tracking_on_cpu_scales_out_under_load_and_in_after_the_cooldown(aws, kumo_server):
    ec2, asg, cw = aws("ec2"), aws("autoscaling"), aws("cloudwatch")
    template(ec2, user_data=BURNER, InstanceType="t2.micro", Monitoring={"Enabled": True},
             MetadataOptions={"HttpTokens": "optional", "InstanceMetadataTags": "enabled"})
    asg.create_auto_scaling_group(AutoScalingGroupName="cpu", MinSize=1, MaxSize=3, DesiredCapacity=1,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"],
                                  DefaultInstanceWarmup=60,
                                  Tags=[{"Key": "load", "Value": "on", "PropagateAtLaunch": True}])
    out = asg.put_scaling_policy(AutoScalingGroupName="cpu", PolicyName="cpu50", PolicyType="TargetTrackingScaling",
                                 TargetTrackingConfiguration={"PredefinedMetricSpecification": {
                                     "PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 50.0})
    names = sorted(a["AlarmName"] for a in out["Alarms"])
    assert names[0].startswith("TargetTracking-cpu-AlarmHigh-") and names[1].startswith("TargetTracking-cpu-AlarmLow-")
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=names)["MetricAlarms"]}
    high, low = alarms[names[0]], alarms[names[1]]
    assert (high["Namespace"], high["MetricName"], high["Statistic"]) == ("AWS/EC2", "CPUUtilization", "Average")
    assert high["Dimensions"] == [{"Name": "AutoScalingGroupName", "Value": "cpu"}]
    assert (high["EvaluationPeriods"], high["Threshold"], high["ComparisonOperator"]) == (3, 50.0,
                                                                                         "GreaterThanThreshold")
    assert (low["EvaluationPeriods"], low["Threshold"], low["ComparisonOperator"]) == (15, 45.0, "LessThanThreshold")
    assert high["AlarmActions"] == [out["PolicyARN"]] and high["AlarmDescription"].startswith("DO NOT EDIT OR DELETE")
    wait_group(kumo_server, asg, "cpu", in_service(1))
    time.sleep(1.5)  # the burner starts and the monitor measures it (rates are real time)
    deadline = time.monotonic() + 40
    while group(asg, "cpu")["DesiredCapacity"] == 1:
        assert time.monotonic() < deadline, cw.describe_alarms(AlarmNames=names)["MetricAlarms"][0]["StateReason"]
        kumo_server.advance(60)
        time.sleep(0.6)
    assert any(f"a monitor alarm {names[0]} in state ALARM triggered policy cpu50 changing the desired capacity "
               f"from 1 to" in c for c in _causes(asg, "cpu"))
    g = wait_group(kumo_server, asg, "cpu", lambda g: len([i for i in g["Instances"]
                                                           if i["LifecycleState"] == "InService"]) >= 2)
    peak = g["DesiredCapacity"]
    assert peak >= 2
    # The load stops: the tag turns off on every instance and for instances still to come.
    ids = [i["InstanceId"] for i in g["Instances"]]
    asg.create_or_update_tags(Tags=[{"ResourceId": "cpu", "ResourceType": "auto-scaling-group", "Key": "load",
                                     "Value": "off", "PropagateAtLaunch": True}])
    ec2.create_tags(Resources=ids, Tags=[{"Key": "load", "Value": "off"}])
    time.sleep(2.0)
    # 15 quiet minutes put AlarmLow in ALARM; each scale-in step removes one instance, then waits for the cooldown.
    scaled_in_at = None
    deadline = time.monotonic() + 60
    while scaled_in_at is None:
        assert time.monotonic() < deadline
        kumo_server.advance(60)
        time.sleep(0.05)
        g = group(asg, "cpu")
        if g["DesiredCapacity"] < peak:
            scaled_in_at = _clock(kumo_server.endpoint)
            assert g["DesiredCapacity"] == peak - 1  # slowly: one at a time
    assert any(f"a monitor alarm {names[1]} in state ALARM triggered policy cpu50 changing the desired capacity "
               f"from {peak} to {peak - 1}" in c for c in _causes(asg, "cpu"))
    if peak - 1 > 1:
        while _clock(kumo_server.endpoint) < scaled_in_at + 240:
            kumo_server.advance(60)
            assert group(asg, "cpu")["DesiredCapacity"] == peak - 1  # still in the cooldown
        deadline = time.monotonic() + 30
        while group(asg, "cpu")["DesiredCapacity"] == peak - 1:
            assert time.monotonic() < deadline
            kumo_server.advance(60)
        assert _clock(kumo_server.endpoint) >= scaled_in_at + 300
    wait_group(kumo_server, asg, "cpu", in_service(1), timeout=60, step=60)


def _step_group(aws, kumo_server, name: str, value: float) -> dict:
    asg, cw = aws("autoscaling"), aws("cloudwatch")
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=1, MaxSize=8, DesiredCapacity=1,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    arn = asg.put_scaling_policy(AutoScalingGroupName=name, PolicyName="steps", PolicyType="StepScaling",
                                 AdjustmentType="ChangeInCapacity", EstimatedInstanceWarmup=300,
                                 StepAdjustments=[
                                     {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20,
                                      "ScalingAdjustment": 1},
                                     {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 3}])["PolicyARN"]
    cw.put_metric_alarm(AlarmName=f"{name}-depth", Namespace="App", MetricName="QueueDepth",
                        Dimensions=[{"Name": "Queue", "Value": name}], Statistic="Average", Period=60,
                        EvaluationPeriods=1, Threshold=50, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[arn])
    wait_group(kumo_server, asg, name, in_service(1))
    kumo_server.advance(300)  # the first instance has warmed up: it counts as capacity
    policy = asg.describe_policies(AutoScalingGroupName=name)["ScalingPolicies"][0]
    assert policy["Alarms"] == [{"AlarmName": f"{name}-depth",
                                 "AlarmARN": f"arn:aws:cloudwatch:us-east-1:{aws.account}:alarm:{name}-depth"}]
    deadline = time.monotonic() + 20
    while group(asg, name)["DesiredCapacity"] == 1:
        assert time.monotonic() < deadline
        now = _clock(kumo_server.endpoint)
        cw.put_metric_data(Namespace="App", MetricData=[{"MetricName": "QueueDepth", "Value": value,
                                                         "Dimensions": [{"Name": "Queue", "Value": name}],
                                                         "Timestamp": dt.datetime.fromtimestamp(now, dt.timezone.utc)}])
        kumo_server.advance(60)
    # Repeated breaches in the same step while the new instances warm up change nothing more.
    for _ in range(3):
        now = _clock(kumo_server.endpoint)
        cw.put_metric_data(Namespace="App", MetricData=[{"MetricName": "QueueDepth", "Value": value,
                                                         "Dimensions": [{"Name": "Queue", "Value": name}],
                                                         "Timestamp": dt.datetime.fromtimestamp(now, dt.timezone.utc)}])
        kumo_server.advance(60)
    return group(asg, name)


def test_step_scaling_adds_one_or_three_by_the_size_of_the_breach(aws, kumo_server):
    template(aws("ec2"))
    small = _step_group(aws, kumo_server, "small", 60.0)  # 10 over the threshold: the first step
    large = _step_group(aws, kumo_server, "large", 95.0)  # 45 over: the second step
    assert small["DesiredCapacity"] == 2
    assert large["DesiredCapacity"] == 4
    asg = aws("autoscaling")
    assert any("a monitor alarm large-depth in state ALARM triggered policy steps changing the desired capacity "
               "from 1 to 4." in c for c in _causes(asg, "large"))
    wait_group(kumo_server, asg, "large", in_service(4))


def test_simple_scaling_honours_its_cooldown_and_execute_policy(aws, kumo_server):
    asg = aws("autoscaling")
    template(aws("ec2"))
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=10, DesiredCapacity=2,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    asg.put_scaling_policy(AutoScalingGroupName="g", PolicyName="double", AdjustmentType="PercentChangeInCapacity",
                           ScalingAdjustment=100, Cooldown=120)
    asg.put_scaling_policy(AutoScalingGroupName="g", PolicyName="less", AdjustmentType="ChangeInCapacity",
                           ScalingAdjustment=-1)
    wait_group(kumo_server, asg, "g", in_service(2))
    asg.execute_policy(AutoScalingGroupName="g", PolicyName="double")
    assert group(asg, "g")["DesiredCapacity"] == 4
    assert any("a user request executed policy double changing the desired capacity from 2 to 4." in c
               for c in _causes(asg, "g"))
    wait_group(kumo_server, asg, "g", in_service(4), step=1)
    with pytest.raises(ClientError) as e:
        asg.execute_policy(AutoScalingGroupName="g", PolicyName="double", HonorCooldown=True)
    assert e.value.response["Error"]["Code"] == "ScalingActivityInProgress"
    kumo_server.advance(125)
    asg.execute_policy(AutoScalingGroupName="g", PolicyName="double", HonorCooldown=True)
    assert group(asg, "g")["DesiredCapacity"] == 8
    asg.execute_policy(AutoScalingGroupName="g", PolicyName="double")  # without HonorCooldown: at once, capped
    assert group(asg, "g")["DesiredCapacity"] == 10
    with pytest.raises(ClientError) as e:
        asg.execute_policy(AutoScalingGroupName="g", PolicyName="nope")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as e:
        asg.put_scaling_policy(AutoScalingGroupName="g", PolicyName="bad", PolicyType="StepScaling",
                               AdjustmentType="ChangeInCapacity",
                               StepAdjustments=[{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10,
                                                 "ScalingAdjustment": 1},
                                                {"MetricIntervalLowerBound": 5, "ScalingAdjustment": 2}])
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert {p["PolicyName"] for p in asg.describe_policies(AutoScalingGroupName="g")["ScalingPolicies"]} == {
        "double", "less"}
    asg.delete_policy(AutoScalingGroupName="g", PolicyName="less")
    assert [p["PolicyName"] for p in asg.describe_policies(AutoScalingGroupName="g")["ScalingPolicies"]] == ["double"]


def test_a_scheduled_action_at_a_cron_time_changes_the_desired_capacity(aws, kumo_server):
    asg = aws("autoscaling")
    template(aws("ec2"))
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=5, DesiredCapacity=1,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    wait_group(kumo_server, asg, "g", in_service(1))
    zone = ZoneInfo("Asia/Tokyo")
    now = _clock(kumo_server.endpoint)
    fire = dt.datetime.fromtimestamp(now, zone).replace(second=0, microsecond=0) + dt.timedelta(hours=2)
    recurrence = f"{fire.minute} {fire.hour} * * *"
    asg.put_scheduled_update_group_action(AutoScalingGroupName="g", ScheduledActionName="morning",
                                          Recurrence=recurrence, TimeZone="Asia/Tokyo", DesiredCapacity=3)
    action = asg.describe_scheduled_actions(AutoScalingGroupName="g")["ScheduledUpdateGroupActions"][0]
    assert action["Recurrence"] == recurrence and action["TimeZone"] == "Asia/Tokyo"
    assert action["StartTime"].timestamp() == fire.timestamp()
    assert action["ScheduledActionARN"].startswith("arn:aws:autoscaling:us-east-1:")
    kumo_server.advance(fire.timestamp() - now - 30)
    assert group(asg, "g")["DesiredCapacity"] == 1
    kumo_server.advance(60)
    assert group(asg, "g")["DesiredCapacity"] == 3
    wait_group(kumo_server, asg, "g", in_service(3))
    assert any("a scheduled action update of AutoScalingGroup constraints to min: 1, max: 5, desired: 3 changing "
               "the desired capacity from 1 to 3." in c for c in _causes(asg, "g"))
    nxt = asg.describe_scheduled_actions(AutoScalingGroupName="g")["ScheduledUpdateGroupActions"][0]["StartTime"]
    assert nxt.timestamp() == (fire + dt.timedelta(days=1)).timestamp()  # it recurs: tomorrow, same local time
    # A one-time action fires once and is gone.
    at = dt.datetime.fromtimestamp(_clock(kumo_server.endpoint) + 600, dt.timezone.utc)
    asg.put_scheduled_update_group_action(AutoScalingGroupName="g", ScheduledActionName="once", StartTime=at,
                                          MinSize=1, MaxSize=5, DesiredCapacity=2)
    kumo_server.advance(660)
    assert group(asg, "g")["DesiredCapacity"] == 2
    assert [a["ScheduledActionName"] for a in asg.describe_scheduled_actions(
        AutoScalingGroupName="g")["ScheduledUpdateGroupActions"]] == ["morning"]
    with pytest.raises(ClientError) as e:
        asg.put_scheduled_update_group_action(AutoScalingGroupName="g", ScheduledActionName="bad",
                                              Recurrence="61 * * * *", DesiredCapacity=2)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as e:
        asg.put_scheduled_update_group_action(AutoScalingGroupName="g", ScheduledActionName="past",
                                              StartTime=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
                                              DesiredCapacity=2)
    assert e.value.response["Error"]["Message"] == "Given start time is in the past"


def test_suspended_scheduled_actions_skip_their_firing(aws, kumo_server):
    asg = aws("autoscaling")
    template(aws("ec2"))
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=5, DesiredCapacity=0,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    at = dt.datetime.fromtimestamp(_clock(kumo_server.endpoint) + 300, dt.timezone.utc)
    asg.put_scheduled_update_group_action(AutoScalingGroupName="g", ScheduledActionName="once", StartTime=at,
                                          DesiredCapacity=2)
    asg.suspend_processes(AutoScalingGroupName="g", ScalingProcesses=["ScheduledActions"])
    kumo_server.advance(360)
    assert group(asg, "g")["DesiredCapacity"] == 0
    assert asg.describe_scheduled_actions(AutoScalingGroupName="g")["ScheduledUpdateGroupActions"] == []


def test_scale_in_protection_and_termination_policies(aws, kumo_server):
    asg = aws("autoscaling")
    template(aws("ec2"))
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=4, DesiredCapacity=1,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"],
                                  TerminationPolicies=["NewestInstance"])
    first = wait_group(kumo_server, asg, "g", in_service(1))["Instances"][0]["InstanceId"]
    kumo_server.advance(60)
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=3)
    g = wait_group(kumo_server, asg, "g", in_service(3))
    newer = [i["InstanceId"] for i in g["Instances"] if i["InstanceId"] != first]
    asg.set_instance_protection(AutoScalingGroupName="g", InstanceIds=[newer[0]], ProtectedFromScaleIn=True)
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=2)
    g = wait_group(kumo_server, asg, "g", in_service(2))
    assert {i["InstanceId"] for i in g["Instances"]} == {first, newer[0]}  # the newest unprotected one went
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    g = wait_group(kumo_server, asg, "g", in_service(1))
    assert [i["InstanceId"] for i in g["Instances"]] == [newer[0]]  # protected stays, though newest
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    for _ in range(3):
        kumo_server.advance(10)
    g = group(asg, "g")
    assert [i["InstanceId"] for i in g["Instances"]] == [newer[0]]  # nothing unprotected left to terminate
