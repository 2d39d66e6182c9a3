"""The generated boot script, run by sh on a directory standing for the instance's disk (no kumo, no namespace):
cloud-init's order, its frequencies kept in semaphores on the disk, and disks booted before semaphores existed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from kumo.services.ec2 import userdata

USER_DATA = b"""#cloud-config
bootcmd:
  - echo ORDER bootcmd
write_files:
  - path: /var/lib/cloud/scripts/per-instance/i
    permissions: '0755'
    content: "#!/bin/sh\\necho ORDER per-instance\\n"
runcmd:
  - echo ORDER runcmd
"""


def boot(disk: Path, data: bytes = USER_DATA, iid: str = "i-1") -> list[str]:
    """Boot once (without the final wait) and return the ORDER marks it printed."""
    plan = userdata.plan(data)
    scripts = disk / ".kumo" / "scripts"
    (scripts / "user").mkdir(parents=True, exist_ok=True)
    (scripts / "files").mkdir(exist_ok=True)
    for name, body, _ in plan.scripts:
        (scripts / "user" / name).write_bytes(body)
        (scripts / "user" / name).chmod(0o755)
    for n, f in enumerate(plan.files):
        (scripts / "files" / str(n)).write_bytes(f["content"])
    (scripts / "runcmd").write_text(userdata.runcmd_script(plan))
    (disk / ".kumo" / "clock").write_text(userdata.clock_view(1_000_000_000.0, 1_000_000_000.0, 0))
    script = userdata.boot_script(plan, str(disk), iid, str(scripts), [str(disk)])
    script = script.replace("exec sleep infinity\n", "")
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "Sun, 09 Sep 2001 01:46:40 +0000" in out.stdout  # the clock view, frozen at 1e9
    return re.findall(r"^ORDER (\S+)$", out.stdout, re.M)


def test_first_boot_then_every_boot(tmp_path):
    assert boot(tmp_path) == ["bootcmd", "per-instance", "runcmd"]
    assert boot(tmp_path) == ["bootcmd"]
    sem = tmp_path / "var/lib/cloud/instances/i-1/sem"
    assert {p.name for p in sem.iterdir()} == {"config_write_files", "config_scripts_per_instance",
                                               "config_scripts_user"}
    assert (tmp_path / "var/lib/cloud/sem/config_scripts_per_once.once").exists()


def test_a_new_instance_id_on_the_same_disk_runs_per_instance_modules_again(tmp_path):
    boot(tmp_path, iid="i-1")
    assert boot(tmp_path, iid="i-2") == ["bootcmd", "per-instance", "runcmd"]


def test_scripts_user_always_runs_user_scripts_and_runcmd_at_every_boot(tmp_path):
    data = USER_DATA + b"cloud_final_modules:\n  - [scripts-user, always]\n"
    boot(tmp_path, data)
    assert boot(tmp_path, data) == ["bootcmd", "runcmd"]


def test_a_disk_booted_before_semaphores_does_not_run_its_user_data_again(tmp_path):
    legacy = tmp_path / "var/lib/cloud/instances/i-1"
    legacy.mkdir(parents=True)
    (legacy / "boot-finished").write_text("Thu Jan  1 00:00:00 UTC 2026\n")
    (tmp_path / "var/lib/cloud/data").mkdir(parents=True)
    (tmp_path / "var/lib/cloud/data/once-done").touch()
    once = tmp_path / "var/lib/cloud/scripts/per-once"
    once.mkdir(parents=True)
    (once / "o").write_text("#!/bin/sh\necho ORDER per-once\n")
    (once / "o").chmod(0o755)
    assert boot(tmp_path) == ["bootcmd"]
