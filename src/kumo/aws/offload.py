"""Big answers are serialised off the event loop, so small requests need not wait behind them.

A GetMetricStatistics over a day of minutes (7,200 values) takes ~10 ms of
CPU to serialise; on the loop, every other request waits that long.  In a
worker thread the loop takes the GIL back at the interpreter's switch
interval (5 ms), so a small request waits at most about that.  The handler
itself still runs on the loop (the store belongs to it).

The result is copied (dicts and lists; scalars are immutable) on the loop
before the thread walks it: handlers may answer with the store's own records,
which requests handled meanwhile on the loop may change in place.

``BIG`` counts the items of the result's lists down to the second level, a
cheap stand-in for the number of values to write: below it, a thread's
hand-off (~0.1 ms) would cost more than it spares.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from .protocols import HttpResponse, serialize_response

BIG = 1000
_pool: ThreadPoolExecutor | None = None


def big(result) -> bool:
    if not isinstance(result, dict):
        return False
    items = 0
    for value in result.values():
        if type(value) is list:
            items += len(value)
            for item in value[:8]:  # a sample of the members: each may hold lists of its own (reservations)
                if type(item) is dict:
                    for inner in item.values():
                        if type(inner) is list:
                            items += len(inner) * len(value) // min(len(value), 8)
            if items >= BIG:
                return True
    return False


def _copy(value):
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    return value


async def serialize(protocol: str, operation, result: dict, request_id: str) -> HttpResponse:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kumo-serialize")
    snapshot = _copy(result)
    return await asyncio.get_running_loop().run_in_executor(_pool, serialize_response, protocol, operation, snapshot,
                                                            request_id)
