"""Memory goes back to the OS once after requests stop (core/trim.py), not while they come, not twice."""

from __future__ import annotations

import asyncio

from kumo.core import trim


def test_trims_once_after_idle_and_again_only_after_new_requests():
    loop = asyncio.new_event_loop()
    served = [0]
    idle = trim.IdleTrim(lambda: served[0])
    rounds = int(trim.IDLE / trim.EVERY)
    try:
        for _ in range(rounds + 3):  # never served anything: nothing to give back
            idle._check(loop)
        assert idle.trims == 0
        served[0] = 5
        idle._check(loop)  # requests came in since the last round
        for _ in range(rounds - 1):
            idle._check(loop)
        assert idle.trims == 0  # not idle long enough yet
        idle._check(loop)
        assert idle.trims == 1
        for _ in range(rounds * 2):
            idle._check(loop)
        assert idle.trims == 1  # once per quiet spell
        served[0] += 1
        for _ in range(rounds + 1):
            idle._check(loop)
        assert idle.trims == 2
    finally:
        idle.stop()
        loop.close()


def test_requests_keep_it_from_trimming():
    loop = asyncio.new_event_loop()
    served = [0]
    idle = trim.IdleTrim(lambda: served[0])
    try:
        for _ in range(20):
            served[0] += 1
            idle._check(loop)
        assert idle.trims == 0
    finally:
        idle.stop()
        loop.close()
