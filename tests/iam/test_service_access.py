"""Service-specific credentials, ListPoliciesGrantingServiceAccess and SetSecurityTokenServicePreferences."""

import json

import pytest
from botocore.exceptions import ClientError


def code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_service_specific_credentials(aws, account):
    iam = aws("iam")
    iam.create_user(UserName="git")
    cred = iam.create_service_specific_credential(UserName="git", ServiceName="codecommit.amazonaws.com")[
        "ServiceSpecificCredential"]
    assert cred["ServiceUserName"] == f"git-at-{account}" and len(cred["ServicePassword"]) == 44
    assert cred["Status"] == "Active" and cred["ServiceSpecificCredentialId"].startswith("ACCA")
    iam.create_service_specific_credential(UserName="git", ServiceName="codecommit.amazonaws.com")
    with pytest.raises(ClientError) as e:
        iam.create_service_specific_credential(UserName="git", ServiceName="codecommit.amazonaws.com")
    assert code(e) == "LimitExceeded"
    with pytest.raises(ClientError) as e:
        iam.create_service_specific_credential(UserName="git", ServiceName="s3.amazonaws.com")
    assert code(e) == "NotSupportedService"
    bedrock = iam.create_service_specific_credential(UserName="git", ServiceName="bedrock.amazonaws.com",
                                                     CredentialAgeDays=30)["ServiceSpecificCredential"]
    assert bedrock["ServiceCredentialAlias"] == f"git-at-{account}" and bedrock["ServiceCredentialSecret"]
    assert (bedrock["ExpirationDate"] - bedrock["CreateDate"]).days == 30
    listed = iam.list_service_specific_credentials(UserName="git", ServiceName="codecommit.amazonaws.com")[
        "ServiceSpecificCredentials"]
    assert len(listed) == 2 and all("ServicePassword" not in c for c in listed)
    reset = iam.reset_service_specific_credential(UserName="git",
                                                  ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"])
    assert reset["ServiceSpecificCredential"]["ServicePassword"] != cred["ServicePassword"]
    iam.update_service_specific_credential(UserName="git", ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"],
                                           Status="Inactive")
    statuses = {c["ServiceSpecificCredentialId"]: c["Status"]
                for c in iam.list_service_specific_credentials(UserName="git")["ServiceSpecificCredentials"]}
    assert statuses[cred["ServiceSpecificCredentialId"]] == "Inactive"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="git")
    assert code(e) == "DeleteConflict"
    for c in iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"]:
        iam.delete_service_specific_credential(UserName="git", ServiceSpecificCredentialId=c["ServiceSpecificCredentialId"])
    with pytest.raises(ClientError) as e:
        iam.delete_service_specific_credential(UserName="git",
                                               ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"])
    assert code(e) == "NoSuchEntity"
    iam.delete_user(UserName="git")


def test_list_policies_granting_service_access(aws, account):
    iam = aws("iam")
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")
    allow = lambda action: json.dumps({"Version": "2012-10-17", "Statement": [  # noqa: E731
        {"Effect": "Allow", "Action": action, "Resource": "*"}]})
    iam.put_user_policy(UserName="u", PolicyName="s3-read", PolicyDocument=allow("s3:Get*"))
    iam.put_group_policy(GroupName="g", PolicyName="sqs", PolicyDocument=allow(["sqs:SendMessage"]))
    iam.attach_user_policy(UserName="u", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    got = iam.list_policies_granting_service_access(Arn=f"arn:aws:iam::{account}:user/u",
                                                    ServiceNamespaces=["s3", "sqs", "ec2", "lambda"])
    by_ns = {g["ServiceNamespace"]: g["Policies"] for g in got["PoliciesGrantingServiceAccess"]}
    assert [(p["PolicyName"], p["PolicyType"]) for p in by_ns["s3"]] == [("s3-read", "INLINE")]
    assert by_ns["sqs"] == [{"PolicyName": "sqs", "PolicyType": "INLINE", "EntityType": "GROUP", "EntityName": "g"}]
    assert [p["PolicyArn"] for p in by_ns["ec2"]] == ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"]
    assert by_ns["lambda"] == []
    with pytest.raises(ClientError) as e:
        iam.list_policies_granting_service_access(Arn=f"arn:aws:iam::{account}:user/nobody", ServiceNamespaces=["s3"])
    assert code(e) == "NoSuchEntity"


def test_security_token_service_preferences(aws):
    iam = aws("iam")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
