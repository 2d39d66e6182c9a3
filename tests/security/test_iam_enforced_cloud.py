"""Under ``--enforce-iam`` kumo's own features keep working, workloads act as their roles, and denials
come in each service's own shape."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from kumo.config import Settings
from tests.conftest import new_account
from tests.ec2.conftest import console
from tests.security.policies import allow, client, deny, doc

AMI = "ami-0a0000000000a2023"


@pytest.fixture
def acct() -> str:
    return new_account()


def user(iam_server, account, name, *statements, **kw):
    """A user with an inline policy and an access key; returns a client factory signed as that user."""
    iam = client(iam_server, "iam", account)
    iam.create_user(UserName=name, **kw)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda svc, region="us-east-1": client(iam_server, svc, key["AccessKeyId"], key["SecretAccessKey"],
                                                  region=region)


def denial(fn) -> dict:
    with pytest.raises(ClientError) as exc:
        fn()
    return {"code": exc.value.response["Error"]["Code"], "message": exc.value.response["Error"]["Message"],
            "status": exc.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def test_health_reports_enforcement(iam_server):
    with urllib.request.urlopen(iam_server.endpoint + "/_kumo/health", timeout=5) as resp:
        assert json.loads(resp.read())["enforce_iam"] is True


def test_each_service_denies_in_its_own_shape(iam_server, acct):
    me = user(iam_server, acct, "nobody")
    arn = f"arn:aws:iam::{acct}:user/nobody"
    got = denial(lambda: me("iam").list_roles())
    assert got == {"code": "AccessDenied", "status": 403, "message":
                   f"User: {arn} is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::{acct}:role/ "
                   "because no identity-based policy allows the iam:ListRoles action"}
    got = denial(lambda: me("lambda").list_functions())
    assert got["code"] == "AccessDeniedException" and got["status"] == 403
    assert got["message"] == (f"User: {arn} is not authorized to perform: lambda:ListFunctions because no "
                              "identity-based policy allows the lambda:ListFunctions action")
    got = denial(lambda: me("sns").list_topics())
    assert got["code"] == "AuthorizationError" and "perform: SNS:ListTopics because no identity-based" in got["message"]
    got = denial(lambda: me("ec2").describe_vpcs())
    assert got["code"] == "UnauthorizedOperation"
    assert got["message"].startswith("You are not authorized to perform this operation. User: " + arn)
    got = denial(lambda: me("sqs").list_queues())
    assert got["code"] == "AccessDenied" and "perform: sqs:listqueues because" in got["message"]
    got = denial(lambda: me("logs").describe_log_groups())
    assert got["code"] == "AccessDeniedException"
    got = denial(lambda: me("autoscaling").describe_auto_scaling_groups())
    assert got["code"] == "AccessDenied"


def test_get_caller_identity_needs_no_permission_even_past_a_deny(iam_server, acct):
    me = user(iam_server, acct, "denied", deny())
    assert me("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{acct}:user/denied"


def test_the_account_root_may_do_anything_in_its_account_and_nothing_in_another_without_a_grant(iam_server, acct):
    other = new_account()
    sqs = client(iam_server, "sqs", acct)
    url = sqs.create_queue(QueueName="mine")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    outsider = client(iam_server, "sqs", other)
    got = denial(lambda: outsider.send_message(QueueUrl=url, MessageBody="x"))
    assert "because no resource-based policy allows" in got["message"]
    sqs.add_permission(QueueUrl=url, Label="other", AWSAccountIds=[other], Actions=["SendMessage"])
    outsider.send_message(QueueUrl=url, MessageBody="x")


def test_a_denied_request_changes_nothing(iam_server, acct):
    me = user(iam_server, acct, "reader", allow("iam:Get*"))
    denial(lambda: me("iam").create_role(RoleName="nope", AssumeRolePolicyDocument=doc()))
    assert not client(iam_server, "iam", acct).list_roles()["Roles"]


def test_session_policies_are_checked_and_sized(iam_server, acct):
    iam, sts = client(iam_server, "iam", acct), client(iam_server, "sts", acct)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                "Principal": {"AWS": acct}}))
    arn = f"arn:aws:iam::{acct}:role/r"
    got = sts.assume_role(RoleArn=arn, RoleSessionName="s1", Policy=doc(allow("sqs:*")))
    assert 0 < got["PackedPolicySize"] <= 100
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1", Policy="{not json")
    assert exc.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1",
                        PolicyArns=[{"arn": f"arn:aws:iam::{acct}:policy/missing"}])
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_managed_session_policy_limits_the_session(iam_server, acct):
    iam, sts = client(iam_server, "iam", acct), client(iam_server, "sts", acct)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                "Principal": {"AWS": acct}}))
    iam.put_role_policy(RoleName="r", PolicyName="all", PolicyDocument=doc(allow()))
    limit = iam.create_policy(PolicyName="only-sqs", PolicyDocument=doc(allow("sqs:*")))["Policy"]["Arn"]
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/r", RoleSessionName="s1",
                            PolicyArns=[{"arn": limit}])["Credentials"]
    session = lambda svc: client(iam_server, svc, creds["AccessKeyId"], creds["SecretAccessKey"],  # noqa: E731
                                 creds["SessionToken"])
    session("sqs").list_queues()
    got = denial(lambda: session("sns").list_topics())
    assert "because no session policy allows the SNS:ListTopics action" in got["message"]


def test_lambda_functions_call_as_their_execution_role(iam_server, acct):
    from tests.lambda_.conftest import TRUST, wait_active, zip_of

    iam, sqs, lam = client(iam_server, "iam", acct), client(iam_server, "sqs", acct), client(iam_server, "lambda", acct)
    allowed_url = sqs.create_queue(QueueName="allowed")["QueueUrl"]
    other_url = sqs.create_queue(QueueName="other")["QueueUrl"]
    role = iam.create_role(RoleName="exec", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="exec", PolicyName="send", PolicyDocument=doc(
        allow("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{acct}:allowed")))
    source = f"""
import boto3
def handler(event, context):
    sqs = boto3.client("sqs")
    out = {{}}
    for name, url in (("allowed", "{allowed_url}"), ("other", "{other_url}")):
        try:
            sqs.send_message(QueueUrl=url, MessageBody="from lambda")
            out[name] = "ok"
        except Exception as exc:
            out[name] = exc.response["Error"]["Code"]
    return out
"""
    lam.create_function(FunctionName="caller", Runtime="python3.11", Role=role, Handler="lambda_function.handler",
                        Timeout=20, Code={"ZipFile": zip_of({"lambda_function.py": source})})
    try:
        wait_active(lam, "caller")
        body = json.loads(lam.invoke(FunctionName="caller")["Payload"].read())
        assert body == {"allowed": "ok", "other": "AccessDenied"}
    finally:
        lam.delete_function(FunctionName="caller")


def test_an_instance_calls_as_its_instance_profile_role(iam_server, acct):
    iam, ec2, sqs = client(iam_server, "iam", acct), client(iam_server, "ec2", acct), client(iam_server, "sqs", acct)
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                  "Principal": {"Service": "ec2.amazonaws.com"}}))
    iam.put_role_policy(RoleName="app", PolicyName="send", PolicyDocument=doc(
        allow("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{acct}:work")))
    iam.create_instance_profile(InstanceProfileName="app")
    iam.add_role_to_instance_profile(InstanceProfileName="app", RoleName="app")
    script = f"""#!/bin/sh
aws sqs --endpoint-url "$AWS_ENDPOINT_URL" send-message --queue-url {url} --message-body hi >/dev/null 2>/tmp/send && echo "send=ok" || cat /tmp/send
aws sqs --endpoint-url "$AWS_ENDPOINT_URL" list-queues >/dev/null 2>/tmp/err; grep -o AccessDenied /tmp/err | head -1 | sed 's/^/list=/'
echo done-calls
"""
    inst = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             IamInstanceProfile={"Name": "app"}, UserData=script)["Instances"][0]
    try:
        out = console(ec2, inst["InstanceId"], "done-calls", timeout=60)
        assert "send=ok" in out and "list=AccessDenied" in out, out
        assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"]["ApproximateNumberOfMessages"] == "1"
    finally:
        ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])


def test_auto_scaling_launches_through_its_service_role_not_the_callers_policies(iam_server, acct):
    # The user may manage groups but not launch instances itself; Auto Scaling launches them as its
    # service-linked role, inside kumo, which user policies do not govern.
    me = user(iam_server, acct, "scaler", allow(["autoscaling:*", "ec2:Describe*", "ec2:CreateLaunchTemplate"]),
              deny("ec2:RunInstances"))
    ec2, asg = me("ec2"), me("autoscaling")
    denial(lambda: ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1))
    lt = ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={
        "ImageId": AMI, "InstanceType": "t3.micro"})["LaunchTemplate"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=1,
                                  LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplateId"]},
                                  VPCZoneIdentifier=subnet["SubnetId"])
    root_asg = client(iam_server, "autoscaling", acct)
    try:
        deadline = time.monotonic() + 30
        while True:
            g = root_asg.describe_auto_scaling_groups(AutoScalingGroupNames=["g"])["AutoScalingGroups"][0]
            if [i["LifecycleState"] for i in g["Instances"]] == ["InService"]:
                break
            assert time.monotonic() < deadline, g
            iam_server.advance(1)
            time.sleep(0.05)
    finally:
        root_asg.delete_auto_scaling_group(AutoScalingGroupName="g", ForceDelete=True)
        deadline = time.monotonic() + 30
        while root_asg.describe_auto_scaling_groups()["AutoScalingGroups"] and time.monotonic() < deadline:
            iam_server.advance(1)
            time.sleep(0.05)


def _health(proc) -> dict:
    with urllib.request.urlopen(proc.endpoint + "/_kumo/health", timeout=5) as resp:
        return json.loads(resp.read())


def test_enforcement_is_off_by_default_and_on_by_flag_or_environment(kumo_process, monkeypatch, tmp_path):
    assert Settings().enforce_iam is False
    flagged = kumo_process("--enforce-iam", data_dir=tmp_path / "flag").start()
    assert _health(flagged)["enforce_iam"] is True
    denied = flagged.client("sqs", account="123456789012")
    iam = flagged.client("iam", account="123456789012")
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    with pytest.raises(ClientError):
        client(flagged, "sqs", key["AccessKeyId"], key["SecretAccessKey"]).list_queues()
    denied.list_queues()  # the account root still may
    flagged.close()
    monkeypatch.setenv("KUMO_ENFORCE_IAM", "1")
    from_env = kumo_process(data_dir=tmp_path / "env").start()
    assert _health(from_env)["enforce_iam"] is True
    assert Settings.from_env({"KUMO_ENFORCE_IAM": "0"}).enforce_iam is False
