"""IAM groups: membership, inline and attached policies, and their effect under --enforce-iam."""

import json

import pytest
from botocore.exceptions import ClientError

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]})


def code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_group_lifecycle_and_members(aws, account):
    iam = aws("iam")
    group = iam.create_group(GroupName="devs", Path="/eng/")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{account}:group/eng/devs" and group["GroupId"].startswith("AGPA")
    with pytest.raises(ClientError) as e:
        iam.create_group(GroupName="devs")
    assert code(e) == "EntityAlreadyExists"
    iam.create_user(UserName="ann")
    iam.create_user(UserName="bob")
    iam.add_user_to_group(GroupName="devs", UserName="ann")
    iam.add_user_to_group(GroupName="devs", UserName="bob")
    got = iam.get_group(GroupName="devs")
    assert [u["UserName"] for u in got["Users"]] == ["ann", "bob"] and got["Group"]["GroupName"] == "devs"
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="ann")["Groups"]] == ["devs"]
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix="/eng/")["Groups"]] == ["devs"]
    assert iam.list_groups(PathPrefix="/ops/")["Groups"] == []
    with pytest.raises(ClientError) as e:
        iam.delete_group(GroupName="devs")
    assert code(e) == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="ann")
    assert code(e) == "DeleteConflict"
    iam.update_group(GroupName="devs", NewGroupName="builders", NewPath="/")
    assert iam.get_group(GroupName="builders")["Group"]["Arn"] == f"arn:aws:iam::{account}:group/builders"
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="bob")["Groups"]] == ["builders"]
    iam.remove_user_from_group(GroupName="builders", UserName="ann")
    iam.remove_user_from_group(GroupName="builders", UserName="bob")
    with pytest.raises(ClientError) as e:
        iam.remove_user_from_group(GroupName="builders", UserName="bob")
    assert code(e) == "NoSuchEntity"
    iam.delete_group(GroupName="builders")
    with pytest.raises(ClientError) as e:
        iam.get_group(GroupName="builders")
    assert code(e) == "NoSuchEntity"


def test_group_inline_and_attached_policies(aws):
    iam = aws("iam")
    iam.create_group(GroupName="g")
    iam.put_group_policy(GroupName="g", PolicyName="sqs", PolicyDocument=POLICY)
    assert iam.list_group_policies(GroupName="g")["PolicyNames"] == ["sqs"]
    assert iam.get_group_policy(GroupName="g", PolicyName="sqs")["PolicyDocument"] == json.loads(POLICY)
    arn = iam.create_policy(PolicyName="mine", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="g", PolicyArn=arn)
    assert [p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName="g")["AttachedPolicies"]] == [arn]
    assert [g["GroupName"] for g in iam.list_entities_for_policy(PolicyArn=arn)["PolicyGroups"]] == ["g"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert code(e) == "DeleteConflict"
    iam.detach_group_policy(GroupName="g", PolicyArn=arn)
    iam.delete_group_policy(GroupName="g", PolicyName="sqs")
    with pytest.raises(ClientError) as e:
        iam.get_group_policy(GroupName="g", PolicyName="sqs")
    assert code(e) == "NoSuchEntity"
    iam.delete_group(GroupName="g")


def test_group_policies_grant_their_members_under_enforcement(kumo_process):
    kumo = kumo_process("--enforce-iam", "--ephemeral").start()
    iam = kumo.client("iam")
    iam.create_user(UserName="dev")
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    import boto3

    sqs = boto3.client("sqs", endpoint_url=kumo.endpoint, region_name="us-east-1",
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        sqs.list_queues()
    assert code(e) == "AccessDenied"
    iam.create_group(GroupName="queues")
    iam.add_user_to_group(GroupName="queues", UserName="dev")
    iam.attach_group_policy(GroupName="queues", PolicyArn="arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess")
    sqs.list_queues()  # allowed through the group's AWS managed policy
    iam.remove_user_from_group(GroupName="queues", UserName="dev")
    with pytest.raises(ClientError) as e:
        sqs.list_queues()
    assert code(e) == "AccessDenied"


def test_simulator_sees_group_policies(aws, account):
    iam = aws("iam")
    iam.create_user(UserName="sim")
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="sqs", PolicyDocument=POLICY)
    user_arn = f"arn:aws:iam::{account}:user/sim"
    got = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=["sqs:SendMessage"])
    assert got["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    iam.add_user_to_group(GroupName="readers", UserName="sim")
    got = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=["sqs:SendMessage"])
    result = got["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"
    assert result["MatchedStatements"][0]["SourcePolicyType"] == "group"
    group = iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{account}:group/readers",
                                          ActionNames=["sqs:SendMessage", "sns:Publish"])["EvaluationResults"]
    assert [r["EvalDecision"] for r in group] == ["allowed", "implicitDeny"]
