"""Connections from a load balancer node to its targets, reused while they stay keep-alive.

An exchange runs on callbacks, without a task in between: what one read of
the target yields (the response head, body bytes, the end) leaves for the
client in one write, and the worker's periodic sweep enforces the idle
timeout (in real seconds at the clock's pace: a target answers in real time),
so an exchange costs no timer and no clock read (a read only sets ``seen``,
which the sweep turns into a time).  Completion is handed back once the
read is parsed and flushed, so the client can start its next request on this
same connection without re-entering the parser.
"""

from __future__ import annotations

import asyncio

import httptools

# Response fields the proxy does not pass on: it frames the body and keeps the connection itself.
HOP_BY_HOP = (b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding",
              b"upgrade", b"proxy-authenticate", b"proxy-authorization", b"content-length")
_HOP_KEYS = tuple(b"\n" + name + b":" for name in HOP_BY_HOP)
_FIELDS_MEMO: dict[bytes, tuple[bytes, bytes | None]] = {}
_FIELDS_MEMO_MAX = 256
_FIELDS_MEMO_BYTES = 4096


def response_fields(block: bytes) -> tuple[bytes, bytes | None]:
    """A response head's field lines (each ending in CRLF, as llhttp validated them) without the hop-by-hop
    ones, and its Content-Length (None: none).

    A target sends the same head again and again, but for its Date: the answer is remembered per block
    (a few hundred at most), so most responses cost one dict lookup here instead of a walk of their fields."""
    found = _FIELDS_MEMO.get(block)
    if found is not None:
        return found
    raw = block
    low = b"\n" + block.lower()  # a field line starts after a newline, at block offset = its "\n" offset in low
    cuts = []
    length = None
    for key in _HOP_KEYS:
        at = low.find(key)
        while at >= 0:
            end = low.find(b"\n", at + 1)  # block[at:end] is the line with its CRLF
            cuts.append((at, end))
            if key == b"\ncontent-length:":
                length = block[at + len(key) - 1:end - 2].strip(b" \t")
            at = low.find(key, end)
    if cuts:
        cuts.sort()
        kept, pos = [], 0
        for at, end in cuts:
            kept.append(block[pos:at])
            pos = end
        kept.append(block[pos:])
        block = b"".join(kept)
    found = (block, length)
    if len(raw) <= _FIELDS_MEMO_BYTES:  # bounded: at most _FIELDS_MEMO_MAX heads of at most 4 KiB
        if len(_FIELDS_MEMO) >= _FIELDS_MEMO_MAX:
            _FIELDS_MEMO.clear()
        _FIELDS_MEMO[raw] = found
    return found


class Upstream(asyncio.Protocol):
    def __init__(self, pool: "UpstreamPool", key: tuple):
        self.pool = pool
        self.key = key
        self.transport = None
        self.closed = False
        self.parser = None
        self.client = None  # the client connection of the exchange under way
        self.keep = True
        self.head_only = False
        self.framing = None  # None until the client has written the response head
        self.held: list[bytes] = []
        self.paused = False
        self.active = False
        self._pre = b""  # what the target sent of this exchange's response before its head was complete
        self._head_seen = False
        self._complete = False
        self._idle = None  # the idle timeout of the exchange under way, in real seconds (None: none)
        self._last = 0.0  # when the target last sent something (real time, stamped by the sweep)
        self.seen = False
        self._out: list[bytes] = []  # bytes for the client, flushed once per read
        self._done = None  # the client to hand the finished exchange back to, after this read

    # -- transport -----------------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True
        self._fail(ConnectionError("target closed the connection"))

    def data_received(self, data: bytes):
        if not self.active:
            self.transport.close()  # data out of turn: the connection cannot be trusted
            return
        self.seen = True
        client = self.client
        if client is not None:
            client.nbytes += len(data)
        if not self._head_seen:
            # llhttp validates the head; its fields are then taken as they came (response_fields), with no
            # callback per field.
            self._pre = self._pre + data if self._pre else data
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.keep = False  # garbage from the target: this connection is not reused
            self._flush(client)
            self._fail(exc)
            self.transport.close()
        else:
            self._flush(client)
        done, self._done = self._done, None
        if done is not None:
            # Handed back only now, outside the parser: the client may reuse this connection at once.
            done.upstream_done(self)

    def _flush(self, client) -> None:
        if self._out and client is not None:
            client.transport.write(b"".join(self._out) if len(self._out) > 1 else self._out[0])
            self._out = []
            if not client.writable and not self.paused and not self._complete:
                self.paused = True
                self.transport.pause_reading()
                asyncio.get_running_loop().create_task(self._resume_when_drained(client))

    # -- an exchange ------------------------------------------------------------------------
    def start(self, payload: bytes, head_only: bool, client, idle: float | None) -> None:
        if self.parser is None:  # llhttp parses the next response of a keep-alive connection as it is
            self.parser = httptools.HttpResponseParser(self)
        self.client = client
        self.head_only = head_only
        self.framing = None
        self.held = []
        self._pre = b""
        self._head_seen = False
        self._complete = False
        self.active = True
        self._idle = idle
        self.seen = True
        self._out = []
        self.pool.busy.add(self)
        self.transport.write(payload)

    def check_idle(self, now: float) -> None:
        """Called by the worker's sweep (``now`` in real time): a target silent past the idle timeout
        fails the exchange."""
        if self.seen:
            self.seen = False
            self._last = now
            return
        if self.active and not self._complete and self._idle is not None and now - self._last > self._idle:
            self._fail(TimeoutError("target idle past the idle timeout"))

    def _fail(self, exc: BaseException) -> None:
        self.pool.busy.discard(self)
        if self.active and not self._complete:
            self.active = False
            client, self.client = self.client, None
            if client is not None:
                client.upstream_failed(self, exc, self._head_seen)

    # -- httptools callbacks ---------------------------------------------------------------------
    def on_headers_complete(self):
        parser = self.parser
        status = parser.get_status_code()
        self.keep = parser.should_keep_alive()
        self._head_seen = True
        raw, self._pre = self._pre, b""
        start = raw.find(b"\r\n") + 2  # llhttp accepts no bare LF: the head is CRLF-delimited
        fields, length = response_fields(raw[start:raw.find(b"\r\n\r\n", start - 2) + 2])
        no_body = self.head_only or status == 204 or status == 304
        if self.head_only:
            self.keep = False  # llhttp cannot know the request was HEAD: do not trust what follows
        self.client.upstream_head(self, status, fields, length, no_body)
        if no_body:
            self._finish()

    def on_body(self, body: bytes):
        if self.framing == "length":
            if not self._complete:
                self._out.append(body)
            return
        if self._complete:
            return
        if self.framing is None:
            self.held.append(body)
        else:
            self._emit(body)

    # -- relaying --------------------------------------------------------------------------------
    def begin_body(self, head: bytes, framing: str) -> None:
        """The client built the response head: send it together with whatever body is held."""
        self.framing = framing
        parts = [head]
        for chunk in self.held:
            parts.append(_frame(chunk, framing))
        self.held = []
        if self._complete and framing == "chunked":
            parts.append(b"0\r\n\r\n")
        self._out.extend(parts)

    def _emit(self, body: bytes) -> None:
        self._out.append(_frame(body, self.framing))

    async def _resume_when_drained(self, client):
        await client.write_ready.wait()
        self.paused = False
        if not self.closed:
            self.transport.resume_reading()

    def _finish(self):
        if self._complete:
            return
        self._complete = True
        self.pool.busy.discard(self)
        if self.framing == "chunked":
            self._out.append(b"0\r\n\r\n")
        self._done, self.client = self.client, None
        self.active = False

    on_message_complete = _finish  # llhttp's callback: the message is whole

    def reusable(self) -> bool:
        return self.keep and self._complete and not self.closed

    def close(self):
        self.closed = True
        self.active = False
        self.pool.busy.discard(self)
        if self.transport is not None:
            self.transport.close()


def _frame(chunk: bytes, framing: str) -> bytes:
    if framing == "chunked":
        return b"%x\r\n%s\r\n" % (len(chunk), chunk)
    if framing == "length":
        return chunk
    return b""


class UpstreamPool:
    """Idle keep-alive connections to targets, per (host, port)."""

    def __init__(self, max_idle: int = 64):
        self.idle: dict[tuple, list[Upstream]] = {}
        self.busy: set[Upstream] = set()  # exchanges under way, for the idle sweep
        self.max_idle = max_idle

    def sweep(self, now: float) -> None:
        for conn in list(self.busy):
            conn.check_idle(now)

    def take(self, host: str, port: int) -> Upstream | None:
        idle = self.idle.get((host, port))
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        return None

    async def connect(self, host: str, port: int) -> Upstream:
        loop = asyncio.get_running_loop()
        key = (host, port)
        _, conn = await loop.create_connection(lambda: Upstream(self, key), host, port)
        return conn

    def release(self, conn: Upstream) -> None:
        idle = self.idle.setdefault(conn.key, [])
        if len(idle) < self.max_idle:
            idle.append(conn)
        else:
            conn.close()

    def drop(self, host: str, port: int) -> None:
        for conn in self.idle.pop((host, port), []):
            conn.close()
