"""IAM users, access keys, managed policy versions and instance profiles."""

import json

import pytest
from botocore.exceptions import ClientError

from .test_roles import POLICY, TRUST, code


def test_users_and_access_keys_identify_the_caller(aws, endpoint, account):
    from tests.conftest import Clients

    iam = aws("iam")
    user = iam.create_user(UserName="alice", Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert user["Arn"] == f"arn:aws:iam::{account}:user/alice" and user["UserId"].startswith("AIDA")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and key["Status"] == "Active"
    as_alice = Clients(endpoint, account)
    sts = as_alice("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    ident = sts.get_caller_identity()
    assert ident["Arn"] == user["Arn"] and ident["Account"] == account and ident["UserId"] == user["UserId"]
    # Without a name, CreateAccessKey and GetUser act on the calling user.
    alice_iam = as_alice("iam", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    assert alice_iam.get_user()["User"]["UserName"] == "alice"
    second = alice_iam.create_access_key()["AccessKey"]
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName="alice")
    assert code(e) == "LimitExceeded"
    listed = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {key["AccessKeyId"], second["AccessKeyId"]}
    assert all("SecretAccessKey" not in k for k in listed)
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert code(e) == "InvalidClientTokenId"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="alice")
    assert code(e) == "DeleteConflict"
    for k in (key, second):
        iam.delete_access_key(UserName="alice", AccessKeyId=k["AccessKeyId"])
    iam.delete_user(UserName="alice")
    assert iam.list_users()["Users"] == []


def test_user_policies(aws):
    iam = aws("iam")
    iam.create_user(UserName="bob")
    pol = iam.create_policy(PolicyName="p", PolicyDocument=POLICY)["Policy"]
    iam.attach_user_policy(UserName="bob", PolicyArn=pol["Arn"])
    assert iam.list_attached_user_policies(UserName="bob")["AttachedPolicies"] == [
        {"PolicyName": "p", "PolicyArn": pol["Arn"]}]
    iam.put_user_policy(UserName="bob", PolicyName="inl", PolicyDocument=POLICY)
    assert iam.get_user_policy(UserName="bob", PolicyName="inl")["PolicyDocument"] == json.loads(POLICY)
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == ["inl"]
    iam.update_user(UserName="bob", NewUserName="robert", NewPath="/eng/")
    renamed = iam.get_user(UserName="robert")["User"]
    assert renamed["Path"] == "/eng/" and renamed["Arn"].endswith(":user/eng/robert")


def test_policy_versions(aws):
    iam = aws("iam")
    arn = iam.create_policy(PolicyName="v", PolicyDocument=POLICY)["Policy"]["Arn"]
    doc2 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc2, SetAsDefault=True)["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]["Document"] == json.loads(doc2)
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY)
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY)
    assert code(e) == "LimitExceeded"
    with pytest.raises(ClientError) as e:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert code(e) == "DeleteConflict"
    versions = [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]]
    assert sorted(versions) == ["v1", "v2", "v3", "v4", "v5"]
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert code(e) == "DeleteConflict"
    for vid in ("v1", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=vid)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_policy(PolicyArn=arn)
    assert code(e) == "NoSuchEntity"


def test_instance_profiles(aws, account):
    iam = aws("iam")
    iam.create_role(RoleName="ec2role", AssumeRolePolicyDocument=TRUST)
    prof = iam.create_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert prof["Arn"] == f"arn:aws:iam::{account}:instance-profile/web" and prof["Roles"] == []
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="ec2role")
    got = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == ["ec2role"]
    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="ec2role")
    assert code(e) == "LimitExceeded"
    for_role = iam.list_instance_profiles_for_role(RoleName="ec2role")["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in for_role] == ["web"]
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="ec2role")
    assert code(e) == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.delete_instance_profile(InstanceProfileName="web")
    assert code(e) == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="ec2role")
    iam.delete_instance_profile(InstanceProfileName="web")
    assert iam.list_instance_profiles()["InstanceProfiles"] == []
    iam.delete_role(RoleName="ec2role")
