"""STS: who is calling, and temporary credentials that really work and really expire."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Clients, new_account

TRUST = json.dumps({"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})


def test_caller_identity_of_default_and_numeric_keys(endpoint):
    default = Clients(endpoint, "AKIAIOSFODNN7EXAMPLE")("sts").get_caller_identity()
    assert default["Account"] == "000000000000" and default["Arn"] == "arn:aws:iam::000000000000:root"
    numbered = Clients(endpoint, "123456789012")("sts").get_caller_identity()
    assert numbered["Account"] == "123456789012"


def test_assume_role_gives_working_credentials(aws, account, endpoint):
    role = aws("iam").create_role(RoleName="deployer", AssumeRolePolicyDocument=TRUST,
                                  MaxSessionDuration=7200)["Role"]
    out = aws("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="ci-run", DurationSeconds=7200)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/deployer/ci-run"
    assert out["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:ci-run"
    session = Clients(endpoint, account)("sts", access_key=creds["AccessKeyId"],
                                         secret_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    ident = session.get_caller_identity()
    assert ident["Arn"] == out["AssumedRoleUser"]["Arn"] and ident["Account"] == account


def test_assume_role_in_another_account(aws, endpoint):
    other = new_account()
    role = Clients(endpoint, other)("iam").create_role(RoleName="x-acct", AssumeRolePolicyDocument=TRUST)["Role"]
    creds = aws("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s0")["Credentials"]
    ident = Clients(endpoint, other)("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                                     aws_session_token=creds["SessionToken"]).get_caller_identity()
    assert ident["Account"] == other


def test_assume_role_errors(aws, account):
    sts = aws("sts")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/missing", RoleSessionName="s1")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    role = aws("iam").create_role(RoleName="short", AssumeRolePolicyDocument=TRUST)["Role"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="bad name!")
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_temporary_credentials_expire_on_kumos_clock(aws, account, endpoint, kumo_server):
    role = aws("iam").create_role(RoleName="brief", AssumeRolePolicyDocument=TRUST)["Role"]
    creds = aws("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s0", DurationSeconds=900)["Credentials"]
    session = Clients(endpoint, account)("sts", access_key=creds["AccessKeyId"],
                                         secret_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    session.get_caller_identity()
    kumo_server.advance(901)  # fifteen simulated minutes, no real waiting
    with pytest.raises(ClientError) as e:
        session.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "ExpiredToken"


def test_get_session_token_and_access_key_info(aws, account, endpoint):
    creds = aws("sts").get_session_token(DurationSeconds=900)["Credentials"]
    ident = Clients(endpoint, account)("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                                       aws_session_token=creds["SessionToken"]).get_caller_identity()
    assert ident["Account"] == account
    assert aws("sts").get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"] == account


def test_sts_through_the_aws_cli(aws_cli, account):
    out = json.loads(aws_cli("sts", "get-caller-identity").stdout)
    assert out["Account"] == account
