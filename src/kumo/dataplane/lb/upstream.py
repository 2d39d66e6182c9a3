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
        self._headers: list = []
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
            if not client.write_ready.is_set() and not self.paused and not self._complete:
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
        self._headers = []
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
    def on_header(self, name, value):
        self._headers.append((name, value))

    def on_headers_complete(self):
        status = self.parser.get_status_code()
        self.keep = self.parser.should_keep_alive()
        self._head_seen = True
        no_body = self.head_only or status in (204, 304)
        if self.head_only:
            self.keep = False  # llhttp cannot know the request was HEAD: do not trust what follows
        self.client.upstream_head(self, status, self._headers, no_body)
        if no_body:
            self._finish()

    def on_body(self, body: bytes):
        if self._complete:
            return
        if self.framing is None:
            self.held.append(body)
        else:
            self._emit(body)

    def on_message_complete(self):
        self._finish()

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
