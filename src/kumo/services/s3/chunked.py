"""aws-chunked content encoding, decoded as the bytes arrive.

``<hex size>[;chunk-signature=<64 hex>]\\r\\n<data>\\r\\n`` ... ``0[;chunk-signature=...]\\r\\n``, then trailer
lines (``x-amz-checksum-crc32:...``, ``x-amz-trailer-signature:...``) and a final ``\\r\\n``.  botocore
>= 1.36 sends STREAMING-UNSIGNED-PAYLOAD-TRAILER with a checksum trailer; SigV4 streaming uploads
(STREAMING-AWS4-HMAC-SHA256-PAYLOAD, awscli 1.x on some paths) carry chunk signatures, which are read and
checked when signatures are enforced (the edge verifies the request's own signature and hands over the
seed its chunk signatures chain from), and otherwise read and dropped, as every signature is then.
"""

from __future__ import annotations

import hashlib
import hmac

from ...aws.errors import AwsError

_EMPTY = hashlib.sha256(b"").hexdigest()

_MAX_LINE = 4096


def is_chunked(headers) -> bool:
    sha = headers.get("x-amz-content-sha256", "")
    return sha.startswith("STREAMING-") or "aws-chunked" in headers.get("Content-Encoding", "").lower()


def _bad(detail: str) -> AwsError:
    err = AwsError("IncompleteBody", f"The aws-chunked body could not be decoded: {detail}.", status=400)
    err.close = True
    return err


def _mismatch() -> AwsError:
    err = AwsError("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you "
                   "provided. Check your key and signing method.", status=403)
    err.close = True
    return err


class _Chain:
    """SigV4 streaming: each chunk's signature signs its data and the previous signature."""

    def __init__(self, seed: dict):
        self._key, self._prefix = seed["key"], f"{seed['timestamp']}\n{seed['scope']}\n"
        self._previous = seed["seed"]

    def check(self, kind: str, claimed: str | None, digest: str) -> None:
        text = f"AWS4-HMAC-SHA256-{kind}\n{self._prefix}{self._previous}\n" + (
            f"{_EMPTY}\n{digest}" if kind == "PAYLOAD" else digest)
        expected = hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()
        if claimed is None or not hmac.compare_digest(expected, claimed):
            raise _mismatch()
        self._previous = expected


class Decoder:
    def __init__(self, seed: dict | None = None):
        self._chain = _Chain(seed) if seed else None
        self._signature: str | None = None  # the current chunk's, from its size line
        self._hash = hashlib.sha256() if seed else None
        self._buf = bytearray()
        self._left = 0  # data bytes left in the current chunk
        self._state = "size"  # size -> data -> crlf -> size ...; after the 0 chunk: trailer -> done
        self.trailers: dict[str, str] = {}

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> list:
        """The payload bytes in ``data`` (memoryviews/bytes, in order)."""
        out = []
        if self._state == "data" and not self._buf:
            # The common case: the chunk's data, straight through without copying into the buffer.
            take = min(self._left, len(data))
            if take:
                piece = data[:take] if take < len(data) else data
                out.append(piece)
                if self._hash is not None:
                    self._hash.update(piece)
                self._left -= take
                data = data[take:]
                if self._left == 0:
                    self._state = "crlf"
            if not data:
                return out
        self._buf += data
        while True:
            if self._state == "data":
                if not self._buf:
                    return out
                take = min(self._left, len(self._buf))
                piece = bytes(self._buf[:take])
                out.append(piece)
                if self._hash is not None:
                    self._hash.update(piece)
                del self._buf[:take]
                self._left -= take
                if self._left == 0:
                    self._state = "crlf"
                continue
            if self._state == "done":
                if self._buf.strip():
                    raise _bad("bytes after the final chunk")
                self._buf.clear()
                return out
            end = self._buf.find(b"\r\n")
            if end < 0:
                if len(self._buf) > _MAX_LINE:
                    raise _bad("a line too long")
                return out
            line = bytes(self._buf[:end])
            del self._buf[:end + 2]
            if self._state == "crlf":
                if line:
                    raise _bad("a chunk longer than its size")
                if self._chain is not None:
                    self._chain.check("PAYLOAD", self._signature, self._hash.hexdigest())
                    self._hash = hashlib.sha256()
                self._state = "size"
            elif self._state == "size":
                size_text, _, extension = line.partition(b";")
                size_text = size_text.strip()
                name, _, value = extension.decode("latin-1").partition("=")
                self._signature = value.strip() if name.strip() == "chunk-signature" else None
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise _bad(f"a chunk size {size_text[:20]!r}") from None
                if size < 0:
                    raise _bad("a negative chunk size")
                if size == 0:
                    if self._chain is not None:
                        self._chain.check("PAYLOAD", self._signature, _EMPTY)
                    self._state = "trailer"
                else:
                    self._left, self._state = size, "data"
            elif self._state == "trailer":
                if not line:
                    self._check_trailer()
                    self._state = "done"
                    continue
                name, colon, value = line.decode("latin-1").partition(":")
                if not colon:
                    raise _bad("a trailer without a colon")
                self.trailers[name.strip().lower()] = value.strip()

    def _check_trailer(self) -> None:
        if self._chain is None or not self.trailers:
            return
        signature = self.trailers.get("x-amz-trailer-signature")
        text = "".join(f"{k}:{v}\n" for k, v in self.trailers.items() if k != "x-amz-trailer-signature")
        self._chain.check("TRAILER", signature, hashlib.sha256(text.encode()).hexdigest())

    def finish(self) -> None:
        if self._state == "trailer" and not self._buf:
            self._check_trailer()
            self._state = "done"  # some clients end the trailers without the last empty line
        if self._state != "done":
            raise _bad("the body ended before its final chunk")
