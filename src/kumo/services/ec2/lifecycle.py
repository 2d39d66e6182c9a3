"""The instance controller: moves real process trees toward each instance's desired state.

pending -> running -> stopping -> stopped -> (pending) -> running, and any
state -> shutting-down -> terminated, as EC2's state machine goes.  Handlers
set the transitional states (pending, stopping, shutting-down) and the
desired one; this controller does the work and records the outcome.  After a
restart of kumo it adopts instance processes that are still alive and boots
again those that are not, so running instances run again.
"""

from __future__ import annotations

import base64
import datetime as _dt
import logging
import os
import shutil
from pathlib import Path

from ...dataplane.compute import Handle, Mount, Spec
from ...dataplane.compute.isolation import DISK_ALIAS, overlaid
from ...core.controllers import Controller
from ...core.paths import Tree
from . import userdata
from .runtime import Ec2Runtime

log = logging.getLogger("kumo.ec2")

CONTROLLER = "ec2.instances"
KIND = "ec2.instance"
CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}
TERMINATED_VISIBLE = 3600  # AWS shows terminated instances for about an hour
CLEAN_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
             "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "LD_PRELOAD",
             "KUMO_WORKLOAD", "PYTHONPATH")


def user_time(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S GMT")


def handle_of(inst: dict, rt: Ec2Runtime | None = None) -> Handle | None:
    """The compute handle of the instance's running process tree, as its boot recorded it.

    An older kumo recorded only the pid and its start: ``rt`` names the workload for those."""
    return Handle.from_record(inst.get("_boot"), rt.workload(inst["InstanceId"]) if rt is not None else "")


def set_state(inst: dict, name: str, transition_reason: str | None = None, reason: dict | None = None) -> None:
    inst["State"] = {"Code": CODES[name], "Name": name}
    if transition_reason is not None:
        inst["StateTransitionReason"] = transition_reason
    if reason is not None:
        inst["StateReason"] = reason
    elif name == "running":
        inst.pop("StateReason", None)


def publish_state(kumo, scope: str, inst: dict) -> None:
    account, region = scope.split("/", 1)
    kumo.events.publish(account, region, "aws.ec2", "EC2 Instance State-change Notification",
                        {"instance-id": inst["InstanceId"], "state": inst["State"]["Name"]},
                        [f"arn:aws:ec2:{region}:{account}:instance/{inst['InstanceId']}"])


class InstanceController(Controller):
    name = CONTROLLER
    resync_interval = 30.0

    def __init__(self, kumo, rt: Ec2Runtime):
        self.kumo = kumo
        self.rt = rt
        self._recovering: set[str] = set()

    def keys(self):
        return [(scope, iid) for scope, iid, _ in self.kumo.store.all(KIND)]

    async def start(self) -> None:
        # Everything that should run is brought back; what is still alive is adopted, not booted twice.
        self._recovering = {iid for _, iid, inst in self.kumo.store.all(KIND)
                            if inst["_desired"] == "running" and inst["State"]["Name"] in ("running", "pending")}

    def _table(self, scope: str):
        return self.kumo.store.table(scope, KIND)

    def _save(self, scope: str, inst: dict) -> None:
        with self.kumo.store.transaction():
            self._table(scope).put(inst["InstanceId"], inst)

    def handle(self, inst: dict) -> Handle | None:
        return handle_of(inst, self.rt)

    async def reconcile(self, key) -> float | None:
        scope, iid = key
        inst = self._table(scope).get(iid)
        if inst is None:
            return None
        state, desired = inst["State"]["Name"], inst["_desired"]
        handle = self.handle(inst)
        alive = self.rt.backend.alive(handle)
        if desired == "terminated":
            return await self._terminate(scope, inst, handle)
        if desired == "stopped":
            if state in ("pending", "running", "stopping"):
                await self._halt(scope, inst, handle)
                set_state(inst, "stopped")
                inst.pop("_boot", None)
                self._save(scope, inst)
                publish_state(self.kumo, scope, inst)
            return None
        # desired running
        if inst.pop("_reboot", None):
            await self._halt(scope, inst, handle)
            await self._boot(scope, inst)
            return None
        if state == "pending" or (state == "running" and not alive and iid in self._recovering):
            await self._boot(scope, inst)
        elif state == "running" and alive:
            await self._serve_metadata(scope, inst)
        self._recovering.discard(iid)
        return None

    # -- work -----------------------------------------------------------------------------------
    async def _boot(self, scope: str, inst: dict) -> None:
        iid = inst["InstanceId"]
        disk = self.rt.disk(iid)
        spec = self._spec(scope, inst, disk)
        self.update_netmap(scope, inst["VpcId"])
        handle = self.rt.backend.start(spec)
        inst["_boot"] = {**handle.record(), "at": self.kumo.clock.now()}
        was_running = inst["State"]["Name"] == "running"
        set_state(inst, "running", "")
        self._save(scope, inst)
        await self._serve_metadata(scope, inst)
        if not was_running:
            publish_state(self.kumo, scope, inst)

    async def _serve_metadata(self, scope: str, inst: dict) -> None:
        address = self.rt.loopback.imds_address(inst["_loopback"])
        if (inst.get("MetadataOptions") or {}).get("HttpEndpoint", "enabled") == "enabled":
            try:
                await self.rt.metadata.serve(address, scope, inst["InstanceId"])
            except OSError as exc:
                log.warning("%s: metadata service cannot listen on %s: %s", inst["InstanceId"], address, exc)
        else:
            await self.rt.metadata.withdraw(address)

    async def _halt(self, scope: str, inst: dict, handle: Handle | None) -> None:
        await self.rt.backend.stop(handle or self.rt.workload(inst["InstanceId"]))
        await self.rt.metadata.withdraw(self.rt.loopback.imds_address(inst["_loopback"]))

    async def _terminate(self, scope: str, inst: dict, handle: Handle | None) -> float | None:
        iid = inst["InstanceId"]
        if inst["State"]["Name"] != "terminated":
            await self._halt(scope, inst, handle)
            shutil.rmtree(self.rt.disk(iid), ignore_errors=True)
            from .terminate import release_resources

            with self.kumo.store.transaction():
                release_resources(self.kumo, scope, inst)
                set_state(inst, "terminated")
                inst.pop("_boot", None)
                inst["_terminated_at"] = self.kumo.clock.now()
                self._table(scope).put(iid, inst)
            self.update_netmap(scope, inst["VpcId"])
            publish_state(self.kumo, scope, inst)
            return TERMINATED_VISIBLE
        left = inst.get("_terminated_at", 0) + TERMINATED_VISIBLE - self.kumo.clock.now()
        if left > 0:
            return left
        with self.kumo.store.transaction():
            self._table(scope).delete(iid)
        self.kumo.controllers.forget(CONTROLLER, (scope, iid))
        return None

    # -- the boot -----------------------------------------------------------------------------------
    def _spec(self, scope: str, inst: dict, disk: Path) -> Spec:
        iid = inst["InstanceId"]
        disk = Path(os.path.realpath(disk))  # as the boot script's realpath will name it
        # The instance owns its disk and may have left symlinks on it: kumo's writes never follow one.
        tree = Tree(disk, replace=True)
        plan = userdata.plan(userdata.decode(inst.get("_userdata")))
        isolation = self.rt.backend.isolation
        isolated = isolation != "none"
        root = "" if isolated else str(disk)
        seen_dir = f"{DISK_ALIAS}/.kumo/scripts" if isolated else str(disk / ".kumo" / "scripts")
        if isolation == "full":
            within = ["/"]  # its whole file system is its own: the disk is the upper layer of every directory
        elif isolated:
            within = [*overlaid(disk), "/tmp", DISK_ALIAS]
        else:
            within = [str(disk)]
        tree.mkdir(".kumo/scripts/user")
        tree.mkdir(".kumo/scripts/files")
        for name, body, _ in plan.scripts:  # names are single file names (userdata.script_name)
            tree.write(f".kumo/scripts/user/{name}", body, 0o755)
        from .clock_view import write as write_clock_view

        write_clock_view(self.kumo, disk)  # console timestamps read kumo's clock
        for n, f in enumerate(plan.files):
            tree.write(f".kumo/scripts/files/{n}", f["content"])
        tree.write(".kumo/scripts/runcmd", userdata.runcmd_script(plan).encode())
        tree.write(".kumo/boot.sh", userdata.boot_script(plan, root, iid, seen_dir, within).encode())
        home = "/home/ec2-user" if isolated else str(disk / "home" / "ec2-user")
        tree.mkdir("upper/home/ec2-user" if isolation == "full" else "home/ec2-user" if not isolated else ".kumo")
        imds = self.rt.loopback.imds_address(inst["_loopback"])
        env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
        bindir = os.path.dirname(os.path.realpath(os.sys.executable))
        netmap = self.rt.netmap(scope, inst["VpcId"])
        env.update({
            "HOME": home,
            "USER": "ec2-user",
            "PATH": f"{bindir}:{env.get('PATH', '/usr/local/bin:/usr/bin:/bin')}",
            "TMPDIR": "/tmp" if isolated else str(disk / "tmp"),
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.rt.metadata.endpoint(imds),
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.kumo.port or self.kumo.settings.port}",
            "AWS_REGION": scope.split("/", 1)[1],
            "AWS_DEFAULT_REGION": scope.split("/", 1)[1],
            "AWS_CONFIG_FILE": f"{home}/.aws/config",
            "AWS_SHARED_CREDENTIALS_FILE": f"{home}/.aws/credentials",
            "KUMO_INSTANCE_ID": iid,
            "KUMO_IMDS": f"{imds}:{self.rt.imds_port}",
            "KUMO_NETMAP": str(netmap),
            "KUMO_DISK": DISK_ALIAS if isolated else str(disk),
        })
        mounts = []
        if isolated:
            mounts.append(Mount(DISK_ALIAS, disk, writable=True))
            netmap.parent.mkdir(parents=True, exist_ok=True)
            mounts.append(Mount(str(netmap.parent), netmap.parent))
        if isolation == "full":
            # kumo's own Python (and the aws CLI beside it) stays on the instance's PATH, read-only.
            for prefix in sorted({os.path.realpath(os.sys.prefix), os.path.realpath(os.sys.base_prefix)}):
                if not prefix.startswith(("/usr/", "/opt/")) and prefix != "/usr":
                    mounts.append(Mount(prefix, prefix))
        from .images import find_image_in, layers_in

        image = find_image_in(self.kumo, scope, inst["ImageId"])
        script = f"{DISK_ALIAS}/.kumo/boot.sh" if isolated else str(disk / ".kumo" / "boot.sh")
        return Spec(workload=self.rt.workload(iid), command=["/bin/sh", script], env=env, disk=disk,
                    layers=layers_in(self.kumo, scope, image) if image else [], mounts=mounts,
                    self_ip=inst["_loopback"], output=self.rt.console(iid), preload=self.rt.shim,
                    hostname=(inst.get("PrivateDnsName") or "").split(".", 1)[0] or None, kind="instance")

    def update_netmap(self, scope: str, vpc_id: str) -> None:
        """Private address -> loopback address, for every interface of the VPC (read by the network shim)."""
        lines = []
        for eni in self.kumo.store.table(scope, "ec2.network-interface").values():
            if eni["VpcId"] == vpc_id and eni.get("_loopback"):
                lines.append(f"{eni['PrivateIpAddress']} {eni['_loopback']}")
        vpc = self.kumo.store.table(scope, "ec2.vpc").get(vpc_id)
        if vpc is not None:
            lines.append(f"{vpc['CidrBlock']} -")  # the rest of the VPC's range leads nowhere
        path = self.rt.netmap(scope, vpc_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        os.replace(tmp, path)

    async def stop(self) -> None:
        """kumo is shutting down.  A durable kumo leaves its instances running, as kill -9 would, and the next
        one adopts them without a reboot; an ephemeral one stops them, since nothing could adopt them later."""
        workloads = [(self.rt.workload(iid), handle_of(inst, self.rt)) for _, iid, inst in self.kumo.store.all(KIND)]
        if self.kumo.stop_workloads:
            await self.rt.backend.stop_many(workloads, grace=1.0)
        else:
            kept = sum(1 for _, handle in workloads if self.rt.backend.alive(handle))
            if kept:
                self.kumo.left_running["instance"] = kept
        await self.rt.close()

    async def reset(self) -> None:
        instances = list(self.kumo.store.all(KIND))
        await self.rt.backend.stop_many([(self.rt.workload(iid), handle_of(inst, self.rt))
                                         for _, iid, inst in instances], grace=0.5)
        for _, iid, _ in instances:
            shutil.rmtree(self.rt.disk(iid), ignore_errors=True)
        for address in list(self.rt.metadata._sites):
            await self.rt.metadata.withdraw(address)


def console_output(rt: Ec2Runtime, iid: str, latest: bool = True, limit: int = 64 * 1024) -> str:
    try:
        data = rt.console(iid).read_bytes()
    except OSError:
        data = b""
    return base64.b64encode(data[-limit:] if latest or len(data) <= limit else data[:limit]).decode()


async def stop_left_running(store, backend) -> int:
    """``kumo stop --all`` with no kumo running: stop the instances a durable kumo left running on this data
    directory.  Their records stay ``running``, so the next kumo boots them again, as after a host restart."""
    from .runtime import TOKEN_KEY, TOKEN_KIND, TOKEN_SCOPE

    saved = store.table(TOKEN_SCOPE, TOKEN_KIND).get(TOKEN_KEY)
    if saved is None:
        return 0
    # The tag Ec2Runtime.workload gives each instance's processes.
    tags = {iid: f"{saved['token']}/{iid}" for _, iid, _inst in store.all(KIND)}
    workloads = [(tags[iid], Handle.from_record(inst.get("_boot"), tags[iid])) for _, iid, inst in store.all(KIND)]
    left = [(tag, handle) for tag, handle in workloads if backend.pids(tag) or backend.alive(handle)]
    await backend.stop_many(left, grace=2.0)
    return len(left)
