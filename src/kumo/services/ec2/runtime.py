"""What EC2 holds at run time (not state): the compute backend, address plan and metadata service."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

from ...dataplane import compute
from ...dataplane.compute import shim
from ...core.paths import component
from .addresses import LoopbackPlan

TOKEN_SCOPE, TOKEN_KIND, TOKEN_KEY = "", "ec2.runtime", "token"


class Ec2Runtime:
    def __init__(self, kumo):
        settings = kumo.settings
        self.kumo = kumo
        self.loopback = LoopbackPlan(settings.loopback_base)
        self.shim = shim.build()
        if settings.ephemeral:
            self.work = Path(tempfile.mkdtemp(prefix="kumo-work-"))
            self._temporary = True
        else:
            self.work = Path(settings.work_dir)
            self.work.mkdir(parents=True, exist_ok=True)
            self._temporary = False
        # The one compute backend of this kumo; instances never reach its work directory (other disks).
        self.backend = compute.backend(settings, hidden=[str(self.work)])
        tokens = kumo.store.table(TOKEN_SCOPE, TOKEN_KIND)
        saved = tokens.get(TOKEN_KEY)
        if saved is None:
            saved = tokens.put(TOKEN_KEY, {"token": secrets.token_hex(6)})
        # Tags every workload process, so kumo finds its own after a restart and never another kumo's.
        self.token = saved["token"]
        # The metadata service's port: 80 as on EC2 where kumo may bind it, else a fixed high port.
        self.imds_port = 80 if hasattr(os, "geteuid") and os.geteuid() == 0 else 16925
        from .metadata import MetadataService

        self.metadata = MetadataService(kumo, self.imds_port)

    def disk(self, instance_id: str) -> Path:
        return self.work / "ec2" / "instances" / instance_id

    def console(self, instance_id: str) -> Path:
        """The instance's console output (GetConsoleOutput), beside its disk: the instance cannot rewrite it."""
        return self.work / "ec2" / "instances" / f"{instance_id}.console.log"

    def image_dir(self, image_id: str) -> Path:
        return self.work / "ec2" / "images" / image_id

    def netmap(self, scope: str, vpc_id: str) -> Path:
        # Instances in a mount namespace of their own cannot see kumo's work directory (it may be
        # under /tmp, which is theirs), but they see the host's /run.
        base = Path("/run/kumo") / self.token if self.backend.isolate else self.work / "ec2"
        # The region in the scope comes from the request's signature: one safe file name, whatever it holds.
        return base / "netmaps" / f"{component(scope.replace('/', '_'))}_{component(vpc_id)}.map"

    def workload(self, instance_id: str) -> str:
        return f"{self.token}/{instance_id}"

    async def close(self) -> None:
        await self.metadata.close()
        if self._temporary:
            shutil.rmtree(self.work, ignore_errors=True)
            if self.backend.isolate:
                shutil.rmtree(Path("/run/kumo") / self.token, ignore_errors=True)


def runtime(ctx_or_kumo) -> Ec2Runtime:
    kumo = getattr(ctx_or_kumo, "kumo", ctx_or_kumo)
    return kumo.services["ec2"]
