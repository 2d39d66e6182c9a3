"""Multipart uploads through boto3: parts, ETag md5-of-md5s-N, part size rules, listing, abort, UploadPartCopy."""

import hashlib
import os

import pytest
from botocore.exceptions import ClientError

from .test_buckets import code

MiB = 1024 * 1024


def test_upload_complete_and_read_back(s3, bucket):
    parts_data = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"tail"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="big", ContentType="application/x-big", Metadata={"m": "1"})
    uid = up["UploadId"]
    etags = []
    for n, data in enumerate(parts_data, 1):
        etags.append(s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=n, Body=data)["ETag"])
    listed = s3.list_parts(Bucket=bucket, Key="big", UploadId=uid)
    assert [(p["PartNumber"], p["Size"]) for p in listed["Parts"]] == [(1, 5 * MiB), (2, 5 * MiB), (3, 4)]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [uid]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
    md5s = b"".join(hashlib.md5(d).digest() for d in parts_data)
    assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["Body"].read() == b"".join(parts_data)
    assert got["ContentType"] == "application/x-big" and got["Metadata"] == {"m": "1"}
    assert got["ETag"] == done["ETag"]
    second = s3.get_object(Bucket=bucket, Key="big", PartNumber=2)
    assert second["Body"].read() == parts_data[1] and second["PartsCount"] == 3
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="big", UploadId=uid)
    assert code(exc) == ("NoSuchUpload", 404)


def test_small_parts_wrong_order_and_unknown_parts_are_refused(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"small")["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=b"small too")["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert code(exc) == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})
    assert code(exc) == ("InvalidPartOrder", 400)
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]})
    assert code(exc) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=10001, Body=b"x")
    assert code(exc) == ("InvalidArgument", 400)
    # A single part may be small: it is the last one.
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
    assert done["ETag"].endswith('-1"')
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"small"


def test_abort(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=uid)
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"x")
    assert code(exc) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as exc:
        s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=uid)
    assert code(exc) == ("NoSuchUpload", 404)
    s3.delete_bucket(Bucket=bucket)  # nothing left behind


def test_upload_part_copy(s3, bucket):
    source = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=source)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    etags = []
    for n, (first, last) in enumerate([(0, 5 * MiB - 1), (5 * MiB, 6 * MiB - 1)], 1):
        part = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=n,
                                   CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes={first}-{last}")
        etags.append({"PartNumber": n, "ETag": part["CopyPartResult"]["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={"Parts": etags})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == source


def test_checksums_composite_and_full_object(s3, bucket):
    import base64
    import zlib

    parts = [os.urandom(5 * MiB), b"last part"]
    crc = lambda data: base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()  # noqa: E731
    for kind in ("COMPOSITE", "FULL_OBJECT"):
        up = s3.create_multipart_upload(Bucket=bucket, Key=kind, ChecksumAlgorithm="CRC32", ChecksumType=kind)
        assert up["ChecksumType"] == kind
        done = []
        for n, data in enumerate(parts, 1):
            answer = s3.upload_part(Bucket=bucket, Key=kind, UploadId=up["UploadId"], PartNumber=n, Body=data,
                                    ChecksumAlgorithm="CRC32")
            assert answer["ChecksumCRC32"] == crc(data)
            done.append({"PartNumber": n, "ETag": answer["ETag"], "ChecksumCRC32": answer["ChecksumCRC32"]})
        out = s3.complete_multipart_upload(Bucket=bucket, Key=kind, UploadId=up["UploadId"],
                                           MultipartUpload={"Parts": done})
        head = s3.head_object(Bucket=bucket, Key=kind, ChecksumMode="ENABLED")
        assert head["ChecksumType"] == out["ChecksumType"] == kind
        if kind == "FULL_OBJECT":
            assert head["ChecksumCRC32"] == crc(b"".join(parts))
        else:
            joined = b"".join(base64.b64decode(crc(p)) for p in parts)
            assert head["ChecksumCRC32"] == f"{crc(joined)}-2"
    with pytest.raises(ClientError) as exc:
        s3.create_multipart_upload(Bucket=bucket, Key="x", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT")
    assert code(exc) == ("InvalidRequest", 400)


def test_complete_refuses_a_part_checksum_that_does_not_match(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")
    part = s3.upload_part(Bucket=bucket, Key="k", UploadId=up["UploadId"], PartNumber=1, Body=b"data",
                          ChecksumAlgorithm="CRC32")
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up["UploadId"], MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": "AAAAAA=="}]})
    assert code(exc) == ("InvalidPart", 400)
