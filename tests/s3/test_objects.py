"""Objects through boto3: put/get/head/delete/copy, metadata and content headers, ranges, conditions, checksums."""

import base64
import datetime
import hashlib
import os
import zlib

import crc32c

import pytest
from botocore.exceptions import ClientError

from .test_buckets import code


def test_put_get_head_with_metadata_and_content_headers(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="dir/a b+c.txt", Body=b"hello world", ContentType="text/plain",
                        Metadata={"Color": "blue"}, CacheControl="max-age=60", ContentDisposition="inline",
                        ContentLanguage="en", ContentEncoding="identity",
                        Expires=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
    assert put["ETag"] == f'"{hashlib.md5(b"hello world").hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dir/a b+c.txt")
    assert got["Body"].read() == b"hello world"
    assert got["ContentType"] == "text/plain" and got["Metadata"] == {"color": "blue"}
    assert got["CacheControl"] == "max-age=60" and got["ContentDisposition"] == "inline"
    assert got["ContentLanguage"] == "en" and got["ContentEncoding"] == "identity"
    assert got["ETag"] == put["ETag"] and got["ContentLength"] == 11
    head = s3.head_object(Bucket=bucket, Key="dir/a b+c.txt")
    assert head["ContentLength"] == 11 and head["ETag"] == put["ETag"] and head["Metadata"] == {"color": "blue"}
    over = s3.get_object(Bucket=bucket, Key="dir/a b+c.txt", ResponseContentType="application/x-test")
    assert over["ContentType"] == "application/x-test"


def test_missing_key_and_bucket(s3, bucket):
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="nope")
    assert code(exc) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="nope")
    assert code(exc) == ("404", 404)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="kumo-no-such-bucket-here", Key="k", Body=b"x")
    assert code(exc) == ("NoSuchBucket", 404)


def test_ranges(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    for header, body, content_range in (("bytes=2-4", b"234", "bytes 2-4/10"), ("bytes=7-", b"789", "bytes 7-9/10"),
                                        ("bytes=-3", b"789", "bytes 7-9/10"), ("bytes=8-100", b"89", "bytes 8-9/10")):
        got = s3.get_object(Bucket=bucket, Key="r", Range=header)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["Body"].read() == body and got["ContentRange"] == content_range
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-20")
    assert code(exc) == ("InvalidRange", 416)


def test_conditional_requests(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"data")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"data"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert code(exc) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert code(exc)[1] == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified + datetime.timedelta(seconds=5))
    assert code(exc)[1] == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=modified - datetime.timedelta(days=1))
    assert code(exc) == ("PreconditionFailed", 412)
    # If-Match holding wins over a failing If-Unmodified-Since.
    got = s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=modified - datetime.timedelta(days=1))
    assert got["Body"].read() == b"data"


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_checksums_are_computed_checked_and_returned(s3, bucket, algorithm):
    body = b"checksum me" * 100
    expected = base64.b64encode({"CRC32": zlib.crc32(body).to_bytes(4, "big"),
                                 "CRC32C": crc32c.crc32c(body).to_bytes(4, "big"),
                                 "SHA1": hashlib.sha1(body).digest(),
                                 "SHA256": hashlib.sha256(body).digest()}[algorithm]).decode()
    if algorithm == "CRC32C":  # botocore computes CRC32C only with awscrt: the client sends the value itself
        put = s3.put_object(Bucket=bucket, Key="x", Body=body, ChecksumCRC32C=expected)
    else:
        put = s3.put_object(Bucket=bucket, Key="x", Body=body, ChecksumAlgorithm=algorithm)
    assert put[f"Checksum{algorithm}"] == expected
    got = s3.get_object(Bucket=bucket, Key="x", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == expected
    assert got["Body"].read() == body


def test_crc32c_value_is_the_known_one(s3, bucket):
    value = base64.b64encode((0xE3069283).to_bytes(4, "big")).decode()  # CRC32C("123456789"), the check value
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"123456789", ChecksumCRC32C=value)["ChecksumCRC32C"] == value
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"123456780", ChecksumCRC32C=value)
    assert code(exc) == ("BadDigest", 400)


def test_wrong_checksum_and_content_md5_are_refused(s3, bucket):
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"abc", ChecksumSHA256=base64.b64encode(b"\0" * 32).decode())
    assert code(exc) == ("BadDigest", 400)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"abc",
                      ContentMD5=base64.b64encode(hashlib.md5(b"abd").digest()).decode())
    assert code(exc) == ("BadDigest", 400)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"abc", ContentMD5="not-md5")
    assert code(exc) == ("InvalidDigest", 400)
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="k")
    assert code(exc)[1] == 404  # nothing refused became visible


def test_copy_object_with_metadata_directive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", ContentType="text/x-src", Metadata={"a": "1"})
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"payload" and got["Metadata"] == {"a": "1"} and got["ContentType"] == "text/x-src"
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src", MetadataDirective="REPLACE",
                   Metadata={"b": "2"}, ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="dst2")
    assert got["Metadata"] == {"b": "2"} and got["ContentType"] == "text/plain"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"})
    assert code(exc) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "missing"})
    assert code(exc) == ("NoSuchKey", 404)


def test_delete_objects_batch_and_quiet(s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k0"}, {"Key": "k1"}, {"Key": "absent"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["absent", "k0", "k1"]
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k2"}, {"Key": "k3"}], "Quiet": True})
    assert "Deleted" not in out
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k4"]


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=2")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "a", "Value": "1"},
                                                                       {"Key": "b", "Value": "2"}]
    assert s3.head_object(Bucket=bucket, Key="t")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "c", "Value": "3"}]
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []


def test_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b"" and got["ContentLength"] == 0
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_conditional_writes(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert code(exc) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert code(exc) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfMatch=first)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"second"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="never", Body=b"x", IfMatch=first)
    assert code(exc) == ("NoSuchKey", 404)


def test_a_deleted_object_being_read_is_still_sent_whole(s3, bucket):
    body = os.urandom(8 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    stream = s3.get_object(Bucket=bucket, Key="big")["Body"]
    first = stream.read(1024)
    s3.delete_object(Bucket=bucket, Key="big")
    assert first + stream.read() == body


def test_key_and_metadata_limits(s3, bucket):
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert code(exc) == ("KeyTooLongError", 400)
    s3.put_object(Bucket=bucket, Key="k" * 1024, Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"big": "v" * 2100})
    assert code(exc) == ("MetadataTooLarge", 400)


def test_an_upload_refused_before_its_body_closes_the_connection(endpoint, s3, bucket):
    """A PUT of 64 MiB to a missing bucket is answered at once, without kumo reading (or keeping) the body."""
    import socket
    import urllib.parse

    parsed = urllib.parse.urlsplit(endpoint)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as sock:
        sock.sendall(b"PUT /kumo-missing-bucket-for-upload/k HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 67108864\r\n\r\n" + b"x" * 65536)
        answer = b""
        while b"</Error>" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert b" 404 " in answer.split(b"\r\n", 1)[0] and b"<Code>NoSuchBucket</Code>" in answer
        assert b"Connection: close" in answer or b"connection: close" in answer.lower()


def test_a_put_over_5_gib_is_refused_from_its_length(endpoint, bucket):
    import socket
    import urllib.parse

    parsed = urllib.parse.urlsplit(endpoint)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as sock:
        sock.sendall(f"PUT /{bucket}/huge HTTP/1.1\r\nHost: x\r\nContent-Length: {5 * 1024 ** 3 + 1}\r\n\r\n".encode())
        answer = b""
        while b"</Error>" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert b" 400 " in answer.split(b"\r\n", 1)[0] and b"<Code>EntityTooLarge</Code>" in answer


def test_copy_source_conditions(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"v1")["ETag"]
    s3.copy_object(Bucket=bucket, Key="a", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfMatch=etag)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "src"},
                       CopySourceIfMatch='"ffffffffffffffffffffffffffffffff"')
    assert code(exc) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfNoneMatch=etag)
    assert code(exc) == ("PreconditionFailed", 412)
    versions = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert versions == ["a", "src"]


def test_checksum_algorithms_kumo_lacks_are_refused_not_ignored(s3, bucket):
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ChecksumCRC64NVME="AAAAAAAAAAA=")
    assert code(exc) == ("InvalidRequest", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")
