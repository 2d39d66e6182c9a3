"""Bucket configuration subresources through boto3: policy, encryption, ownership controls, public access
block, ACLs, object lock with retention and legal hold; AWS's defaults and errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError


def _code(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_policy_and_public_access_block(s3, bucket):
    assert _code(lambda: s3.get_bucket_policy(Bucket=bucket)) == ("NoSuchBucketPolicy", 404)
    assert _code(lambda: s3.put_bucket_policy(Bucket=bucket, Policy="not json")) == ("MalformedPolicy", 400)
    public = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                                 "Action": "s3:GetObject",
                                                                 "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    assert _code(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=public))[0] == "AccessDenied"  # blocked
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    s3.delete_public_access_block(Bucket=bucket)
    assert _code(lambda: s3.get_public_access_block(Bucket=bucket))[0] == "NoSuchPublicAccessBlockConfiguration"
    s3.put_bucket_policy(Bucket=bucket, Policy=public)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(public)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    other = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                       "Resource": "arn:aws:s3:::some-other-bucket/*"}]})
    assert _code(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=other)) == ("MalformedPolicy", 400)
    s3.delete_bucket_policy(Bucket=bucket)
    assert _code(lambda: s3.get_bucket_policy(Bucket=bucket))[0] == "NoSuchBucketPolicy"


def test_encryption_ownership_and_acls_default_as_aws(s3, bucket):
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/mine"},
        "BucketKeyEnabled": True}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == "alias/mine" and rule["BucketKeyEnabled"]
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    assert _code(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"))[0] == "AccessControlListNotSupported"
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [
        {"ObjectOwnership": "BucketOwnerPreferred"}]})
    s3.put_bucket_acl(Bucket=bucket, ACL="log-delivery-write")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {g["Permission"] for g in grants} == {"FULL_CONTROL", "WRITE", "READ_ACP"}
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    assert _code(lambda: s3.get_bucket_ownership_controls(Bucket=bucket))[0] == "OwnershipControlsNotFoundError"


def test_object_lock_retention_and_legal_hold(s3, bucket, kumo_server):
    assert _code(lambda: s3.get_object_lock_configuration(Bucket=bucket))[0] == "ObjectLockConfigurationNotFoundError"
    config = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}
    assert _code(lambda: s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config))[0] == \
        "InvalidBucketState"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == config
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert _code(lambda: s3.get_object_retention(Bucket=bucket, Key="k"))[0] == "NoSuchObjectLockConfiguration"
    until = dt.datetime.fromtimestamp(kumo_server.kumo.clock.now() + 86400 * 10, dt.timezone.utc).replace(
        microsecond=0)
    s3.put_object_retention(Bucket=bucket, Key="k", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until})
    got = s3.get_object_retention(Bucket=bucket, Key="k")["Retention"]
    assert got["Mode"] == "COMPLIANCE" and got["RetainUntilDate"] == until
    shorter = until - dt.timedelta(days=5)
    assert _code(lambda: s3.put_object_retention(Bucket=bucket, Key="k", Retention={
        "Mode": "COMPLIANCE", "RetainUntilDate": shorter}))[0] == "AccessDenied"
    s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=bucket, Key="k")["LegalHold"] == {"Status": "ON"}


def test_subresources_go_with_the_bucket(s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"],
                                                                        "AllowedMethods": ["GET"]}]})
    s3.delete_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)
    assert _code(lambda: s3.get_bucket_cors(Bucket=bucket))[0] == "NoSuchCORSConfiguration"


def test_subresources_check_the_expected_bucket_owner(s3, bucket, account):
    """ExpectedBucketOwner guards a bucket's configuration as it guards its objects: 403 for another owner."""
    s3.put_bucket_cors(Bucket=bucket, ExpectedBucketOwner=account, CORSConfiguration={
        "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    calls = (lambda owner: s3.get_bucket_cors(Bucket=bucket, ExpectedBucketOwner=owner),
             lambda owner: s3.get_bucket_encryption(Bucket=bucket, ExpectedBucketOwner=owner),
             lambda owner: s3.get_bucket_notification_configuration(Bucket=bucket, ExpectedBucketOwner=owner),
             lambda owner: s3.put_bucket_lifecycle_configuration(
                 Bucket=bucket, ExpectedBucketOwner=owner, LifecycleConfiguration={"Rules": [
                     {"ID": "r", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}}]}))
    for call in calls:
        call(account)
        with pytest.raises(ClientError) as err:
            call("999999999999")
        assert err.value.response["Error"]["Code"] == "AccessDenied"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
