"""ListObjects v1 and v2, ListObjectVersions: prefixes, delimiters, pages, url encoding; versioning and markers."""

import pytest
from botocore.exceptions import ClientError

from .test_buckets import code

KEYS = ["a/1", "a/2", "a/b/3", "b/4", "c", "d e", "é"]


@pytest.fixture
def filled(s3, bucket):
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_v2_prefix_delimiter_and_common_prefixes(s3, filled):
    out = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert [c["Prefix"] for c in out["CommonPrefixes"]] == ["a/", "b/"]
    assert [o["Key"] for o in out["Contents"]] == ["c", "d e", "é"]
    assert out["KeyCount"] == 5
    out = s3.list_objects_v2(Bucket=filled, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in out["Contents"]] == ["a/1", "a/2"]
    assert [c["Prefix"] for c in out["CommonPrefixes"]] == ["a/b/"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=filled, StartAfter="b/4")["Contents"]] == ["c", "d e", "é"]


def test_v2_pages_with_continuation_tokens(s3, filled):
    keys, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        out = s3.list_objects_v2(Bucket=filled, MaxKeys=2, **kw)
        pages += 1
        keys += [o["Key"] for o in out.get("Contents", [])]
        if not out["IsTruncated"]:
            break
        token = out["NextContinuationToken"]
    assert keys == KEYS and pages == 4
    # Paginating with a delimiter never repeats a common prefix.
    seen = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=filled, Delimiter="/", PaginationConfig={
            "PageSize": 1}):
        seen += [c["Prefix"] for c in page.get("CommonPrefixes", [])] + [o["Key"] for o in page.get("Contents", [])]
    assert seen == ["a/", "b/", "c", "d e", "é"]


def test_v1_markers_and_url_encoding(s3, filled):
    keys = []
    for page in s3.get_paginator("list_objects").paginate(Bucket=filled, PaginationConfig={"PageSize": 3}):
        keys += [o["Key"] for o in page["Contents"]]
    assert keys == KEYS
    # boto3 asks for encoding-type=url and decodes: keys come back whole.
    out = s3.list_objects(Bucket=filled, Prefix="d")
    assert [o["Key"] for o in out["Contents"]] == ["d e"]
    assert s3.list_objects(Bucket=filled, Marker="c")["Contents"][0]["Key"] == "d e"


def test_url_encoding_on_the_wire(aws, filled, endpoint):
    s3 = aws("s3")
    events = s3.meta.events
    raw = {}
    events.register("after-call.s3.ListObjectsV2", lambda http_response, **kw: raw.update(body=http_response.content))
    s3.list_objects_v2(Bucket=filled, Prefix="d", EncodingType="url")
    assert b"<Key>d+e</Key>" in raw["body"] and b"<EncodingType>url</EncodingType>" in raw["body"]


def test_versioning_and_delete_markers(s3, bucket):
    s3.put_object(Bucket=bucket, Key="pre", Body=b"before versioning")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    gone = s3.delete_object(Bucket=bucket, Key="k")
    assert gone["DeleteMarker"] is True
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k")
    assert code(exc) == ("NoSuchKey", 404)
    assert exc.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k", VersionId=gone["VersionId"])
    assert code(exc) == ("MethodNotAllowed", 405)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="k")
    out = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in out["Versions"]] == [
        ("k", v2, False), ("k", v1, False), ("pre", "null", True)]
    assert [(m["VersionId"], m["IsLatest"]) for m in out["DeleteMarkers"]] == [(gone["VersionId"], True)]
    # Removing the marker brings the newest version back.
    s3.delete_object(Bucket=bucket, Key="k", VersionId=gone["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k", VersionId="A" * 32)
    assert code(exc) == ("NoSuchVersion", 404)


def test_suspended_versioning_overwrites_the_null_version(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    kept = s3.put_object(Bucket=bucket, Key="k", Body=b"versioned")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="k", Body=b"null 1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"null 2")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", kept]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"null 2"


def test_version_listing_pages(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    made = []
    for key in ("a", "b"):
        for i in range(3):
            made.append((key, s3.put_object(Bucket=bucket, Key=key, Body=b"%d" % i)["VersionId"]))
    seen = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}):
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    expected = [x for k in ("a", "b") for x in reversed([m for m in made if m[0] == k])]
    assert seen == expected
