"""Pools and the fleet: which environment serves an invocation, scale-out, retirement and reaping.

A ``Pool`` holds the environments of one target (a version; for $LATEST one
revision of its configuration, so an update retires the old ones).  An
invocation takes the warmest idle environment, provisioned ones first, or
starts a new one; environments serve one invocation at a time, so concurrent
requests scale out.  The ``Fleet`` reaps environments idle for ``IDLE_TTL``
seconds of kumo's clock (provisioned ones stay) and stops them all when kumo
stops.

Environments start off the request path: a cold invocation (or the
provisioning controller) creates the ``Environment`` and hands it to the
fleet's own starter task, which launches its process through kumo's compute
layer; the caller only awaits ``env.ready``.  An Invoke handler returns its
coroutine from inside the request's store transaction and that coroutine runs
after the commit (aws/gateway.py), so no start happens inside a transaction.
"""

from __future__ import annotations

import asyncio
import logging

from .environments import Environment, InitFailed, Target
from .sandbox import Sandbox
from . import telemetry

IDLE_TTL = 300.0  # simulated seconds an idle environment is kept warm
REAP_EVERY = 30.0
CLOSE_WAIT = 5.0  # seconds of kumo's clock to wait for killed environments to be gone
log = logging.getLogger("kumo.lambda")


class Pool:
    """The environments of one target."""

    def __init__(self, fleet: "Fleet", target: Target):
        self.fleet = fleet
        self.target = target
        self.idle: list[Environment] = []
        self.envs: set[Environment] = set()
        self.provisioned = 0  # environments to keep initialised
        self.retired = False

    def released(self, env: Environment) -> None:
        if self.retired:
            env.kill()
            return
        self.idle.append(env)
        self.fleet.wake()

    def forget(self, env: Environment) -> None:
        self.envs.discard(env)
        if env in self.idle:
            self.idle.remove(env)

    def busy(self) -> int:
        return sum(1 for e in self.envs if e.state == "busy")

    def take_idle(self) -> Environment | None:
        # Provisioned environments first, then the most recently used (the warmest).
        ready = [e for e in reversed(self.idle) if e.state == "ready"]
        best = next((e for e in ready if e.provisioned), None) or (ready[0] if ready else None)
        if best is not None:
            self.idle.remove(best)
        return best

    def new_environment(self, provisioned: bool = False) -> Environment:
        """A new environment, handed to the fleet's starter; await its ``ready`` (raises InitFailed)."""
        if self.fleet.closing:
            raise InitFailed({"errorType": "Runtime.Unavailable",
                              "errorMessage": "RequestId: {rid} Error: kumo is shutting down"}, "error")
        env = Environment(self.fleet, self, provisioned)
        self.envs.add(env)
        self.fleet.all.add(env)
        self.fleet.begin(env)
        return env

    def retire(self) -> None:
        self.retired = True
        for env in list(self.envs):
            if env.state in ("ready", "init") and env.current is None:
                env.kill()
        self.idle.clear()


class Fleet:
    """Every environment of this kumo, by target; starts, reuses and reaps them."""

    def __init__(self, kumo, sandbox: Sandbox, tel: telemetry.Telemetry, environment_for):
        self.kumo = kumo
        self.clock = kumo.clock
        self.sandbox = sandbox
        self.telemetry = tel
        self.environment_for = environment_for  # (env, runtime api address, task root, opt dir, runtime dir) -> dict
        self.pools: dict[tuple, Pool] = {}
        self.all: set[Environment] = set()
        self._reaper = None
        self._wakers: list = []
        self.closing = False  # kumo is stopping: no new environments
        self._starts: asyncio.Queue | None = None
        self._starter: asyncio.Task | None = None

    def pool(self, target: Target) -> Pool:
        pool = self.pools.get(target.key)
        if pool is not None and pool.target.revision != target.revision:
            pool.retire()
            pool = None
        if pool is None:
            pool = self.pools[target.key] = Pool(self, target)
            self._arm_reaper()
        return pool

    def existing(self, key: tuple) -> Pool | None:
        return self.pools.get(key)

    async def acquire(self, target: Target) -> tuple[Environment, bool]:
        """An environment ready for one invocation of ``target``, and whether it is a cold start."""
        pool = self.pool(target)
        env = pool.take_idle()
        if env is not None:
            return env, False
        env = pool.new_environment()
        try:
            await asyncio.shield(env.ready)  # raises InitFailed
        except asyncio.CancelledError:
            # The caller left (its client went away): the environment still serves the next invocation.
            env.ready.add_done_callback(lambda f: None if f.cancelled() or f.exception() else env.pool.released(env))
            raise
        return env, True

    # -- starting ---------------------------------------------------------------------------------
    def begin(self, env: Environment) -> None:
        """Queue ``env``'s start for the starter task (kumo's compute layer launches its process)."""
        if self._starter is None or self._starter.done():
            self._starts = asyncio.Queue()
            self._starter = asyncio.get_running_loop().create_task(self._start_forever(), name="lambda-starter")
        self._starts.put_nowait(env)

    async def _start_forever(self) -> None:
        while True:
            env = await self._starts.get()
            if env.state != "init":  # killed while it waited (a retired pool, kumo stopping)
                continue
            try:
                await env.start()
            except Exception as exc:  # a start must never take the starter down with it
                log.exception("%s: could not start an environment", env.target.name)
                env.start_failed(exc)

    def on_wake(self, fn) -> None:
        self._wakers.append(fn)

    def wake(self) -> None:
        for fn in self._wakers:
            fn()

    def closed(self, env: Environment) -> None:
        self.all.discard(env)
        env.pool.forget(env)

    def drop(self, account: str, region: str, name: str, version: str | None = None) -> list[Environment]:
        """Kill the environments of a function (all versions, or one); returns those killed."""
        killed = []
        for key, pool in list(self.pools.items()):
            if key[:3] == (account, region, name) and (version is None or key[3] == version):
                pool.retired = True
                for env in list(pool.envs):
                    env.kill()
                    killed.append(env)
                del self.pools[key]
        return killed

    async def wait_closed(self, envs: list[Environment], timeout: float = CLOSE_WAIT) -> None:
        """Until the killed ``envs`` are gone (their processes reaped), at most ``timeout`` of kumo's clock."""
        waits = [e.closed for e in envs if not e.closed.done()]
        if not waits:
            return
        try:
            await self.clock.wait_for(asyncio.wait(waits), timeout)
        except asyncio.TimeoutError:
            log.warning("%d lambda environments still closing after %.0f s", sum(not w.done() for w in waits),
                        timeout)

    # -- reaping ------------------------------------------------------------------------------
    def _arm_reaper(self) -> None:
        if self._reaper is None:
            self._reaper = self.clock.call_later(REAP_EVERY, self._reap)

    def _reap(self) -> None:
        self._reaper = None
        now = self.clock.now()
        for pool in list(self.pools.values()):
            for env in list(pool.idle):
                if not env.provisioned and now - env.last_used >= IDLE_TTL:
                    env.kill()
        if self.all:
            self._arm_reaper()

    async def stop(self) -> None:
        self.closing = True
        envs = list(self.all)
        for pool in self.pools.values():
            pool.retired = True
        for env in envs:
            env.kill()
        await self.wait_closed(envs)
        self.pools.clear()
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        if self._starter is not None:
            self._starter.cancel()
            self._starter = None
