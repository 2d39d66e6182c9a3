"""How requests find their service: signatures, presigned URLs, Host names, Version fields."""

import urllib.request

import boto3
from botocore.config import Config

from .http import send


def test_presigned_query_string_signature(endpoint, account):
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id=account,
                       aws_secret_access_key="x", config=Config(signature_version="v4"))
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60)
    assert "X-Amz-Credential" in url
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = resp.read()
    assert f"<Account>{account}</Account>".encode() in body


def test_unsigned_request_routes_by_version(endpoint):
    status, _, body = send(endpoint, body=b"Action=GetCallerIdentity&Version=2011-06-15",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and b"<Account>000000000000</Account>" in body


def test_classic_and_v2_load_balancers_share_a_signing_name(aws):
    # Both sign as "elasticloadbalancing" and both have DescribeAccountLimits: each answer must be its own API's.
    classic = {limit["Name"] for limit in aws("elb").describe_account_limits()["Limits"]}
    v2 = {limit["Name"] for limit in aws("elbv2").describe_account_limits()["Limits"]}
    assert "classic-load-balancers" in classic and not any(name.startswith("application") for name in classic)
    assert "application-load-balancers" in v2 and "classic-load-balancers" not in v2


def test_iam_is_global_across_regions(aws):
    aws("iam").create_user(UserName="global-user")
    # IAM is global: the same account sees its user from every region.
    assert [u["UserName"] for u in aws("iam", region="eu-west-1").list_users()["Users"]] == ["global-user"]
