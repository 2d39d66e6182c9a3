"""Opt-in server-side request timing (``KUMO_REQUEST_TIMING=1``), read at ``GET /_kumo/timing``.

A client's latency under load mixes kumo's work with the client's own CPU
(boto3 costs more than kumo per call, and shares the machine's cores).  This
measures kumo's share from inside: from the moment the event loop reads the
first bytes of a request to the moment its answer is handed to the socket,
so it includes the time a request waits on the loop behind other requests.
Two clocks: wall time, and kumo's CPU time (time.process_time, every thread)
spent while the request was in flight.  On a machine whose cores are shared
with the clients and other programs, wall time also counts the moments the
OS ran something else; the CPU time counts only kumo's own work, this
request's and that of the requests it waited behind.  What it cannot see is time the bytes spend in the kernel's socket buffer
before the loop reads them; that wait is bounded by the longest the loop
stays busy in one go, which the loop-lag probe records (a timer due every
10 ms, and how late it fires).

Every duration here is a real-time measurement (time.perf_counter), never
kumo's clock.  Histograms have fixed logarithmic buckets (5% wide), one per
operation and one for the loop lag, so memory stays bounded by the number of
operations whatever the load.  ``POST /_kumo/timing`` with ``{}`` clears them.
"""

from __future__ import annotations

import asyncio
import math
import time
from array import array

from aiohttp import web

_STEP = math.log(1.05)
_BUCKETS = 420  # 1 µs * 1.05**420 ≈ 800 s: everything a request can take
_PROBE = 0.010  # seconds between loop-lag probes
OPERATION = web.RequestKey("kumo.operation", str)  # the gateway names each AWS request (iam.ListRoles)


class Histogram:
    __slots__ = ("counts", "n", "total", "max")

    def __init__(self) -> None:
        self.counts = array("I", bytes(4 * _BUCKETS))
        self.n = 0
        self.total = 0.0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        us = seconds * 1e6
        self.counts[min(_BUCKETS - 1, int(math.log(us) / _STEP)) if us > 1 else 0] += 1
        self.n += 1
        self.total += seconds
        if seconds > self.max:
            self.max = seconds

    def quantile(self, q: float) -> float:
        """The upper edge (ms) of the bucket holding the q-quantile: at most 5% above the true value."""
        rank = q * self.n
        seen = 0
        for i, c in enumerate(self.counts):
            seen += c
            if c and seen >= rank:
                return min(1.05 ** (i + 1) / 1000, self.max * 1000)
        return self.max * 1000

    def report(self) -> dict:
        return {"count": self.n, "mean_ms": round(self.total / self.n * 1000, 3) if self.n else 0.0,
                "p50_ms": round(self.quantile(0.5), 3), "p90_ms": round(self.quantile(0.9), 3),
                "p99_ms": round(self.quantile(0.99), 3), "max_ms": round(self.max * 1000, 3)}


class Timing:
    def __init__(self) -> None:
        self.operations: dict[str, Histogram] = {}
        self.cpu: dict[str, Histogram] = {}
        self.lag = Histogram()
        self._probe: asyncio.TimerHandle | None = None
        self._due = 0.0

    def add(self, operation: str, seconds: float, cpu: float) -> None:
        hist = self.operations.get(operation)
        if hist is None:
            hist = self.operations[operation] = Histogram()
            self.cpu[operation] = Histogram()
        hist.add(seconds)
        self.cpu[operation].add(cpu)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._due = time.perf_counter() + _PROBE  # real-time measurement
        self._probe = loop.call_later(_PROBE, self._tick, loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        now = time.perf_counter()  # real-time measurement
        self.lag.add(max(0.0, now - self._due))
        self._due = now + _PROBE
        self._probe = loop.call_later(_PROBE, self._tick, loop)

    def stop(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None

    def report(self) -> dict:
        return {"wall": _report(self.operations), "cpu": _report(self.cpu), "loop_lag": self.lag.report()}

    def clear(self) -> None:
        self.operations.clear()
        self.cpu.clear()
        self.lag = Histogram()

    # -- /_kumo/timing ---------------------------------------------------------------
    async def get(self, request: web.Request) -> web.Response:
        return web.json_response(self.report())

    async def post(self, request: web.Request) -> web.Response:
        self.clear()
        return web.json_response({"cleared": True})


def _report(hists: dict[str, Histogram]) -> dict:
    every = Histogram()
    for hist in hists.values():
        for i, c in enumerate(hist.counts):
            every.counts[i] += c
        every.n += hist.n
        every.total += hist.total
        every.max = max(every.max, hist.max)
    return {"all": every.report(), "operations": {op: hist.report() for op, hist in sorted(hists.items())}}


def operation_of(request: web.BaseRequest) -> str:
    """The name the gateway gave the request (``iam.ListRoles``), or its path for anything else."""
    return request.get(OPERATION) or f"{request.method} {request.path}"
