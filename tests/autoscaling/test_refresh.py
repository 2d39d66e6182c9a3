"""Instance refresh rolls a group onto a new launch template version, keeping enough instances in service."""

import time

import pytest
from botocore.exceptions import ClientError

from .conftest import group, in_service, template, wait_group


def _versions(aws):
    ec2 = aws("ec2")
    lt = template(ec2)
    ec2.create_launch_template_version(LaunchTemplateId=lt["LaunchTemplateId"], SourceVersion="1",
                                       LaunchTemplateData={"InstanceType": "t3.small"})
    return ec2, lt["LaunchTemplateId"]


def _refresh(asg, name="g"):
    return asg.describe_instance_refreshes(AutoScalingGroupName=name)["InstanceRefreshes"][0]


def _roll(kumo_server, asg, floor: int, name="g", timeout=40.0):
    """Step the clock until the newest refresh ends; InService+Healthy never goes below ``floor``."""
    deadline = time.monotonic() + timeout
    lowest = 99
    while True:
        g = group(asg, name)
        healthy = sum(1 for i in g["Instances"] if i["LifecycleState"] == "InService" and i["HealthStatus"] == "Healthy")
        lowest = min(lowest, healthy)
        assert healthy >= floor, [(i["InstanceId"], i["LifecycleState"]) for i in g["Instances"]]
        r = _refresh(asg, name)
        if r["Status"] not in ("Pending", "InProgress", "Cancelling", "RollbackInProgress"):
            return r, lowest
        assert time.monotonic() < deadline, r
        kumo_server.advance(5)
        time.sleep(0.02)


def test_a_refresh_replaces_every_instance_never_below_min_healthy(aws, kumo_server):
    ec2, lt_id = _versions(aws)
    asg = aws("autoscaling")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=3, MaxSize=3,
                                  LaunchTemplate={"LaunchTemplateId": lt_id, "Version": "1"},
                                  AvailabilityZones=["us-east-1a", "us-east-1b", "us-east-1c"])
    old = {i["InstanceId"] for i in wait_group(kumo_server, asg, "g", in_service(3))["Instances"]}
    rid = asg.start_instance_refresh(AutoScalingGroupName="g", Preferences={
        "MinHealthyPercentage": 66, "InstanceWarmup": 30},
        DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": lt_id, "Version": "2"}})["InstanceRefreshId"]
    with pytest.raises(ClientError) as e:
        asg.start_instance_refresh(AutoScalingGroupName="g")
    assert e.value.response["Error"]["Code"] == "InstanceRefreshInProgress"
    r, _ = _roll(kumo_server, asg, floor=2)  # ceil(3 x 66%) = 2
    assert r["InstanceRefreshId"] == rid and r["Status"] == "Successful" and r["PercentageComplete"] == 100
    assert r["InstancesToUpdate"] == 0 and r["Preferences"]["MinHealthyPercentage"] == 66
    g = wait_group(kumo_server, asg, "g", in_service(3))
    new = {i["InstanceId"] for i in g["Instances"]}
    assert not new & old
    assert {i["LaunchTemplate"]["Version"] for i in g["Instances"]} == {"2"}
    assert {i["InstanceType"] for i in g["Instances"]} == {"t3.small"}
    assert g["LaunchTemplate"]["Version"] == "2"  # the group takes the desired configuration
    gone = [a for a in asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
            if a["Description"].startswith("Terminating")]
    assert len(gone) == 3 and all("in response to an instance refresh." in a["Cause"] for a in gone)
    # One at a time, each batch after its replacement's 30 s warm-up.
    starts = sorted(a["StartTime"].timestamp() for a in gone)
    assert all(b - a >= 30 for a, b in zip(starts, starts[1:])), starts
    with pytest.raises(ClientError) as e:
        asg.cancel_instance_refresh(AutoScalingGroupName="g")
    assert e.value.response["Error"]["Code"] == "ActiveInstanceRefreshNotFound"


def test_max_healthy_above_100_launches_before_it_terminates(aws, kumo_server):
    ec2, lt_id = _versions(aws)
    asg = aws("autoscaling")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=2, MaxSize=2,
                                  LaunchTemplate={"LaunchTemplateId": lt_id, "Version": "$Latest"},
                                  AvailabilityZones=["us-east-1a"])
    wait_group(kumo_server, asg, "g", in_service(2))
    ec2.create_launch_template_version(LaunchTemplateId=lt_id, SourceVersion="1",
                                       LaunchTemplateData={"InstanceType": "t3.medium"})
    asg.start_instance_refresh(AutoScalingGroupName="g", Preferences={
        "MinHealthyPercentage": 100, "MaxHealthyPercentage": 200, "InstanceWarmup": 10})
    r, lowest = _roll(kumo_server, asg, floor=2)
    assert r["Status"] == "Successful" and lowest >= 2
    g = wait_group(kumo_server, asg, "g", in_service(2))
    assert {i["InstanceType"] for i in g["Instances"]} == {"t3.medium"}


def test_skip_matching_cancel_and_rollback(aws, kumo_server):
    ec2, lt_id = _versions(aws)
    asg = aws("autoscaling")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=2, MaxSize=2,
                                  LaunchTemplate={"LaunchTemplateId": lt_id, "Version": "2"},
                                  AvailabilityZones=["us-east-1a"])
    wait_group(kumo_server, asg, "g", in_service(2))
    # Every instance already matches: nothing to replace.
    asg.start_instance_refresh(AutoScalingGroupName="g", Preferences={"SkipMatching": True})
    r, _ = _roll(kumo_server, asg, floor=2)
    assert r["Status"] == "Successful" and r["PercentageComplete"] == 100
    # Cancelled before it finishes.
    asg.start_instance_refresh(AutoScalingGroupName="g", Preferences={"MinHealthyPercentage": 50,
                                                                      "InstanceWarmup": 300})
    kumo_server.advance(5)
    asg.cancel_instance_refresh(AutoScalingGroupName="g")
    r, _ = _roll(kumo_server, asg, floor=1)
    assert r["Status"] == "Cancelled"
    wait_group(kumo_server, asg, "g", in_service(2))
    # Rolled back to where it started, from a checkpoint.
    ec2.create_launch_template_version(LaunchTemplateId=lt_id, SourceVersion="1",
                                       LaunchTemplateData={"InstanceType": "t3.large"})
    asg.start_instance_refresh(AutoScalingGroupName="g", Preferences={
        "MinHealthyPercentage": 50, "InstanceWarmup": 10, "CheckpointPercentages": [50, 100], "CheckpointDelay": 600},
        DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": lt_id, "Version": "3"}})
    deadline = time.monotonic() + 30
    while "Waiting for checkpoint" not in (_refresh(asg).get("StatusReason") or ""):
        assert time.monotonic() < deadline, _refresh(asg)
        kumo_server.advance(5)
    assert _refresh(asg)["PercentageComplete"] == 50
    asg.rollback_instance_refresh(AutoScalingGroupName="g")
    assert _refresh(asg)["Status"] == "RollbackInProgress"
    r, _ = _roll(kumo_server, asg, floor=1)
    assert r["Status"] == "RollbackSuccessful" and r["RollbackDetails"]["RollbackReason"]
    g = wait_group(kumo_server, asg, "g", in_service(2))
    assert {i["InstanceType"] for i in g["Instances"]} == {"t3.small"}
    assert g["LaunchTemplate"]["Version"] == "2"


def test_refresh_errors(aws):
    asg = aws("autoscaling", validate=False)  # kumo itself must refuse what the SDK would
    template(aws("ec2"))
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=1,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    for prefs in ({"MinHealthyPercentage": 120}, {"MaxHealthyPercentage": 90},
                  {"MinHealthyPercentage": 10, "MaxHealthyPercentage": 150}, {"CheckpointPercentages": [50, 20]}):
        with pytest.raises(ClientError) as e:
            asg.start_instance_refresh(AutoScalingGroupName="g", Preferences=prefs)
        assert e.value.response["Error"]["Code"] == "ValidationError", prefs
    with pytest.raises(ClientError) as e:
        asg.rollback_instance_refresh(AutoScalingGroupName="g")
    assert e.value.response["Error"]["Code"] == "ActiveInstanceRefreshNotFound"
    assert asg.describe_instance_refreshes(AutoScalingGroupName="g")["InstanceRefreshes"] == []
