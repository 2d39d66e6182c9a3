"""IAM roles through boto3 and the aws CLI."""

import json

import pytest
from botocore.exceptions import ClientError

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_create_get_list_delete_role(aws, account):
    iam = aws("iam")
    role = iam.create_role(RoleName="web", Path="/app/", AssumeRolePolicyDocument=TRUST, Description="d",
                           Tags=[{"Key": "team", "Value": "a"}])["Role"]
    assert role["Arn"] == f"arn:aws:iam::{account}:role/app/web"
    assert role["RoleId"].startswith("AROA") and len(role["RoleId"]) == 21
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    got = iam.get_role(RoleName="web")["Role"]
    assert got["Description"] == "d" and got["Tags"] == [{"Key": "team", "Value": "a"}]
    assert got["MaxSessionDuration"] == 3600
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["web"]
    assert iam.list_roles(PathPrefix="/other/")["Roles"] == []
    iam.delete_role(RoleName="web")
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName="web")
    assert code(e) == "NoSuchEntity"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_duplicate_role_is_a_conflict(aws):
    iam = aws("iam")
    iam.create_role(RoleName="dup", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="dup", AssumeRolePolicyDocument=TRUST)
    assert code(e) == "EntityAlreadyExists"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_bad_trust_policy_is_refused(aws):
    with pytest.raises(ClientError) as e:
        aws("iam").create_role(RoleName="bad", AssumeRolePolicyDocument="{not json")
    assert code(e) == "MalformedPolicyDocument"


def test_role_name_rules(aws):
    iam = aws("iam")
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="has space", AssumeRolePolicyDocument=TRUST)
    assert code(e) == "ValidationError"
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="x" * 65, AssumeRolePolicyDocument=TRUST)
    assert code(e) == "ValidationError"
    assert "length less than or equal to 64" in e.value.response["Error"]["Message"]


def test_list_roles_paginates(aws):
    iam = aws("iam")
    for i in range(7):
        iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument=TRUST)
    first = iam.list_roles(MaxItems=3)
    assert first["IsTruncated"] and len(first["Roles"]) == 3
    names = [r["RoleName"] for r in first["Roles"]]
    marker = first["Marker"]
    while marker:
        page = iam.list_roles(MaxItems=3, Marker=marker)
        names += [r["RoleName"] for r in page["Roles"]]
        marker = page.get("Marker")
    assert names == [f"r{i}" for i in range(7)]
    paged = [r["RoleName"] for p in iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 2})
             for r in p["Roles"]]
    assert paged == names


def test_attach_detach_managed_policies(aws, account):
    iam = aws("iam")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    pol = iam.create_policy(PolicyName="s3all", PolicyDocument=POLICY)["Policy"]
    assert pol["Arn"] == f"arn:aws:iam::{account}:policy/s3all" and pol["DefaultVersionId"] == "v1"
    iam.attach_role_policy(RoleName="app", PolicyArn=pol["Arn"])
    iam.attach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    attached = iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]
    assert {a["PolicyName"] for a in attached} == {"s3all", "ReadOnlyAccess"}
    assert iam.get_policy(PolicyArn=pol["Arn"])["Policy"]["AttachmentCount"] == 1
    entities = iam.list_entities_for_policy(PolicyArn=pol["Arn"])
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == ["app"]
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="app")
    assert code(e) == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=pol["Arn"])
    assert code(e) == "DeleteConflict"
    iam.detach_role_policy(RoleName="app", PolicyArn=pol["Arn"])
    iam.detach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    with pytest.raises(ClientError) as e:
        iam.detach_role_policy(RoleName="app", PolicyArn=pol["Arn"])
    assert code(e) == "NoSuchEntity"
    iam.delete_policy(PolicyArn=pol["Arn"])
    iam.delete_role(RoleName="app")


def test_attach_unknown_policy(aws, account):
    iam = aws("iam")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as e:
        iam.attach_role_policy(RoleName="app", PolicyArn=f"arn:aws:iam::{account}:policy/none")
    assert code(e) == "NoSuchEntity"


def test_inline_role_policies(aws):
    iam = aws("iam")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="app", PolicyName="inline", PolicyDocument=POLICY)
    assert iam.list_role_policies(RoleName="app")["PolicyNames"] == ["inline"]
    got = iam.get_role_policy(RoleName="app", PolicyName="inline")
    assert got["PolicyDocument"] == json.loads(POLICY)
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="app")
    assert code(e) == "DeleteConflict"
    iam.delete_role_policy(RoleName="app", PolicyName="inline")
    iam.delete_role(RoleName="app")


def test_update_role_and_tags(aws):
    iam = aws("iam")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    iam.update_role(RoleName="app", Description="new", MaxSessionDuration=7200)
    role = iam.get_role(RoleName="app")["Role"]
    assert role["Description"] == "new" and role["MaxSessionDuration"] == 7200
    # boto3 would refuse this itself; turn its check off so kumo's own range check answers.
    with pytest.raises(ClientError) as e:
        aws("iam", validate=False).update_role(RoleName="app", MaxSessionDuration=60)
    assert code(e) == "ValidationError"
    assert "greater than or equal to 3600" in e.value.response["Error"]["Message"]
    iam.tag_role(RoleName="app", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_role(RoleName="app", TagKeys=["a"])
    assert iam.list_role_tags(RoleName="app")["Tags"] == [{"Key": "b", "Value": "2"}]
    new_trust = json.loads(TRUST)
    new_trust["Statement"][0]["Principal"] = {"Service": "lambda.amazonaws.com"}
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=json.dumps(new_trust))
    assert iam.get_role(RoleName="app")["Role"]["AssumeRolePolicyDocument"] == new_trust


def test_roles_through_the_aws_cli(aws_cli, account):
    out = aws_cli("iam", "create-role", "--role-name", "cli-role", "--assume-role-policy-document", TRUST)
    assert json.loads(out.stdout)["Role"]["Arn"] == f"arn:aws:iam::{account}:role/cli-role"
    listed = json.loads(aws_cli("iam", "list-roles").stdout)
    assert [r["RoleName"] for r in listed["Roles"]] == ["cli-role"]
    missing = aws_cli("iam", "get-role", "--role-name", "nope", check=False)
    assert missing.returncode != 0 and "(NoSuchEntity)" in missing.stderr


def test_accounts_are_isolated(aws, endpoint):
    from tests.conftest import Clients, new_account

    aws("iam").create_role(RoleName="mine", AssumeRolePolicyDocument=TRUST)
    other = Clients(endpoint, new_account())("iam")
    assert other.list_roles()["Roles"] == []
