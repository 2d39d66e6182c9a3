"""The process backend: a workload is a process tree on this machine (docs/compute.md).

``start(spec)`` runs the spec's command walled in as far as the host allows (``isolation.py``): with
bubblewrap as root, its own root file system, pid namespace, /proc, /tmp, and dropped capabilities.  Every
process carries the workload's tag in its environment (``KUMO_WORKLOAD``), and with a pid namespace
everything it starts stays below its first process, so kumo finds all of them, after a restart of kumo
too, to stop, signal and measure them.  cgroups bound memory and CPU where the machine lets kumo make them.

The workload owns its disk and may leave symlinks anywhere on it, so kumo's own writes there go through
``core.paths.Tree``, which never follows one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterable, Iterator

from . import isolation, peers
from .cgroups import CgroupTree
from .spec import Handle, Limits, Mount, Spec, Usage  # noqa: F401

from ...core.paths import Tree

log = logging.getLogger("kumo.dataplane.compute")

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
HOW_TO_ISOLATE = "install bubblewrap (apt-get install bubblewrap) and run kumo as root"


class ProcessBackend:
    """Starts, finds, measures and stops workloads as process trees. One per kumo, shared by services."""

    def __init__(self, data_dir: str | None = None, hidden: Iterable[str] = (), isolate: bool | str | None = None):
        if isolate is None:
            self.isolation = isolation.probe()
        elif isinstance(isolate, str):
            self.isolation = isolate
        else:
            self.isolation = ("full" if isolation.probe() == "full" else "partial") if isolate else "none"
        # Paths no workload may reach: kumo's data directory (state.db, other workloads' disks) and more.
        self.hidden = sorted({os.path.realpath(p) for p in [*(hidden or ()), *([data_dir] if data_dir else [])]})
        self.cgroups = CgroupTree.create(data_dir or "kumo") if self.isolation != "none" else None
        if self.cgroups is not None:  # a previous kumo's, whose workloads have ended (a live one's stays: busy)
            for name in self.cgroups.children():
                CgroupTree.remove(self.cgroups.paths_of(name))
        self._scan_cache: tuple[float, dict[str, list[int]]] | None = None
        self._launches = 0  # a table read before a launch lacks its processes (refresh_scan)
        self._children: dict[int, subprocess.Popen] = {}
        self._peak_fds: dict[str, int] = {}
        if self.isolation == "full":
            os.makedirs(isolation.STAGE, mode=0o700, exist_ok=True)  # each sandbox mounts its own tmpfs here
        elif self.isolation == "partial":
            log.warning("workload isolation is partial (a mount namespace only: host pids, host root "
                        "file system beyond the overlaid directories): %s for full isolation", HOW_TO_ISOLATE)
        elif self.isolation == "none":
            log.info("workloads run without isolation (%s for it)", HOW_TO_ISOLATE)
        log.info("workloads: isolation %s, cgroups %s", self.isolation,
                 self.cgroups.describe() if self.cgroups else "off")

    # -- views ---------------------------------------------------------------------------------------
    @property
    def isolate(self) -> bool:
        """Whether workloads get a mount namespace (mounts apply, paths are the workload's own)."""
        return self.isolation != "none"

    def view(self, mount: Mount) -> str:
        """Where the workload sees ``mount``'s source: its target when mounts apply, else the host path."""
        if self.isolate or isinstance(mount.source, (list, tuple)):
            return mount.target
        return str(mount.source)

    def hide(self, path: str) -> None:
        """Make ``path`` unreachable for workloads started from now on."""
        real = os.path.realpath(path)
        if real not in self.hidden:
            self.hidden.append(real)

    def describe(self) -> dict:
        return {"isolation": self.isolation, "cgroups": self.cgroups.describe() if self.cgroups else None}

    # -- start ---------------------------------------------------------------------------------------
    def start(self, spec: Spec) -> Handle:
        env = dict(spec.env)
        env["KUMO_WORKLOAD"] = spec.workload
        if spec.self_ip:
            env["KUMO_SELF_IP"] = spec.self_ip
        env.pop("LD_PRELOAD", None)
        if spec.disk is not None:
            disk = Tree(spec.disk, replace=True)
            disk.mkdir("tmp", mode=0o1777)
            if spec.preload and self.isolation == "partial":
                with open(spec.preload, "rb") as so:
                    disk.write(".kumo/preload.so", so, 0o755)
        groups = self._cgroup(spec)
        limits = spec.limits
        rlimit = None
        if not groups and limits.memory_mb and limits.address_space_fallback:
            rlimit = (max(limits.memory_mb, 128) + 256) * 1048576  # address space runs ahead of resident size
        enter = isolation.enter_lines(groups, rlimit)
        preexec = None  # only without a sandbox shell: a preexec function makes Popen fork kumo whole
        if self.isolation == "full":
            argv, popen_cwd = isolation.full_argv(spec, self.hidden, spec.cwd or "/", enter), "/"
        elif self.isolation == "partial":
            argv, popen_cwd = isolation.partial_argv(spec, self.hidden, spec.cwd or "/", enter), "/"
        else:
            argv = list(spec.command)
            popen_cwd = spec.cwd or (str(spec.disk) if spec.disk else None)
            if spec.preload:
                env["LD_PRELOAD"] = str(spec.preload)
            if rlimit:
                preexec = _address_space_limit(rlimit)

        out = spec.output
        console = open(out, "ab", buffering=0) if isinstance(out, (str, Path)) else None
        stdout = console if console is not None else (out if isinstance(out, int) else subprocess.DEVNULL)
        try:
            proc = subprocess.Popen(argv, env=env, cwd=popen_cwd, stdin=subprocess.DEVNULL, stdout=stdout,
                                    stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                                    preexec_fn=preexec)
        except OSError:
            if groups:
                CgroupTree.remove(groups)
            raise
        finally:
            if console is not None:
                console.close()
        self._children[proc.pid] = proc
        self._scan_cache = None
        self._launches += 1
        return Handle(spec.workload, proc.pid, _start_ticks(proc.pid) or 0, groups, self.isolation)

    def _cgroup(self, spec: Spec) -> dict[str, str]:
        limits: Limits = spec.limits
        if self.cgroups is None:
            return {}
        try:
            return self.cgroups.make(_cgroup_name(spec.kind, spec.workload), limits.memory_mb, limits.cpus)
        except OSError as exc:
            log.warning("%s: no cgroup (%s); memory and CPU are not limited", spec.workload, exc)
            return {}

    def adopt(self, handle: Handle | None) -> Handle | None:
        """A handle saved by an earlier kumo, if its workload still runs (its first process, same start)."""
        if handle is None or not self.alive(handle):
            return None
        return handle

    # -- inspect -------------------------------------------------------------------------------------
    def alive(self, handle: Handle | None) -> bool:
        if handle is None or not handle.pid:
            return False
        ticks = _start_ticks(handle.pid)
        if ticks is None or (handle.start_ticks and ticks != handle.start_ticks):
            return False
        return _state(handle.pid) not in ("Z", "X", None)

    def exit_status(self, handle: Handle) -> int | None:
        """The workload's command's exit status once it has ended (reaping it), None while it runs; negative:
        the signal that ended it, as subprocess reports it, whatever sandbox ran the command."""
        proc = self._children.get(handle.pid)
        if proc is None:
            return None if self.alive(handle) else -1
        code = proc.poll()
        if code is not None:
            self._children.pop(handle.pid, None)
            if handle.isolation == "full" and 128 < code <= 128 + 64:
                code = -(code - 128)  # bubblewrap exits 128 + the signal that ended its child
        return code

    def _scan(self) -> dict[str, list[int]]:
        now = time.monotonic()  # a real-time measurement: how fresh the process table read is
        if self._scan_cache and now - self._scan_cache[0] < 0.2:
            return self._scan_cache[1]
        found = peers.tagged("KUMO_WORKLOAD")
        self._scan_cache = (now, found)
        return found

    def refresh_scan(self, hold: float = 0.0) -> None:
        """Read the process table into the scan cache: the costly part of ``usage`` (~55 ms of CPU with 2,000
        processes on the host), which a caller can run in a thread, off the event loop, before a sampling round.
        The table then serves ``hold`` seconds longer than usual, so the round (slow on a busy host) does not read
        it again on the loop.  A table read across a launch is dropped (it may lack the new processes); one read
        across a stop may list processes that have since ended, which pids() drops by their state."""
        launches = self._launches
        found = peers.tagged("KUMO_WORKLOAD")
        if self._launches == launches:
            self._scan_cache = (time.monotonic() + hold, found)  # real-time measurement: how fresh the read is

    def pids(self, which: Handle | str) -> list[int]:
        """Every live process of the workload (host pids)."""
        handle = _handle(which)
        out: list[int] = []
        if self.alive(handle):
            out = [handle.pid] + peers.descendants(handle.pid)
        if handle.isolation != "full" or not out:
            # Without a pid namespace a daemon may leave the tree: its tag still names it.
            out += [p for p in self._scan().get(handle.workload, []) if p not in out]
        return [p for p in out if _state(p) not in ("Z", "X", None)]

    def running(self, prefix: str) -> list[str]:
        """Tags of the live workloads whose tag starts with ``prefix`` (a previous kumo's, after kill -9)."""
        self._scan_cache = None
        return sorted(t for t in self._scan() if t.startswith(prefix))

    def members(self, which: Handle | str, handle: Handle | None = None) -> Iterator[int]:
        """The workload's processes, as evidence of who calls one of its services (peers.py), cheapest first.

        Those below its first process are its own beyond doubt; with a pid namespace that is all of them.
        Without one, daemons that left the tree are found by their tag, which is only an environment variable
        anyone can set: with a mount namespace, a workload's are also inside its own, which another
        workload's processes cannot enter.
        """
        handle = handle if handle is not None else _handle(which)
        alive = self.alive(handle)
        if alive:
            yield handle.pid
        seen: set[int] = {handle.pid}
        if handle.isolation == "full":
            if alive:
                yield from peers.descendants(handle.pid)
            return
        own = None
        if handle.isolation == "partial":
            own = _namespace_below(handle.pid) if alive else None
            if own is None or own == peers.mount_namespace(os.getpid()):
                return  # not (or not yet) in its namespace
        for fresh in (False, True):
            if fresh:
                if alive:  # a process started since the last scan is most likely below the first one
                    below = peers.descendants(handle.pid)
                    yield from (p for p in below if p not in seen)
                    seen.update(below)
                self._scan_cache = None
            for pid in self._scan().get(handle.workload, []):
                if pid not in seen and (own is None or peers.mount_namespace(pid) == own):
                    seen.add(pid)
                    yield pid

    def usage(self, which: Handle | str) -> Usage:
        handle = _handle(which)
        u = Usage()
        peak = 0
        for pid in self.pids(handle):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                u.cpu_seconds += (int(fields[11]) + int(fields[12])) / _CLK_TCK
                for line in Path(f"/proc/{pid}/io").read_text().splitlines():
                    key, _, value = line.partition(":")
                    if key == "read_bytes":
                        u.read_bytes += int(value)
                    elif key == "write_bytes":
                        u.write_bytes += int(value)
                    elif key == "syscr":
                        u.read_ops += int(value)
                    elif key == "syscw":
                        u.write_ops += int(value)
                u.processes += 1
                if not handle.cgroups:
                    rss, hwm = _memory_of(pid)
                    u.memory_bytes += rss
                    peak = max(peak, hwm)
            except (OSError, IndexError, ValueError):
                continue
        if handle.cgroups:
            u.memory_bytes = CgroupTree.memory(handle.cgroups)
            u.memory_peak_bytes = self.memory_peak(handle)
            u.oom_kills = CgroupTree.oom_kills(handle.cgroups)
        else:
            u.memory_peak_bytes = peak
        return u

    def memory_peak(self, handle: Handle) -> int:
        """The workload's peak memory in bytes (cheap: the cgroup's counter file stays open)."""
        path = CgroupTree.peak_file(handle.cgroups) if handle.cgroups else None
        if path is None:
            return max((_memory_of(p)[1] for p in self.pids(handle)), default=0)
        fd = self._peak_fds.get(path)
        try:
            if fd is None:
                fd = self._peak_fds[path] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            return int(os.pread(fd, 64, 0))
        except (OSError, ValueError):
            return 0

    # -- signal and stop -------------------------------------------------------------------------------
    def signal(self, which: Handle | str, sig: int) -> None:
        """Send ``sig`` to every process of the workload."""
        handle = _handle(which)
        if self.alive(handle):
            try:
                os.killpg(handle.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in self.pids(handle):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        self._scan_cache = None

    async def stop(self, which: Handle | str, handle: Handle | None = None, grace: float = 2.0) -> None:
        """Stop every process of the workload: TERM, a grace period (real time), then KILL; then release it."""
        await self.stop_many([handle if handle is not None else _handle(which)], grace)

    async def stop_many(self, handles: list, grace: float = 2.0) -> None:
        """Stop many workloads at once (shutdown, reset): one TERM for all, one grace period, then KILL."""
        hs = [h[1] if isinstance(h, tuple) and h[1] is not None else _handle(h[0] if isinstance(h, tuple) else h)
              for h in handles]
        if not hs:
            return
        self._scan_cache = None
        for h in hs:
            self.signal(h, signal.SIGTERM)
        # Real time: processes need real time to exit, whatever kumo's clock says.
        deadline = time.monotonic() + grace  # real-time measurement, see above
        while time.monotonic() < deadline:  # real-time measurement
            self._scan_cache = None
            if not any(self.pids(h) for h in hs):
                break
            await asyncio.sleep(0.05)
        for _ in range(20):
            self._scan_cache = None
            left = [h for h in hs if self.pids(h)]
            if not left:
                break
            for h in left:
                self.signal(h, signal.SIGKILL)
            await asyncio.sleep(0.05)
        for h in hs:
            self.release(h)

    def kill_now(self, which: Handle | str, handle: Handle | None = None) -> None:
        """Every process of the workload dies at once, as in a crash (fault injection, Lambda's kill)."""
        h = handle if handle is not None else _handle(which)
        self._scan_cache = None
        self.signal(h, signal.SIGKILL)
        _reap(h.pid)

    def release(self, handle: Handle) -> None:
        """Forget a stopped workload: reap its first process, remove its cgroups."""
        if handle.pid:
            proc = self._children.pop(handle.pid, None)
            if proc is not None:
                proc.poll()
            else:
                _reap(handle.pid)
        if handle.cgroups:
            path = CgroupTree.peak_file(handle.cgroups)
            fd = self._peak_fds.pop(path, None) if path else None
            if fd is not None:
                os.close(fd)
            if not CgroupTree.pids(handle.cgroups):
                CgroupTree.remove(handle.cgroups)

    def close(self) -> None:
        for fd in self._peak_fds.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self._peak_fds.clear()


def _address_space_limit(limit: int):
    def preexec():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return preexec


def _handle(which: Handle | str) -> Handle:
    return which if isinstance(which, Handle) else Handle(which)


def _cgroup_name(kind: str, workload: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in workload)
    return f"{kind}-{safe}"[:200]


def _namespace_below(pid: int) -> str | None:
    """The mount namespace the workload lives in: its first process's child's (the first process is unshare)."""
    own = peers.mount_namespace(pid)
    if own is not None and own != peers.mount_namespace(os.getpid()):
        return own
    kids = peers.descendants(pid)
    return peers.mount_namespace(kids[0]) if kids else None


def _memory_of(pid: int) -> tuple[int, int]:
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return rss, hwm


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def _state(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def _reap(pid: int) -> None:
    if not pid:
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except OSError:
        pass
