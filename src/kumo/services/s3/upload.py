"""Receiving a request body into a temp file: aws-chunked decoded, hashed, checked, fsynced.

Never holds the body in memory: each chunk read from the socket is decoded, hashed and written out
before the next is read (aiohttp's flow control pauses the socket meanwhile).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from dataclasses import dataclass, field

from ...aws.errors import AwsError
from . import checksums, chunked

MAX_PUT = 5 * 1024**3  # a single PutObject / UploadPart
_HEX64 = set("0123456789abcdef")
_BATCH = 1 << 20  # bytes hashed and written at once
_INLINE = 64 * 1024  # smaller batches (small objects) are cheaper on the loop than a thread hop


@dataclass
class Received:
    path: str
    size: int
    md5: str  # hex
    checksum: dict = field(default_factory=dict)  # {"CRC32": "base64"} when the request asked for one


def _declared_length(headers) -> int:
    text = headers.get("x-amz-decoded-content-length") if chunked.is_chunked(headers) else headers.get(
        "Content-Length")
    if text is None:
        text = headers.get("Content-Length")
        if text is None:
            raise AwsError("MissingContentLength", "You must provide the Content-Length HTTP header.", status=411)
        return -1
    try:
        value = int(text)
    except ValueError:
        raise AwsError("InvalidArgument", "The Content-Length is not a number.", status=400) from None
    return value


async def receive(blobs, body, headers, limit: int = MAX_PUT) -> Received:
    """Read the request's body (aws/streaming.RequestBody) into a fsynced temp file under blobs.tmp."""
    declared = _declared_length(headers)
    if declared > limit:
        raise AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", status=400,
                       ProposedSize=declared, MaxSizeAllowed=limit)
    algorithm, expected = checksums.requested(headers)
    expected_md5 = checksums.content_md5(headers)
    sha = headers.get("x-amz-content-sha256", "")
    check_sha = len(sha) == 64 and set(sha) <= _HEX64
    decoder = chunked.Decoder(getattr(body, "chunk_seed", None)) if chunked.is_chunked(headers) else None
    md5 = hashlib.md5()
    crc = checksums.hasher(algorithm) if algorithm else None
    sha256 = hashlib.sha256() if check_sha else None
    path = blobs.temp()
    size = 0
    ok = False
    f = open(path, "wb")
    hashers = [h for h in (md5, crc, sha256) if h is not None]

    def absorb(pieces):
        # Off the loop for big batches: hashlib and zlib release the GIL, so hashing runs beside the loop.
        for piece in pieces:
            for h in hashers:
                h.update(piece)
            f.write(piece)

    try:
        batch, batched = [], 0
        while True:
            raw = await body.read(1 << 20)
            pieces = (decoder.feed(raw) if decoder is not None else (raw,)) if raw else ()
            for piece in pieces:
                size += len(piece)
                batch.append(piece)
                batched += len(piece)
            if size > limit:
                raise AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
                               status=400, MaxSizeAllowed=limit)
            if batched >= _BATCH or (not raw and batch):
                if batched >= _INLINE:
                    await asyncio.to_thread(absorb, batch)
                else:
                    absorb(batch)
                batch, batched = [], 0
            if not raw:
                break
        if decoder is not None:
            decoder.finish()
        if declared >= 0 and size != declared:
            err = AwsError("IncompleteBody", "You did not provide the number of bytes specified by the "
                           "Content-Length HTTP header.", status=400)
            err.close = True
            raise err
        if sha256 is not None and sha256.hexdigest() != sha:
            raise AwsError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match "
                           "what was computed.", status=400, ClientComputedContentSHA256=sha,
                           S3ComputedContentSHA256=sha256.hexdigest())
        if expected_md5 is not None and md5.digest() != expected_md5:
            raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.", status=400,
                           ExpectedDigest=base64.b64encode(expected_md5).decode(), CalculatedDigest=md5.hexdigest())
        checksum = {}
        if crc is not None:
            value = checksums.encode(crc.digest())
            if expected is None and decoder is not None:
                expected = decoder.trailers.get(f"x-amz-checksum-{algorithm.lower()}")
            if expected is not None and expected != value:
                raise AwsError("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.",
                               status=400)
            checksum[algorithm] = value
        f.flush()
        # fdatasync: the data and the size a read needs, not the timestamps fsync would also write.
        await asyncio.to_thread(os.fdatasync, f.fileno())
        ok = True
        return Received(path, size, md5.hexdigest(), checksum)
    finally:
        f.close()
        if not ok:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
