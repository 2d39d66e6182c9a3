"""S3's checksums: CRC32, CRC32C, CRC64NVME (not supported here), SHA-1, SHA-256, and MD5 for ETags and Content-MD5.

Values are base64 of the big-endian digest, as S3 shows them (x-amz-checksum-crc32: "DUoRhQ==").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib

import crc32c as _crc32c

from ...aws.errors import AwsError

ALGORITHMS = ("CRC32", "CRC32C", "SHA1", "SHA256")
UNSUPPORTED = ("CRC64NVME", "SHA512", "MD5", "XXHASH64", "XXHASH3", "XXHASH128")


class _Crc:
    def __init__(self, fn):
        self._fn = fn
        self._value = 0

    def update(self, data) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


def hasher(algorithm: str):
    if algorithm == "CRC32":
        return _Crc(zlib.crc32)
    if algorithm == "CRC32C":
        return _Crc(lambda data, value: _crc32c.crc32c(data, value))
    if algorithm == "SHA1":
        return hashlib.sha1()
    if algorithm == "SHA256":
        return hashlib.sha256()
    raise AwsError("InvalidRequest", f"Checksum algorithm {algorithm} is not supported by kumo.", status=400)


def encode(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def of_bytes(algorithm: str, data: bytes) -> str:
    h = hasher(algorithm)
    h.update(data)
    return encode(h.digest())


def requested(headers) -> tuple[str | None, str | None]:
    """(algorithm, expected value or None if it comes in a trailer) the request asks to be checked."""
    for algorithm in ALGORITHMS:
        value = headers.get(f"x-amz-checksum-{algorithm.lower()}")
        if value is not None:
            return algorithm, value
    trailer = headers.get("x-amz-trailer", "").strip().lower()
    if trailer.startswith("x-amz-checksum-"):
        algorithm = trailer[len("x-amz-checksum-"):].upper()
        if algorithm in UNSUPPORTED:
            raise AwsError("InvalidRequest", f"Checksum algorithm {algorithm} is not supported by kumo.", status=400)
        if algorithm in ALGORITHMS:
            return algorithm, None
    for other in UNSUPPORTED:  # never accepted unchecked
        if headers.get(f"x-amz-checksum-{other.lower()}") is not None:
            raise AwsError("InvalidRequest", f"Checksum algorithm {other} is not supported by kumo.", status=400)
    algorithm = headers.get("x-amz-sdk-checksum-algorithm", "").upper()
    if algorithm:
        if algorithm not in ALGORITHMS:
            raise AwsError("InvalidRequest", f"Checksum algorithm {algorithm} is not supported by kumo.", status=400)
        return algorithm, None
    return None, None


def content_md5(headers) -> bytes | None:
    value = headers.get("Content-MD5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.", status=400, Content_MD5=value)
    return digest


def multipart_etag(part_etags: list[str]) -> str:
    md5 = hashlib.md5()
    for etag in part_etags:
        md5.update(bytes.fromhex(etag.strip('"')))
    return f'"{md5.hexdigest()}-{len(part_etags)}"'
