"""The one clock: scaled, frozen, advanced by hand."""

import asyncio
import time

import pytest

from kumo.core.clock import Clock


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def test_frozen_clock_only_moves_when_advanced():
    async def main():
        clock = Clock(scale=0, start=1000.0)
        assert clock.now() == 1000.0
        await asyncio.sleep(0.01)
        assert clock.now() == 1000.0
        await clock.advance(300)
        assert clock.now() == 1300.0
    run(main())


def test_timers_fire_in_order_during_advance():
    async def main():
        clock = Clock(scale=0, start=0.0)
        fired = []
        clock.call_later(30, fired.append, "b")
        clock.call_later(10, fired.append, "a")
        h = clock.call_later(20, fired.append, "cancelled")
        h.cancel()
        clock.call_later(400, fired.append, "late")
        await clock.advance(300)
        assert fired == ["a", "b"]
        assert clock.pending() == 1
    run(main())


def test_a_sleep_loop_steps_through_an_advance():
    async def main():
        clock = Clock(scale=0, start=0.0)
        ticks = []

        async def poller():
            while True:
                await clock.sleep(10)
                ticks.append(clock.now())

        task = asyncio.ensure_future(poller())
        await clock.advance(300)
        task.cancel()
        assert ticks == [10.0 * i for i in range(1, 31)]
    run(main())


def test_scaled_clock_runs_faster():
    async def main():
        clock = Clock(scale=1000.0)
        start_real, start_sim = time.monotonic(), clock.now()
        await clock.sleep(300)  # five simulated minutes
        real = time.monotonic() - start_real
        assert clock.now() - start_sim >= 300
        assert real < 2.0
    run(main())


def test_wait_for_times_out_in_simulated_time():
    async def main():
        clock = Clock(scale=0, start=0.0)
        never = asyncio.get_running_loop().create_future()
        waiter = asyncio.ensure_future(clock.wait_for(never, 20))
        await asyncio.sleep(0)
        await clock.advance(21)
        with pytest.raises(asyncio.TimeoutError):
            await waiter
    run(main())


def test_changing_scale_keeps_time_continuous():
    async def main():
        clock = Clock(scale=0, start=50.0)
        clock.set_scale(1.0)
        assert 50.0 <= clock.now() < 51.0
        clock.set_scale(0)
        frozen = clock.now()
        await asyncio.sleep(0.01)
        assert clock.now() == frozen
    run(main())


def test_clock_never_goes_backwards_on_jump():
    clock = Clock(scale=0, start=100.0)
    clock.jump_to(50.0)
    assert clock.now() == 100.0
    clock.jump_to(500.0)
    assert clock.now() == 500.0


def test_wall_times_map_onto_simulated_time_across_advances():
    async def main():
        clock = Clock(scale=1.0)
        signed = time.time()  # a client's wall-clock timestamp, taken now
        assert abs(clock.at_wall(signed) - clock.now()) < 0.5
        await clock.advance(3600)
        # The timestamp stays where it was in simulated time: an hour has passed since it was taken.
        assert abs(clock.now() - clock.at_wall(signed) - 3600) < 0.5
        assert abs(clock.at_wall(time.time()) - clock.now()) < 0.5
        clock.set_scale(0)
        await clock.advance(60)
        assert abs(clock.now() - clock.at_wall(signed) - 3660) < 0.5
        # Before the clock started, time is taken to have run at the first pace.
        assert abs(clock.at_wall(signed - 100) - (clock.at_wall(signed) - 100)) < 0.5
    run(main())
