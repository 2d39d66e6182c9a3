"""The load balancers' control plane: data plane workers, health checks, draining, metrics.

ELBv2 and Classic ELB each register a *provider* that turns their records
into listener and target-group specs.  This module merges them with target
health, sends the snapshot to the worker processes, runs the health checks on
kumo's clock, and publishes their metrics (``elb/metrics.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from typing import Callable, Protocol

from ...core.controllers import Controller
from ...core.loopback import LoopbackPool, network
from ..compute import peers
from . import metrics, probes
from .health import Health, Outcome
from .stats import merge

log = logging.getLogger("kumo.dataplane.lb")
DATAPLANE = "elb.dataplane"
HEALTH = "elb.health"
RESPAWN_PAUSE = 1.0  # real seconds: a worker that lived less than this is replaced only after this pause


class Provider(Protocol):
    def listeners(self) -> list[dict]: ...
    def groups(self) -> list[dict]: ...


class DataPlane:
    """The worker processes and the Unix socket they are steered through.

    Workers carry ``KUMO_LB_WORKER=<tag>`` (the loopback base, which one kumo holds at a time).  A stopped kumo's
    workers serve on alone for a while (worker.py); the next kumo on the same networks retires them once its own
    workers serve, so traffic through a load balancer does not wait for kumo to start again.
    """

    def __init__(self, workers: int, on_stats: Callable[[int, dict], None], tag: str = "",
                 log_path: str | None = None, owner: str = "", clock: Callable[[], dict] | None = None):
        self.count = max(1, workers)
        self.on_stats = on_stats
        self.clock = clock or (lambda: {})  # kumo's clock as workers take it: {"sim": now, "scale": scale}
        self.on_logs: Callable[[dict[str, list[str]]], None] | None = None  # access log lines, by load balancer
        self.tag = tag
        self.owner = owner  # the data directory, so `kumo stop --all` finds a stopped kumo's workers
        # Workers that outlive kumo must not hold its stdout/stderr open (a pipe reader would wait for them):
        # they log to this file instead; None: kumo's own stderr (workers that never outlive it).
        self.log_path = log_path
        self.retired = False  # the previous kumo's workers, once ours serve
        self.dir = tempfile.mkdtemp(prefix="kumo-elb-")
        self.path = os.path.join(self.dir, "control.sock")
        self.procs: list[subprocess.Popen] = []
        self.writers: dict[int, asyncio.StreamWriter] = {}
        self.server = None
        self.config: dict | None = None
        self.bind_errors: dict[str, str] = {}
        self._pidfds: dict[int, int] = {}  # worker pid -> pidfd, readable once the worker exits
        self._news = asyncio.Event()  # set whenever a worker says hello or acknowledges a config
        self._born: dict[int, float] = {}
        self._respawn: asyncio.TimerHandle | None = None
        self._stopping = False
        self.version = 0
        self.applied: dict[int, int] = {}  # worker pid -> last config version it applied
        # worker pid -> {group arn: {target key: requests or connections in flight}} of its draining targets
        self.draining: dict[int, dict[str, dict[str, int]]] = {}

    @property
    def running(self) -> bool:
        return self.server is not None

    async def start(self) -> None:
        self.server = await asyncio.start_unix_server(self._session, self.path)
        for _ in range(self.count):
            self._spawn()

    def _spawn(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUMO_WORKLOAD")}
        env.pop("LD_PRELOAD", None)
        env["KUMO_LB_WORKER"] = self.tag
        env["KUMO_LB_OWNER"] = self.owner
        out = open(self.log_path, "ab") if self.log_path else None
        try:
            proc = subprocess.Popen([sys.executable, "-m", "kumo.dataplane.lb.worker", self.path], env=env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        finally:
            if out is not None:
                out.close()
        self.procs.append(proc)
        self._born[proc.pid] = time.monotonic()  # real-time measurement: how long the process lived
        # A worker's exit wakes us through its pidfd: no polling, and a replacement starts at once.  Without
        # pidfds (Linux < 5.3) the end of its control session tells instead (_session).
        try:
            fd = os.pidfd_open(proc.pid)
        except (OSError, AttributeError):  # AttributeError: a Python built without os.pidfd_open
            return
        self._pidfds[proc.pid] = fd
        asyncio.get_running_loop().add_reader(fd, self._exited, proc)

    def _unwatch(self, proc: subprocess.Popen) -> None:
        fd = self._pidfds.pop(proc.pid, None)
        if fd is not None:
            asyncio.get_running_loop().remove_reader(fd)
            os.close(fd)

    def _exited(self, proc: subprocess.Popen) -> None:
        self._unwatch(proc)
        if self._stopping or proc not in self.procs or proc.poll() is None:
            return
        proc.wait()  # reaps it: it has exited
        log.warning("load balancer worker %d exited (%s); starting another", proc.pid, proc.returncode)
        self.procs.remove(proc)
        lived = time.monotonic() - self._born.pop(proc.pid, 0.0)  # real-time measurement
        if lived >= RESPAWN_PAUSE:
            self._spawn()
        else:  # a worker that dies at once would die again: pause in real time, to spare the host's CPU
            self._respawn = asyncio.get_running_loop().call_later(RESPAWN_PAUSE, self._respawn_one)

    def _respawn_one(self) -> None:
        self._respawn = None
        if self.running and not self._stopping:
            self._spawn()

    async def _until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``done()`` holds, re-checked on each hello or acknowledgement of a worker.

        ``timeout`` is in real seconds, on purpose: it bounds a wait for real processes to answer, which a
        frozen or accelerated kumo clock must neither stretch nor shorten."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout  # real time: see above
        while not done():
            left = deadline - loop.time()  # real time: see above
            if left <= 0:
                return False
            self._news.clear()
            try:
                await asyncio.wait_for(self._news.wait(), left)  # real-time bound: see above
            except asyncio.TimeoutError:
                return done()
        return True

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pid = None
        try:
            while True:
                head = await reader.readexactly(4)
                message = json.loads(await reader.readexactly(struct.unpack("!I", head)[0]))
                if message.get("type") == "hello":
                    pid = message["pid"]
                    self.writers[pid] = writer
                    self._news.set()
                    if self.config is not None:
                        # With the clock as it is now, not as when the config was made: so it stands for every
                        # message so far, and carries the current version.
                        await self._send(writer, {**self.config, "clock": self.clock(), "version": self.version})
                elif message.get("type") == "applied":
                    self.applied[pid] = message.get("version") or 0
                    self._news.set()
                elif message.get("type") == "stats":
                    self.bind_errors.update(message.get("bind_errors") or {})
                    self.draining[pid] = message.get("draining") or {}
                    self.on_stats(pid, message.get("stats") or {})
                    if message.get("logs") and self.on_logs is not None:
                        self.on_logs(message["logs"])
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writers.pop(pid, None)
            self.draining.pop(pid, None)
            self._news.set()
            writer.close()
            gone = next((p for p in self.procs if p.pid == pid and p.pid not in self._pidfds), None)
            if gone is not None and self.running and not self._stopping:
                try:
                    await asyncio.to_thread(gone.wait, 5)  # its session ended: it is exiting
                except subprocess.TimeoutExpired:
                    return
                self._exited(gone)

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, message: dict) -> None:
        data = json.dumps(message, separators=(",", ":")).encode()
        writer.write(struct.pack("!I", len(data)) + data)
        await writer.drain()

    async def push(self, message: dict) -> None:
        """Send a config snapshot or a clock update to every worker, and wait until each has applied it."""
        self.version += 1
        message["version"] = self.version
        if message.get("type") == "config":
            self.config = message
        for writer in list(self.writers.values()):
            try:
                await self._send(writer, message)
            except (ConnectionError, RuntimeError):
                pass
        await self._acknowledged(message["version"])

    async def _acknowledged(self, version: int, timeout: float = 5.0) -> None:
        """Wait until every worker serves this version, so what the API reports is what traffic sees."""
        if not await self._until(lambda: all(self.applied.get(pid, 0) >= version for pid in self.writers), timeout):
            log.warning("load balancer workers did not apply config %d in %.0fs", version, timeout)

    async def wait_ready(self, timeout: float = 10.0) -> None:
        await self._until(lambda: len(self.writers) >= self.count, timeout)

    def retire_orphans(self) -> None:
        """Retire the workers a previous kumo on these networks left serving (ours now serve, or nothing does)."""
        if self.retired:
            return
        self.retired = True
        for pid in retire_workers("KUMO_LB_WORKER", self.tag, spare={proc.pid for proc in self.procs}):
            log.info("retired load balancer worker %d of the previous kumo", pid)

    async def stop(self, keep: bool = False) -> None:
        """Stop the workers; ``keep``: leave them serving for the next kumo to retire (a durable kumo's stop)."""
        self._stopping = True
        if self._respawn is not None:
            self._respawn.cancel()
            self._respawn = None
        for proc in self.procs:
            self._unwatch(proc)
        if keep:
            # Closing the control socket tells them kumo is gone; they serve on until the next one retires them.
            for writer in list(self.writers.values()):
                writer.close()
            self.procs = []
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                await asyncio.to_thread(proc.wait, 5)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs = []
        if self.server is not None:
            self.server.close()
            self.server = None
        shutil.rmtree(self.dir, ignore_errors=True)


def retire_workers(name: str, value: str, spare: set[int] = frozenset()) -> list[int]:
    """SIGTERM every load balancer worker whose environment has ``name=value`` (but those in ``spare``)."""
    retired = []
    for pid in peers.tagged(name).get(value, []):
        if pid in spare:
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            continue
        retired.append(pid)
    return retired


class ElbRuntime:
    def __init__(self, kumo):
        self.kumo = kumo
        self.nodes = LoopbackPool(network(kumo.settings.loopback_base, 2), "elb.loopback")
        self.providers: list[Provider] = []
        self.health: dict[tuple[str, str], Health] = {}
        self.secret = secrets.token_bytes(16)
        # Half the cores, at most 4: in kumo the targets and the clients run on this same machine, and a worker
        # per core preempts them and its sibling (on 2 cores one worker measured both more requests/s and a
        # p99 half as long as two; bench/RESULTS.md).
        workers = int(os.environ.get("KUMO_ELB_WORKERS") or max(1, min((os.cpu_count() or 1) // 2, 4)))
        self.dataplane = DataPlane(workers, self._on_stats, str(kumo.settings.loopback_base), self._log_path(),
                                   "" if kumo.settings.ephemeral else os.path.abspath(kumo.settings.data_dir),
                                   self._clock_state)
        self.dataplane.on_logs = self._on_logs
        # Who takes the access log lines workers report (ELBv2 and Classic each keep their own batches).
        self.log_sinks: list[Callable[[dict[str, list[str]]], None]] = []
        self.minute: dict = {}
        self.active: dict[int, dict[str, int]] = {}
        self.drain_watchers: list[Callable[[], None]] = []  # told when workers report on draining targets
        self._minute_timer = None
        self._last_applied: str | None = None
        self._clock_moved = False  # time jumped or changed pace since the workers were last told
        self._requested = 0
        self._applied = 0
        self._applied_event = asyncio.Event()

    def _log_path(self) -> str | None:
        settings = self.kumo.settings
        if settings.ephemeral:
            return None
        os.makedirs(settings.work_dir, exist_ok=True)
        return os.path.join(settings.work_dir, "lb-workers.log")

    # -- wiring --------------------------------------------------------------------------------------
    def register(self, provider: Provider) -> None:
        self.providers.append(provider)

    def invalidate(self) -> None:
        self._requested += 1
        self.kumo.controllers.enqueue(DATAPLANE, "config")

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the workers serve every change requested so far, at most ``timeout`` real seconds
        (a bound on waiting for real processes, not a duration of kumo's world)."""
        wanted = self._requested
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout  # real time: see above
        while self._applied < wanted and loop.time() < deadline:  # real time
            self._applied_event.clear()
            try:
                await asyncio.wait_for(self._applied_event.wait(), max(0.0, deadline - loop.time()))  # real time
            except asyncio.TimeoutError:
                break

    def _clock_state(self) -> dict:
        return {"sim": self.kumo.clock.now(), "scale": self.kumo.clock.scale}

    def on_clock_change(self) -> None:
        """Time jumped or changed pace: the workers' views follow, through the data plane controller, so that
        once an advance has settled (``ServerThread.advance``) every worker judges cookies and idle timeouts
        by the new time."""
        if not self.dataplane.running:
            return
        self._clock_moved = True
        self.kumo.controllers.enqueue(DATAPLANE, "config")

    def start_metrics(self) -> None:
        now = self.kumo.clock.now()
        self._minute_timer = self.kumo.clock.call_at((now // 60 + 1) * 60, self._on_minute)

    async def stop(self, keep: bool = False) -> None:
        if self._minute_timer is not None:
            self._minute_timer.cancel()
        await self.dataplane.stop(keep)

    # -- the snapshot ------------------------------------------------------------------------------
    def target_state(self, group: dict, target: dict) -> tuple[str, str, str]:
        """(state, reason, description) of a target, merging registration facts with its health."""
        if target.get("state"):  # draining, unused ... decided by the provider
            return target["state"], target.get("reason", ""), target.get("description", "")
        if not group.get("health_check", {}).get("enabled", True):
            return "unavailable", "Target.HealthCheckDisabled", "Health checks are disabled"
        h = self.health.get((group["arn"], target["key"]))
        if h is None:
            return "initial", "Elb.RegistrationInProgress", "Target registration is in progress"
        return h.state, h.reason, h.description

    def snapshot(self) -> dict:
        listeners, groups = [], {}
        for provider in self.providers:
            listeners += provider.listeners()
            for g in provider.groups():
                targets = []
                for t in g["targets"]:
                    state, _, _ = self.target_state(g, t)
                    routable = {"unavailable": "healthy"}.get(state, state)
                    h = self.health.get((g["arn"], t["key"]))
                    targets.append({"key": t["key"], "host": t.get("host"), "port": t["port"], "zone": t.get("zone"),
                                    "state": routable, "healthy_since": h.changed_at if h else 0.0})
                groups[g["arn"]] = {**{k: v for k, v in g.items() if k not in ("targets", "health_check")},
                                    "targets": [t for t in targets if t["host"]]}
        return {"type": "config", "secret": self.secret.hex(), "listeners": listeners, "groups": groups,
                "clock": {"sim": self.kumo.clock.now(), "scale": self.kumo.clock.scale}}

    async def apply(self) -> None:
        generation = self._requested
        message = self.snapshot()
        key = json.dumps({k: v for k, v in message.items() if k != "clock"}, sort_keys=True)
        if message["listeners"] or self.dataplane.running:
            if not self.dataplane.running:
                await self.dataplane.start()
                await self.dataplane.wait_ready()
            moved, self._clock_moved = self._clock_moved, False
            if key != self._last_applied:
                self._last_applied = key
                await self.dataplane.push(message)
            elif moved:
                await self.dataplane.push({"type": "clock", **self._clock_state()})
        self.dataplane.retire_orphans()
        for provider in self.providers:
            served = getattr(provider, "served", None)
            if served is not None:
                served()
        self._applied = max(self._applied, generation)
        self._applied_event.set()

    # -- health ------------------------------------------------------------------------------------
    async def check_group(self, group: dict) -> bool:
        """One round of checks for every target of a group; True when a state changed."""
        hc = group.get("health_check") or {}
        targets = [t for t in group["targets"] if not t.get("state") and t.get("host")]
        if not hc.get("enabled", True) or not targets:
            return False
        # HealthCheckTimeoutSeconds at the clock's pace, in real seconds: a probe waits on a real target, which
        # answers in real time, so an advance must not time out a probe in flight (a frozen clock allows 2 s).
        timeout = self.kumo.clock.real_delay(float(hc["timeout"]))
        timeout = min(float(hc["timeout"]), 2.0) if timeout is None else timeout
        outcomes = await asyncio.gather(*[probes.probe(hc, t, timeout) for t in targets])
        changed = False
        now = self.kumo.clock.now()
        for t, outcome in zip(targets, outcomes):
            h = self.health.setdefault((group["arn"], t["key"]), Health(changed_at=now))
            changed |= h.record(outcome, hc["healthy_threshold"], hc["unhealthy_threshold"], now,
                                hc.get("initial_passes", 1))
        return changed

    def forget_target(self, group_arn: str, key: str) -> None:
        self.health.pop((group_arn, key), None)

    # -- metrics ----------------------------------------------------------------------------------
    def _on_stats(self, pid: int, report: dict) -> None:
        for lb, entry in report.items():
            self.active.setdefault(pid, {})[lb] = entry.get("active", 0)
        merge(self.minute, report)
        if self.dataplane.draining.get(pid):
            for watcher in self.drain_watchers:
                watcher()

    def _on_logs(self, lines: dict[str, list[str]]) -> None:
        for sink in self.log_sinks:
            try:
                sink(lines)
            except Exception:
                log.exception("an access log sink failed")

    async def collect_logs(self) -> None:
        """Have every worker report now, so the access log lines of requests answered so far have arrived."""
        if self.dataplane.running and self.dataplane.writers:
            await self.dataplane.push({"type": "report"})

    def in_flight(self, group_prefix: str, key: str) -> int | None:
        """Requests (or connections) every worker still has open on a draining target, over the groups whose
        ARN starts with ``group_prefix``; None until each worker has reported the target as draining."""
        total = 0
        for pid in self.dataplane.writers:
            seen = [counts[key] for arn, counts in self.dataplane.draining.get(pid, {}).items()
                    if arn.startswith(group_prefix) and key in counts]
            if not seen:
                return None
            total += sum(seen)
        return total if self.dataplane.writers else None

    def _on_minute(self) -> None:
        try:
            self.publish(self.kumo.clock.now())
        except Exception:
            log.exception("publishing load balancer metrics failed")
        finally:
            self.start_metrics()

    def publish(self, minute_end: float) -> None:
        totals, self.minute = self.minute, {}
        groups_by_lb: dict[str, list[dict]] = {}
        for provider in self.providers:
            for g in provider.groups():
                for lb in g.get("lbs", []):
                    groups_by_lb.setdefault(lb, []).append(g)
        active = lambda lb: sum(w.get(lb, 0) for w in self.active.values())  # noqa: E731
        self.kumo.metrics.put(metrics.datapoints(totals, groups_by_lb, active, self.target_state, minute_end - 60))


def end_drains(kumo, table, key: str, record: dict, group_of: Callable[[str], str],
               ended: Callable[[str], bool] = lambda target: False) -> float | None:
    """One pass over a record's ``_draining`` targets (an ELBv2 target group's, a Classic load balancer's):
    those past their ``until`` on kumo's clock, or that ``ended`` says are done, leave for good.

    Returns the simulated seconds until the next one times out, None when none is left."""
    now = kumo.clock.now()
    done = [k for k, d in record["_draining"].items() if d["until"] <= now or ended(k)]
    if done:
        rt = runtime_of(kumo)
        with kumo.store.transaction():
            for k in done:
                del record["_draining"][k]
                rt.forget_target(group_of(k), k)
            table.put(key, record)
        rt.invalidate()
    if record["_draining"]:
        return max(0.0, min(d["until"] for d in record["_draining"].values()) - now)
    return None


class DataPlaneController(Controller):
    """Rebuilds the snapshot and sends it to the workers whenever something changed."""

    name = DATAPLANE
    resync_interval = 10.0

    def __init__(self, runtime: ElbRuntime):
        self.runtime = runtime

    def keys(self):
        return ["config"]

    async def reconcile(self, key):
        await self.runtime.apply()
        return None

    async def stop(self) -> None:
        # A durable kumo's load balancers serve on while it restarts, as its instances run on.
        await self.runtime.stop(keep=not self.runtime.kumo.stop_workloads)

    async def reset(self) -> None:
        self.runtime.health.clear()
        await self.runtime.stop()
        old = self.runtime.dataplane
        self.runtime.dataplane = DataPlane(old.count, old.on_stats, old.tag, old.log_path, old.owner, old.clock)
        self.runtime.dataplane.on_logs = old.on_logs
        self.runtime._last_applied = None


class HealthController(Controller):
    """Health checks of each target group, every HealthCheckIntervalSeconds of kumo's clock."""

    name = HEALTH
    resync_interval = 30.0

    def __init__(self, runtime: ElbRuntime):
        self.runtime = runtime

    def _groups(self) -> dict[str, dict]:
        return {g["arn"]: g for p in self.runtime.providers for g in p.groups() if g.get("lbs")}

    def keys(self):
        return list(self._groups())

    async def reconcile(self, arn):
        group = self._groups().get(arn)
        if group is None:
            return None
        if await self.runtime.check_group(group):
            self.runtime.invalidate()
        hc = group.get("health_check") or {}
        return float(hc.get("interval", 30)) if hc.get("enabled", True) else None


def runtime_of(kumo) -> ElbRuntime:
    """The one ElbRuntime of this kumo, created by whichever load balancer service sets up first."""
    rt = kumo.services.get("_elb")
    if rt is None:
        rt = kumo.services["_elb"] = ElbRuntime(kumo)
        kumo.controllers.register(DataPlaneController(rt))
        kumo.controllers.register(HealthController(rt))
        kumo.clock.observe(rt.on_clock_change)
        kumo.on_start(rt.start_metrics)
        # An instance that starts, stops or terminates changes which targets can be reached.
        kumo.events.subscribe(lambda e: rt.invalidate() if e.get("source") == "aws.ec2" else None)
    return rt


__all__ = ["ElbRuntime", "runtime_of", "end_drains", "Outcome"]
