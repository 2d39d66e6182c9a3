"""Give memory back to the OS once kumo goes idle after work.

A burst of requests (50 clients, big answers in flight at once) raises the
heap's high-water mark.  Once the answers are sent the objects are freed,
but the allocator keeps the pages: glibc returns the top of its heap only,
and pages freed in the middle stay resident until ``malloc_trim``.  So after
requests stop for ``IDLE`` seconds, kumo runs a full collection (cycles left
by failed requests) and ``malloc_trim(0)`` once, until requests come again.

Idleness is real time (a socket's quiet, not simulated time): the check runs
on the event loop's timer every ``EVERY`` seconds and costs a counter compare.
Not glibc (musl, macOS): the collection still runs, the trim is skipped.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
from typing import Callable

log = logging.getLogger("kumo.trim")

EVERY = 10.0  # seconds between checks
IDLE = 30.0  # seconds without a request before trimming: long enough not to trim between a client's calls


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


class IdleTrim:
    def __init__(self, requests: Callable[[], int]):
        self._requests = requests  # a counter of requests served so far
        self._seen = requests()
        self._quiet = 0.0
        self._trimmed = True  # nothing to give back before the first request
        self._timer: asyncio.TimerHandle | None = None
        self._trim = _malloc_trim()
        self.trims = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = loop.call_later(EVERY, self._check, loop)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        count = self._requests()
        if count != self._seen:
            self._seen, self._quiet, self._trimmed = count, 0.0, False
        else:
            self._quiet += EVERY
            if self._quiet >= IDLE and not self._trimmed:
                self.trim()
        self._timer = loop.call_later(EVERY, self._check, loop)

    def trim(self) -> None:
        self._trimmed = True
        self.trims += 1
        gc.collect()
        if self._trim is not None:
            self._trim(0)
