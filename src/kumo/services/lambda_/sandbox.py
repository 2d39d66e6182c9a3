"""What a Lambda environment's runtime process sees, described for kumo's compute layer.

AWS runs a function with its code read-only at /var/task, its layers at /opt,
a private writable /tmp of EphemeralStorage MB, everything else read-only,
and a hard memory limit of MemorySize MB.  kumo asks its compute layer
(``dataplane/compute``, the same one that runs EC2 instances) for exactly
that: a workload with no disk of its own (a read-only root file system), the
unpacked code mounted at /var/task, kumo's runtime clients at /var/runtime,
the layers laid over /opt (later layers on top, as AWS applies them), a
tmpfs /tmp and a memory limit.  The runtime's interpreter is the host's; when
it lives outside the system directories the workload sees (a pyenv version
under /root, a virtualenv under /tmp), its install directory is mounted
read-only at its own path, and so is the compiled Java runtime client.

How walled in that is depends on the host (``compute.backend``'s isolation):
with bubblewrap as root, the environment has its own root file system, pid
namespace and /proc, so it sees neither kumo, nor kumo's data directory, nor
another function's code; with a mount namespace only, the mounts apply but
the rest is the host's; without root the code runs from its unpacked
directory (LAMBDA_TASK_ROOT names it) and layers are found by kumo's runtime
clients through an argument.  docs/lambda.md has the table.

This module never starts a process itself: ``launch`` hands a ``Spec`` to
the compute layer, and is called by the fleet's starter task.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ...dataplane import compute
from ...dataplane.compute.isolation import SYSTEM_DIRS

log = logging.getLogger("kumo.lambda")

MOUNT_TASK = "/var/task"
MOUNT_RUNTIME = "/var/runtime"
MOUNT_OPT = "/opt"
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
    host_dirs: list[str] = field(default_factory=list)  # host directories the runtime needs (interpreter, client)


@dataclass
class Launched:
    handle: compute.Handle
    output_fd: int  # read end of the pipe carrying stdout and stderr
    task_root: str  # LAMBDA_TASK_ROOT as the process sees it

    @property
    def pid(self) -> int:
        return self.handle.pid


class Sandbox:
    """Lambda's view of the compute layer: environments as compute workloads of kind "function"."""

    def __init__(self, settings):
        self.compute = compute.backend(settings)
        # Workload tags of this data directory's environments: a restarted kumo finds what a killed one left.
        self.prefix = "lambda-" + hashlib.sha256(os.path.abspath(settings.data_dir).encode()).hexdigest()[:12] + "/"
        self.kill_leftovers()
        log.info("lambda environments: isolation %s", self.compute.isolation)

    @property
    def namespaces(self) -> bool:
        """Whether mounts apply (/var/task, /opt ...), i.e. the environment has a file system view of its own."""
        return self.compute.isolate

    def runtime_dir(self) -> str:
        return MOUNT_RUNTIME if self.namespaces else str(RUNTIME_CLIENTS)

    def task_root(self, code_dir: str) -> str:
        return MOUNT_TASK if self.namespaces else code_dir

    def launch(self, spec: LaunchSpec) -> Launched:
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        mounts = [compute.Mount(MOUNT_TASK, spec.code_dir), compute.Mount(MOUNT_RUNTIME, str(RUNTIME_CLIENTS))]
        if spec.layer_dirs:
            mounts.append(compute.Mount(MOUNT_OPT, list(reversed(spec.layer_dirs))))  # top first
        if self.compute.isolation == "full":  # with a root file system of its own, the runtime needs its program
            mounts += [compute.Mount(d, d) for d in _outside_system(spec.host_dirs)]
        cspec = compute.Spec(
            workload=self.prefix + spec.env_id, command=list(spec.argv), env=spec.env, disk=None, mounts=mounts,
            limits=compute.Limits(memory_mb=spec.memory_mb, tmp_mb=spec.tmp_mb,
                                  address_space_fallback=spec.address_space_limit),
            output=write_fd, cwd=self.task_root(spec.code_dir), kind="function")
        try:
            handle = self.compute.start(cspec)
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        os.set_blocking(read_fd, False)
        return Launched(handle, read_fd, self.task_root(spec.code_dir))

    def members(self, launched: Launched):
        """The environment's processes, cheapest first (the Runtime API's caller check)."""
        return self.compute.members(launched.handle)

    # -- after the fact ---------------------------------------------------------------------------
    def peak_memory_mb(self, launched: Launched) -> int:
        return max(1, round(self.compute.memory_peak(launched.handle) / 1048576))

    def oom_killed(self, launched: Launched) -> bool:
        return self.compute.usage(launched.handle).oom_kills > 0

    def exit_status(self, launched: Launched) -> int | None:
        """The runtime's exit status (negative: the signal that ended it), None while it runs."""
        return self.compute.exit_status(launched.handle)

    def kill(self, launched: Launched) -> None:
        """SIGKILL the runtime and everything it started."""
        self.compute.kill_now(launched.handle)

    def release(self, launched: Launched) -> None:
        """Forget a dead environment (reap its process, remove its cgroup)."""
        self.compute.release(launched.handle)

    def kill_leftovers(self) -> None:
        """Environments a previous kumo on this data directory left running (after kill -9): Lambda re-creates
        environments on demand, so they only hold memory."""
        for tag in self.compute.running(self.prefix):
            self.compute.kill_now(tag)

    def close(self) -> None:
        self.kill_leftovers()


def _outside_system(dirs: list[str]) -> list[str]:
    """Those of ``dirs`` the environment's root file system lacks (not under a host system directory)."""
    out = []
    for d in dirs:
        first = d.strip("/").split("/", 1)[0]
        if d and os.path.isabs(d) and first not in SYSTEM_DIRS and os.path.isdir(d) and d not in out:
            out.append(d)
    return out


def install_root(program: str | None) -> list[str]:
    """The install directory (…/bin/..) of a runtime program, as named and as resolved (pyenv, virtualenvs)."""
    if not program:
        return []
    out = []
    for path in (os.path.abspath(program), os.path.realpath(program)):
        root = os.path.dirname(os.path.dirname(path))
        if root not in ("", "/") and root not in out:
            out.append(root)
    return out
