"""The default compute backend: a workload is a process tree on this machine.

Each workload has a directory (its disk) and runs its init under a unique tag
in the environment (``KUMO_WORKLOAD``), so kumo finds every process of the
workload, even daemons that left the process group, by reading /proc.  As
root on Linux the workload gets a mount namespace of its own, where its disk
is laid over the host's /etc, /var, /opt, /srv, /home, /root and /usr/local
with overlayfs (the host's shell and Python stay visible, writes land on the
workload's disk) and /tmp is its own.  Elsewhere (or with KUMO_NO_ISOLATION
set) it runs with its disk as its working directory and HOME, and absolute
paths are the host's (docs/compute.md).

The workload owns its disk and may leave symlinks anywhere on it, so kumo's
own writes there go through ``core.paths.Tree``, which never follows one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from . import peers

from ...core.paths import Tree

log = logging.getLogger("kumo.dataplane.compute")

OVERLAID = ("etc", "var", "opt", "srv", "home", "root", "usr/local")
DISK_ALIAS = "/run/kumo-disk"  # where the disk appears inside the workload's namespace
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Spec:
    """What to run: ``init`` is a shell script path inside the disk (relative)."""

    workload: str  # unique tag, e.g. "<kumo token>/i-0123"
    disk: Path
    init: str
    env: dict[str, str]
    lower_layers: list[Path] = field(default_factory=list)  # image layers, top first
    console: Path | None = None
    preload: str | None = None  # a shared object for LD_PRELOAD, relative to the disk


@dataclass
class Handle:
    pid: int
    start_ticks: int


@dataclass
class Usage:
    cpu_seconds: float = 0.0
    read_bytes: int = 0
    write_bytes: int = 0
    read_ops: int = 0
    write_ops: int = 0
    processes: int = 0


def _probe_isolation() -> bool:
    if os.environ.get("KUMO_NO_ISOLATION"):
        return False
    if os.name != "posix" or not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    try:
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True, timeout=10)
        return r.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


class ProcessBackend:
    def __init__(self, isolate: bool | None = None):
        self.isolate = _probe_isolation() if isolate is None else isolate
        self._scan_cache: tuple[float, dict[str, list[int]]] | None = None
        if self.isolate:
            os.makedirs(DISK_ALIAS, exist_ok=True)

    # -- start -----------------------------------------------------------------------
    def disk_root(self) -> str:
        """How the workload's own processes name its disk: "" when it is mounted over "/"."""
        return ""

    def start(self, spec: Spec) -> Handle:
        disk = Tree(spec.disk, replace=True)
        disk.mkdir("tmp", mode=0o1777)
        env = dict(spec.env)
        env["KUMO_WORKLOAD"] = spec.workload
        if spec.preload and not self.isolate:
            env["LD_PRELOAD"] = str(spec.disk / spec.preload)
        console = open(spec.console or os.devnull, "ab", buffering=0)
        try:
            if self.isolate:
                disk.write(".kumo/namespace.sh", self._namespace_script(spec).encode())
                init = spec.disk / ".kumo" / "namespace.sh"
                cmd = ["unshare", "--mount", "--propagation", "private", "/bin/sh", str(init)]
                cwd = "/"
            else:
                cmd = ["/bin/sh", str(spec.disk / spec.init)]
                cwd = str(spec.disk)
            proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=console,
                                    stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        finally:
            console.close()
        self._scan_cache = None
        return Handle(proc.pid, _start_ticks(proc.pid) or 0)

    def _namespace_script(self, spec: Spec) -> str:
        disk = str(spec.disk)
        lines = ["#!/bin/sh", "set -e", f"mount --bind {_q(disk)} {DISK_ALIAS}"]
        for target in overlaid(disk):
            d = target[1:]
            upper, work = f"{DISK_ALIAS}/upper/{d}", f"{DISK_ALIAS}/work/{d}"
            lowers = ":".join([str(layer / d) for layer in spec.lower_layers if (layer / d).is_dir()] + [target])
            lines.append(f"mkdir -p {_q(upper)} {_q(work)}")
            lines.append(f"mount -t overlay overlay -o lowerdir={lowers},upperdir={upper},workdir={work} {target}"
                         f" || echo '[kumo] could not overlay {target}'")
        lines.append(f"mount --bind {DISK_ALIAS}/tmp /tmp")
        lines.append("set +e")
        if spec.preload:
            # Only now does the disk's path exist for the dynamic loader.
            lines.append(f"export LD_PRELOAD={DISK_ALIAS}/{spec.preload}")
        lines.append(f"exec /bin/sh {DISK_ALIAS}/{spec.init}")
        return "\n".join(lines) + "\n"

    # -- inspect ---------------------------------------------------------------------------
    def alive(self, handle: Handle | None) -> bool:
        if handle is None:
            return False
        ticks = _start_ticks(handle.pid)
        if ticks is None or (handle.start_ticks and ticks != handle.start_ticks):
            return False
        return _state(handle.pid) not in ("Z", "X", None)

    def _scan(self) -> dict[str, list[int]]:
        now = time.monotonic()
        if self._scan_cache and now - self._scan_cache[0] < 0.2:
            return self._scan_cache[1]
        found: dict[str, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            marker = data.find(b"KUMO_WORKLOAD=")
            if marker < 0:
                continue
            end = data.find(b"\0", marker)
            tag = data[marker + 14:end if end >= 0 else None].decode(errors="replace")
            found.setdefault(tag, []).append(int(entry.name))
        self._scan_cache = (now, found)
        return found

    def pids(self, workload: str) -> list[int]:
        return [p for p in self._scan().get(workload, []) if _state(p) not in ("Z", "X", None)]

    def members(self, workload: str, handle: Handle | None) -> Iterator[int]:
        """The workload's processes, as evidence of who calls one of its services (compute/peers.py), cheapest first.

        Those below its first process are its own beyond doubt.  The others (daemons that left the tree) are
        found by their tag, which is only an environment variable anyone can set: with a mount namespace of its
        own, a workload's are also inside it, where another workload's processes cannot enter.
        """
        alive = self.alive(handle)
        if self.isolate:
            own = peers.mount_namespace(handle.pid) if alive else None
            if own is None or own == peers.mount_namespace(os.getpid()):
                return  # not (or not yet) in its namespace
        seen: set[int] = set()
        for fresh in (False, True):
            if fresh:
                if alive:  # a process started since the last scan is most likely below the first one
                    below = [handle.pid] + peers.descendants(handle.pid)
                    yield from (p for p in below if p not in seen)
                    seen.update(below)
                self._scan_cache = None
            for pid in self.pids(workload):
                if pid not in seen and (not self.isolate or peers.mount_namespace(pid) == own):
                    seen.add(pid)
                    yield pid

    def usage(self, workload: str) -> Usage:
        u = Usage()
        for pid in self.pids(workload):
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
            except (OSError, IndexError, ValueError):
                continue
        return u

    # -- stop -------------------------------------------------------------------------------
    async def stop(self, workload: str, handle: Handle | None, grace: float = 2.0) -> None:
        """Stop every process of the workload: TERM, a grace period, then KILL."""
        self._signal_all(workload, handle, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            self._scan_cache = None
            if not self.pids(workload) and not self.alive(handle):
                break
            await asyncio.sleep(0.05)
        for _ in range(20):
            self._scan_cache = None
            self._signal_all(workload, handle, signal.SIGKILL)
            if not self.pids(workload):
                break
            await asyncio.sleep(0.05)
        if handle is not None:
            _reap(handle.pid)

    async def stop_many(self, workloads: list[tuple[str, Handle | None]], grace: float = 2.0) -> None:
        """Stop many workloads at once (shutdown, reset): one TERM for all, one grace period, then KILL."""
        if not workloads:
            return
        tags = {w for w, _ in workloads}
        self._scan_cache = None
        for workload, handle in workloads:
            self._signal_all(workload, handle, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            self._scan_cache = None
            if not any(t in tags for t in self._scan()):
                break
            await asyncio.sleep(0.05)
        for _ in range(20):
            self._scan_cache = None
            left = [t for t in self._scan() if t in tags]
            if not left:
                break
            for workload, handle in workloads:
                self._signal_all(workload, handle, signal.SIGKILL)
            await asyncio.sleep(0.05)
        for _, handle in workloads:
            if handle is not None:
                _reap(handle.pid)

    def kill_now(self, workload: str, handle: Handle | None) -> None:
        """Fault injection: every process of the workload dies at once, as in a crash."""
        self._scan_cache = None
        self._signal_all(workload, handle, signal.SIGKILL)
        if handle is not None:
            _reap(handle.pid)

    def _signal_all(self, workload: str, handle: Handle | None, sig: int) -> None:
        if handle is not None and self.alive(handle):
            try:
                os.killpg(handle.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in self._scan().get(workload, []):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        self._scan_cache = None


def overlaid(disk: str | Path) -> list[str]:
    """The host directories an isolated workload's disk is laid over (its writes there land on the disk)."""
    out = []
    for d in OVERLAID:
        target = "/" + d
        if os.path.isdir(target) and not _contains(target, str(disk)):  # overlaying the disk's own home would loop
            out.append(target)
    return out


def _q(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _contains(directory: str, path: str) -> bool:
    d = os.path.realpath(directory).rstrip("/") + "/"
    return os.path.realpath(path).startswith(d)


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
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    except OSError:
        pass
