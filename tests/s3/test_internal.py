"""services/s3/internal.py, the facade other services use (Lambda code, access logs, event delivery),
against the same objects boto3 sees."""

import pytest
from botocore.exceptions import ClientError

from kumo.services.s3 import internal


def test_put_and_open_through_the_facade(s3, bucket, kumo_server, tmp_path, account):
    kumo = kumo_server.kumo
    kumo_server.run(lambda: kumo.services["s3"])  # set up, as the service's first request would
    made = kumo_server.run(internal.put_object, kumo, bucket, "logs/a.txt", b"from kumo", "text/plain", {"k": "v"})
    assert made.size == 9 and made.version_id is None
    got = s3.get_object(Bucket=bucket, Key="logs/a.txt")
    assert got["Body"].read() == b"from kumo" and got["ContentType"] == "text/plain" and got["Metadata"] == {"k": "v"}
    assert got["ETag"] == made.etag
    s3.put_object(Bucket=bucket, Key="code.zip", Body=b"zip bytes")
    opened = kumo_server.run(internal.open_object, kumo, bucket, "code.zip")
    with open(opened.path, "rb") as f:
        assert f.read() == b"zip bytes"
    source = tmp_path / "file.bin"
    source.write_bytes(b"a host file kumo chose")
    kumo_server.run(internal.put_object, kumo, bucket, "copied", source)
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == b"a host file kumo chose"
    assert source.exists()  # copied, never moved
    assert kumo_server.run(internal.bucket_owner, kumo, bucket) == account
    assert kumo_server.run(internal.bucket_region, kumo, bucket) == "us-east-1"
    assert kumo_server.run(internal.bucket_region, kumo, "kumo-no-such-bucket") is None
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="absent")
    with pytest.raises(Exception) as exc:
        kumo_server.run(internal.open_object, kumo, bucket, "absent")
    assert exc.value.code == "NoSuchKey"
    with pytest.raises(Exception) as exc:
        kumo_server.run(internal.open_object, kumo, "kumo-no-such-bucket", "k")
    assert exc.value.code == "NoSuchBucket"


def test_event_hooks_hear_every_committed_create_and_delete(s3, bucket, kumo_server):
    kumo = kumo_server.kumo
    heard = []

    def hook(kumo_, record, event, info):
        if record["Name"] == bucket:
            heard.append((event, info["key"], info.get("size")))

    kumo_server.run(internal.on_event, kumo, hook)
    s3.put_object(Bucket=bucket, Key="a", Body=b"12345")
    s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "a"})
    uid = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=1, Body=b"part")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    kumo_server.run(internal.put_object, kumo, bucket, "i", b"x")
    s3.delete_object(Bucket=bucket, Key="a")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}]})
    with pytest.raises(ClientError):  # refused: no event
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.delete_object(Bucket=bucket, Key="i")
    assert heard == [("ObjectCreated:Put", "a", 5), ("ObjectCreated:Copy", "b", 5),
                     ("ObjectCreated:CompleteMultipartUpload", "m", 4), ("ObjectCreated:Put", "i", 1),
                     ("ObjectRemoved:Delete", "a", 5), ("ObjectRemoved:Delete", "b", 5),
                     ("ObjectRemoved:DeleteMarkerCreated", "i", None)]
