"""Lifecycle rules applied on kumo's clock (advanced, never slept): expiration, delete markers in versioned
buckets, noncurrent expiration, aborting incomplete multipart uploads; the configuration's API and errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from tests.own_kumo import endpoint, kumo_server  # noqa: F401  (days pass on this module's own kumo)

DAY = 86400


def _keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_expiration_on_an_advanced_clock(kumo_server, s3, bucket):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]})
    put = s3.put_object(Bucket=bucket, Key="tmp/a", Body=b"1")
    assert put["Expiration"].startswith('expiry-date="') and put["Expiration"].endswith('rule-id="tmp"')
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="keep/b", Body=b"2")
    head = s3.head_object(Bucket=bucket, Key="tmp/a")
    assert head["ResponseMetadata"]["HTTPHeaders"].get("x-amz-expiration", "").endswith('rule-id="tmp"')
    kumo_server.advance(2 * DAY)
    assert _keys(s3, bucket) == ["keep/b"]


def test_versioned_expiration_noncurrent_and_markers(kumo_server, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="doc", Body=b"v1")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="doc", Body=b"v2")["VersionId"]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "all", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 3},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    kumo_server.advance(2 * DAY)
    versions = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in versions.get("Versions", [])] == [second]  # v1 went a day after v2 came
    assert first not in str(versions)
    kumo_server.advance(2 * DAY)
    versions = s3.list_object_versions(Bucket=bucket)
    markers = versions.get("DeleteMarkers", [])
    assert len(markers) == 1 and markers[0]["IsLatest"]  # expiry made the current version noncurrent
    assert [v["VersionId"] for v in versions.get("Versions", [])] == [second]
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="doc")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"


def test_expired_delete_marker_and_incomplete_uploads(kumo_server, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="gone", Body=b"x")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="gone")
    s3.delete_object(Bucket=bucket, Key="gone", VersionId=version)  # only the marker is left
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "markers", "Status": "Enabled", "Filter": {}, "Expiration": {"ExpiredObjectDeleteMarker": True},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]})
    assert s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", []) == []  # removed at once
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])] == [upload]
    kumo_server.advance(3 * DAY)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_lifecycle_configuration_api_and_errors(s3, bucket):
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert err.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 0}}]})
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    rule = {"ID": "r", "Status": "Enabled", "Filter": {"And": {"Prefix": "logs/", "Tags": [
        {"Key": "k", "Value": "v"}], "ObjectSizeGreaterThan": 10}}, "Expiration": {"Days": 30},
        "Transitions": [{"Days": 10, "StorageClass": "GLACIER"}]}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule]})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert got["Filter"] == rule["Filter"] and got["Expiration"] == {"Days": 30}
    assert got["Transitions"] == [{"Days": 10, "StorageClass": "GLACIER"}]
    s3.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)


def test_a_pass_over_many_pages(kumo_server, s3, bucket, monkeypatch):
    from kumo.services.s3 import lifecycle

    monkeypatch.setattr(lifecycle, "PAGE", 3)  # pages of 3 versions: keys straddle page boundaries
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"old")
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"new")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "n", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    kumo_server.advance(2 * DAY)
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert sorted(v["Key"] for v in versions) == [f"k{i}" for i in range(5)] and all(v["IsLatest"] for v in versions)
