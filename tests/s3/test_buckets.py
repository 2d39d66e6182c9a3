"""Buckets through boto3: create rules, names, location, listing, deletion, versioning config, tags."""

import pytest
from botocore.exceptions import ClientError

from .conftest import unique


def code(exc) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_head_list_delete(s3):
    name = unique()
    assert s3.create_bucket(Bucket=name)["Location"] == f"/{name}"
    assert s3.head_bucket(Bucket=name)["BucketRegion"] == "us-east-1"
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert code(exc) == ("404", 404)
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=name)
    assert code(exc) == ("NoSuchBucket", 404)


def test_bucket_names_are_validated(s3):
    for bad in ("ab", "Upper-case", "under_score", "192.168.5.4", "a..b", "-start", "x" * 64, "xn--punycode"):
        with pytest.raises(ClientError) as exc:
            s3.create_bucket(Bucket=bad)
        assert code(exc) == ("InvalidBucketName", 400), bad


def test_already_owned_and_already_exists(aws, endpoint):
    s3 = aws("s3")
    name = unique()
    s3.create_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)  # us-east-1 answers its owner's re-create with success
    west = aws("s3", region="us-west-2")
    with pytest.raises(ClientError) as exc:
        west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert code(exc) == ("BucketAlreadyOwnedByYou", 409)
    from tests.conftest import Clients, new_account

    other = Clients(endpoint, new_account())("s3")
    with pytest.raises(ClientError) as exc:
        other.create_bucket(Bucket=name)
    assert code(exc) == ("BucketAlreadyExists", 409)
    assert name not in [b["Name"] for b in other.list_buckets()["Buckets"]]


def test_location_constraint_rules(aws):
    east, west = aws("s3"), aws("s3", region="eu-west-1")
    with pytest.raises(ClientError) as exc:
        east.create_bucket(Bucket=unique(), CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert code(exc) == ("InvalidLocationConstraint", 400)
    with pytest.raises(ClientError) as exc:
        west.create_bucket(Bucket=unique())
    assert code(exc) == ("IllegalLocationConstraintException", 400)
    with pytest.raises(ClientError) as exc:
        west.create_bucket(Bucket=unique(), CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    assert code(exc) == ("IllegalLocationConstraintException", 400)
    name = unique()
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert west.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"


def test_delete_refuses_a_bucket_with_objects(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=bucket)
    assert code(exc) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_versioning_configuration(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_bucket_tagging(s3, bucket):
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code(exc) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "a"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket=bucket)


def test_unimplemented_operation_is_501(s3, bucket):
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert code(exc) == ("NotImplemented", 501)


def test_expected_bucket_owner(s3, bucket, account):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=account)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner="999999999999")
    assert code(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner="999999999999")
    assert code(exc) == ("AccessDenied", 403)
