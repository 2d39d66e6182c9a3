"""The catalogue of AWS managed policies: Get, versions, ListPolicies(Scope=AWS), attachment, evaluation."""

import pytest
from botocore.exceptions import ClientError

BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},'
         '"Action":"sts:AssumeRole"}]}')


def test_get_policy_and_default_version(aws):
    iam = aws("iam")
    policy = iam.get_policy(PolicyArn=BASIC)["Policy"]
    assert policy["PolicyName"] == "AWSLambdaBasicExecutionRole" and policy["Path"] == "/service-role/"
    assert policy["AttachmentCount"] == 0 and policy["IsAttachable"] and policy["PolicyId"].startswith("ANPA")
    version = iam.get_policy_version(PolicyArn=BASIC, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert version["IsDefaultVersion"]
    assert version["Document"]["Statement"][0]["Action"] == ["logs:CreateLogGroup", "logs:CreateLogStream",
                                                             "logs:PutLogEvents"]
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=BASIC)["Versions"]] == ["v1"]
    with pytest.raises(ClientError) as e:
        iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=BASIC)
    assert e.value.response["Error"]["Code"] == "InvalidInput"


def test_list_aws_policies_covers_compute(aws):
    iam = aws("iam")
    names = set()
    for page in iam.get_paginator("list_policies").paginate(Scope="AWS"):
        names.update(p["PolicyName"] for p in page["Policies"])
    for family in ("AmazonEC2", "AmazonSSM", "AWSLambda", "AmazonECS", "CloudWatch", "ElasticLoadBalancing",
                   "AutoScaling"):
        assert any(n.startswith(family) for n in names), family
    for name in ("AWSLambdaVPCAccessExecutionRole", "AWSLambdaSQSQueueExecutionRole", "AmazonSSMManagedInstanceCore",
                 "AmazonECSTaskExecutionRolePolicy", "CloudWatchAgentServerPolicy", "AmazonEC2FullAccess"):
        assert name in names
    service_role = iam.list_policies(Scope="AWS", PathPrefix="/service-role/", MaxItems=1000)["Policies"]
    assert service_role and all(p["Path"] == "/service-role/" for p in service_role)
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_attachment_count_is_per_account(aws):
    iam = aws("iam")
    iam.create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="fn", PolicyArn=BASIC)
    assert iam.get_policy(PolicyArn=BASIC)["Policy"]["AttachmentCount"] == 1
    attached = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    assert [p["Arn"] for p in attached] == [BASIC]
    assert [r["RoleName"] for r in iam.list_entities_for_policy(PolicyArn=BASIC)["PolicyRoles"]] == ["fn"]


def test_enforcement_evaluates_the_catalogue_document(kumo_process):
    import boto3

    kumo = kumo_process("--enforce-iam", "--ephemeral").start()
    iam = kumo.client("iam")
    iam.create_user(UserName="ops")
    key = iam.create_access_key(UserName="ops")["AccessKey"]
    iam.attach_user_policy(UserName="ops", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    ec2 = boto3.client("ec2", endpoint_url=kumo.endpoint, region_name="us-east-1",
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    ec2.describe_vpcs()  # ec2:Describe* is granted
    with pytest.raises(ClientError) as e:
        ec2.create_vpc(CidrBlock="10.9.0.0/16")
    assert e.value.response["Error"]["Code"] == "UnauthorizedOperation"
    encoded = e.value.response["Error"]["Message"].rsplit("Encoded authorization failure message: ", 1)[1]
    sts = kumo.client("sts")
    decoded = sts.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"]
    import json

    decoded = json.loads(decoded)
    assert decoded["allowed"] is False and decoded["explicitDeny"] is False
    assert decoded["context"]["action"] == "ec2:CreateVpc"
    assert decoded["context"]["principal"]["arn"].endswith(":user/ops")
    with pytest.raises(ClientError) as e:
        sts.decode_authorization_message(EncodedMessage="garbage")
    assert e.value.response["Error"]["Code"] == "InvalidAuthorizationMessageException"
