"""aws-chunked uploads (what botocore >= 1.36 sends over HTTPS, and SigV4 streaming uploads), sent raw."""

import base64
import hashlib
import hmac
import http.client
import urllib.parse
import zlib

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from kumo.services.s3.chunked import Decoder
from tests.conftest import Clients


def encode(payload: bytes, chunk: int, trailer: dict | None = None, signed: bool = False) -> bytes:
    out = b""
    ext = b";chunk-signature=" + b"0" * 64 if signed else b""
    for i in range(0, len(payload), chunk):
        piece = payload[i:i + chunk]
        out += b"%x" % len(piece) + ext + b"\r\n" + piece + b"\r\n"
    out += b"0" + ext + b"\r\n"
    for name, value in (trailer or {}).items():
        out += f"{name}:{value}\r\n".encode()
    return out + b"\r\n"


@pytest.mark.parametrize("step", [1, 3, 7, 1000, 1 << 20])
def test_decoder_reassembles_any_split(step):
    payload = bytes(range(256)) * 40
    wire = encode(payload, 1000, {"x-amz-checksum-crc32": "abc="}, signed=True)
    d = Decoder()
    got = b"".join(bytes(p) for i in range(0, len(wire), step) for p in d.feed(wire[i:i + step]))
    d.finish()
    assert got == payload and d.trailers == {"x-amz-checksum-crc32": "abc="}


def test_decoder_refuses_a_truncated_body():
    d = Decoder()
    d.feed(encode(b"abcdef", 4)[:8])
    with pytest.raises(Exception) as exc:
        d.finish()
    assert exc.value.code == "IncompleteBody"


class _StreamingAuth(S3SigV4Auth):
    """Signs with the payload hash the request names (STREAMING-...), as SDKs do for chunked uploads."""

    def payload(self, request):
        return self._streaming

    def __init__(self, streaming, *args):
        super().__init__(*args)
        self._streaming = streaming


def _put(endpoint, account, bucket, key, body: bytes, headers: dict):
    url = f"{endpoint}/{bucket}/{key}"
    request = AWSRequest("PUT", url, data=b"", headers=headers)
    _StreamingAuth(headers["X-Amz-Content-SHA256"], Credentials(account, "test"), "s3", "us-east-1").add_auth(request)
    parsed = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.request("PUT", f"/{bucket}/{key}", body=body, headers={k: v for k, v in request.headers.items()})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def test_unsigned_payload_trailer_upload(s3, bucket, endpoint, account):
    payload = b"chunked body " * 10000
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    wire = encode(payload, 65536, {"x-amz-checksum-crc32": crc})
    headers = {"X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
               "X-Amz-Decoded-Content-Length": str(len(payload)), "X-Amz-Trailer": "x-amz-checksum-crc32",
               "Content-Length": str(len(wire))}
    status, body, answer = _put(endpoint, account, bucket, "chunked", wire, headers)
    assert status == 200, body
    assert answer["x-amz-checksum-crc32"] == crc
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert got["Body"].read() == payload and "ContentEncoding" not in got  # aws-chunked is not stored


def test_wrong_trailer_checksum_is_refused(s3, bucket, endpoint, account):
    payload = b"x" * 5000
    wire = encode(payload, 1024, {"x-amz-checksum-crc32": "AAAAAA=="})
    headers = {"X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
               "X-Amz-Decoded-Content-Length": str(len(payload)), "X-Amz-Trailer": "x-amz-checksum-crc32",
               "Content-Length": str(len(wire))}
    status, body, _ = _put(endpoint, account, bucket, "bad", wire, headers)
    assert status == 400 and b"<Code>BadDigest</Code>" in body
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_signed_streaming_payload(s3, bucket, endpoint, account):
    payload = b"signed chunks " * 3000
    wire = encode(payload, 8192, signed=True)
    headers = {"X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked",
               "X-Amz-Decoded-Content-Length": str(len(payload)), "Content-Length": str(len(wire))}
    status, body, _ = _put(endpoint, account, bucket, "signed", wire, headers)
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="signed")["Body"].read() == payload


def _signed_chunks(payload: bytes, chunk: int, key: bytes, timestamp: str, scope: str, seed: str,
                   tamper: bool = False) -> bytes:
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD framing with real chunk signatures (as the S3 docs define them)."""
    empty = hashlib.sha256(b"").hexdigest()
    previous, out = seed, b""
    pieces = [payload[i:i + chunk] for i in range(0, len(payload), chunk)] + [b""]
    for piece in pieces:
        text = f"AWS4-HMAC-SHA256-PAYLOAD\n{timestamp}\n{scope}\n{previous}\n{empty}\n" \
               f"{hashlib.sha256(piece).hexdigest()}"
        previous = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        sent = piece[:-1] + b"!" if tamper and piece else piece
        out += b"%x;chunk-signature=%s\r\n" % (len(piece), previous.encode()) + sent + b"\r\n"
    return out


@pytest.mark.parametrize("tamper", [False, True])
def test_chunk_signatures_are_verified_when_enforcing(enforcing, tamper):
    account = "432143214321"
    Clients(enforcing.endpoint, account)("s3").create_bucket(Bucket=f"chunks-{int(tamper)}")
    bucket = f"chunks-{int(tamper)}"
    payload = b"signed and checked " * 2000
    request = AWSRequest("PUT", f"{enforcing.endpoint}/{bucket}/k", data=b"", headers={
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(payload))})
    auth = _StreamingAuth("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", Credentials(account, "test"), "s3", "us-east-1")
    auth.add_auth(request)
    timestamp = request.context["timestamp"]
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    key = b"AWS4test"
    for part in (timestamp[:8], "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    wire = _signed_chunks(payload, 8192, key, timestamp, f"{timestamp[:8]}/us-east-1/s3/aws4_request", seed, tamper)
    parsed = urllib.parse.urlsplit(enforcing.endpoint)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        headers = dict(request.headers.items())
        headers["Content-Length"] = str(len(wire))
        conn.request("PUT", f"/{bucket}/k", body=wire, headers=headers)
        response = conn.getresponse()
        status, body = response.status, response.read()
    finally:
        conn.close()
    s3 = Clients(enforcing.endpoint, account)("s3")
    if tamper:
        assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    else:
        assert status == 200, body
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == payload
