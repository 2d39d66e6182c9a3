"""A group's instances: attach, detach, standby, terminate one, zones rebalanced, mixed instances, metrics."""

import datetime as dt
import json
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from .conftest import AMI, group, in_service, states, template, wait_group, wait_state


def _state(ec2, iid):
    return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"]


def test_attach_detach_standby_and_terminate_one(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=4, DesiredCapacity=2,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"],
                                  Tags=[{"Key": "team", "Value": "ops", "PropagateAtLaunch": True}])
    g = wait_group(kumo_server, asg, "g", in_service(2))
    a, b = sorted(i["InstanceId"] for i in g["Instances"])
    outsider = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                 Placement={"AvailabilityZone": "us-east-1a"})["Instances"][0]["InstanceId"]
    wait_state(ec2, [outsider], "running")
    asg.attach_instances(AutoScalingGroupName="g", InstanceIds=[outsider])
    g = group(asg, "g")
    assert g["DesiredCapacity"] == 3 and outsider in [i["InstanceId"] for i in g["Instances"]]
    tags = {t["Key"]: t["Value"] for t in ec2.describe_instances(InstanceIds=[outsider])["Reservations"][0][
        "Instances"][0]["Tags"]}
    assert tags["aws:autoscaling:groupName"] == "g" and tags["team"] == "ops"
    with pytest.raises(ClientError) as e:
        asg.attach_instances(AutoScalingGroupName="g", InstanceIds=[outsider])
    assert e.value.response["Error"]["Code"] == "ValidationError"

    out = asg.enter_standby(AutoScalingGroupName="g", InstanceIds=[a], ShouldDecrementDesiredCapacity=True)
    assert out["Activities"][0]["Description"] == f"Moving EC2 instance to Standby: {a}"
    g = wait_group(kumo_server, asg, "g", lambda g: next(i for i in g["Instances"] if i["InstanceId"] == a)[
        "LifecycleState"] == "Standby")
    assert g["DesiredCapacity"] == 2 and _state(ec2, a) == "running"
    asg.exit_standby(AutoScalingGroupName="g", InstanceIds=[a])
    wait_group(kumo_server, asg, "g", in_service(3))

    asg.detach_instances(AutoScalingGroupName="g", InstanceIds=[outsider], ShouldDecrementDesiredCapacity=True)
    g = wait_group(kumo_server, asg, "g", in_service(2))
    assert outsider not in [i["InstanceId"] for i in g["Instances"]] and _state(ec2, outsider) == "running"
    tags = {t["Key"] for t in ec2.describe_instances(InstanceIds=[outsider])["Reservations"][0]["Instances"][0]["Tags"]}
    assert "aws:autoscaling:groupName" not in tags

    out = asg.terminate_instance_in_auto_scaling_group(InstanceId=b, ShouldDecrementDesiredCapacity=False)
    assert out["Activity"]["Description"] == f"Terminating EC2 instance: {b}"
    g = wait_group(kumo_server, asg, "g", lambda g: b not in [i["InstanceId"] for i in g["Instances"]]
                   and in_service(2)(g))  # replaced
    assert _state(ec2, b) == "terminated"
    c = next(i["InstanceId"] for i in g["Instances"] if i["InstanceId"] != a)
    asg.terminate_instance_in_auto_scaling_group(InstanceId=c, ShouldDecrementDesiredCapacity=True)
    g = wait_group(kumo_server, asg, "g", in_service(1))
    assert [i["InstanceId"] for i in g["Instances"]] == [a]
    with pytest.raises(ClientError) as e:
        asg.terminate_instance_in_auto_scaling_group(InstanceId=a, ShouldDecrementDesiredCapacity=True)
    assert "will violate group's min size constraint" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        asg.terminate_instance_in_auto_scaling_group(InstanceId=outsider, ShouldDecrementDesiredCapacity=True)
    assert e.value.response["Error"]["Message"] == (f"Instance Id not found - No managed instance found for instance "
                                                    f"ID: {outsider}")
    ec2.terminate_instances(InstanceIds=[outsider])


def test_a_new_zone_is_filled_by_rebalancing(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=4, MaxSize=4,
                                  LaunchTemplate={"LaunchTemplateName": "web"},
                                  AvailabilityZones=["us-east-1a", "us-east-1b"])
    g = wait_group(kumo_server, asg, "g", in_service(4))
    assert sorted(i["AvailabilityZone"] for i in g["Instances"]) == ["us-east-1a"] * 2 + ["us-east-1b"] * 2
    asg.suspend_processes(AutoScalingGroupName="g", ScalingProcesses=["AZRebalance"])
    asg.update_auto_scaling_group(AutoScalingGroupName="g",
                                  AvailabilityZones=["us-east-1a", "us-east-1b", "us-east-1c"])
    for _ in range(3):
        kumo_server.advance(10)
    assert "us-east-1c" not in [i["AvailabilityZone"] for i in group(asg, "g")["Instances"]]  # suspended
    asg.resume_processes(AutoScalingGroupName="g", ScalingProcesses=["AZRebalance"])

    def balanced(g):
        zones = sorted(i["AvailabilityZone"] for i in g["Instances"] if i["LifecycleState"] == "InService")
        return len(zones) == 4 and states(g) == ["InService"] * 4 and \
            max(zones.count(z) for z in set(zones)) - min(zones.count(z) for z in set(zones)) <= 1 and len(
                set(zones)) == 3
    wait_group(kumo_server, asg, "g", balanced, step=5)
    causes = [a["Cause"] for a in asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]]
    assert any("an instance was launched to aid in balancing the group's zones." in c for c in causes)


def test_mixed_instances_follow_the_distribution_and_mark_spot_as_on_demand(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    lt = template(ec2)
    asg.create_auto_scaling_group(
        AutoScalingGroupName="g", MinSize=4, MaxSize=4, AvailabilityZones=["us-east-1a"],
        MixedInstancesPolicy={
            "LaunchTemplate": {"LaunchTemplateSpecification": {"LaunchTemplateId": lt["LaunchTemplateId"]},
                               "Overrides": [{"InstanceType": "t3.small"}, {"InstanceType": "t3.medium"}]},
            "InstancesDistribution": {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 50}})
    g = wait_group(kumo_server, asg, "g", in_service(4))
    dist = g["MixedInstancesPolicy"]["InstancesDistribution"]
    assert dist["OnDemandAllocationStrategy"] == "prioritized" and dist["SpotAllocationStrategy"] == "lowest-price"
    assert {i["InstanceType"] for i in g["Instances"]} <= {"t3.small", "t3.medium"}
    launches = [json.loads(a["Details"]) for a in asg.describe_scaling_activities(AutoScalingGroupName="g")[
        "Activities"] if a["Description"].startswith("Launching")]
    spot = [d for d in launches if "Spot requested" in d.get("Market", "")]
    # base 1 on demand, then half of the other 3 (rounded up to on demand): 3 on demand, 1 spot asked for.
    assert len(launches) == 4 and len(spot) == 1


def test_group_metrics_reach_cloudwatch(aws, kumo_server):
    ec2, asg, cw = aws("ec2"), aws("autoscaling"), aws("cloudwatch")
    template(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=2, MaxSize=2,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    asg.enable_metrics_collection(AutoScalingGroupName="g", Granularity="1Minute",
                                  Metrics=["GroupDesiredCapacity", "GroupInServiceInstances", "GroupTotalInstances"])
    assert {m["Metric"] for m in group(asg, "g")["EnabledMetrics"]} == {
        "GroupDesiredCapacity", "GroupInServiceInstances", "GroupTotalInstances"}
    wait_group(kumo_server, asg, "g", in_service(2))
    kumo_server.advance(120)
    now = json.loads(urllib.request.urlopen(f"{kumo_server.endpoint}/_kumo/clock", timeout=5).read())["now"]
    stats = cw.get_metric_statistics(Namespace="AWS/AutoScaling", MetricName="GroupInServiceInstances",
                                     Dimensions=[{"Name": "AutoScalingGroupName", "Value": "g"}],
                                     StartTime=dt.datetime.fromtimestamp(now - 600, dt.timezone.utc),
                                     EndTime=dt.datetime.fromtimestamp(now, dt.timezone.utc), Period=60,
                                     Statistics=["Maximum"])["Datapoints"]
    assert stats and max(d["Maximum"] for d in stats) == 2.0
    names = {m["MetricName"] for m in cw.list_metrics(Namespace="AWS/AutoScaling")["Metrics"]}
    assert names == {"GroupDesiredCapacity", "GroupInServiceInstances", "GroupTotalInstances"}


def test_an_acknowledged_group_survives_kill_9(kumo_process):
    kumo = kumo_process().start()
    ec2, asg = kumo.client("ec2"), kumo.client("autoscaling")
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": AMI,
                                                                            "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=2, MaxSize=3,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    asg.put_scaling_policy(AutoScalingGroupName="g", PolicyName="up", AdjustmentType="ChangeInCapacity",
                           ScalingAdjustment=1)
    deadline = time.monotonic() + 20
    while states(asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]) != ["InService"] * 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    kumo.kill9()
    again = kumo_process(like=kumo).start()
    asg = again.client("autoscaling")
    g = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]) == (2, 3, 2)
    assert [p["PolicyName"] for p in asg.describe_policies()["ScalingPolicies"]] == ["up"]
    asg.execute_policy(AutoScalingGroupName="g", PolicyName="up")
    deadline = time.monotonic() + 30
    while states(asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]) != ["InService"] * 3:
        assert time.monotonic() < deadline, asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
        time.sleep(0.1)
    asg.delete_auto_scaling_group(AutoScalingGroupName="g", ForceDelete=True)
    deadline = time.monotonic() + 30
    while asg.describe_auto_scaling_groups()["AutoScalingGroups"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_classic_load_balancer_members_register_and_leave(aws, kumo_server):
    from tests.elbv2.conftest import WEB_APP

    ec2, elb, asg = aws("ec2"), aws("elb"), aws("autoscaling")
    template(ec2, user_data=WEB_APP)
    elb.create_load_balancer(LoadBalancerName="classic", AvailabilityZones=["us-east-1a"],
                             Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 8081, "InstancePort": 8080}])
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=2, MaxSize=2, LoadBalancerNames=["classic"],
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    g = wait_group(kumo_server, asg, "g", in_service(2))
    ids = sorted(i["InstanceId"] for i in g["Instances"])
    registered = sorted(i["InstanceId"] for i in elb.describe_load_balancers(LoadBalancerNames=["classic"])[
        "LoadBalancerDescriptions"][0]["Instances"])
    assert registered == ids
    deadline = time.monotonic() + 20
    while asg.describe_load_balancers(AutoScalingGroupName="g")["LoadBalancers"] != [
            {"LoadBalancerName": "classic", "State": "InService"}]:
        assert time.monotonic() < deadline, elb.describe_instance_health(LoadBalancerName="classic")
        kumo_server.advance(10)
        time.sleep(0.1)
    asg.detach_load_balancers(AutoScalingGroupName="g", LoadBalancerNames=["classic"])
    assert elb.describe_load_balancers(LoadBalancerNames=["classic"])["LoadBalancerDescriptions"][0]["Instances"] == []
    assert asg.describe_load_balancers(AutoScalingGroupName="g")["LoadBalancers"] == []
    asg.attach_load_balancers(AutoScalingGroupName="g", LoadBalancerNames=["classic"])
    assert len(elb.describe_load_balancers(LoadBalancerNames=["classic"])["LoadBalancerDescriptions"][0][
        "Instances"]) == 2
    elb.delete_load_balancer(LoadBalancerName="classic")


def test_suspended_alarm_notification_ignores_the_alarm(aws, kumo_server):
    asg, cw = aws("autoscaling"), aws("cloudwatch")
    template(aws("ec2"))
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=3, DesiredCapacity=0,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    arn = asg.put_scaling_policy(AutoScalingGroupName="g", PolicyName="up", AdjustmentType="ChangeInCapacity",
                                 ScalingAdjustment=1)["PolicyARN"]
    cw.put_metric_alarm(AlarmName="g-up", Namespace="App", MetricName="Depth", Statistic="Maximum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[arn])
    asg.suspend_processes(AutoScalingGroupName="g", ScalingProcesses=["AlarmNotification"])
    cw.set_alarm_state(AlarmName="g-up", StateValue="ALARM", StateReason="test")
    kumo_server.advance(5)
    assert group(asg, "g")["DesiredCapacity"] == 0
    cw.set_alarm_state(AlarmName="g-up", StateValue="OK", StateReason="test")
    asg.resume_processes(AutoScalingGroupName="g", ScalingProcesses=["AlarmNotification"])
    cw.set_alarm_state(AlarmName="g-up", StateValue="ALARM", StateReason="test")
    deadline = time.monotonic() + 10
    while group(asg, "g")["DesiredCapacity"] != 1:
        assert time.monotonic() < deadline
        kumo_server.advance(1)
    history = cw.describe_alarm_history(AlarmName="g-up", HistoryItemType="Action")["AlarmHistoryItems"]
    assert history and history[0]["HistorySummary"] == f"Successfully executed action {arn}"
    cw.delete_alarms(AlarmNames=["g-up"])
