"""Connection timeouts of kumo's endpoint: no client holds a connection open by saying nothing.

* idle (``--idle-timeout``, 60 s like an Application Load Balancer's default
  idle timeout): a connection that has not begun a request within this time
  of opening, or of its last answer, is closed.  This is aiohttp's own
  keep-alive timer.
* header (``--header-timeout``, 20 s): a request head (request line and
  headers) that has begun must be complete within this time, however slowly
  its bytes trickle in.  aiohttp has no such timer; ``_Connection`` adds it.
* body (``--body-timeout``, 20 s, the stall after which S3 answers
  RequestTimeout): every read of a request body must make progress within
  this time; the gateway answers ``RequestTimeout`` and closes the connection.

All three run on the event loop's monotonic clock, i.e. real time, never on
kumo's simulated clock: a socket waits in real time whatever the time scale.

With request timing on (``aws/timing.py``), each connection also notes when
a request's first bytes are read and hands the time to its answer to the
timing histograms.
"""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from . import timing


class _Connection(RequestHandler):
    __slots__ = ("_head_timeout", "_head_timer", "_head_count", "_timing", "_arrived", "_arrived_cpu")

    def data_received(self, data: bytes) -> None:
        if self._timing is not None and not self._messages and not self._request_in_progress:
            self._arrived = time.perf_counter()  # real-time measurement: the first bytes of a request are read
            self._arrived_cpu = time.process_time()
        super().data_received(data)
        timer = self._head_timer
        if timer is not None and self._request_count != self._head_count:
            self._cancel_head_timer()  # the head we were timing is complete
            timer = None
        if timer is None and data and not self._messages and not self._request_in_progress:
            # Bytes arrived while no request is in hand: a head has begun and is not complete yet.
            self._head_count = self._request_count
            self._head_timer = self._loop.call_later(self._head_timeout, self._head_expired)

    async def _handle_request(self, *args, **kwargs):
        self._cancel_head_timer()  # a request is in hand; bytes that arrive now are its body
        if self._timing is None:
            return await super()._handle_request(*args, **kwargs)
        arrived, arrived_cpu = self._arrived, self._arrived_cpu
        answer = await super()._handle_request(*args, **kwargs)
        # real-time measurement: the answer is written to the socket (or its buffer)
        wall, cpu = time.perf_counter() - arrived, time.process_time() - arrived_cpu
        self._timing.add(timing.operation_of(args[0]), wall, cpu)
        return answer

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        if self._request_count == self._head_count and not self._request_in_progress:
            self.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def log_exception(self, *args, **kwargs) -> None:
        # Malformed HTTP (a bad chunk size, a broken header) is the client's error, answered 400 by aiohttp:
        # worth a debug line, not a traceback per request in kumo's log.
        if isinstance(kwargs.get("exc_info"), HttpProcessingError):
            self.logger.debug(*args, **kwargs)
        else:
            super().log_exception(*args, **kwargs)


class _Server(web.Server):
    head_timeout = 20.0
    timing: "timing.Timing | None" = None

    def __call__(self) -> RequestHandler:
        handler = _Connection(self, loop=self._loop, **self._kwargs)
        handler._head_timeout = self.head_timeout
        handler._head_timer = None
        handler._head_count = 0
        handler._timing = self.timing
        handler._arrived = handler._arrived_cpu = 0.0
        return handler


class Runner(web.AppRunner):
    """An AppRunner whose connections have the three timeouts above."""

    def __init__(self, app: web.Application, *, idle: float, header: float,
                 timing: "timing.Timing | None" = None, **kwargs):
        super().__init__(app, keepalive_timeout=idle, **kwargs)
        self._header_timeout = header
        self._timing = timing

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp builds its Server inside the application; only the per-connection handler differs here.
        server.__class__ = _Server
        server.head_timeout = self._header_timeout
        server.timing = self._timing
        return server

