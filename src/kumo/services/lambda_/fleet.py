"""Pools and the fleet: which environment serves an invocation, scale-out, retirement and reaping.

A ``Pool`` holds the environments of one target (a version; for $LATEST one
revision of its configuration, so an update retires the old ones).  An
invocation takes the warmest idle environment, provisioned ones first, or
starts a new one; environments serve one invocation at a time, so concurrent
requests scale out.  The ``Fleet`` reaps environments idle for ``IDLE_TTL``
seconds of kumo's clock (provisioned ones stay) and stops them all when kumo
stops.
"""

from __future__ import annotations

import asyncio

from .environments import Environment, InitFailed, Target
from .sandbox import Sandbox
from . import telemetry

IDLE_TTL = 300.0  # simulated seconds an idle environment is kept warm
REAP_EVERY = 30.0


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

    async def new_environment(self, provisioned: bool = False) -> Environment:
        if self.fleet.closing:
            raise InitFailed({"errorType": "Runtime.Unavailable",
                              "errorMessage": "RequestId: {rid} Error: kumo is shutting down"}, "error")
        env = Environment(self.fleet, self, provisioned)
        self.envs.add(env)
        self.fleet.all.add(env)
        await env.start()
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
        env = await pool.new_environment()
        await env.ready  # raises InitFailed
        return env, True

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

    async def wait_closed(self, envs: list[Environment], timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(e in self.all for e in envs) and loop.time() < deadline:
            await asyncio.sleep(0.005)

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
