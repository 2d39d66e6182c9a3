"""A small reconcile runtime, driven by the clock.

Handlers record desired state and ``enqueue`` the key of what they changed.
A controller's ``reconcile(key)`` then moves the real world toward the
record.  The runtime guarantees:

* one reconcile per (controller, key) at a time; an enqueue during a run
  makes it run once more afterwards;
* ``reconcile`` may return a number of simulated seconds to be called again
  (a poll), or raise ``Requeue(after)``; any other exception is logged and
  retried with exponential backoff (1 s doubling to ``max_backoff``);
* every ``resync_interval`` simulated seconds, all ``keys()`` are enqueued,
  so nothing stays wrong for long even if an enqueue was missed;
* ``start()`` enqueues every key, which is how a restarted kumo rebuilds the
  world from its durable state.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Hashable, Iterable

from .clock import Clock, TimerHandle

log = logging.getLogger("kumo.controllers")


class Requeue(Exception):
    """Temporary condition: try this key again after ``after`` simulated seconds."""

    def __init__(self, after: float = 1.0, reason: str = ""):
        super().__init__(reason or f"requeue after {after}s")
        self.after = after


class Controller:
    name: str = "controller"
    resync_interval: float | None = 60.0
    max_backoff: float = 300.0

    def keys(self) -> Iterable[Hashable]:
        return ()

    async def reconcile(self, key: Hashable) -> float | None:
        raise NotImplementedError

    async def start(self) -> None:
        """Called once when kumo starts, before keys are enqueued."""

    async def stop(self) -> None:
        """Called on shutdown; release what the controller started."""

    async def reset(self) -> None:
        """Called before all state is wiped; tear the real world down."""
        await self.stop()


class _Slot:
    __slots__ = ("timer", "task", "dirty", "failures")

    def __init__(self) -> None:
        self.timer: TimerHandle | None = None
        self.task: asyncio.Task | None = None
        self.dirty = False
        self.failures = 0


class ControllerManager:
    def __init__(self, clock: Clock):
        self.clock = clock
        self.controllers: dict[str, Controller] = {}
        self._slots: dict[tuple[str, Hashable], _Slot] = {}
        self._resync: dict[str, TimerHandle] = {}
        self._running = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: set[asyncio.Task] = set()  # controllers registered while running, still starting
        self.reconciles = 0
        self.errors = 0

    def register(self, controller: Controller) -> Controller:
        if controller.name in self.controllers:
            return self.controllers[controller.name]
        self.controllers[controller.name] = controller
        if self._running:
            task = asyncio.get_running_loop().create_task(self._start_one(controller))
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)
        return controller

    def starting(self) -> list[asyncio.Task]:
        """The starts of controllers registered while running (a service loaded on first use) not yet done."""
        return list(self._starting)

    def get(self, name: str) -> Controller | None:
        return self.controllers.get(name)

    async def start(self) -> None:
        self._running = True
        self._loop = asyncio.get_running_loop()
        for controller in list(self.controllers.values()):
            await self._start_one(controller)

    async def _start_one(self, controller: Controller) -> None:
        await controller.start()
        for key in list(controller.keys()):
            self.enqueue(controller.name, key)
        self._schedule_resync(controller)

    def _schedule_resync(self, controller: Controller) -> None:
        if controller.resync_interval:
            self._resync[controller.name] = self.clock.call_later(
                controller.resync_interval, self._do_resync, controller
            )

    def _do_resync(self, controller: Controller) -> None:
        if not self._running:
            return
        try:
            for key in list(controller.keys()):
                self.enqueue(controller.name, key)
        finally:
            self._schedule_resync(controller)

    def enqueue(self, name: str, key: Hashable, after: float = 0.0) -> None:
        """Ask controller ``name`` to reconcile ``key`` (after ``after`` simulated seconds)."""
        if name not in self.controllers:
            raise KeyError(f"no controller named {name}")
        slot = self._slots.get((name, key))
        if slot is None:
            slot = self._slots[(name, key)] = _Slot()
        if slot.task is not None and not slot.task.done():
            if after <= 0:
                slot.dirty = True
            else:
                self._set_timer(name, key, slot, after, keep_earlier=True)
            return
        self._set_timer(name, key, slot, after, keep_earlier=True)

    def _set_timer(self, name: str, key: Hashable, slot: _Slot, after: float, keep_earlier: bool) -> None:
        when = self.clock.now() + max(0.0, after)
        if slot.timer is not None and not slot.timer.cancelled:
            if keep_earlier and slot.timer.when <= when:
                return
            slot.timer.cancel()
        if after <= 0 and self._running and self._loop is not None:
            # Immediate work skips the clock, so a frozen manual clock still reconciles.
            slot.timer = None
            self._loop.call_soon(self._fire, name, key)
            return
        slot.timer = self.clock.call_at(when, self._fire, name, key)

    def _fire(self, name: str, key: Hashable) -> None:
        if not self._running:
            return
        slot = self._slots.get((name, key))
        if slot is None:
            return
        slot.timer = None
        if slot.task is not None and not slot.task.done():
            slot.dirty = True
            return
        slot.task = asyncio.get_running_loop().create_task(self._run(name, key, slot))

    async def _run(self, name: str, key: Hashable, slot: _Slot) -> None:
        controller = self.controllers[name]
        after: float | None = None
        try:
            self.reconciles += 1
            after = await controller.reconcile(key)
            slot.failures = 0
        except Requeue as rq:
            after = rq.after
        except asyncio.CancelledError:
            raise
        except Exception:
            self.errors += 1
            slot.failures += 1
            after = min(controller.max_backoff, 2.0 ** (slot.failures - 1))
            log.exception("%s: reconcile of %r failed (attempt %d); retrying in %.0fs",
                          name, key, slot.failures, after)
        if not self._running:
            return
        if slot.dirty:
            slot.dirty = False
            self._set_timer(name, key, slot, 0.0, keep_earlier=False)
        elif after is not None:
            self._set_timer(name, key, slot, after, keep_earlier=True)
        elif slot.timer is None:
            self._slots.pop((name, key), None)

    def forget(self, name: str, key: Hashable) -> None:
        slot = self._slots.pop((name, key), None)
        if slot and slot.timer:
            slot.timer.cancel()

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until no reconcile is running (tests use this after advancing the clock).

        ``timeout`` is in real seconds: it bounds a wait for real work, whatever kumo's clock does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout  # real time: see above
        while loop.time() < deadline:  # real time
            running = [s.task for s in self._slots.values() if s.task is not None and not s.task.done()]
            if not running:
                await asyncio.sleep(0)
                running = [s.task for s in self._slots.values() if s.task is not None and not s.task.done()]
                if not running:
                    return
            await asyncio.wait(running, timeout=max(0.0, deadline - loop.time()))  # real time

    async def stop(self) -> None:
        self._running = False
        await self._cancel_all()
        for controller in reversed(list(self.controllers.values())):
            try:
                await controller.stop()
            except Exception:
                log.exception("%s: stop failed", controller.name)

    async def reset(self) -> None:
        """Tear the world down (before a state wipe), then keep running."""
        was_running = self._running
        self._running = False
        await self._cancel_all()
        for controller in reversed(list(self.controllers.values())):
            try:
                await controller.reset()
            except Exception:
                log.exception("%s: reset failed", controller.name)
        self._running = was_running
        if was_running:
            for controller in self.controllers.values():
                self._schedule_resync(controller)

    async def _cancel_all(self) -> None:
        for timer in self._resync.values():
            timer.cancel()
        self._resync.clear()
        tasks = []
        for slot in self._slots.values():
            if slot.timer:
                slot.timer.cancel()
            if slot.task is not None and not slot.task.done():
                slot.task.cancel()
                tasks.append(slot.task)
        self._slots.clear()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def stats(self) -> dict[str, Any]:
        return {
            "controllers": sorted(self.controllers),
            "queued": len(self._slots),
            "reconciles": self.reconciles,
            "errors": self.errors,
        }
