"""The one clock of kumo.

Simulated time runs at ``scale`` times real time and can also be pushed
forward by hand (``advance``).  Every timestamp, interval, cooldown, TTL and
timeout in kumo reads this clock, so a test can step over a 300 s cooldown in
microseconds of wall time.

Timers live in one heap keyed by simulated time.  A single asyncio handle is
armed for the earliest of them, at the real delay that corresponds to the
current scale; changing the scale or advancing by hand simply re-arms it.
Scale 0 freezes time: only ``advance`` moves it (the "manual" clock).
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
import time
from typing import Any, Callable


class TimerHandle:
    __slots__ = ("when", "callback", "args", "cancelled", "_seq")

    def __init__(self, when: float, seq: int, callback: Callable, args: tuple):
        self.when = when
        self._seq = seq
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: "TimerHandle") -> bool:
        return (self.when, self._seq) < (other.when, other._seq)


class Clock:
    def __init__(self, scale: float = 1.0, start: float | None = None):
        if scale < 0:
            raise ValueError("time scale must be >= 0")
        self._scale = float(scale)
        self._base_sim = time.time() if start is None else float(start)
        self._base_real = time.monotonic()
        self._heap: list[TimerHandle] = []
        self._seq = itertools.count()
        self._armed: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._firing = False
        self._observers: list[Callable[[], None]] = []
        # (wall time, simulated time, scale) at the start and after every jump or change of pace, so that a
        # wall-clock timestamp a client took (a presigned URL's X-Amz-Date) can be placed in simulated time.
        self._anchors: collections.deque = collections.deque(maxlen=65536)
        self._anchor()

    # -- reading -----------------------------------------------------------
    @property
    def scale(self) -> float:
        return self._scale

    @property
    def manual(self) -> bool:
        return self._scale == 0

    def now(self) -> float:
        """Simulated wall-clock time, in epoch seconds."""
        return self._base_sim + (time.monotonic() - self._base_real) * self._scale

    def real_delay(self, sim_seconds: float) -> float | None:
        """Real seconds that ``sim_seconds`` of simulated time take now (None: never, clock frozen)."""
        if self._scale == 0:
            return None
        return max(0.0, sim_seconds / self._scale)

    def at_wall(self, wall: float) -> float:
        """The simulated time it was at wall-clock time ``wall`` (epoch seconds).

        Before kumo started, time is taken to have run at the first pace; a
        later wall time is placed at the current pace.
        """
        for w, sim, scale in reversed(self._anchors):
            if w <= wall:
                return sim + (wall - w) * scale
        w, sim, scale = self._anchors[0]
        return sim - (w - wall) * scale

    def wall_view(self) -> tuple[float, float, float]:
        """(simulated time, wall-clock time, scale) now.

        A process that reads only the host's wall clock (a workload's shell) places itself in simulated
        time as ``sim + (its wall time - wall) * scale``, until time jumps or changes pace (``observe``).
        """
        return self.now(), time.time(), self._scale

    def _anchor(self) -> None:
        self._anchors.append((time.time(), self.now(), self._scale))

    # -- changing ----------------------------------------------------------
    def observe(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` whenever time jumps or its pace changes (processes that keep a view of it)."""
        self._observers.append(fn)

    def _changed(self) -> None:
        for fn in self._observers:
            try:
                fn()
            except Exception:
                import logging

                logging.getLogger("kumo.clock").exception("clock observer failed")

    def set_scale(self, scale: float) -> None:
        if scale < 0:
            raise ValueError("time scale must be >= 0")
        self._rebase()
        self._scale = float(scale)
        self._anchor()
        self._arm()
        self._changed()

    def _rebase(self) -> None:
        now = self.now()
        self._base_sim = now
        self._base_real = time.monotonic()

    def jump_to(self, when: float) -> None:
        """Move simulated time forward to ``when`` without firing timers (used on restart)."""
        if when > self.now():
            self._rebase()
            self._base_sim = when
            self._anchor()
            self._arm()
            self._changed()

    async def advance(self, seconds: float) -> None:
        """Move simulated time forward, firing due timers in order.

        Between timers the event loop runs, so a coroutine woken by one timer
        can schedule the next (a loop of ``await clock.sleep(10)`` steps
        through all of its iterations).
        """
        if seconds < 0:
            raise ValueError("cannot move the clock backwards")
        self._rebase()
        target = self._base_sim + seconds
        while True:
            await _settle()
            self._drop_cancelled()
            if not self._heap or self._heap[0].when > target:
                break
            self._rebase()
            when = self._heap[0].when
            if when > self._base_sim:
                # Observers (the views of time that instances and load balancer workers keep) hear of the
                # jump once, at its end: every step of a long advance rewrote every live instance's view.
                self._base_sim = when
            self._fire_due()
        self._rebase()
        if target > self._base_sim:
            self._base_sim = target
        self._anchor()
        self._arm()
        self._changed()
        await _settle()

    # -- timers ------------------------------------------------------------
    def call_at(self, when: float, callback: Callable, *args: Any) -> TimerHandle:
        handle = TimerHandle(when, next(self._seq), callback, args)
        heapq.heappush(self._heap, handle)
        if self._heap[0] is handle:
            self._arm()
        return handle

    def call_later(self, delay: float, callback: Callable, *args: Any) -> TimerHandle:
        return self.call_at(self.now() + max(0.0, delay), callback, *args)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut = asyncio.get_running_loop().create_future()
        handle = self.call_later(seconds, _resolve, fut)
        try:
            await fut
        finally:
            handle.cancel()

    async def wait_for(self, awaitable, timeout: float | None):
        """``asyncio.wait_for`` with the timeout in simulated seconds."""
        if timeout is None:
            return await awaitable
        task = asyncio.ensure_future(awaitable)
        expired = asyncio.get_running_loop().create_future()
        handle = self.call_later(timeout, _resolve, expired)
        try:
            done, _ = await asyncio.wait({task, expired}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                return task.result()
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            raise asyncio.TimeoutError()
        finally:
            handle.cancel()
            if not expired.done():
                expired.cancel()
            if not task.done():
                task.cancel()

    def pending(self) -> int:
        self._drop_cancelled()
        return sum(1 for h in self._heap if not h.cancelled)

    def close(self) -> None:
        if self._armed is not None:
            self._armed.cancel()
            self._armed = None
        self._heap.clear()

    # -- internals ---------------------------------------------------------
    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)

    def _fire_due(self) -> None:
        now = self.now()
        self._firing = True
        try:
            while self._heap and self._heap[0].when <= now:
                handle = heapq.heappop(self._heap)
                if handle.cancelled:
                    continue
                handle.cancelled = True
                try:
                    handle.callback(*handle.args)
                except Exception:  # a timer's failure must not stop the clock
                    import logging

                    logging.getLogger("kumo.clock").exception("timer callback failed")
        finally:
            self._firing = False

    def _on_armed(self) -> None:
        self._armed = None
        self._fire_due()
        self._arm()

    def _arm(self) -> None:
        if self._firing:
            return
        if self._armed is not None:
            self._armed.cancel()
            self._armed = None
        self._drop_cancelled()
        if not self._heap or self._scale == 0:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = self._loop
            if loop is None:
                return
        self._loop = loop
        delay = (self._heap[0].when - self.now()) / self._scale
        self._armed = loop.call_later(max(0.0, delay), self._on_armed)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the loop that runs kumo, so timers set from other threads arm there."""
        self._loop = loop
        loop.call_soon_threadsafe(self._arm)


def _resolve(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


async def _settle(rounds: int = 5) -> None:
    # Let coroutines woken by a timer run up to their next await.
    for _ in range(rounds):
        await asyncio.sleep(0)
