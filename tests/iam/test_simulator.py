"""The IAM policy simulator through boto3: results as AWS shapes them, on kumo's default server (no enforcement)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)


ALLOW_SQS = {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}


@pytest.fixture
def iam(aws):
    return aws("iam")


def make_user(iam, account, name="dev", *statements, boundary=None):
    iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": "red"}])
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=doc(*statements))
    if boundary:
        arn = iam.create_policy(PolicyName=f"{name}-boundary", PolicyDocument=doc(*boundary))["Policy"]["Arn"]
        iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=arn)
    return f"arn:aws:iam::{account}:user/{name}"


def test_principal_policy_decisions_and_matched_statement_positions(iam, account):
    arn = make_user(iam, account, "dev", ALLOW_SQS, {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"})
    got = iam.simulate_principal_policy(PolicySourceArn=arn,
                                        ActionNames=["sqs:SendMessage", "sqs:DeleteQueue", "sns:Publish"])
    results = {r["EvalActionName"]: r for r in got["EvaluationResults"]}
    assert [r["EvalDecision"] for r in got["EvaluationResults"]] == ["allowed", "explicitDeny", "implicitDeny"]
    matched = results["sqs:SendMessage"]["MatchedStatements"]
    # doc() indents by two: the first statement opens on line 4, column 5, and closes on line 8.
    assert matched == [{"SourcePolicyId": "inline", "SourcePolicyType": "user",
                        "StartPosition": {"Line": 4, "Column": 5}, "EndPosition": {"Line": 8, "Column": 5}}]
    assert results["sqs:DeleteQueue"]["MatchedStatements"][0]["StartPosition"]["Line"] == 9
    assert results["sns:Publish"]["MatchedStatements"] == []
    assert all(r["EvalResourceName"] == "*" and "ResourceSpecificResults" not in r for r in got["EvaluationResults"])
    assert got["IsTruncated"] is False


def test_resource_arns_give_resource_specific_results(iam, account):
    arn = make_user(iam, account, "dev", {"Effect": "Allow", "Action": "sqs:*",
                                          "Resource": f"arn:aws:sqs:*:{account}:mine-*"})
    mine, other = f"arn:aws:sqs:us-east-1:{account}:mine-1", f"arn:aws:sqs:us-east-1:{account}:theirs"
    got = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:SendMessage"],
                                        ResourceArns=[mine, other])["EvaluationResults"]
    assert [(r["EvalResourceName"], r["EvalDecision"]) for r in got] == [(mine, "allowed"), (other, "implicitDeny")]
    assert got[0]["ResourceSpecificResults"][0]["EvalResourceDecision"] == "allowed"
    assert got[0]["ResourceSpecificResults"][0]["EvalResourceName"] == mine
    # Within one account, with resource ARNs, the decision details are present and empty.
    assert got[0]["EvalDecisionDetails"] == {} and got[0]["ResourceSpecificResults"][0]["EvalDecisionDetails"] == {}


def test_missing_context_values_sit_with_the_resource_when_resources_are_named(iam, account):
    arn = make_user(iam, account, "dev", {"Effect": "Allow", "Action": "sqs:*", "Resource": "*",
                                          "Condition": {"StringEquals": {"aws:PrincipalTag/env": "prod"}}})
    queue = f"arn:aws:sqs:us-east-1:{account}:q"
    got = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:SendMessage"],
                                        ResourceArns=[queue])["EvaluationResults"][0]
    assert got["MissingContextValues"] == []
    assert got["ResourceSpecificResults"][0]["MissingContextValues"] == ["aws:PrincipalTag/env"]


def test_missing_context_values_and_context_entries(iam, account):
    arn = make_user(iam, account, "dev", {"Effect": "Allow", "Action": "sqs:*", "Resource": "*",
                                          "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}})
    got = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:ListQueues"])["EvaluationResults"][0]
    assert got["EvalDecision"] == "implicitDeny" and got["MissingContextValues"] == ["aws:SourceIp"]
    entry = {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["203.0.113.9"], "ContextKeyType": "ip"}
    got = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:ListQueues"],
                                        ContextEntries=[entry])["EvaluationResults"][0]
    assert got["EvalDecision"] == "allowed" and got["MissingContextValues"] == []


def test_principal_keys_come_from_the_simulated_user(iam, account):
    arn = make_user(iam, account, "dev", {"Effect": "Allow", "Action": "sqs:*", "Resource": "*",
                                          "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red",
                                                                         "aws:username": "dev"}}})
    got = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:ListQueues"])["EvaluationResults"][0]
    assert got["EvalDecision"] == "allowed"


def test_permissions_boundary_decision_detail(iam, account):
    arn = make_user(iam, account, "dev", ALLOW_SQS, boundary=[{"Effect": "Allow", "Action": "sqs:Send*",
                                                               "Resource": "*"}])
    got = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:SendMessage", "sqs:DeleteQueue"])
    send, delete = got["EvaluationResults"]
    assert send["EvalDecision"] == "allowed"
    assert send["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert delete["EvalDecision"] == "implicitDeny"
    assert delete["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    # A boundary given in the call replaces the user's own.
    got = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:DeleteQueue"],
                                        PermissionsBoundaryPolicyInputList=[doc(ALLOW_SQS)])
    assert got["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_cross_account_resource_policy_and_decision_details(iam, account):
    arn = make_user(iam, account, "dev", ALLOW_SQS)
    queue = "arn:aws:sqs:us-east-1:999999999999:shared"
    grant = doc({"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sqs:SendMessage", "Resource": queue})
    got = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:SendMessage"], ResourceArns=[queue],
                                        ResourcePolicy=grant)["EvaluationResults"][0]
    assert got["EvalDecision"] == "allowed"
    assert got["EvalDecisionDetails"] == {"IAM Policy": "allowed", "Resource Policy": "allowed"}
    assert {s["SourcePolicyType"] for s in got["MatchedStatements"]} == {"user", "resource"}
    got = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:SendMessage"],
                                        ResourceArns=[queue])["EvaluationResults"][0]
    assert got["EvalDecision"] == "implicitDeny"
    assert got["EvalDecisionDetails"] == {"IAM Policy": "allowed", "Resource Policy": "implicitDeny"}


def test_role_sources_need_a_caller_arn_for_resource_policies(iam, account):
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=doc())
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=doc(ALLOW_SQS))
    role = f"arn:aws:iam::{account}:role/r"
    got = iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=["sqs:ListQueues"])["EvaluationResults"]
    assert got[0]["EvalDecision"] == "allowed" and got[0]["MatchedStatements"][0]["SourcePolicyType"] == "role"
    with pytest.raises(ClientError) as exc:
        iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=["sqs:ListQueues"],
                                      ResourcePolicy=doc({"Effect": "Allow", "Principal": "*", "Action": "*"}))
    assert exc.value.response["Error"]["Code"] == "InvalidInput"


def test_custom_policy_and_pagination(iam):
    actions = [f"sqs:Action{i}" for i in range(5)]
    first = iam.simulate_custom_policy(PolicyInputList=[doc(ALLOW_SQS)], ActionNames=actions, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["EvaluationResults"]) == 2
    assert first["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    rest = iam.simulate_custom_policy(PolicyInputList=[doc(ALLOW_SQS)], ActionNames=actions, MaxItems=10,
                                      Marker=first["Marker"])
    assert [r["EvalActionName"] for r in first["EvaluationResults"] + rest["EvaluationResults"]] == actions
    assert rest["IsTruncated"] is False
    paged = [r["EvalActionName"] for p in iam.get_paginator("simulate_custom_policy").paginate(
        PolicyInputList=[doc(ALLOW_SQS)], ActionNames=actions, PaginationConfig={"PageSize": 2})
        for r in p["EvaluationResults"]]
    assert paged == actions


def test_errors(iam, account):
    with pytest.raises(ClientError) as exc:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{account}:user/ghost", ActionNames=["s3:*"])
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(PolicyInputList=["{not json"], ActionNames=["s3:GetObject"])
    assert exc.value.response["Error"]["Code"] == "MalformedPolicyDocument"


def test_a_context_entry_without_a_key_name_is_refused(aws):
    """Found by the fuzz suite: a context entry naming no key answered 500 (KeyError)."""
    iam = aws("iam", validate=False)
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(PolicyInputList=[doc(ALLOW_SQS)], ActionNames=["sqs:ListQueues"],
                                   ContextEntries=[{"ContextKeyValues": ["x"], "ContextKeyType": "string"}])
    assert exc.value.response["Error"]["Code"] == "InvalidInput"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_context_keys_of_policies(iam, account):
    policy = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::${aws:username}/*",
                  "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                                "StringEquals": {"aws:PrincipalTag/team": "red"}}})
    got = iam.get_context_keys_for_custom_policy(PolicyInputList=[policy])["ContextKeyNames"]
    assert got == ["aws:PrincipalTag/team", "aws:SourceIp", "aws:username"]
    arn = make_user(iam, account, "dev", {"Effect": "Allow", "Action": "*", "Resource": "*",
                                          "Condition": {"Bool": {"aws:SecureTransport": "true"}}})
    got = iam.get_context_keys_for_principal_policy(PolicySourceArn=arn)["ContextKeyNames"]
    assert got == ["aws:SecureTransport"]


def test_permissions_boundary_apis(iam, account):
    make_user(iam, account, "dev")
    arn = iam.create_policy(PolicyName="b", PolicyDocument=doc(ALLOW_SQS))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="dev", PermissionsBoundary=arn)
    assert iam.get_user(UserName="dev")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    iam.delete_user_permissions_boundary(UserName="dev")
    assert "PermissionsBoundary" not in iam.get_user(UserName="dev")["User"]
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=doc())
    iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=arn)
    assert iam.get_role(RoleName="r")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    with pytest.raises(ClientError) as exc:
        iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=f"arn:aws:iam::{account}:policy/nope")
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"


def test_the_aws_cli_simulates(aws_cli, iam, account):
    arn = make_user(iam, account, "cli", ALLOW_SQS)
    out = json.loads(aws_cli("iam", "simulate-principal-policy", "--policy-source-arn", arn,
                             "--action-names", "sqs:SendMessage", "sns:Publish").stdout)
    assert [r["EvalDecision"] for r in out["EvaluationResults"]] == ["allowed", "implicitDeny"]
    out = json.loads(aws_cli("iam", "simulate-custom-policy", "--policy-input-list", doc(ALLOW_SQS),
                             "--action-names", "sqs:DeleteQueue").stdout)
    assert out["EvaluationResults"][0]["EvalDecision"] == "allowed"
