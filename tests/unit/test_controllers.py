"""The reconcile runtime: one run per key, requeues, backoff on the clock, resync."""

import asyncio

from kumo.core.clock import Clock
from kumo.core.controllers import Controller, ControllerManager, Requeue


class Recorder(Controller):
    name = "rec"
    resync_interval = 60.0

    def __init__(self):
        self.calls = []
        self.fail_times = 0
        self.poll = None
        self.known = ["a"]

    def keys(self):
        return list(self.known)

    async def reconcile(self, key):
        self.calls.append(key)
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("temporary")
        if self.poll:
            return self.poll
        return None


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def test_start_reconciles_every_known_key():
    async def main():
        mgr = ControllerManager(Clock(scale=0, start=0))
        rec = mgr.register(Recorder())
        rec.known = ["a", "b"]
        await mgr.start()
        await mgr.idle()
        assert sorted(rec.calls) == ["a", "b"]
        await mgr.stop()
    run(main())


def test_failures_back_off_on_the_clock():
    async def main():
        clock = Clock(scale=0, start=0)
        mgr = ControllerManager(clock)
        rec = mgr.register(Recorder())
        rec.known = []
        await mgr.start()
        rec.fail_times = 3
        mgr.enqueue("rec", "k")
        await mgr.idle()
        assert rec.calls == ["k"]
        await clock.advance(1)   # first retry after 1 s
        await mgr.idle()
        assert rec.calls == ["k", "k"]
        await clock.advance(1.5)  # second retry waits 2 s
        await mgr.idle()
        assert len(rec.calls) == 2
        await clock.advance(0.5)
        await mgr.idle()
        assert len(rec.calls) == 3
        await clock.advance(4)
        await mgr.idle()
        assert len(rec.calls) == 4 and mgr.errors == 3
        await mgr.stop()
    run(main())


def test_requeue_and_poll_intervals():
    async def main():
        clock = Clock(scale=0, start=0)
        mgr = ControllerManager(clock)
        rec = mgr.register(Recorder())
        rec.known = []
        rec.poll = 30
        await mgr.start()
        mgr.enqueue("rec", "p")
        await mgr.idle()
        await clock.advance(95)
        await mgr.idle()
        assert rec.calls == ["p"] * 4  # t=0, 30, 60, 90
        await mgr.stop()
    run(main())


def test_periodic_resync_enqueues_all_keys():
    async def main():
        clock = Clock(scale=0, start=0)
        mgr = ControllerManager(clock)
        rec = mgr.register(Recorder())
        await mgr.start()
        await mgr.idle()
        rec.known = ["a", "z"]
        await clock.advance(60)
        await mgr.idle()
        assert rec.calls.count("z") == 1 and rec.calls.count("a") == 2
        await mgr.stop()
    run(main())


def test_one_reconcile_per_key_at_a_time():
    async def main():
        mgr = ControllerManager(Clock(scale=0, start=0))
        running = []
        overlaps = []

        class Slow(Controller):
            name = "slow"

            async def reconcile(self, key):
                if key in running:
                    overlaps.append(key)
                running.append(key)
                await asyncio.sleep(0.01)
                running.remove(key)

        mgr.register(Slow())
        await mgr.start()
        for _ in range(5):
            mgr.enqueue("slow", "x")
            await asyncio.sleep(0.002)
        await mgr.idle()
        await asyncio.sleep(0.05)
        await mgr.idle()
        assert overlaps == []
        await mgr.stop()
    run(main())


def test_requeue_exception_sets_delay():
    async def main():
        clock = Clock(scale=0, start=0)
        mgr = ControllerManager(clock)
        calls = []

        class Waits(Controller):
            name = "w"

            async def reconcile(self, key):
                calls.append(clock.now())
                if len(calls) == 1:
                    raise Requeue(after=45)

        mgr.register(Waits())
        await mgr.start()
        mgr.enqueue("w", 1)
        await mgr.idle()
        await clock.advance(50)
        await mgr.idle()
        assert calls == [0, 45]
        await mgr.stop()
    run(main())
