"""Memory and CPU limits for workloads: one cgroup per workload under a parent named after kumo's data directory.

cgroup v2 where the unified hierarchy has the controllers (``memory.max``, ``cpu.max``), else cgroup v1
(``memory.limit_in_bytes``, ``cpu.cfs_quota_us``), each hierarchy found in /proc/self/mountinfo and used
below kumo's own cgroup when that is writable (a container's), else at the hierarchy's root.  A workload's
shell joins its cgroups before its first program runs (``isolation.enter_lines``), so nothing it starts escapes.
"""

from __future__ import annotations

import hashlib
import logging
import os

log = logging.getLogger("kumo.dataplane.compute")

CPU_PERIOD_US = 100_000


class CgroupTree:
    def __init__(self, kind: str, roots: dict[str, str]):
        self.kind = kind  # "v2" or "v1"
        self.roots = roots  # controller -> parent directory ("unified" for v2; "memory", "cpu" for v1)

    @classmethod
    def create(cls, data_dir: str) -> "CgroupTree | None":
        if os.environ.get("KUMO_NO_CGROUPS") or os.name != "posix" or os.geteuid() != 0:
            return None
        name = "kumo-" + hashlib.sha256(os.path.abspath(data_dir).encode()).hexdigest()[:12]
        found = _hierarchies()
        if "v2" in found:
            root = _make_root(found["v2"], "", name, v2=True)
            if root:
                return cls("v2", {"unified": root})
        roots = {}
        for controller in ("memory", "cpu"):
            base = found.get(controller)
            root = _make_root(base, controller, name) if base else None
            if root:
                roots[controller] = root
        return cls("v1", roots) if "memory" in roots else None

    def describe(self) -> str:
        return f"{self.kind} ({', '.join(sorted(self.roots))})"

    # -- one workload --------------------------------------------------------------------------
    def make(self, name: str, memory_mb: int | None, cpus: float | None) -> dict[str, str]:
        paths = {}
        for controller, root in self.roots.items():
            path = os.path.join(root, name)
            os.makedirs(path, exist_ok=True)
            paths[controller] = path
        if self.kind == "v2":
            p = paths["unified"]
            if memory_mb:
                _write(os.path.join(p, "memory.max"), str(int(memory_mb) * 1048576))
                _try_write(os.path.join(p, "memory.swap.max"), "0")
            if cpus:
                _try_write(os.path.join(p, "cpu.max"), f"{int(cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}")
        else:
            if memory_mb:
                limit = str(int(memory_mb) * 1048576)
                _write(os.path.join(paths["memory"], "memory.limit_in_bytes"), limit)
                _try_write(os.path.join(paths["memory"], "memory.memsw.limit_in_bytes"), limit)
            if cpus and "cpu" in paths:
                _try_write(os.path.join(paths["cpu"], "cpu.cfs_period_us"), str(CPU_PERIOD_US))
                _try_write(os.path.join(paths["cpu"], "cpu.cfs_quota_us"), str(int(cpus * CPU_PERIOD_US)))
        return paths

    @staticmethod
    def pids(paths: dict[str, str]) -> list[int]:
        path = paths.get("unified") or paths.get("memory")
        if not path:
            return []
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                return [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            return []

    @staticmethod
    def peak_file(paths: dict[str, str]) -> str | None:
        if "unified" in paths:
            return os.path.join(paths["unified"], "memory.peak")
        if "memory" in paths:
            return os.path.join(paths["memory"], "memory.max_usage_in_bytes")
        return None

    @staticmethod
    def memory(paths: dict[str, str]) -> int:
        name = ("unified", "memory.current") if "unified" in paths else ("memory", "memory.usage_in_bytes")
        return _read_int(os.path.join(paths.get(name[0], "/nonexistent"), name[1])) or 0

    @staticmethod
    def oom_kills(paths: dict[str, str]) -> int:
        v2 = "unified" in paths
        base = paths.get("unified") or paths.get("memory")
        if not base:
            return 0
        try:
            with open(os.path.join(base, "memory.events" if v2 else "memory.oom_control")) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            pass
        if not v2:  # kernels without the oom_kill counter: the limit was hit at least once
            return 1 if (_read_int(os.path.join(base, "memory.failcnt")) or 0) > 0 else 0
        return 0

    @staticmethod
    def remove(paths: dict[str, str]) -> bool:
        ok = True
        for path in paths.values():
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError:
                ok = False
        return ok

    def children(self) -> list[str]:
        """Names of the workload cgroups that exist (a previous kumo's, after kill -9, included)."""
        root = self.roots.get("unified") or self.roots.get("memory")
        try:
            return [d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))]
        except OSError:
            return []

    def paths_of(self, name: str) -> dict[str, str]:
        return {c: os.path.join(r, name) for c, r in self.roots.items()}


def _make_root(base: str, controller: str, name: str, v2: bool = False) -> str | None:
    own = _own_cgroup(controller, v2)
    for parent in ([os.path.join(base, own.lstrip("/"))] if own and own != "/" else []) + [base]:
        root = os.path.join(parent, name)
        try:
            os.makedirs(root, exist_ok=True)
            if v2:
                for d in (parent, root):
                    _try_write(os.path.join(d, "cgroup.subtree_control"), "+memory +cpu")
                with open(os.path.join(root, "cgroup.controllers")) as f:
                    if "memory" not in f.read().split():
                        continue
            probe = os.path.join(root, "probe")
            os.makedirs(probe, exist_ok=True)
            os.rmdir(probe)
            return root
        except OSError:
            continue
    return None


def _hierarchies() -> dict[str, str]:
    found: dict[str, str] = {}
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                parts = line.split()
                sep = parts.index("-")
                fstype, mount, opts = parts[sep + 1], parts[4], parts[-1]
                if fstype == "cgroup2":
                    try:
                        with open(os.path.join(mount, "cgroup.controllers")) as c:
                            if "memory" in c.read().split():
                                found["v2"] = mount
                    except OSError:
                        pass
                elif fstype == "cgroup":
                    for controller in ("memory", "cpu"):
                        if controller in opts.split(","):
                            found.setdefault(controller, mount)
    except (OSError, ValueError, IndexError):
        pass
    return found


def _own_cgroup(controller: str, v2: bool) -> str | None:
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if v2 and controllers == "":
                    return path
                if not v2 and controller in controllers.split(","):
                    return path
    except (OSError, ValueError):
        pass
    return None


def _read_int(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _try_write(path: str, text: str) -> None:
    try:
        _write(path, text)
    except OSError as exc:
        log.debug("cgroup: could not write %s to %s: %s", text, path, exc)
