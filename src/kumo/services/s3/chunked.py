"""aws-chunked content encoding, decoded as the bytes arrive.

``<hex size>[;chunk-signature=<64 hex>]\\r\\n<data>\\r\\n`` ... ``0[;chunk-signature=...]\\r\\n``, then trailer
lines (``x-amz-checksum-crc32:...``, ``x-amz-trailer-signature:...``) and a final ``\\r\\n``.  botocore
>= 1.36 sends STREAMING-UNSIGNED-PAYLOAD-TRAILER with a checksum trailer; SigV4 streaming uploads
(STREAMING-AWS4-HMAC-SHA256-PAYLOAD, awscli 1.x on some paths) carry chunk signatures, which are read and
dropped here (the request's own signature is verified at the edge with --enforce-signatures).
"""

from __future__ import annotations

from ...aws.errors import AwsError

_MAX_LINE = 4096


def is_chunked(headers) -> bool:
    sha = headers.get("x-amz-content-sha256", "")
    return sha.startswith("STREAMING-") or "aws-chunked" in headers.get("Content-Encoding", "").lower()


def _bad(detail: str) -> AwsError:
    err = AwsError("IncompleteBody", f"The aws-chunked body could not be decoded: {detail}.", status=400)
    err.close = True
    return err


class Decoder:
    def __init__(self):
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
                out.append(data[:take] if take < len(data) else data)
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
                out.append(bytes(self._buf[:take]))
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
                self._state = "size"
            elif self._state == "size":
                size_text = line.split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise _bad(f"a chunk size {size_text[:20]!r}") from None
                if size < 0:
                    raise _bad("a negative chunk size")
                if size == 0:
                    self._state = "trailer"
                else:
                    self._left, self._state = size, "data"
            elif self._state == "trailer":
                if not line:
                    self._state = "done"
                    continue
                name, colon, value = line.decode("latin-1").partition(":")
                if not colon:
                    raise _bad("a trailer without a colon")
                self.trailers[name.strip().lower()] = value.strip()

    def finish(self) -> None:
        if self._state == "trailer" and not self._buf:
            self._state = "done"  # some clients end the trailers without the last empty line
        if self._state != "done":
            raise _bad("the body ended before its final chunk")
