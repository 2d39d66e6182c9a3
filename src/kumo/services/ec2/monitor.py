"""Measures running instances from their real process trees and reports it as AWS/EC2 metrics.

Workloads run in real time, so rates are measured in real time (a sample
each real second); datapoints are stamped and published on kumo's clock, per
minute with detailed monitoring and per five minutes with basic monitoring,
as EC2 does.  Status checks run every minute (``status_checks.py``) and their
metrics are published every minute either way.
There is no memory metric, as on AWS, and no network metric while instances
share the host's network (nothing per-process measures it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from ...core.hub import Datapoint
from . import instance_types, status_checks
from .lifecycle import KIND

log = logging.getLogger("kumo.ec2.monitor")

SAMPLE_EVERY = 1.0  # real seconds: a real-time measurement of real processes (CPU seconds per real second)
MINUTE = 60.0
CONSOLE_GROUP = "/aws/ec2/console"  # instance console output, one stream per instance


@dataclass
class Meter:
    cpu: float = 0.0  # cumulative CPU seconds at the last sample
    real: float = 0.0
    rate: float = 0.0  # CPU seconds per real second, over the last sample interval
    period_cpu: float = 0.0  # at the last publish
    period_real: float = 0.0
    disk: tuple = (0, 0, 0, 0)  # cumulative read bytes, write bytes, read ops, write ops
    period_disk: tuple = (0, 0, 0, 0)
    minutes: list = field(default_factory=list)  # per-minute values awaiting a 5-minute publish


class Monitor:
    def __init__(self, kumo, rt):
        self.kumo = kumo
        self.rt = rt
        self.meters: dict[str, Meter] = {}
        self._task: asyncio.Task | None = None
        self._timer = None
        self._console: dict[str, int] = {}  # instance id -> bytes of console output already shipped

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._sample_forever())
        self._schedule()

    def _schedule(self) -> None:
        now = self.kumo.clock.now()
        next_minute = (now // MINUTE + 1) * MINUTE
        self._timer = self.kumo.clock.call_at(next_minute, self._on_minute, next_minute)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    # -- sampling (real time) -------------------------------------------------------------------
    async def _sample_forever(self) -> None:
        while True:
            try:
                refresh = getattr(self.rt.backend, "refresh_scan", None)
                if self.meters and refresh is not None:
                    # Reading the host's process table takes tens of ms of CPU: in a thread, so requests on the
                    # loop do not wait for it every second; sample() then finds it fresh in the cache.
                    await asyncio.to_thread(refresh, 2 * SAMPLE_EVERY)
                for _ in self._sample_steps():
                    # One instance's /proc reads cost 1-2 ms: with 50 instances a round in one piece held the
                    # loop 60-90 ms every second (the stalls bench_concurrency's loop-lag probe saw).
                    await asyncio.sleep(0)
            except Exception:
                log.exception("sampling instances failed")
            await asyncio.sleep(SAMPLE_EVERY)

    def running(self):
        for scope, iid, inst in self.kumo.store.all(KIND):
            if inst["State"]["Name"] == "running" and inst.get("_boot"):
                yield scope, iid, inst

    def ship_console(self, scope: str, iid: str) -> None:
        """New console lines go to CloudWatch Logs (group /aws/ec2/console, stream = instance id)."""
        path = self.rt.console(iid)
        try:
            size = path.stat().st_size
        except OSError:
            return
        done = self._console.get(iid, 0)
        if size <= done or "logs" not in self.kumo.services:
            return
        with open(path, "rb") as fh:
            fh.seek(done)
            data = fh.read(min(size - done, 1 << 20))
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            return  # wait for a whole line
        self._console[iid] = done + cut
        ts = int(self.kumo.clock.now() * 1000)
        lines = [(ts, line) for line in data[:cut].decode("utf-8", "replace").splitlines() if line]
        if lines:
            from ..logs.internal import put_events

            account, region = scope.split("/", 1)
            put_events(self.kumo, account, region, CONSOLE_GROUP, iid, lines)

    def sample(self) -> None:
        for _ in self._sample_steps():
            pass

    def _sample_steps(self):
        """One sampling round, one instance per step (the loop may run between steps)."""
        seen = set()
        for scope, iid, inst in list(self.running()):
            seen.add(iid)
            now = time.monotonic()  # real-time measurement: CPU rates are per real second
            try:
                self.ship_console(scope, iid)
            except Exception:
                log.exception("shipping the console of %s failed", iid)
            usage = self.rt.backend.usage(self.rt.workload(iid))
            m = self.meters.get(iid)
            disk = (usage.read_bytes, usage.write_bytes, usage.read_ops, usage.write_ops)
            if m is None:
                m = self.meters[iid] = Meter(cpu=usage.cpu_seconds, real=now, period_cpu=usage.cpu_seconds,
                                             period_real=now, disk=disk, period_disk=disk)
                continue
            elapsed = now - m.real
            if elapsed >= 0.5:
                # Shorter windows (advance() closes minutes back to back) measure the tick of the kernel's CPU
                # accounting, not the load: keep the rate of the last real window instead.
                m.rate = max(0.0, usage.cpu_seconds - m.cpu) / elapsed
            m.cpu, m.real, m.disk = usage.cpu_seconds, now, disk
            yield
        for gone in set(self.meters) - seen:
            del self.meters[gone]

    # -- publishing (simulated time) --------------------------------------------------------------
    def _on_minute(self, minute_end: float) -> None:
        try:
            self.sample()
            status_checks.run(self.kumo, self.rt, minute_end)  # EC2 checks every instance once a minute
            self.publish(minute_end)
        except Exception:
            log.exception("publishing EC2 metrics failed")
        finally:
            self._schedule()

    def publish(self, minute_end: float) -> None:
        now = time.monotonic()  # real-time measurement: CPU rates are per real second
        points: list[Datapoint] = []
        minute_start = minute_end - MINUTE
        for scope, iid, inst in self.running():
            m = self.meters.get(iid)
            if m is None:
                continue
            account, region = scope.split("/", 1)
            vcpus = instance_types.vcpus(inst["InstanceType"]) if instance_types.exists(inst["InstanceType"]) else 1
            real = now - m.period_real
            rate = (m.cpu - m.period_cpu) / real if real >= 0.5 else m.rate
            cpu = min(100.0, 100.0 * rate / vcpus)
            disk = tuple(a - b for a, b in zip(m.disk, m.period_disk))
            m.period_cpu, m.period_real, m.period_disk = m.cpu, now, m.disk
            status_instance, status_system = status_checks.failed(inst)
            dims = [{"InstanceId": iid}]
            group = next((t["Value"] for t in inst.get("Tags", []) if t["Key"] == "aws:autoscaling:groupName"), None)
            if group:
                dims.append({"AutoScalingGroupName": group})

            def emit(name, value, unit, ts, resolution=60):
                for d in dims:
                    points.append(Datapoint(account, region, "AWS/EC2", name, float(value), ts, dict(d), unit,
                                            resolution))

            for name, value in (("StatusCheckFailed_Instance", status_instance),
                                ("StatusCheckFailed_System", status_system),
                                ("StatusCheckFailed", max(status_instance, status_system))):
                emit(name, value, "Count", minute_start)
            m.minutes.append((cpu, disk))
            detailed = inst["Monitoring"]["State"] == "enabled"
            if detailed:
                self._emit_usage(emit, m.minutes, minute_start)
                m.minutes = []
            elif minute_end % 300 == 0:
                self._emit_usage(emit, m.minutes, minute_end - 300)
                m.minutes = []
        self.kumo.metrics.put(points)

    @staticmethod
    def _emit_usage(emit, minutes: list, ts: float) -> None:
        if not minutes:
            return
        cpu = sum(c for c, _ in minutes) / len(minutes)
        totals = [sum(d[i] for _, d in minutes) for i in range(4)]
        emit("CPUUtilization", cpu, "Percent", ts)
        emit("DiskReadBytes", totals[0], "Bytes", ts)
        emit("DiskWriteBytes", totals[1], "Bytes", ts)
        emit("DiskReadOps", totals[2], "Count", ts)
        emit("DiskWriteOps", totals[3], "Count", ts)
