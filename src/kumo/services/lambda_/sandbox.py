"""Where a Lambda environment's runtime process runs: its file system view and its memory limit.

AWS runs a function with its code read-only at /var/task, its layers at /opt,
a private /tmp of EphemeralStorage MB and a hard memory limit of MemorySize
MB.  kumo reproduces that on this machine with what the host offers:

* **As root**, each environment starts in a mount namespace of its own
  (``unshare --mount``): the unpacked code is bind-mounted read-only at
  /var/task, kumo's runtime clients at /var/runtime, the layers are laid over
  the host's /opt with a read-only overlay (later layers on top, as AWS
  applies them), and /tmp is a tmpfs of EphemeralStorage MB.  The rest of the
  file system is the host's, so the host's interpreters and tools are there.
  kumo creates the empty mount points /var/task, /var/runtime and
  /var/lib/kumo/host-tmp on the host the first time.  A runtime interpreter
  that lives under the host's /tmp (a virtualenv of a checkout there) is
  bound back at its own path inside the environment's /tmp.
* **Memory** is a cgroup's hard limit (cgroup v2 ``memory.max``, or v1
  ``memory.limit_in_bytes``) of MemorySize MB, in a parent cgroup named after
  kumo's data directory.  The kernel kills a runtime that goes past it, which
  kumo reports as AWS does (Runtime.OutOfMemory).  The cgroup's peak usage is
  the REPORT line's Max Memory Used.  Without a writable memory cgroup the
  limit is RLIMIT_AS of MemorySize + 256 MB (address space, not resident
  memory: a Python function then gets MemoryError; Node.js and Java are bounded
  only by their heap flags) and the peak is the process's VmHWM.
* **Without root** the code runs from its unpacked directory
  (LAMBDA_TASK_ROOT names it), layers are found by kumo's runtime clients
  through an argument instead of /opt, and /tmp is the host's.
"""

from __future__ import annotations

import hashlib
import logging
import os
import resource
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ...dataplane.compute import peers

log = logging.getLogger("kumo.lambda")

MOUNT_TASK = "/var/task"
MOUNT_RUNTIME = "/var/runtime"
# Where the host's /tmp is reached for a moment while an environment's own /tmp is set up: an interpreter
# that lives under the host's /tmp (a virtualenv in a checkout there, as CI makes) stays visible at its path.
MOUNT_HOST_TMP = "/var/lib/kumo/host-tmp"
RUNTIME_CLIENTS = Path(__file__).with_name("runtimes")


@dataclass
class LaunchSpec:
    """One runtime process: what to run and how it sees the machine."""

    env_id: str
    argv: list[str]  # the runtime command as seen inside the environment (paths under /var/task, /var/runtime)
    env: dict[str, str]
    code_dir: str  # unpacked code (host path)
    layer_dirs: list[str] = field(default_factory=list)  # unpacked layers, in the function's order
    memory_mb: int = 128
    tmp_mb: int = 512
    address_space_limit: bool = True  # RLIMIT_AS fallback applies (not for Node.js)


@dataclass
class Launched:
    proc: subprocess.Popen
    output_fd: int  # read end of the pipe carrying stdout and stderr
    cgroup: str | None
    task_root: str  # LAMBDA_TASK_ROOT as the process sees it
    peak_fd: int | None = None  # the cgroup's peak-usage file, kept open (read after every invocation)


class Sandbox:
    """Starts runtime processes with the isolation this host allows (probed once)."""

    def __init__(self, data_dir: str):
        self.namespaces = _probe_namespaces()
        self.cgroups = CgroupTree.create(data_dir)
        if self.cgroups is not None:
            self.cgroups.kill_leftovers()
        log.info("lambda sandbox: mount namespaces %s, memory cgroups %s",
                 "on" if self.namespaces else "off", self.cgroups.kind if self.cgroups else "off (RLIMIT_AS)")

    def describe(self) -> dict:
        return {"namespaces": self.namespaces, "cgroups": self.cgroups.kind if self.cgroups else None}

    def runtime_dir(self) -> str:
        return MOUNT_RUNTIME if self.namespaces else str(RUNTIME_CLIENTS)

    def task_root(self, code_dir: str) -> str:
        return MOUNT_TASK if self.namespaces else code_dir

    def launch(self, spec: LaunchSpec) -> Launched:
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        cgroup = self.cgroups.make(spec.env_id, spec.memory_mb) if self.cgroups else None
        env = dict(spec.env)
        preexec = None
        if cgroup is None and spec.address_space_limit:
            preexec = _address_space_limit(max(spec.memory_mb, 128))
        if self.namespaces:
            argv = ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                    _mount_script(spec, str(RUNTIME_CLIENTS)), "kumo-lambda"]
            cwd = "/"
        else:
            argv = list(spec.argv)
            cwd = spec.code_dir
        try:
            proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=write_fd,
                                    stderr=write_fd, start_new_session=True, close_fds=True, preexec_fn=preexec)
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            if cgroup:
                self.cgroups.remove(cgroup)
            raise
        finally:
            try:
                os.close(write_fd)
            except OSError:
                pass
        peak_fd = None
        if cgroup is not None:
            self.cgroups.adopt(cgroup, proc.pid)
            peak_fd = self.cgroups.open_peak(cgroup)
        os.set_blocking(read_fd, False)
        return Launched(proc, read_fd, cgroup, self.task_root(spec.code_dir), peak_fd)

    def members(self, launched: Launched):
        """The environment's processes, cheapest first: the runtime, then its cgroup or its descendants."""
        pid = launched.proc.pid
        yield pid
        rest = self.cgroups.pids(launched.cgroup) if launched.cgroup is not None else peers.descendants(pid)
        yield from (p for p in rest if p != pid)

    # -- after the fact ---------------------------------------------------------------------------
    def peak_memory_mb(self, launched: Launched) -> int:
        if launched.peak_fd is not None:
            try:
                return max(1, round(int(os.pread(launched.peak_fd, 64, 0)) / 1048576))
            except (OSError, ValueError):
                pass
        if launched.cgroup is not None:
            peak = self.cgroups.peak(launched.cgroup)
            if peak is not None:
                return max(1, round(peak / 1048576))
        return _vm_hwm_mb(launched.proc.pid)

    def oom_killed(self, launched: Launched) -> bool:
        if launched.cgroup is not None:
            return self.cgroups.oom_kills(launched.cgroup) > 0
        return False

    def kill(self, launched: Launched) -> None:
        """SIGKILL the runtime and everything it started."""
        pid = launched.proc.pid
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if launched.cgroup is not None:
            self.cgroups.kill_all(launched.cgroup)

    def release(self, launched: Launched) -> None:
        """Forget a dead environment's cgroup (its processes are gone)."""
        if launched.peak_fd is not None:
            try:
                os.close(launched.peak_fd)
            except OSError:
                pass
            launched.peak_fd = None
        if launched.cgroup is not None:
            self.cgroups.remove(launched.cgroup)

    def close(self) -> None:
        if self.cgroups is not None:
            self.cgroups.kill_leftovers()
            self.cgroups.remove_root()


def _mount_script(spec: LaunchSpec, runtime_clients: str) -> str:
    q = shlex.quote
    lines = ["set -e", f"mount --bind -o ro {q(spec.code_dir)} {MOUNT_TASK}",
             f"mount --bind -o ro {q(runtime_clients)} {MOUNT_RUNTIME}"]
    if spec.layer_dirs:
        lowers = ":".join([q(d) for d in reversed(spec.layer_dirs)] + ["/opt"])
        lines.append(f"mount -t overlay overlay -o ro,lowerdir={lowers} /opt")
    # /tmp last: the code may be unpacked under the host's /tmp.
    keep = _under_host_tmp(spec.argv[0]) if spec.argv else None
    if keep:
        lines.append(f"mount --bind /tmp {MOUNT_HOST_TMP}")
    lines.append(f"mount -t tmpfs -o size={int(spec.tmp_mb)}m,mode=1777 tmpfs /tmp")
    if keep:
        lines += [f"mkdir -p {q(keep)}", f"mount --bind -o ro {q(MOUNT_HOST_TMP + keep[len('/tmp'):])} {q(keep)}",
                  f"umount {MOUNT_HOST_TMP}"]
    lines.append(f"cd {MOUNT_TASK}")
    lines.append("exec " + " ".join(q(a) for a in spec.argv))
    return "\n".join(lines)


def _under_host_tmp(program: str) -> str | None:
    """The install root (…/bin/.. : a virtualenv, say) of a runtime program living under the host's /tmp."""
    if not program.startswith("/tmp/"):
        return None
    root = os.path.dirname(os.path.dirname(program))
    return root if root.startswith("/tmp/") else None


def _address_space_limit(memory_mb: int):
    # Address space runs ahead of resident size (interpreters map more than they touch), so the fallback
    # limit leaves 256 MB of room beyond MemorySize.
    limit = (memory_mb + 256) * 1024 * 1024

    def preexec():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return preexec


def _probe_namespaces() -> bool:
    if os.environ.get("KUMO_LAMBDA_NO_NAMESPACES"):
        return False
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("mount"):
        return False
    try:
        os.makedirs(MOUNT_TASK, exist_ok=True)
        os.makedirs(MOUNT_RUNTIME, exist_ok=True)
        os.makedirs(MOUNT_HOST_TMP, exist_ok=True)
        script = (f"mount --bind -o ro {shlex.quote(str(RUNTIME_CLIENTS))} {MOUNT_RUNTIME} && "
                  "mount -t tmpfs -o size=1m tmpfs /tmp && test -d /var/runtime/python")
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script],
                           capture_output=True, timeout=10)
        return r.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _vm_hwm_mb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return max(1, round(int(line.split()[1]) / 1024))
    except OSError:
        pass
    return 0


class CgroupTree:
    """A parent memory cgroup for kumo's environments, one child per environment."""

    def __init__(self, kind: str, root: str):
        self.kind = kind  # "v2" or "v1"
        self.root = root

    @classmethod
    def create(cls, data_dir: str) -> "CgroupTree | None":
        if os.environ.get("KUMO_LAMBDA_NO_CGROUPS") or os.name != "posix" or os.geteuid() != 0:
            return None
        name = "kumo-lambda-" + hashlib.sha256(os.path.abspath(data_dir).encode()).hexdigest()[:12]
        for kind, base in _memory_hierarchies():
            own = _own_cgroup(kind)
            for parent in ([os.path.join(base, own.lstrip("/"))] if own else []) + [base]:
                root = os.path.join(parent, name)
                try:
                    os.makedirs(root, exist_ok=True)
                    if kind == "v2":
                        _enable_memory_controller(parent)
                        _enable_memory_controller(root)
                    tree = cls(kind, root)
                    probe = tree.make("probe", 64)
                    tree.remove(probe)
                    return tree
                except OSError:
                    continue
        return None

    def make(self, env_id: str, memory_mb: int) -> str:
        path = os.path.join(self.root, env_id)
        os.makedirs(path, exist_ok=True)
        limit = str(int(memory_mb) * 1024 * 1024)
        if self.kind == "v2":
            _write(os.path.join(path, "memory.max"), limit)
            try:
                _write(os.path.join(path, "memory.swap.max"), "0")
            except OSError:
                pass
        else:
            _write(os.path.join(path, "memory.limit_in_bytes"), limit)
            try:
                _write(os.path.join(path, "memory.memsw.limit_in_bytes"), limit)
            except OSError:
                pass
        return path

    def adopt(self, path: str, pid: int) -> None:
        try:
            _write(os.path.join(path, "cgroup.procs"), str(pid))
        except OSError as exc:  # the process may already have exited
            log.debug("could not move %d into %s: %s", pid, path, exc)

    def open_peak(self, path: str) -> int | None:
        name = "memory.peak" if self.kind == "v2" else "memory.max_usage_in_bytes"
        try:
            return os.open(os.path.join(path, name), os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None

    def peak(self, path: str) -> int | None:
        name = "memory.peak" if self.kind == "v2" else "memory.max_usage_in_bytes"
        try:
            with open(os.path.join(path, name), "rb") as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def oom_kills(self, path: str) -> int:
        name = "memory.events" if self.kind == "v2" else "memory.oom_control"
        try:
            with open(os.path.join(path, name)) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            pass
        if self.kind == "v1":  # kernels without the oom_kill counter: the limit was hit at least once
            try:
                with open(os.path.join(path, "memory.failcnt")) as f:
                    return 1 if int(f.read()) > 0 else 0
            except (OSError, ValueError):
                pass
        return 0

    def pids(self, path: str) -> list[int]:
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                return [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            return []

    def kill_all(self, path: str) -> None:
        for pid in self.pids(path):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def remove(self, path: str) -> bool:
        try:
            os.rmdir(path)
            return True
        except OSError:
            return False

    def kill_leftovers(self) -> None:
        """Environments a previous kumo on this data directory left behind (after kill -9)."""
        try:
            children = [os.path.join(self.root, d) for d in os.listdir(self.root)]
        except OSError:
            return
        for child in children:
            if os.path.isdir(child):
                self.kill_all(child)
        # No waiting for the killed processes to be reaped (this runs on the event loop): a cgroup that is not
        # empty yet stays, and the next kumo on this data directory removes it.
        for child in children:
            if os.path.isdir(child):
                self.remove(child)

    def remove_root(self) -> None:
        self.remove(self.root)


def _memory_hierarchies() -> list[tuple[str, str]]:
    found = []
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
                                found.insert(0, ("v2", mount))
                    except OSError:
                        pass
                elif fstype == "cgroup" and "memory" in opts.split(","):
                    found.append(("v1", mount))
    except (OSError, ValueError, IndexError):
        pass
    return found


def _own_cgroup(kind: str) -> str | None:
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if kind == "v2" and controllers == "":
                    return path
                if kind == "v1" and "memory" in controllers.split(","):
                    return path
    except (OSError, ValueError):
        pass
    return None


def _enable_memory_controller(path: str) -> None:
    try:
        _write(os.path.join(path, "cgroup.subtree_control"), "+memory")
    except OSError:
        pass


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)
