"""Last use of issued credentials: GetAccessKeyLastUsed, RoleLastUsed, and service last accessed reports."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

SQS_AND_SNS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["sqs:*", "sns:Publish"], "Resource": "*"}]})


def client(service, endpoint, creds):
    return boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1", **creds)


def test_access_key_and_service_last_used(aws, account, endpoint):
    iam = aws("iam")
    iam.create_user(UserName="worker")
    iam.put_user_policy(UserName="worker", PolicyName="p", PolicyDocument=SQS_AND_SNS)
    key = iam.create_access_key(UserName="worker")["AccessKey"]
    assert iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"] == {
        "ServiceName": "N/A", "Region": "N/A"}
    creds = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    client("sqs", endpoint, creds).list_queues()
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["ServiceName"] == "sqs" and used["Region"] == "eu-west-1" and used["LastUsedDate"]

    user_arn = f"arn:aws:iam::{account}:user/worker"
    job = iam.generate_service_last_accessed_details(Arn=user_arn)["JobId"]
    report = iam.get_service_last_accessed_details(JobId=job)
    assert report["JobStatus"] == "COMPLETED"
    services = {s["ServiceNamespace"]: s for s in report["ServicesLastAccessed"]}
    assert set(services) == {"sqs", "sns"}
    assert services["sqs"]["LastAuthenticatedEntity"] == user_arn and services["sqs"]["TotalAuthenticatedEntities"] == 1
    assert services["sqs"]["ServiceName"] == "Amazon SQS"
    assert "LastAuthenticated" not in services["sns"] and services["sns"]["TotalAuthenticatedEntities"] == 0
    entities = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="sqs")
    assert [(e["EntityInfo"]["Name"], "LastAuthenticated" in e) for e in entities["EntityDetailsList"]] == [
        ("worker", True)]
    with pytest.raises(ClientError) as e:
        iam.get_service_last_accessed_details(JobId="00000000-0000-0000-0000-000000000000")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_role_last_used_through_its_sessions(aws, account, endpoint):
    iam = aws("iam")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sts:AssumeRole"}]}))
    assert iam.get_role(RoleName="app")["Role"]["RoleLastUsed"] == {}
    creds = aws("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/app", RoleSessionName="s1")["Credentials"]
    session = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
               "aws_session_token": creds["SessionToken"]}
    client("sns", endpoint, session).list_topics()
    last = iam.get_role(RoleName="app")["Role"]["RoleLastUsed"]
    assert last["Region"] == "eu-west-1" and last["LastUsedDate"]
    iam.put_role_policy(RoleName="app", PolicyName="p", PolicyDocument=SQS_AND_SNS)
    job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{account}:role/app")["JobId"]
    services = {s["ServiceNamespace"]: s for s in iam.get_service_last_accessed_details(JobId=job)[
        "ServicesLastAccessed"]}
    assert services["sns"]["TotalAuthenticatedEntities"] == 1 and "LastAuthenticated" not in services["sqs"]
