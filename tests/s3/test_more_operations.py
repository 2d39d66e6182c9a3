"""S3 operations no other test reaches: GetObjectAcl and PutPublicAccessBlock (and what its settings block)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .conftest import unique


def _code(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_get_object_acl_is_the_bucket_owners_full_control(s3, bucket):
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"hello")
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    acl = s3.get_object_acl(Bucket=bucket, Key="doc.txt")
    assert acl["Owner"]["ID"] == owner["ID"]
    # ACLs are disabled (BucketOwnerEnforced): the owner has full control, and no one else is granted anything.
    assert [(g["Grantee"]["Type"], g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]] == [
        ("CanonicalUser", owner["ID"], "FULL_CONTROL")]

    assert _code(lambda: s3.get_object_acl(Bucket=bucket, Key="missing.txt")) == ("NoSuchKey", 404)
    assert _code(lambda: s3.get_object_acl(Bucket=unique("absent"), Key="doc.txt")) == ("NoSuchBucket", 404)

    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"v1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"v2")
    assert s3.get_object_acl(Bucket=bucket, Key="doc.txt", VersionId=v1)["Grants"][0]["Permission"] == "FULL_CONTROL"
    s3.delete_object(Bucket=bucket, Key="doc.txt", VersionId=v1)
    assert _code(lambda: s3.get_object_acl(Bucket=bucket, Key="doc.txt", VersionId=v1))[0] == "NoSuchVersion"


def _public_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                               "Action": "s3:GetObject",
                                                               "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def test_put_public_access_block_sets_what_is_blocked(s3, bucket):
    # Members left out of the configuration are false, as on AWS.
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True,
                                                                              "IgnorePublicAcls": True})
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False}
    s3.put_bucket_policy(Bucket=bucket, Policy=_public_policy(bucket))  # public policies are no longer blocked
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    s3.delete_bucket_policy(Bucket=bucket)

    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": False}
    assert _code(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=_public_policy(bucket))) == ("AccessDenied", 403)
    assert _code(lambda: s3.get_bucket_policy(Bucket=bucket))[0] == "NoSuchBucketPolicy"

    # After DeletePublicAccessBlock, a new PutPublicAccessBlock is what GetPublicAccessBlock answers.
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"]

    assert _code(lambda: s3.put_public_access_block(
        Bucket=unique("absent"), PublicAccessBlockConfiguration={"BlockPublicAcls": True})) == ("NoSuchBucket", 404)


def test_block_public_acls_refuses_a_public_bucket_acl(s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [
        {"ObjectOwnership": "BucketOwnerPreferred"}]})  # ACLs enabled
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": False})
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {(g["Grantee"].get("URI"), g["Permission"]) for g in grants} >= {
        ("http://acs.amazonaws.com/groups/global/AllUsers", "READ")}
    s3.put_bucket_acl(Bucket=bucket, ACL="private")

    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    assert _code(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read")) == ("AccessDenied", 403)
    assert _code(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="authenticated-read")) == ("AccessDenied", 403)
    assert _code(lambda: s3.put_bucket_acl(
        Bucket=bucket, GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')) == ("AccessDenied", 403)
    assert [g["Permission"] for g in s3.get_bucket_acl(Bucket=bucket)["Grants"]] == ["FULL_CONTROL"]
    s3.put_bucket_acl(Bucket=bucket, ACL="log-delivery-write")  # not public: still allowed
