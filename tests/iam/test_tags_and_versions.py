"""IAM operations that had no test of their own: tags of users, policies and instance profiles, policy
versions, user policy removal, role descriptions, boundaries and access-key last use."""

import json

import pytest
from botocore.exceptions import ClientError

DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
DOC2 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_user_tags_and_policies(aws):
    iam = aws("iam")
    iam.create_user(UserName="u")
    iam.tag_user(UserName="u", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_user(UserName="u", TagKeys=["a"])
    assert iam.list_user_tags(UserName="u")["Tags"] == [{"Key": "b", "Value": "2"}]
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=DOC)
    iam.delete_user_policy(UserName="u", PolicyName="p")
    assert iam.list_user_policies(UserName="u")["PolicyNames"] == []
    arn = iam.create_policy(PolicyName="m", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    iam.detach_user_policy(UserName="u", PolicyArn=arn)
    assert iam.list_attached_user_policies(UserName="u")["AttachedPolicies"] == []
    with pytest.raises(ClientError) as e:
        iam.detach_user_policy(UserName="u", PolicyArn=arn)
    assert code(e) == "NoSuchEntity"


def test_policy_tags_and_default_version(aws):
    iam = aws("iam")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["b"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=DOC2)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    with pytest.raises(ClientError) as e:
        iam.set_default_policy_version(PolicyArn=arn, VersionId="v9")
    assert code(e) == "NoSuchEntity"


def test_instance_profile_tags(aws):
    iam = aws("iam")
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.tag_instance_profile(InstanceProfileName="ip", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_instance_profile(InstanceProfileName="ip", TagKeys=["a"])
    assert iam.list_instance_profile_tags(InstanceProfileName="ip")["Tags"] == [{"Key": "b", "Value": "2"}]


def test_role_description_and_boundary(aws):
    iam = aws("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    assert iam.update_role_description(RoleName="r", Description="web tier")["Role"]["Description"] == "web tier"
    arn = iam.create_policy(PolicyName="boundary", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=arn)
    assert iam.get_role(RoleName="r")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    iam.delete_role_permissions_boundary(RoleName="r")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="r")["Role"]


def test_access_key_last_used(aws):
    iam = aws("iam")
    iam.create_user(UserName="k")
    key = iam.create_access_key(UserName="k")["AccessKey"]["AccessKeyId"]
    got = iam.get_access_key_last_used(AccessKeyId=key)
    assert got["UserName"] == "k" and got["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    with pytest.raises(ClientError) as e:
        iam.get_access_key_last_used(AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    assert code(e) == "AccessDenied"
