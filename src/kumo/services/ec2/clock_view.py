"""kumo's clock as an instance reads it: a small file on its disk (``.kumo/clock``).

A workload reads the host's wall clock; the boot script places it in kumo's
simulated time with this view (``userdata.clock_view``), so what it prints on
the console (cloud-init's "running" and "finished" lines, the semaphores'
times) carries kumo's time.  The view is written at every boot, and again on
every live instance's disk whenever kumo's time jumps or changes pace and
when kumo starts (it adopts instances that kept running).
"""

from __future__ import annotations

import logging
from pathlib import Path

from ...core.paths import Tree
from . import userdata
from .lifecycle import KIND

log = logging.getLogger("kumo.ec2")

FILE = ".kumo/clock"


def write(kumo, disk: Path) -> None:
    # The instance owns its disk and may have left symlinks on it: the write never follows one.
    Tree(disk, replace=True).write(FILE, userdata.clock_view(*kumo.clock.wall_view()).encode())


def follow(kumo, rt) -> None:
    """Keep every live instance's view current as kumo's time jumps or changes pace."""

    def changed() -> None:
        for _, iid, inst in kumo.store.all(KIND):
            if inst["State"]["Name"] in ("pending", "running", "stopping", "shutting-down"):
                disk = rt.disk(iid)
                if disk.is_dir():
                    try:
                        write(kumo, disk)
                    except OSError as exc:
                        log.debug("%s: clock view not written: %s", iid, exc)

    kumo.clock.observe(changed)
    # A restarted kumo resumes its clock where it left off, not where the views of the instances it adopts
    # would have carried on to.
    kumo.on_start(changed)
