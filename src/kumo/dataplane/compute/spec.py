"""What a workload is (``Spec``) and what kumo holds of a running one (``Handle``, ``Usage``).

These are the compute layer's whole vocabulary: a service describes a workload as a ``Spec``, gives it to a
backend (``compute.backend(...)``, today the process backend) and keeps the ``Handle`` it gets back, as a
plain dict in its record (``handle.record()`` / ``Handle.from_record``) so a restarted kumo adopts it.

    from kumo.dataplane import compute

    be = compute.backend(settings)                     # one per kumo (data directory), shared by services
    spec = compute.Spec(
        workload=f"{token}/i-0123",                    # unique tag: KUMO_WORKLOAD, cgroup name, adoption key
        command=["/bin/sh", "/run/kumo-disk/.kumo/boot.sh"],   # argv as the workload sees its file system
        env={...},
        disk=Path(".../i-0123"),                       # its own writable layer (None: read-only root)
        layers=[image_layer],                          # image layers over the host's system dirs, top first
        mounts=[compute.Mount("/var/task", code_dir)], # read-only binds (writable=True to share a dir)
        limits=compute.Limits(memory_mb=512, cpus=1.0, tmp_mb=512),
        self_ip="127.1.0.4",                           # network identity: KUMO_SELF_IP, the shim binds it
        output=console_path_or_fd,                     # stdout+stderr: a file (appended) or an open fd
        preload=shim_so,                               # LD_PRELOAD (host path; made visible inside)
    )
    handle = be.start(spec)                            # never inside a request's store transaction
    be.alive(handle); be.usage(handle); be.signal(handle, SIGSTOP)
    await be.stop(handle)                              # TERM, grace, KILL: every process of the workload
    handle = be.adopt(Handle.from_record(saved))       # after a restart: the handle if it still runs, else None

How paths look inside depends on ``be.isolation``: "full" (bubblewrap: own root file system, pid namespace),
"partial" (a mount namespace, host paths otherwise) or "none" (no root: host paths, ``cwd`` is the disk,
mounts are not applied: use their sources). ``be.view(mount)`` says where a mount's source is seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Mount:
    """A host directory (or file) made visible at ``target`` inside the workload.

    ``source`` is one path (bound, read-only unless ``writable``) or a list of directories, top first, laid
    read-only over whatever the workload already sees at ``target`` (Lambda layers over /opt).
    """

    target: str
    source: Path | str | list
    writable: bool = False


@dataclass
class Limits:
    memory_mb: int | None = None  # hard limit (cgroup); None: unlimited
    cpus: float | None = None  # CPU quota in cores (cgroup cpu.max / cfs quota); None: unlimited
    tmp_mb: int | None = None  # /tmp is a tmpfs of this size; None: /tmp on the disk (or a tmpfs without one)
    address_space_fallback: bool = True  # no memory cgroup: RLIMIT_AS of memory_mb + 256 MB instead


@dataclass
class Spec:
    workload: str  # unique tag "<owner token>/<id>"; every process carries it as KUMO_WORKLOAD
    command: list[str]  # argv, as paths look inside the workload
    env: dict[str, str]
    disk: Path | None = None  # the workload's writable layer (overlay upper); None: read-only root
    layers: list[Path] = field(default_factory=list)  # image layers laid over the host's system dirs, top first
    mounts: list[Mount] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    self_ip: str | None = None  # the workload's own loopback address (KUMO_SELF_IP)
    output: Path | int | None = None  # console file (appended) or a writable fd; None: discarded
    preload: Path | str | None = None  # a shared object for LD_PRELOAD (host path)
    hostname: str | None = None  # the workload's host name, where it has a uts namespace of its own
    cwd: str | None = None  # inside; default "/" (isolated) or the disk / first mount's source (not isolated)
    kind: str = "workload"  # "instance", "function": names the cgroup directory, for people reading it


@dataclass
class Handle:
    """A started workload. ``pid`` is its first host process (the sandbox); everything runs below it."""

    workload: str
    pid: int = 0  # 0: not started here (act on the workload's tagged processes only)
    start_ticks: int = 0  # the process's start time, so a recycled pid is never taken for it
    cgroups: dict[str, str] = field(default_factory=dict)  # controller ("memory", "cpu", "unified") -> path
    isolation: str = "none"  # how it was started: full | partial | none

    def record(self) -> dict:
        return {"workload": self.workload, "pid": self.pid, "ticks": self.start_ticks, "cgroups": self.cgroups,
                "isolation": self.isolation}

    @classmethod
    def from_record(cls, rec: dict | None, workload: str = "") -> "Handle | None":
        """A handle from ``record()`` (or an older kumo's {"pid", "ticks"}); None for None."""
        if not rec:
            return None
        return cls(rec.get("workload") or workload, int(rec.get("pid") or 0), int(rec.get("ticks") or 0),
                   dict(rec.get("cgroups") or {}), rec.get("isolation") or "partial")


@dataclass
class Usage:
    cpu_seconds: float = 0.0
    read_bytes: int = 0
    write_bytes: int = 0
    read_ops: int = 0
    write_ops: int = 0
    processes: int = 0
    memory_bytes: int = 0  # now (cgroup, else the processes' resident size)
    memory_peak_bytes: int = 0  # the cgroup's peak, else the largest VmHWM
    oom_kills: int = 0  # the kernel killed a process at the memory limit
