"""Presigned URLs made by boto3, used with curl: verified signatures, expiry on kumo's clock, virtual hosts."""

import subprocess

import pytest

from .conftest import s3_client


def curl(*args: str) -> tuple[int, bytes]:
    out = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", *args], capture_output=True, timeout=30,
                         check=True).stdout
    body, _, status = out.rpartition(b"\n")
    return int(status), body


@pytest.fixture
def v4(endpoint, account):
    """boto3 signing presigned URLs with SigV4 (plain boto3 makes SigV2 ones for S3: test_sigv2_presigned_urls)."""
    return s3_client(endpoint, account, signature_version="s3v4")


def test_presigned_put_and_get_with_curl(v4, bucket, tmp_path):
    s3 = v4
    data = tmp_path / "upload.bin"
    data.write_bytes(b"presigned payload " * 1000)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p/up.bin"}, ExpiresIn=300)
    status, _ = curl("-X", "PUT", "--data-binary", f"@{data}", put_url)
    assert status == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p/up.bin"}, ExpiresIn=300)
    status, body = curl(get_url)
    assert status == 200 and body == data.read_bytes()
    assert s3.get_object(Bucket=bucket, Key="p/up.bin")["Body"].read() == data.read_bytes()


def test_expired_url_is_refused_on_kumos_clock(v4, bucket, kumo_server):
    s3 = v4
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    assert curl(url) == (200, b"secret")  # first use settles when it was signed, on kumo's clock
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "new"}, ExpiresIn=60)
    assert curl("-X", "PUT", "--data-binary", "x", put_url)[0] == 200
    kumo_server.advance(120)
    status, body = curl(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body
    status, body = curl("-X", "PUT", "--data-binary", "x", put_url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body


def test_tampered_signature_and_wrong_secret_are_refused(endpoint, account, v4, bucket):
    s3 = v4
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    sig = url.rsplit("X-Amz-Signature=", 1)[1][:64]
    tampered = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    status, body = curl(tampered)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    other_key = url.replace(f"/{bucket}/k", f"/{bucket}/other")
    assert curl(other_key)[0] == 403
    wrong = s3_client(endpoint, account, secret="not-the-secret", signature_version="s3v4")
    status, body = curl(wrong.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body


def test_virtual_hosted_presigned_url(s3, bucket, endpoint, account, kumo_server):
    """``<bucket>.s3.localhost``: curl resolves *.localhost to loopback itself (glibc may not; docs/s3.md)."""
    s3.put_object(Bucket=bucket, Key="dir/v.txt", Body=b"virtual")
    port = endpoint.rsplit(":", 1)[1]
    virtual = s3_client(f"http://s3.localhost:{port}", account, signature_version="s3v4",
                        s3={"addressing_style": "virtual"})
    url = virtual.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/v.txt"})
    assert url.startswith(f"http://{bucket}.s3.localhost:{port}/dir/v.txt?")
    assert curl(url) == (200, b"virtual")
    # The region form, with a plain Host header on the loopback address.
    status, body = curl("-H", f"Host: {bucket}.s3.us-east-1.localhost:{port}",
                        f"http://127.0.0.1:{port}/dir/v.txt")
    if kumo_server.kumo.settings.enforce_signatures:
        assert status == 403 and b"<Code>AccessDenied</Code>" in body  # S3's answer to an unsigned request
    else:
        assert status == 200 and body == b"virtual"  # anonymous requests are only read, as every signature


def test_anonymous_path_style_request_reaches_s3(s3, bucket, endpoint, kumo_server):
    s3.put_object(Bucket=bucket, Key="pub", Body=b"public")
    if kumo_server.kumo.settings.enforce_signatures:
        status, body = curl(f"{endpoint}/{bucket}/pub")
        assert status == 403 and b"<Code>AccessDenied</Code>" in body
        return
    assert curl(f"{endpoint}/{bucket}/pub") == (200, b"public")
    status, body = curl(f"{endpoint}/{bucket}/missing")
    assert status == 404 and b"<Code>NoSuchKey</Code>" in body and b"<Key>missing</Key>" in body


def test_sigv2_presigned_urls(s3, bucket, kumo_server, tmp_path):
    """boto3's default presigned URLs for S3 (signature version 2): verified, and expiring on kumo's clock."""
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2"}, ExpiresIn=60)
    assert "AWSAccessKeyId=" in put_url and "Signature=" in put_url
    # Content-Type is part of a SigV2 signature: curl must not add its form type (as on AWS).
    status, _ = curl("-X", "PUT", "-H", "Content-Type:", "--data-binary", "version two", put_url)
    assert status == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2"}, ExpiresIn=60)
    assert curl(get_url) == (200, b"version two")
    status, body = curl(get_url.replace("Signature=", "Signature=AA"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    kumo_server.advance(120)
    status, body = curl(get_url)
    assert status == 403 and b"Request has expired" in body


def test_presigned_post_is_not_implemented(s3, bucket):
    post = s3.generate_presigned_post(bucket, "form.txt")
    status, body = curl("-F", f"key={post['fields']['key']}", *[f"-F{k}={v}" for k, v in post["fields"].items()
                                                               if k != "key"], "-F", "file=@/dev/null",
                        post["url"])
    assert status == 501 and b"<Code>NotImplemented</Code>" in body


def test_virtual_hosted_signed_requests_are_verified(enforcing):
    """Header-signed requests to ``<bucket>.s3.localhost``, sent to the loopback address with that Host (Python's
    resolver may not know *.localhost), against a kumo verifying every signature."""
    import http.client
    import urllib.parse

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from tests.conftest import Clients

    account = "567856785678"
    Clients(enforcing.endpoint, account)("s3").create_bucket(Bucket="virtual-signed")
    port = urllib.parse.urlsplit(enforcing.endpoint).port

    def send(method: str, key: str, body: bytes = b"", secret: str = "test"):
        request = AWSRequest(method, f"http://virtual-signed.s3.localhost:{port}/{key}", data=body)
        S3SigV4Auth(Credentials(account, secret), "s3", "us-east-1").add_auth(request)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            headers = dict(request.headers.items())
            headers["Host"] = f"virtual-signed.s3.localhost:{port}"
            conn.request(method, f"/{key}", body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    assert send("PUT", "dir/a%20b.txt", b"virtually hosted")[0] == 200
    assert send("GET", "dir/a%20b.txt") == (200, b"virtually hosted")
    status, body = send("GET", "dir/a%20b.txt", secret="wrong")
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    keys = [o["Key"] for o in Clients(enforcing.endpoint, account)("s3").list_objects_v2(
        Bucket="virtual-signed")["Contents"]]
    assert keys == ["dir/a b.txt"]
