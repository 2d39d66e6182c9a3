"""Lifecycle hooks hold instances in wait states; notifications and events tell the world, in AWS's formats."""

import json

import pytest
from botocore.exceptions import ClientError

from .conftest import group, in_service, template, wait_group

ROLE = "arn:aws:iam::{account}:role/hooks"


def _queue(aws, name):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def _drain(sqs, url, want: int = 1, tries: int = 20) -> list[dict]:
    out = []
    for _ in range(tries):
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(out) >= want:
            break
    return out


def _member(g):
    return g["Instances"][0] if g["Instances"] else None


def test_a_launch_hook_holds_the_instance_until_complete_and_notifies_sqs(aws, kumo_server):
    asg = aws("autoscaling")
    template(aws("ec2"))
    sqs, url, queue_arn = _queue(aws, "hooks")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=2, DesiredCapacity=0,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    asg.put_lifecycle_hook(AutoScalingGroupName="g", LifecycleHookName="warm", HeartbeatTimeout=120,
                           LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING", NotificationTargetARN=queue_arn,
                           RoleARN=ROLE.format(account=aws.account), NotificationMetadata="hello")
    test_message = _drain(sqs, url)[0]
    assert test_message["Event"] == "autoscaling:TEST_NOTIFICATION"
    assert test_message["AutoScalingGroupName"] == "g" and test_message["Service"] == "AWS Auto Scaling"
    hook = asg.describe_lifecycle_hooks(AutoScalingGroupName="g")["LifecycleHooks"][0]
    assert hook["DefaultResult"] == "ABANDON" and hook["HeartbeatTimeout"] == 120 and hook["GlobalTimeout"] == 12000
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    g = wait_group(kumo_server, asg, "g", lambda g: _member(g) and _member(g)["LifecycleState"] == "Pending:Wait")
    iid = _member(g)["InstanceId"]
    message = _drain(sqs, url)[0]
    assert {k: message[k] for k in ("Origin", "Destination", "LifecycleHookName", "AutoScalingGroupName",
                                    "LifecycleTransition", "EC2InstanceId", "Service", "NotificationMetadata",
                                    "AccountId")} == {
        "Origin": "EC2", "Destination": "AutoScalingGroup", "LifecycleHookName": "warm", "AutoScalingGroupName": "g",
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING", "EC2InstanceId": iid,
        "Service": "AWS Auto Scaling", "NotificationMetadata": "hello", "AccountId": aws.account}
    token = message["LifecycleActionToken"]
    activity = asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"][0]
    assert activity["StatusCode"] == "MidLifecycleAction"
    kumo_server.advance(100)  # within the heartbeat timeout: still waiting
    assert _member(group(asg, "g"))["LifecycleState"] == "Pending:Wait"
    asg.record_lifecycle_action_heartbeat(AutoScalingGroupName="g", LifecycleHookName="warm",
                                          LifecycleActionToken=token)
    kumo_server.advance(100)  # the heartbeat restarted the timeout
    assert _member(group(asg, "g"))["LifecycleState"] == "Pending:Wait"
    with pytest.raises(ClientError) as e:
        asg.complete_lifecycle_action(AutoScalingGroupName="g", LifecycleHookName="warm",
                                      LifecycleActionToken="00000000-0000-0000-0000-000000000000",
                                      LifecycleActionResult="CONTINUE")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "No active Lifecycle Action found with token" in e.value.response["Error"]["Message"]
    asg.complete_lifecycle_action(AutoScalingGroupName="g", LifecycleHookName="warm", LifecycleActionToken=token,
                                  LifecycleActionResult="CONTINUE")
    wait_group(kumo_server, asg, "g", in_service(1))
    assert asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"][0]["StatusCode"] == "Successful"


def test_the_heartbeat_timeout_applies_the_default_result(aws, kumo_server):
    asg = aws("autoscaling")
    template(aws("ec2"))
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=1, DesiredCapacity=0,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    asg.put_lifecycle_hook(AutoScalingGroupName="g", LifecycleHookName="gate", HeartbeatTimeout=30,
                           LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING", DefaultResult="ABANDON")
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    g = wait_group(kumo_server, asg, "g", lambda g: _member(g) and _member(g)["LifecycleState"] == "Pending:Wait")
    first = _member(g)["InstanceId"]
    # ABANDON at the timeout: the instance is terminated and the group tries again with a new one.
    g = wait_group(kumo_server, asg, "g", lambda g: _member(g) and _member(g)["InstanceId"] != first and
                   _member(g)["LifecycleState"] == "Pending:Wait", step=10)
    failed = next(a for a in asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
                  if a["Description"] == f"Launching a new EC2 instance: {first}")
    assert failed["StatusCode"] == "Failed" and "ABANDON" in failed["StatusMessage"]
    ec2 = aws("ec2")
    wait_group(kumo_server, asg, "g", lambda g: ec2.describe_instances(InstanceIds=[first])["Reservations"][0][
        "Instances"][0]["State"]["Name"] == "terminated")
    second = _member(g)["InstanceId"]
    asg.complete_lifecycle_action(AutoScalingGroupName="g", LifecycleHookName="gate", InstanceId=second,
                                  LifecycleActionResult="CONTINUE")
    wait_group(kumo_server, asg, "g", in_service(1))
    # CONTINUE as the default: the instance goes into service when the timeout passes.
    asg.put_lifecycle_hook(AutoScalingGroupName="g", LifecycleHookName="gate", HeartbeatTimeout=30,
                           LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING", DefaultResult="CONTINUE")
    asg.update_auto_scaling_group(AutoScalingGroupName="g", MaxSize=2, DesiredCapacity=2)
    g = wait_group(kumo_server, asg, "g", lambda g: "Pending:Wait" in [i["LifecycleState"] for i in g["Instances"]])
    kumo_server.advance(20)
    assert "Pending:Wait" in [i["LifecycleState"] for i in group(asg, "g")["Instances"]]
    wait_group(kumo_server, asg, "g", in_service(2), step=5)


def test_a_terminate_hook_holds_the_instance_in_terminating_wait(aws, kumo_server):
    asg, ec2 = aws("autoscaling"), aws("ec2")
    template(ec2)
    sqs, url, queue_arn = _queue(aws, "bye")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=1, DesiredCapacity=1,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    iid = wait_group(kumo_server, asg, "g", in_service(1))["Instances"][0]["InstanceId"]
    asg.put_lifecycle_hook(AutoScalingGroupName="g", LifecycleHookName="drain", HeartbeatTimeout=300,
                           LifecycleTransition="autoscaling:EC2_INSTANCE_TERMINATING", NotificationTargetARN=queue_arn,
                           RoleARN=ROLE.format(account=aws.account))
    _drain(sqs, url)  # the test notification
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    wait_group(kumo_server, asg, "g", lambda g: _member(g)["LifecycleState"] == "Terminating:Wait")
    message = _drain(sqs, url)[0]
    assert message["LifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
    assert (message["Origin"], message["Destination"]) == ("AutoScalingGroup", "EC2")
    kumo_server.advance(60)
    assert ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"
    asg.complete_lifecycle_action(AutoScalingGroupName="g", LifecycleHookName="drain",
                                  LifecycleActionToken=message["LifecycleActionToken"], LifecycleActionResult="CONTINUE")
    wait_group(kumo_server, asg, "g", lambda g: not g["Instances"])
    assert ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] == \
        "terminated"


def test_launches_and_terminations_reach_eventbridge_and_sns(aws, kumo_server):
    asg, events, sns = aws("autoscaling"), aws("events"), aws("sns")
    template(aws("ec2"))
    sqs, url, queue_arn = _queue(aws, "events")
    events.put_rule(Name="asg", EventPattern=json.dumps({"source": ["aws.autoscaling"]}))
    events.put_targets(Rule="asg", Targets=[{"Id": "q", "Arn": queue_arn}])
    topic = sns.create_topic(Name="asg")["TopicArn"]
    sqs2, url2, queue2 = _queue(aws, "sns-out")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue2, Attributes={"RawMessageDelivery": "true"})
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=1, DesiredCapacity=0,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    asg.put_notification_configuration(AutoScalingGroupName="g", TopicARN=topic,
                                       NotificationTypes=["autoscaling:EC2_INSTANCE_LAUNCH",
                                                          "autoscaling:EC2_INSTANCE_TERMINATE"])
    assert _drain(sqs2, url2)[0]["Event"] == "autoscaling:TEST_NOTIFICATION"
    configs = asg.describe_notification_configurations(AutoScalingGroupNames=["g"])["NotificationConfigurations"]
    assert sorted(c["NotificationType"] for c in configs) == ["autoscaling:EC2_INSTANCE_LAUNCH",
                                                              "autoscaling:EC2_INSTANCE_TERMINATE"]
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    iid = wait_group(kumo_server, asg, "g", in_service(1))["Instances"][0]["InstanceId"]
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    wait_group(kumo_server, asg, "g", lambda g: not g["Instances"])
    seen = _drain(sqs, url, want=2)
    by_type = {e["detail-type"]: e for e in seen}
    assert set(by_type) == {"EC2 Instance Launch Successful", "EC2 Instance Terminate Successful"}
    launch = by_type["EC2 Instance Launch Successful"]
    assert launch["source"] == "aws.autoscaling" and launch["detail"]["EC2InstanceId"] == iid
    assert launch["detail"]["StatusCode"] == "Successful" and launch["detail"]["AutoScalingGroupName"] == "g"
    assert launch["detail"]["Details"]["Availability Zone"] == "us-east-1a"
    assert f"arn:aws:ec2:us-east-1:{aws.account}:instance/{iid}" in launch["resources"]
    notes = _drain(sqs2, url2, want=2)
    assert [n["Event"] for n in notes] == ["autoscaling:EC2_INSTANCE_LAUNCH", "autoscaling:EC2_INSTANCE_TERMINATE"]
    assert notes[0]["Description"] == f"Launching a new EC2 instance: {iid}"


def test_hook_errors(aws):
    asg = aws("autoscaling")
    template(aws("ec2"))
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=1,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    with pytest.raises(ClientError) as e:
        asg.put_lifecycle_hook(AutoScalingGroupName="g", LifecycleHookName="h", HeartbeatTimeout=10,
                               LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as e:
        asg.put_lifecycle_hook(AutoScalingGroupName="g", LifecycleHookName="h",
                               LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING",
                               NotificationTargetARN=f"arn:aws:sqs:us-east-1:{aws.account}:missing",
                               RoleARN=ROLE.format(account=aws.account))
    assert "Unable to publish test message to notification target" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        asg.complete_lifecycle_action(AutoScalingGroupName="g", LifecycleHookName="none", InstanceId="i-0123456789abcdef0",
                                      LifecycleActionResult="CONTINUE")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert asg.describe_lifecycle_hooks(AutoScalingGroupName="g")["LifecycleHooks"] == []


def test_a_failed_launch_is_a_failed_activity_and_an_event_and_is_retried(aws, kumo_server):
    asg, events, ec2 = aws("autoscaling"), aws("events"), aws("ec2")
    template(ec2, KeyName="missing-key")
    sqs, url, queue_arn = _queue(aws, "failed")
    events.put_rule(Name="asg", EventPattern=json.dumps({"source": ["aws.autoscaling"],
                                                         "detail-type": ["EC2 Instance Launch Unsuccessful"]}))
    events.put_targets(Rule="asg", Targets=[{"Id": "q", "Arn": queue_arn}])
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=1,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    kumo_server.advance(1)
    failed = asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
    assert len(failed) == 1 and failed[0]["StatusCode"] == "Failed"
    assert failed[0]["StatusMessage"] == "The key pair 'missing-key' does not exist. Launching EC2 instance failed."
    event = _drain(sqs, url)[0]
    assert event["detail"]["StatusCode"] == "Failed" and event["detail"]["AutoScalingGroupName"] == "g"
    # Fixed: the group's next attempt (after its back-off) succeeds.
    ec2.create_key_pair(KeyName="missing-key")
    wait_group(kumo_server, asg, "g", in_service(1), step=10)
