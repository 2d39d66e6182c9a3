"""Bodies too big to hold: requests a service reads itself, and answers sent from a file.

A service whose spec has ``max_body=None`` (S3) is routed on the request's head; for its operations
whose input payload is a streaming blob (PutObject, UploadPart) the gateway leaves the body unread and
hands the handler a ``RequestBody`` (``ctx.extra["body"]``) to read in chunks.  A handler answers a
streaming output payload with a ``FileBody``, which the gateway sends with ``sendfile``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp.http_exceptions import HttpProcessingError

from .errors import AwsError, request_timeout


def streams_input(operation) -> bool:
    shape = operation.input_shape
    if shape is None:
        return False
    payload = shape.serialization.get("payload")
    if not payload:
        return False
    member = shape.members[payload]
    return member.type_name == "blob" and bool(member.serialization.get("streaming") or
                                               getattr(member, "metadata", {}).get("streaming"))


class RequestBody:
    """The request's body, read as it arrives (with the gateway's stall timeout, in real time)."""

    def __init__(self, request, timeout: float):
        self._request = request
        self._timeout = timeout
        self.length = request.content_length  # None when chunked
        # Set when signatures are enforced and the body is SigV4-streamed: key, timestamp, scope and seed
        # signature that its chunk signatures chain from (services/s3/chunked.py checks them).
        self.chunk_seed: dict | None = None

    async def read(self, n: int = 1 << 20) -> bytes:
        """Up to ``n`` bytes; b"" at the end."""
        content = self._request.content
        try:
            # Wall-clock time, not kumo's clock: a socket waits in real time whatever the simulated time does.
            async with asyncio.timeout(self._timeout):
                return await content.read(n)
        except TimeoutError:
            content.feed_eof()
            raise request_timeout(self._timeout) from None
        except HttpProcessingError as exc:
            err = AwsError("IncompleteBody", f"The request body could not be read: {exc.message}", status=400)
            err.close = True
            raise err from None

    async def drain(self) -> None:
        """Read and drop the rest (an error answered before the body was used)."""
        while await self.read():
            pass


@dataclass
class FileBody:
    """``length`` bytes of ``path`` from ``offset``, sent as the response body (sendfile)."""

    path: str
    offset: int
    length: int
    status: int | None = None  # 206 for a range
    file: object = None  # the file already open (so a delete between answer and send cannot take it away)
