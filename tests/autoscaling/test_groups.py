"""Groups through the API: AWS's defaults and errors, real instances spread over zones, tags, configurations."""

import pytest
from botocore.exceptions import ClientError

from .conftest import AMI, group, in_service, states, subnets, template, wait_group


def _error(exc_info) -> tuple[str, str, int]:
    err = exc_info.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_a_group_launches_its_desired_capacity_across_zones_with_aws_defaults(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    lt = template(ec2)
    nets = subnets(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=3, MaxSize=6,
                                  LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplateId"]},
                                  VPCZoneIdentifier=",".join(nets),
                                  Tags=[{"Key": "team", "Value": "blue", "PropagateAtLaunch": True},
                                        {"Key": "cost", "Value": "x", "PropagateAtLaunch": False}])
    g = wait_group(kumo_server, asg, "web", in_service(3))
    assert g["DesiredCapacity"] == 3  # desired defaults to min
    assert g["DefaultCooldown"] == 300 and g["HealthCheckGracePeriod"] == 0 and g["HealthCheckType"] == "EC2"
    assert g["TerminationPolicies"] == ["Default"] and g["NewInstancesProtectedFromScaleIn"] is False
    assert g["LaunchTemplate"]["Version"] == "$Default"
    assert g["AutoScalingGroupARN"].startswith("arn:aws:autoscaling:us-east-1:")
    assert ":autoScalingGroup:" in g["AutoScalingGroupARN"] and g["AutoScalingGroupARN"].endswith("/web")
    assert sorted(i["AvailabilityZone"] for i in g["Instances"]) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert all(i["HealthStatus"] == "Healthy" and i["InstanceType"] == "t3.micro" for i in g["Instances"])
    ids = [i["InstanceId"] for i in g["Instances"]]
    reservations = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    assert {i["State"]["Name"] for i in instances} == {"running"}
    for inst in instances:
        tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
        assert tags["team"] == "blue" and "cost" not in tags
        assert tags["aws:autoscaling:groupName"] == "web"
        assert tags["aws:ec2launchtemplate:id"] == lt["LaunchTemplateId"]
    described = asg.describe_auto_scaling_instances(InstanceIds=ids)["AutoScalingInstances"]
    assert {d["HealthStatus"] for d in described} == {"HEALTHY"}  # this call answers in capitals
    assert {d["AutoScalingGroupName"] for d in described} == {"web"}
    activities = asg.describe_scaling_activities(AutoScalingGroupName="web")["Activities"]
    assert len(activities) == 3 and {a["StatusCode"] for a in activities} == {"Successful"}
    assert all(a["Description"].startswith("Launching a new EC2 instance: i-") for a in activities)
    assert all("a user request created an AutoScalingGroup changing the desired capacity from 0 to 3." in a["Cause"]
               and "an instance was started in response to a difference between desired and actual capacity, "
                   "increasing the capacity from 0 to 3." in a["Cause"] for a in activities)


def test_set_desired_capacity_scales_out_and_in_within_bounds(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=3, DesiredCapacity=1,
                                  LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"},
                                  AvailabilityZones=["us-east-1a", "us-east-1b"])
    wait_group(kumo_server, asg, "g", in_service(1))
    with pytest.raises(ClientError) as e:
        asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=4)
    assert _error(e) == ("ValidationError", "New SetDesiredCapacity value 4 is above max value 3 for the "
                                            "AutoScalingGroup.", 400)
    with pytest.raises(ClientError) as e:
        asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    assert "below min value 1" in _error(e)[1]
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=3)
    g = wait_group(kumo_server, asg, "g", in_service(3))
    assert sorted(i["AvailabilityZone"] for i in g["Instances"]).count("us-east-1a") in (1, 2)
    newest = asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"][0]
    assert "a user request explicitly set group desired capacity changing the desired capacity from 1 to 3." in \
        newest["Cause"]
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    g = wait_group(kumo_server, asg, "g", in_service(1))
    gone = [a for a in asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
            if a["Description"].startswith("Terminating EC2 instance")]
    assert len(gone) == 2 and {a["StatusCode"] for a in gone} == {"Successful"}
    assert all("shrinking the capacity from 3 to 1." in a["Cause"] and "was selected for termination." in a["Cause"]
               for a in gone)
    left = g["Instances"][0]["InstanceId"]
    terminated = [a["Description"].rsplit(" ", 1)[1] for a in gone]
    states_now = {i["InstanceId"]: i["State"]["Name"] for r in ec2.describe_instances(
        InstanceIds=terminated + [left])["Reservations"] for i in r["Instances"]}
    assert states_now == {**{t: "terminated" for t in terminated}, left: "running"}


def test_update_moves_desired_into_new_bounds(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=4, DesiredCapacity=0,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    asg.update_auto_scaling_group(AutoScalingGroupName="g", MinSize=2)
    assert group(asg, "g")["DesiredCapacity"] == 2
    wait_group(kumo_server, asg, "g", in_service(2))
    asg.update_auto_scaling_group(AutoScalingGroupName="g", MaxSize=1, MinSize=1)
    g = wait_group(kumo_server, asg, "g", in_service(1))
    assert (g["MinSize"], g["MaxSize"]) == (1, 1)
    with pytest.raises(ClientError) as e:
        asg.update_auto_scaling_group(AutoScalingGroupName="g", MinSize=3, MaxSize=2)
    assert _error(e) == ("ValidationError", "Max bound, 2, must be greater than or equal to min bound, 3", 400)


def test_bad_requests_get_aws_errors_and_change_nothing(aws):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    base = dict(AutoScalingGroupName="g", AvailabilityZones=["us-east-1a"])
    with pytest.raises(ClientError) as e:
        asg.create_auto_scaling_group(MinSize=0, MaxSize=1, **base)
    assert _error(e) == ("ValidationError", "Valid requests must contain either LaunchTemplate, "
                                            "LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.",
                         400)
    with pytest.raises(ClientError) as e:
        asg.create_auto_scaling_group(MinSize=2, MaxSize=1, LaunchTemplate={"LaunchTemplateName": "web"}, **base)
    assert _error(e)[:2] == ("ValidationError", "Max bound, 1, must be greater than or equal to min bound, 2")
    with pytest.raises(ClientError) as e:
        asg.create_auto_scaling_group(MinSize=0, MaxSize=2, DesiredCapacity=5,
                                      LaunchTemplate={"LaunchTemplateName": "web"}, **base)
    assert _error(e)[1] == "Desired capacity:5 must be between the specified min size:0 and max size:2"
    with pytest.raises(ClientError) as e:
        asg.create_auto_scaling_group(MinSize=0, MaxSize=1, LaunchTemplate={"LaunchTemplateName": "nope"}, **base)
    assert _error(e)[0] == "ValidationError" and "valid fully-formed launch template" in _error(e)[1]
    with pytest.raises(ClientError) as e:
        asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=1,
                                      LaunchTemplate={"LaunchTemplateName": "web"}, VPCZoneIdentifier="subnet-0bad")
    assert _error(e)[1] == "The subnet ID 'subnet-0bad' does not exist"
    with pytest.raises(ClientError) as e:
        asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=1,
                                      LaunchTemplate={"LaunchTemplateName": "web"})
    assert _error(e)[1] == "At least one Availability Zone or VPC Subnet is required."
    with pytest.raises(ClientError) as e:
        asg.create_auto_scaling_group(MinSize=0, MaxSize=1, LaunchTemplate={"LaunchTemplateName": "web"},
                                      TargetGroupARNs=["arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                                                       "targetgroup/nope/0123456789abcdef"], **base)
    assert _error(e)[0] == "ValidationError" and "Target Groups may not be valid" in _error(e)[1]
    assert asg.describe_auto_scaling_groups()["AutoScalingGroups"] == []
    asg.create_auto_scaling_group(MinSize=0, MaxSize=1, LaunchTemplate={"LaunchTemplateName": "web"}, **base)
    with pytest.raises(ClientError) as e:
        asg.create_auto_scaling_group(MinSize=0, MaxSize=1, LaunchTemplate={"LaunchTemplateName": "web"}, **base)
    assert _error(e) == ("AlreadyExists", "AutoScalingGroup by this name already exists - A group with the name g "
                                          "already exists", 400)
    with pytest.raises(ClientError) as e:
        asg.update_auto_scaling_group(AutoScalingGroupName="nope", MinSize=1)
    assert _error(e) == ("ValidationError", "AutoScalingGroup name not found - AutoScalingGroup nope not found", 400)
    with pytest.raises(ClientError) as e:
        asg.suspend_processes(AutoScalingGroupName="g", ScalingProcesses=["Sleep"])
    assert _error(e)[0] == "ValidationError"
    with pytest.raises(ClientError) as e:
        asg.describe_auto_scaling_groups(Filters=[{"Name": "color", "Values": ["x"]}])
    assert _error(e)[0] == "ValidationError"
    with pytest.raises(ClientError) as e:
        asg.put_warm_pool(AutoScalingGroupName="g")
    assert _error(e)[0] == "NotImplemented" and _error(e)[2] == 501
    assert [g["AutoScalingGroupName"] for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"]] == ["g"]


def _console_shows(ec2, instance_id: str, text: str, timeout: float = 15.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while text not in ec2.get_console_output(InstanceId=instance_id).get("Output", ""):
        assert time.monotonic() < deadline, f"{instance_id}'s console never showed {text!r}"
        time.sleep(0.1)


def test_delete_needs_force_while_instances_remain(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    # An OS that ignores SIGTERM takes kumo's whole grace period (2 s) to shut down: the instances stay
    # shutting-down, and the group "Delete in progress", long enough to be seen (without it they end in ms).
    template(ec2, user_data="#!/bin/sh\ntrap '' TERM\nsleep 120 &\necho slow-to-stop\n")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=2, MaxSize=2,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    g = wait_group(kumo_server, asg, "g", in_service(2))
    for member in g["Instances"]:
        _console_shows(ec2, member["InstanceId"], "slow-to-stop")
    with pytest.raises(ClientError) as e:
        asg.delete_auto_scaling_group(AutoScalingGroupName="g")
    assert _error(e) == ("ResourceInUse", "You cannot delete an AutoScalingGroup while there are instances or "
                                          "pending Spot instance request(s) still in the group.", 400)
    asg.delete_auto_scaling_group(AutoScalingGroupName="g", ForceDelete=True)
    assert group(asg, "g")["Status"] == "Delete in progress"
    ids = [i["InstanceId"] for i in g["Instances"]]
    import time

    deadline = time.monotonic() + 20
    while asg.describe_auto_scaling_groups()["AutoScalingGroups"]:
        assert time.monotonic() < deadline
        kumo_server.advance(1)
    assert {i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
            for i in r["Instances"]} == {"terminated"}
    assert asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"] == []
    deleted = asg.describe_scaling_activities(AutoScalingGroupName="g", IncludeDeletedGroups=True)["Activities"]
    assert deleted and {a["AutoScalingGroupState"] for a in deleted} == {"Deleted"}


def test_tags_filters_and_describe_tags(aws):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    for name, team in (("a", "blue"), ("b", "red")):
        asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=1,
                                      LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"],
                                      Tags=[{"Key": "team", "Value": team, "PropagateAtLaunch": True}])
    found = asg.describe_auto_scaling_groups(Filters=[{"Name": "tag:team", "Values": ["red"]}])["AutoScalingGroups"]
    assert [g["AutoScalingGroupName"] for g in found] == ["b"]
    asg.create_or_update_tags(Tags=[{"ResourceId": "a", "ResourceType": "auto-scaling-group", "Key": "env",
                                     "Value": "prod", "PropagateAtLaunch": False}])
    tags = asg.describe_tags(Filters=[{"Name": "auto-scaling-group", "Values": ["a"]}])["Tags"]
    assert [(t["Key"], t["Value"], t["PropagateAtLaunch"]) for t in tags] == [("env", "prod", False),
                                                                               ("team", "blue", True)]
    asg.delete_tags(Tags=[{"ResourceId": "a", "ResourceType": "auto-scaling-group", "Key": "env"}])
    assert [t["Key"] for t in asg.describe_tags(Filters=[{"Name": "key", "Values": ["env"]}])["Tags"]] == []
    with pytest.raises(ClientError) as e:
        asg.create_or_update_tags(Tags=[{"ResourceId": "a", "ResourceType": "auto-scaling-group", "Key": "aws:x",
                                         "Value": "1", "PropagateAtLaunch": False}])
    assert _error(e)[0] == "ValidationError"
    page = asg.describe_auto_scaling_groups(MaxRecords=1)
    assert len(page["AutoScalingGroups"]) == 1 and page["NextToken"]
    rest = asg.describe_auto_scaling_groups(MaxRecords=1, NextToken=page["NextToken"])
    assert [g["AutoScalingGroupName"] for g in rest["AutoScalingGroups"]] == ["b"] and "NextToken" not in rest


def test_launch_configuration_group_and_its_lifecycle(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=AMI, InstanceType="t3.small",
                                    UserData="#!/bin/sh\necho hi\n")
    lc = asg.describe_launch_configurations(LaunchConfigurationNames=["lc"])["LaunchConfigurations"][0]
    assert lc["InstanceMonitoring"] == {"Enabled": True} and lc["InstanceType"] == "t3.small"
    assert lc["LaunchConfigurationARN"].startswith("arn:aws:autoscaling:us-east-1:")
    with pytest.raises(ClientError) as e:
        asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=AMI, InstanceType="t3.small")
    assert _error(e)[0] == "AlreadyExists"
    with pytest.raises(ClientError) as e:
        asg.create_launch_configuration(LaunchConfigurationName="bad", ImageId="ami-0123456789abcdef0",
                                        InstanceType="t3.small")
    assert _error(e)[0] == "ValidationError"
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=1, LaunchConfigurationName="lc",
                                  VPCZoneIdentifier=subnets(ec2, 1)[0])
    g = wait_group(kumo_server, asg, "g", in_service(1))
    assert g["Instances"][0]["LaunchConfigurationName"] == "lc" and g["Instances"][0]["InstanceType"] == "t3.small"
    inst = ec2.describe_instances(InstanceIds=[g["Instances"][0]["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert inst["Monitoring"]["State"] == "enabled"  # launch configurations default to detailed monitoring
    with pytest.raises(ClientError) as e:
        asg.delete_launch_configuration(LaunchConfigurationName="lc")
    assert _error(e) == ("ResourceInUse", "Cannot delete launch configuration lc because it is attached to "
                                          "AutoScalingGroup g", 400)


def test_catalogues_and_limits(aws):
    asg = aws("autoscaling")
    assert {p["ProcessName"] for p in asg.describe_scaling_process_types()["Processes"]} == {
        "Launch", "Terminate", "HealthCheck", "ReplaceUnhealthy", "AZRebalance", "AlarmNotification",
        "ScheduledActions", "AddToLoadBalancer", "InstanceRefresh"}
    assert [a["AdjustmentType"] for a in asg.describe_adjustment_types()["AdjustmentTypes"]] == [
        "ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"]
    assert asg.describe_lifecycle_hook_types()["LifecycleHookTypes"] == [
        "autoscaling:EC2_INSTANCE_LAUNCHING", "autoscaling:EC2_INSTANCE_TERMINATING"]
    limits = asg.describe_account_limits()
    assert limits["NumberOfAutoScalingGroups"] == 0 and limits["MaxNumberOfAutoScalingGroups"] > 0
    assert "Default" in asg.describe_termination_policy_types()["TerminationPolicyTypes"]


def test_suspended_launch_holds_capacity_until_resumed(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=2, DesiredCapacity=0,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    asg.suspend_processes(AutoScalingGroupName="g", ScalingProcesses=["Launch"])
    g = group(asg, "g")
    assert [p["ProcessName"] for p in g["SuspendedProcesses"]] == ["Launch"]
    assert g["SuspendedProcesses"][0]["SuspensionReason"].startswith("User suspended at ")
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=2)
    for _ in range(3):
        kumo_server.advance(10)
    assert states(group(asg, "g")) == []
    asg.resume_processes(AutoScalingGroupName="g")
    wait_group(kumo_server, asg, "g", in_service(2))


def test_the_aws_cli_drives_groups(aws, aws_cli, kumo_server):
    import json

    template(aws("ec2"))
    aws_cli("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "cli", "--min-size", "1",
            "--max-size", "2", "--launch-template", "LaunchTemplateName=web,Version=$Latest",
            "--availability-zones", "us-east-1a", "--tags",
            "Key=team,Value=cli,PropagateAtLaunch=true")
    wait_group(kumo_server, aws("autoscaling"), "cli", in_service(1))
    out = json.loads(aws_cli("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names",
                             "cli").stdout)["AutoScalingGroups"][0]
    assert out["MinSize"] == 1 and out["Instances"][0]["LifecycleState"] == "InService"
    assert out["Tags"] == [{"ResourceId": "cli", "ResourceType": "auto-scaling-group", "Key": "team",
                            "Value": "cli", "PropagateAtLaunch": True}]
    err = aws_cli("autoscaling", "set-desired-capacity", "--auto-scaling-group-name", "cli", "--desired-capacity",
                  "9", check=False)
    assert err.returncode != 0 and "ValidationError" in err.stderr and "above max value 2" in err.stderr


def test_members_the_model_leaves_optional_are_refused_not_failed(aws):
    """Found by the fuzz suite: these answered 500 (KeyError, IndexError) instead of AWS's ValidationError."""
    asg = aws("autoscaling", validate=False)
    with pytest.raises(ClientError) as e:
        asg.terminate_instance_in_auto_scaling_group(ShouldDecrementDesiredCapacity=True)
    assert _error(e) == ("ValidationError", "1 validation error detected: Value null at 'instanceId' failed to "
                                            "satisfy constraint: Member must not be null", 400)
    for bad, bound in ((-1, "greater than or equal to 1"), (0, "greater than or equal to 1"),
                       (101, "less than or equal to 100")):
        with pytest.raises(ClientError) as e:
            asg.describe_scaling_activities(MaxRecords=bad)
        assert _error(e) == ("ValidationError", f"1 validation error detected: Value '{bad}' at 'maxRecords' failed "
                                                f"to satisfy constraint: Member must have value {bound}", 400)
    assert asg.describe_scaling_activities(MaxRecords=1)["Activities"] == []
