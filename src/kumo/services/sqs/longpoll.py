"""Long polling: a ReceiveMessage that waits on kumo's clock and returns as soon as a message arrives.

Senders call ``Waiters.notify(queue)`` after storing a message.  A waiting
receive then looks again; if what woke it is not visible yet (a delay), it
sleeps on the clock until the next message is due or its wait runs out.
Handlers run on the event loop and commit before they yield, so a woken
receive always sees the sender's committed message.
"""

from __future__ import annotations

import asyncio
from typing import Callable


class Waiters:
    def __init__(self) -> None:
        self._futures: dict[str, set[asyncio.Future]] = {}

    def notify(self, queue: str) -> None:
        for fut in self._futures.pop(queue, ()):
            if not fut.done():
                fut.set_result(None)

    def waiting(self, queue: str) -> int:
        return len(self._futures.get(queue, ()))

    async def sleep(self, clock, queue: str, timeout: float) -> None:
        """Until ``notify(queue)`` or ``timeout`` simulated seconds, whichever comes first."""
        fut = asyncio.get_running_loop().create_future()
        self._futures.setdefault(queue, set()).add(fut)
        try:
            await clock.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            waiting = self._futures.get(queue)
            if waiting is not None:
                waiting.discard(fut)
                if not waiting:
                    del self._futures[queue]


async def poll(clock, waiters: Waiters, queue: str, deadline: float, attempt: Callable[[], list],
               next_due: Callable[[], float | None]) -> list:
    """Call ``attempt`` whenever the queue may have something, until it returns messages or time is up."""
    while True:
        now = clock.now()
        if now >= deadline:
            return []
        timeout = deadline - now
        due = next_due()
        if due is not None:
            timeout = min(timeout, max(0.0, due - now))
        await waiters.sleep(clock, queue, timeout)
        found = attempt()
        if found:
            return found
