"""How a workload is walled in: the command lines that start it, by isolation level.

* **full** (root, bubblewrap installed): ``unshare --mount`` gives a private mount namespace where kumo lays
  the workload's root file system out with overlayfs (bubblewrap 0.8, Debian 12's, has no overlay option):
  a skeleton with the image layers over it and the workload's disk as the upper layer, and each host system
  directory (``SYSTEM_DIRS``) overlaid the same way (host dir as the lowest layer, writes to the disk), then
  ``bwrap`` makes that the root, in a pid, ipc and uts namespace of its own, with its own /proc, /dev, /run
  and /tmp, /sys read-only, kumo's data directory masked, capabilities dropped to ``CAPS`` and
  no_new_privs.  Mounts are made in that private namespace and vanish with the workload.
* **partial** (root, no bubblewrap): the mount namespace alone, as kumo did before bubblewrap: the disk is
  laid over the host's ``OVERLAID`` directories, /tmp is its own, the rest is the host's.
* **none**: the command runs as it is, from its disk (docs/compute.md says what that leaves open).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from .spec import Mount, Spec

SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "opt", "srv", "var")
# Inside a system dir, but never the host's: shared scratch space (another kumo's data directory may be there).
PRIVATE_DIRS = ("var/tmp",)
OVERLAID = ("etc", "var", "opt", "srv", "home", "root", "usr/local")  # partial isolation
STAGE = "/run/kumo/sandbox"  # mounted over (a tmpfs) inside each workload's private mount namespace only
PRELOAD_INSIDE = "/run/kumo/preload.so"
# What root inside may still do: Docker's default set without NET_RAW (it could read other workloads'
# loopback traffic on the shared network) and MKNOD.  No CAP_SYS_ADMIN: no mount, no unshare, no setns.
CAPS = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETPCAP", "CAP_SETFCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE")

q = shlex.quote


def probe() -> str:
    """The isolation this host allows: full, partial or none (KUMO_NO_ISOLATION=1 forces none)."""
    if os.environ.get("KUMO_NO_ISOLATION"):
        return "none"
    if os.name != "posix" or not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("unshare"):
        return "none"
    try:
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True, timeout=10)
        if r.returncode != 0:
            return "none"
    except (OSError, subprocess.SubprocessError):
        return "none"
    if os.environ.get("KUMO_PARTIAL_ISOLATION") or not shutil.which("bwrap"):
        return "partial"
    try:
        r = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid",
                            "--cap-drop", "ALL", "true"], capture_output=True, timeout=10)
        return "full" if r.returncode == 0 else "partial"
    except (OSError, subprocess.SubprocessError):
        return "partial"


def _sources(m: Mount) -> list[str]:
    return [str(s) for s in m.source] if isinstance(m.source, (list, tuple)) else [str(m.source)]


def _is_system(path: str) -> bool:
    """Whether the workload sees the host's ``path`` (through a host system dir laid under its root)."""
    rel = path.strip("/")
    if any(rel == d or rel.startswith(d + "/") for d in PRIVATE_DIRS):
        return False
    return rel.split("/", 1)[0] in SYSTEM_DIRS


# -- full ---------------------------------------------------------------------------------------------
def enter_lines(cgroups: dict[str, str], rlimit_bytes: int | None) -> list[str]:
    """Shell lines that put the sandbox into its cgroups (and limits) before its first program runs.

    Done by the sandbox's own shell rather than a preexec function, which would make every start fork
    kumo's whole address space instead of spawning."""
    lines = [f"echo $$ > {q(path + '/cgroup.procs')}" for path in cgroups.values()]
    if rlimit_bytes:
        lines.append(f"ulimit -v {int(rlimit_bytes) // 1024}")
    return lines


def full_argv(spec: Spec, hidden: list[str], cwd: str, enter: list[str] = ()) -> list[str]:
    """unshare + staging script + bwrap: the argv that starts ``spec`` fully isolated."""
    script = "\n".join([*enter, _stage_script(spec)])
    return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "kumo-sandbox",
            *_bwrap_args(spec, hidden, cwd)]


def _stage_script(spec: Spec) -> str:
    disk = str(spec.disk) if spec.disk else None
    root, skel = f"{STAGE}/root", f"{STAGE}/skel"
    lines = ["set -e", f"mount -t tmpfs -o mode=0700 kumo-sandbox {STAGE}", f"mkdir {root} {skel} {skel}2",
             f"cd {skel}", "mkdir -p proc dev sys tmp run home mnt root", "chmod 0700 root"]
    system = []
    for d in SYSTEM_DIRS:
        host = "/" + d
        if os.path.islink(host):
            lines.append(f"ln -s {q(os.readlink(host))} {d}")
        elif os.path.isdir(host):
            system.append(d)
    for m in spec.mounts:  # mount points live in the skeleton, so the disk gets none of them
        lines.append(f"mkdir -p {q('.' + m.target)}" if not os.path.isfile(_sources(m)[0])
                     else f"mkdir -p {q('.' + os.path.dirname(m.target))} && touch {q('.' + m.target)}")
    lines.append(f"mkdir -p {' '.join(system)}" if system else "true")
    lines.append("cd /")
    layers = [str(p) for p in spec.layers]
    lines.append(_overlay(layers + [skel], disk and f"{disk}/upper", disk and f"{disk}/work/_root", root,
                          f"{skel}2"))
    for d in system:
        lowers = [f"{layer}/{d}" for layer in layers if os.path.isdir(f"{layer}/{d}")] + [f"/{d}", f"{skel}/{d}"]
        lines.append(_overlay(lowers, disk and f"{disk}/upper/{d}", disk and f"{disk}/work/{d}", f"{root}/{d}"))
    for d in PRIVATE_DIRS:
        if d.split("/", 1)[0] in system:
            lowers = [f"{layer}/{d}" for layer in layers if os.path.isdir(f"{layer}/{d}")] + [f"{skel}/{d}"]
            lines.append(f"mkdir -p {skel}/{d} {root}/{d}")
            lines.append(_overlay(lowers, disk and f"{disk}/upper/{d}", disk and f"{disk}/work/{d.replace('/', '_')}",
                                  f"{root}/{d}", f"{skel}2"))
    for m in spec.mounts:
        sources = _sources(m)
        if isinstance(m.source, (list, tuple)):  # read-only layers over what the workload sees there
            if sources:
                lines.append(f"mount -t overlay overlay -o ro,lowerdir={':'.join(sources + [root + m.target])}"
                             f" {q(root + m.target)}")
    return "\n".join(lines) + '\nexec bwrap "$@"\n'


def _overlay(lowers: list[str], upper: str | None, work: str | None, target: str, spare: str | None = None) -> str:
    if upper and work:
        prep = f"mkdir -p {q(upper)} {q(work)} && "
        opts = f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work}"
    else:
        prep = ""
        if len(lowers) < 2 and spare:
            lowers = lowers + [spare]
        opts = f"ro,lowerdir={':'.join(lowers)}"
    return f"{prep}mount -t overlay overlay -o {q(opts)} {q(target)}"


def _bwrap_args(spec: Spec, hidden: list[str], cwd: str) -> list[str]:
    # /proc/sys is the host's kernel settings (core_pattern runs a program as host root): read-only, like /sys.
    a = ["--bind", f"{STAGE}/root", "/", "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev",
         "--ro-bind", "/sys", "/sys", "--tmpfs", "/run"]
    tmp_mb = spec.limits.tmp_mb
    if tmp_mb or not spec.disk:
        a += ["--size", str(int(tmp_mb or 512) * 1048576), "--perms", "1777", "--tmpfs", "/tmp"]
    else:
        a += ["--bind", str(spec.disk / "tmp"), "/tmp"]
    for m in spec.mounts:
        if isinstance(m.source, (list, tuple)):
            continue  # laid by the staging script
        a += ["--bind" if m.writable else "--ro-bind", str(m.source), m.target]
    if spec.preload:
        a += ["--ro-bind", str(spec.preload), PRELOAD_INSIDE, "--setenv", "LD_PRELOAD", PRELOAD_INSIDE]
    for path in _outermost(hidden):  # kumo's data directory, where a host system dir holds it
        if _is_system(path) and os.path.isdir(path):
            a += ["--tmpfs", path, "--remount-ro", path]
    if spec.hostname:
        a += ["--hostname", spec.hostname]
    a += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--new-session",
          "--cap-drop", "ALL"]
    for cap in CAPS:
        a += ["--cap-add", cap]
    a += ["--chdir", cwd, "--", *spec.command]
    return a


def _outermost(paths: list[str]) -> list[str]:
    """The paths not inside another of them (a mask over the outer one hides the inner one too)."""
    out: list[str] = []
    for p in sorted(paths, key=len):
        if not any(p == o or p.startswith(o.rstrip("/") + "/") for o in out):
            out.append(p)
    return out


# -- partial ------------------------------------------------------------------------------------------
DISK_ALIAS = "/run/kumo-disk"  # where partial isolation binds the disk (its overlay layers live there)


def partial_argv(spec: Spec, hidden: list[str], cwd: str, enter: list[str] = ()) -> list[str]:
    lines = ["set -e", *enter]
    disk = str(spec.disk) if spec.disk else None
    if disk:
        os.makedirs(DISK_ALIAS, exist_ok=True)
        lines.append(f"mount --bind {q(disk)} {DISK_ALIAS}")
        for target in overlaid(disk):
            d = target[1:]
            upper, work = f"{DISK_ALIAS}/upper/{d}", f"{DISK_ALIAS}/work/{d}"
            lowers = ":".join([str(layer / d) for layer in spec.layers if (layer / d).is_dir()] + [target])
            lines.append(f"mkdir -p {q(upper)} {q(work)}")
            lines.append(f"mount -t overlay overlay -o lowerdir={lowers},upperdir={upper},workdir={work} {target}"
                         f" || echo '[kumo] could not overlay {target}'")
    for m in spec.mounts:
        sources = _sources(m)
        if disk and m.target == DISK_ALIAS:
            continue  # bound above
        if not os.path.isfile(sources[0]):
            os.makedirs(m.target, exist_ok=True)
        if isinstance(m.source, (list, tuple)):
            if sources:
                lines.append(f"mount -t overlay overlay -o ro,lowerdir={':'.join(sources + [m.target])} {q(m.target)}")
        elif m.source != m.target or not m.writable:
            lines.append(f"mount --bind {'' if m.writable else '-o ro '}{q(sources[0])} {q(m.target)}")
    keep = _under_host_tmp(spec.command[0]) if spec.command else None
    if keep:  # an interpreter under the host's /tmp (a virtualenv of a checkout there) stays visible
        os.makedirs(HOST_TMP, exist_ok=True)
        lines.append(f"mount --bind /tmp {HOST_TMP}")
    if spec.limits.tmp_mb or not disk:
        lines.append(f"mount -t tmpfs -o size={int(spec.limits.tmp_mb or 512)}m,mode=1777 tmpfs /tmp")
    else:
        lines.append(f"mount --bind {DISK_ALIAS}/tmp /tmp")
    if keep:
        lines += [f"mkdir -p {q(keep)}", f"mount --bind -o ro {q(HOST_TMP + keep[len('/tmp'):])} {q(keep)}",
                  f"umount {HOST_TMP}"]
    lines.append("set +e")
    if spec.preload and disk:
        lines.append(f"export LD_PRELOAD={DISK_ALIAS}/.kumo/preload.so")  # copied there by the backend
    lines.append(f"cd {q(cwd)}")
    lines.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", "\n".join(lines) + "\n",
            "kumo-sandbox", *spec.command]


HOST_TMP = "/var/lib/kumo/host-tmp"


def _under_host_tmp(program: str) -> str | None:
    if not program.startswith("/tmp/"):
        return None
    root = os.path.dirname(os.path.dirname(program))
    return root if root.startswith("/tmp/") else None


def overlaid(disk: str | Path) -> list[str]:
    """The host directories a partially isolated workload's disk is laid over."""
    out = []
    for d in OVERLAID:
        target = "/" + d
        if os.path.isdir(target) and not _contains(target, str(disk)):  # overlaying the disk's own home would loop
            out.append(target)
    return out


def _contains(directory: str, path: str) -> bool:
    d = os.path.realpath(directory).rstrip("/") + "/"
    return os.path.realpath(path).startswith(d)
