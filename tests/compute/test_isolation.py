"""A workload cannot reach the host or kumo: writes stay on its disk, kumo's state.db and pid are out of sight.

Runs a durable kumo (so state.db is a file) whose data directory is under a host system directory laid under
every workload's root file system: /srv (kumo must mask it there) or /var/tmp (never the host's, inside).
The user data tries every path it can think of and prints what worked; the test asserts on the console and
on the host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ..ec2.conftest import AMI, console, wait_state


def _bwrap_available() -> str | None:
    """Why full isolation cannot be tested here, or None."""
    if os.name != "posix" or os.geteuid() != 0:
        return "full isolation needs root (docs/compute.md: what runs without it)"
    if not shutil.which("bwrap"):
        return "bubblewrap is not installed and could not be (.ci/run installs it: apt-get install bubblewrap)"
    if subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "true"], capture_output=True).returncode:
        return "bubblewrap cannot create namespaces on this machine"
    return None


pytestmark = pytest.mark.skipif(_bwrap_available() is not None, reason=_bwrap_available() or "")

PROBE = """#!/bin/sh
K={kumo}; D={data}; O="{other}"
echo own > /usr/kumo-probe-{tag} && echo "own-usr=$(cat /usr/kumo-probe-{tag})"
echo own > /root/kumo-probe-{tag} && echo "own-root=$(cat /root/kumo-probe-{tag})"
for p in "/proc/$K/root$D/state.db" "$D/state.db" "/proc/1/root$D/state.db" /proc/*/root"$D/state.db" \\
         "/proc/self/root$D/state.db" "/proc/$K/cwd/state.db"; do
  head -c 16 "$p" >/dev/null 2>&1 && echo "READ $p"
done
[ -e "$D/state.db" ] && echo "EXISTS $D/state.db"
find / -xdev -path "*{unique}/data/*" 2>/dev/null | sed 's/^/FOUND /'
find /proc/*/root/ -maxdepth 7 -path "*{unique}/data/*" 2>/dev/null | sed 's/^/FOUND /'
[ -n "$(ls -A "$D" 2>/dev/null)" ] && echo "LISTED $D"
ls /proc | grep -qx "$K" && echo "SEES-KUMO-PID"
kill -0 "$K" 2>/dev/null && echo "CAN-SIGNAL-KUMO"
kill -TERM "$K" 2>/dev/null && echo "SIGNALLED-KUMO"
for p in $O; do kill -0 "$p" 2>/dev/null && echo "CAN-SIGNAL-OTHER $p"; kill -STOP "$p" 2>/dev/null && echo "STOPPED-OTHER"; done
nsenter -t 1 -m -- cat "$D/state.db" >/dev/null 2>&1 && echo "NSENTER-READ"
mount -t tmpfs x /mnt 2>/dev/null && echo "CAN-MOUNT"
# The host's kernel settings: the same value written back (harmless if it were allowed).
v=$(cat /proc/sys/kernel/core_pattern); (echo "$v" > /proc/sys/kernel/core_pattern) 2>/dev/null && echo "WROTE-SYSCTL"
v=$(cat /sys/kernel/uevent_helper 2>/dev/null); (echo "$v" > /sys/kernel/uevent_helper) 2>/dev/null && echo "WROTE-SYSFS"
ls /dev | grep -qE '^(sd|vd|nvme|xvd|mem$|kmem$)' && echo "SEES-DISKS"
echo "pids-visible=$(ls /proc | grep -c '^[0-9]')"
echo probe-done
"""


@pytest.fixture(params=["/srv", "/var/tmp"])
def durable_kumo(kumo_process, request):
    data = Path(tempfile.mkdtemp(prefix="kumo-isolation-", dir=request.param))
    k = kumo_process(data_dir=data / "data").start()
    yield k
    k.close()
    shutil.rmtree(data, ignore_errors=True)


def _host_pids(instance_id: str) -> list[int]:
    """The host pids of an instance's processes (found by their KUMO_WORKLOAD tag)."""
    found = []
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and f"/{instance_id}\0".encode() in open(f"/proc/{entry.name}/environ",
                                                                              "rb").read():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_user_data_cannot_reach_the_host_kumo_or_its_state(durable_kumo):
    k = durable_kumo
    data = os.path.realpath(k.data_dir)
    assert os.path.exists(f"{data}/state.db")
    tag = os.urandom(4).hex()
    ec2 = k.client("ec2")
    # Another instance first: the probe gets its host pids, and must not be able to signal them either.
    other = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                              UserData="#!/bin/sh\necho other-up\n")["Instances"][0]["InstanceId"]
    console(ec2, other, "other-up")
    other_pids = _host_pids(other)
    assert other_pids
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                            UserData=PROBE.format(kumo=k.proc.pid, data=data, tag=tag, unique=Path(data).parent.name,
                                                  other=" ".join(map(str, other_pids))))["Instances"][0]["InstanceId"]
    try:
        wait_state(ec2, [iid], "running")
        out = console(ec2, iid, "probe-done", timeout=60)
        # Its writes worked, on its own disk: neither the host's /usr nor /root got them.
        assert "own-usr=own" in out and "own-root=own" in out, out
        assert not os.path.exists(f"/usr/kumo-probe-{tag}")
        assert not os.path.exists(f"/root/kumo-probe-{tag}")
        assert os.path.exists(f"{data}/work/ec2/instances/{iid}/upper/usr/kumo-probe-{tag}")
        for forbidden in ("READ ", "EXISTS ", "FOUND ", "LISTED ", "SEES-KUMO-PID", "CAN-SIGNAL-KUMO",
                          "SIGNALLED-KUMO", "CAN-SIGNAL-OTHER", "STOPPED-OTHER", "NSENTER-READ", "CAN-MOUNT",
                          "WROTE-SYSCTL", "WROTE-SYSFS", "SEES-DISKS"):
            assert forbidden not in out, out
        # Its own pid namespace: a handful of its own processes, none of the host's.
        visible = int(out.split("pids-visible=")[1].split()[0])
        assert 0 < visible < 10, out
        assert k.proc.poll() is None  # kumo lives
        assert all(_state(p) not in ("T", "t") for p in other_pids)  # the other instance was not stopped
    finally:
        ec2.terminate_instances(InstanceIds=[iid, other])
        wait_state(ec2, [iid, other], "terminated")


def _state(pid: int) -> str | None:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
