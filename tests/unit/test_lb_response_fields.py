"""upstream.response_fields (the ALB's hop-by-hop filter on a response head's raw field lines) against the walk
it replaced: llhttp's header callbacks, filtered field by field."""

import httptools
import pytest

from kumo.dataplane.lb import upstream
from kumo.dataplane.lb.upstream import HOP_BY_HOP, response_fields

HEADS = [
    b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Thu, 03 Dec 2026 13:00:00 GMT\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 23\r\nConnection: keep-alive\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\nX-Connection: kept\r\n\r\n",
    b"HTTP/1.1 500 Oops\r\ncontent-length: 0\r\nCONNECTION: close\r\nSet-Cookie: a=b; Path=/\r\n"
    b"Set-Cookie: c=d\r\nTE: trailers\r\nTrailer: X\r\nUpgrade: h2c\r\nProxy-Connection: x\r\n\r\n",
    b"HTTP/1.1 302 Found\r\nLocation: /connection:x\r\nX-Content-Length: 5\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length:7\r\nX-Tab:\tv\r\nProxy-Authenticate: Basic\r\n"
    b"Proxy-Authorization: x\r\nVia: 1.1 a\r\n\r\n",
]


class _Walk:
    def __init__(self):
        self.headers = []

    def on_header(self, name, value):
        self.headers.append((name, value))


def _old_walk(head: bytes) -> tuple[list, bytes | None]:
    walk = _Walk()
    httptools.HttpResponseParser(walk).feed_data(head)
    kept, length = [], None
    for name, value in walk.headers:
        low = name.lower()
        if low in HOP_BY_HOP:
            if low == b"content-length":
                length = value
            continue
        kept.append((name.lower(), value))
    return kept, length


def _fields(block: bytes) -> list:
    out = []
    for line in block.split(b"\r\n")[:-1]:
        name, _, value = line.partition(b":")
        out.append((name.lower(), value.lstrip(b" \t")))
    return out


@pytest.mark.parametrize("head", HEADS)
def test_response_fields_keep_what_the_field_walk_kept(head):
    start = head.find(b"\r\n") + 2
    block = head[start:head.find(b"\r\n\r\n", start - 2) + 2]
    upstream._FIELDS_MEMO.clear()
    for _ in range(2):  # computed, then remembered
        fields, length = response_fields(block)
        kept, old_length = _old_walk(head)
        assert _fields(fields) == kept
        assert length == old_length
        assert fields == b"" or fields.endswith(b"\r\n")


def test_remembered_heads_are_bounded():
    upstream._FIELDS_MEMO.clear()
    for i in range(upstream._FIELDS_MEMO_MAX * 3):
        response_fields(b"Date: %d\r\nContent-Length: 1\r\n" % i)
    assert len(upstream._FIELDS_MEMO) <= upstream._FIELDS_MEMO_MAX


def test_large_heads_are_not_remembered():
    upstream._FIELDS_MEMO.clear()
    block = b"X-Big: " + b"a" * upstream._FIELDS_MEMO_BYTES + b"\r\nContent-Length: 3\r\n"
    assert response_fields(block) == (b"X-Big: " + b"a" * upstream._FIELDS_MEMO_BYTES + b"\r\n", b"3")
    assert not upstream._FIELDS_MEMO
