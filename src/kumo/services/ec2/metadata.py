"""The instance metadata service (IMDS), versions 1 and 2.

Each running instance has its own listener at its metadata address
(127.<base+1>.x.y, the twin of its loopback address).  Processes of the
instance find it through ``AWS_EC2_METADATA_SERVICE_ENDPOINT``, and kumo's
network shim sends connections to 169.254.169.254:80 there too.

The address dialled only says whose service is asked, not who asks: any
process on the machine can dial it.  A connection is served only when a
process of that instance holds its other end (``compute/peers.py``, checked
once per connection); anyone else (another instance, the host) gets 403 and
no data, IMDS's answer to a request it will not serve.

The v2 flow is AWS's: ``PUT /latest/api/token`` with a TTL header gives a
token; reads carry it in ``X-aws-ec2-metadata-token``.  With HttpTokens
required, reads without a valid token get 401.  A token is bound to the
instance that got it.
"""

from __future__ import annotations

import json
import logging
import secrets
import weakref
from typing import Any

from aiohttp import web

from ...dataplane.compute import peers
from ...core import credentials
from ...core.arns import parse_arn
from ..iam import internal as iam

log = logging.getLogger("kumo.ec2.imds")

TOKEN_TTL_MAX = 21600
CREDENTIAL_LIFETIME = 6 * 3600
REFRESH_BEFORE = 15 * 60


class MetadataService:
    def __init__(self, kumo, port: int):
        self.kumo = kumo
        self.port = port
        self._runner: web.AppRunner | None = None
        self._sites: dict[str, web.TCPSite] = {}
        self._owners: dict[str, tuple[str, str]] = {}  # address -> (scope, instance id)
        self._tokens: dict[str, tuple[tuple[str, str], float]] = {}  # token -> ((scope, instance id), expiry)
        # connection -> the instance its peer belongs to (or None): one lookup per keep-alive connection
        self._callers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def _ensure_runner(self) -> web.AppRunner:
        if self._runner is None:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await self._runner.setup()
        return self._runner

    async def serve(self, address: str, scope: str, instance_id: str) -> None:
        self._owners[address] = (scope, instance_id)
        if address in self._sites:
            return
        runner = await self._ensure_runner()
        site = web.TCPSite(runner, address, self.port, reuse_address=True)
        await site.start()
        self._sites[address] = site

    async def withdraw(self, address: str) -> None:
        owner = self._owners.pop(address, None)
        for token in [t for t, (o, _) in self._tokens.items() if o == owner]:
            del self._tokens[token]
        site = self._sites.pop(address, None)
        if site is not None:
            await site.stop()

    async def close(self) -> None:
        for address in list(self._sites):
            await self.withdraw(address)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def endpoint(self, address: str) -> str:
        return f"http://{address}:{self.port}/"

    # -- requests -------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        sock = transport.get_extra_info("sockname") if transport else None
        address = sock[0] if sock else ""
        owner = self._owners.get(address)
        if owner is None:
            return web.Response(status=404, text="Not Found")
        scope, instance_id = owner
        instance = self.kumo.store.table(scope, "ec2.instance").get(instance_id)
        if instance is None or instance["State"]["Name"] not in ("running", "stopping"):
            return web.Response(status=404, text="Not Found")
        if self._caller(transport, scope, instance) != owner:
            refused = web.Response(status=403, text="Forbidden")
            refused.force_close()
            return refused
        options = instance.get("MetadataOptions") or {}
        path = request.path
        if path == "/latest/api/token":
            return self._token(request, owner)
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405, text="Method Not Allowed")
        token = request.headers.get("X-aws-ec2-metadata-token")
        if token is not None or options.get("HttpTokens") == "required":
            if not self._valid(token, owner):
                return web.Response(status=401, text="Unauthorized")
        with self.kumo.store.transaction():
            tree = self._tree(scope, instance)
        return self._lookup(tree, path)

    def _caller(self, transport, scope: str, instance: dict) -> tuple[str, str] | None:
        """The instance whose process holds the other end of this connection: the owner, or None."""
        if transport is None:
            return None
        try:
            return self._callers[transport]
        except KeyError:
            pass
        from .lifecycle import handle_of

        key = (scope, instance["InstanceId"])
        rt = self.kumo.services["ec2"]
        workload, handle = rt.workload(instance["InstanceId"]), handle_of(instance)
        peer, local = transport.get_extra_info("peername"), transport.get_extra_info("sockname")
        inode = peers.socket_inode(peer, local) if peer and local else None
        caller = key if peers.holder(inode, rt.backend.members(workload, handle)) is not None else None
        if caller is None:
            log.info("%s: metadata request from %s refused: not a process of the instance",
                     instance["InstanceId"], peer[0] if peer else "?")
        self._callers[transport] = caller
        return caller

    def _token(self, request: web.Request, owner: tuple[str, str]) -> web.Response:
        if request.method != "PUT":
            return web.Response(status=405, text="Method Not Allowed")
        if "X-Forwarded-For" in request.headers:
            return web.Response(status=403, text="Forbidden")
        raw = request.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        try:
            ttl = int(raw or "")
        except ValueError:
            return web.Response(status=400, text="Bad Request")
        if not 1 <= ttl <= TOKEN_TTL_MAX:
            return web.Response(status=400, text="Bad Request")
        token = secrets.token_urlsafe(42)
        self._tokens[token] = (owner, self.kumo.clock.now() + ttl)
        return web.Response(text=token, headers={"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)})

    def _valid(self, token: str | None, owner: tuple[str, str]) -> bool:
        if not token or token not in self._tokens:
            return False
        holder, expiry = self._tokens[token]
        if holder != owner:
            return False  # another instance's token: no good here, and still good for its own
        if self.kumo.clock.now() >= expiry:
            self._tokens.pop(token, None)
            return False
        return True

    @staticmethod
    def _lookup(tree: dict, path: str) -> web.Response:
        node: Any = tree
        for part in [p for p in path.split("/") if p]:
            if not isinstance(node, dict) or part not in node:
                return web.Response(status=404, text="Not Found",
                                    content_type="text/html")
            node = node[part]
        if isinstance(node, dict):
            listing = "\n".join(f"{k}/" if isinstance(v, dict) else k for k, v in node.items())
            return web.Response(text=listing)
        if isinstance(node, (bytes, bytearray)):
            return web.Response(body=bytes(node), content_type="application/octet-stream")
        return web.Response(text=str(node))

    # -- content ----------------------------------------------------------------------------------
    def _tree(self, scope: str, inst: dict) -> dict:
        account, region = scope.split("/", 1)
        eni = self.kumo.store.table(scope, "ec2.network-interface").get(inst.get("_eni")) or {}
        subnet = self.kumo.store.table(scope, "ec2.subnet").get(inst.get("SubnetId")) or {}
        vpc = self.kumo.store.table(scope, "ec2.vpc").get(inst.get("VpcId")) or {}
        mac = eni.get("MacAddress", "")
        public_ip = inst.get("PublicIpAddress")
        groups = [g["GroupName"] for g in inst.get("SecurityGroups", [])]
        interface = {
            "device-number": "0", "interface-id": eni.get("NetworkInterfaceId", ""),
            "local-hostname": inst.get("PrivateDnsName", ""), "local-ipv4s": inst.get("PrivateIpAddress", ""),
            "mac": mac, "owner-id": account, "security-group-ids": "\n".join(g["GroupId"] for g in inst.get("SecurityGroups", [])),
            "security-groups": "\n".join(groups), "subnet-id": inst.get("SubnetId", ""),
            "subnet-ipv4-cidr-block": subnet.get("CidrBlock", ""), "vpc-id": inst.get("VpcId", ""),
            "vpc-ipv4-cidr-block": vpc.get("CidrBlock", ""), "vpc-ipv4-cidr-blocks": vpc.get("CidrBlock", ""),
        }
        if public_ip:
            interface["public-hostname"] = inst.get("PublicDnsName", "")
            interface["public-ipv4s"] = public_ip
        meta: dict[str, Any] = {
            "ami-id": inst["ImageId"],
            "ami-launch-index": str(inst.get("AmiLaunchIndex", 0)),
            "ami-manifest-path": "(unknown)",
            "block-device-mapping": {"ami": "/dev/xvda", "root": "/dev/xvda"},
            "events": {"maintenance": {"history": "[]", "scheduled": "[]"}},
            "hostname": inst.get("PrivateDnsName", ""),
            "instance-action": "none",
            "instance-id": inst["InstanceId"],
            "instance-life-cycle": "spot" if inst.get("InstanceLifecycle") == "spot" else "on-demand",
            "instance-type": inst["InstanceType"],
            "local-hostname": inst.get("PrivateDnsName", ""),
            "local-ipv4": inst.get("PrivateIpAddress", ""),
            "mac": mac,
            "network": {"interfaces": {"macs": {mac: interface}}},
            "placement": {"availability-zone": inst["Placement"]["AvailabilityZone"],
                          "availability-zone-id": inst["Placement"].get("_zone_id", ""),
                          "region": region, "group-name": inst["Placement"].get("GroupName", "")},
            "reservation-id": inst.get("_reservation", ""),
            "security-groups": "\n".join(groups),
            "services": {"domain": "amazonaws.com", "partition": "aws"},
        }
        if public_ip:
            meta["public-hostname"] = inst.get("PublicDnsName", "")
            meta["public-ipv4"] = public_ip
        if inst.get("_public_key"):
            meta["public-keys"] = {f"0={inst['KeyName']}": {"openssh-key": inst["_public_key"]}}
        if (inst.get("MetadataOptions") or {}).get("InstanceMetadataTags") == "enabled":
            meta["tags"] = {"instance": {t["Key"]: t.get("Value", "") for t in inst.get("Tags", [])}}
        iam = self._iam(scope, inst)
        if iam is not None:
            meta["iam"] = iam
        identity = {
            "accountId": account, "architecture": "x86_64", "availabilityZone": inst["Placement"]["AvailabilityZone"],
            "billingProducts": None, "devpayProductCodes": None, "marketplaceProductCodes": None,
            "imageId": inst["ImageId"], "instanceId": inst["InstanceId"], "instanceType": inst["InstanceType"],
            "kernelId": None, "pendingTime": _iso(inst["LaunchTime"]), "privateIp": inst.get("PrivateIpAddress"),
            "ramdiskId": None, "region": region, "version": "2017-09-30",
        }
        tree: dict[str, Any] = {"latest": {
            "meta-data": meta,
            "dynamic": {"instance-identity": {"document": json.dumps(identity, indent=2)}},
        }}
        if inst.get("_userdata"):
            from .userdata import decode

            tree["latest"]["user-data"] = decode(inst["_userdata"])
        return tree

    def _iam(self, scope: str, inst: dict) -> dict | None:
        profile_ref = inst.get("IamInstanceProfile")
        if not profile_ref:
            return None
        account = scope.split("/", 1)[0]
        profile_name = (parse_arn(profile_ref["Arn"]).resource.rsplit("/", 1)[-1]
                        if profile_ref.get("Arn") else "")
        profile = iam.instance_profile(self.kumo.store, account, profile_name)
        info = {"Code": "Success", "LastUpdated": _iso(self.kumo.clock.now()),
                "InstanceProfileArn": profile_ref["Arn"], "InstanceProfileId": profile_ref.get("Id", "")}
        out: dict[str, Any] = {"info": json.dumps(info, indent=2), "security-credentials": {}}
        role = profile.role if profile is not None else None
        if role is None:
            return out
        creds = self._credentials(scope, inst, account, role)
        out["security-credentials"][role.name] = json.dumps(creds, indent=2)
        return out

    def _credentials(self, scope: str, inst: dict, account: str, role: iam.Role) -> dict:
        """Temporary credentials of the instance profile's role, renewed before they expire."""
        now = self.kumo.clock.now()
        cached = inst.get("_imds_credentials")
        if not cached or cached["role"] != role.name or cached["Expiration"] - now < REFRESH_BEFORE:
            from ...core.ids import access_key_id, secret_access_key, session_token

            key, secret, token = access_key_id(temporary=True), secret_access_key(), session_token()
            expiration = now + CREDENTIAL_LIFETIME
            credentials.register(
                self.kumo.store, key, account=account,
                arn=f"arn:aws:sts::{account}:assumed-role/{role.name}/{inst['InstanceId']}",
                user_id=f"{role.role_id}:{inst['InstanceId']}", secret=secret, session_token=token,
                expiration=expiration)
            if cached:
                credentials.forget(self.kumo.store, cached["AccessKeyId"])
            cached = {"role": role.name, "AccessKeyId": key, "SecretAccessKey": secret, "Token": token,
                      "Expiration": expiration, "LastUpdated": now}
            inst["_imds_credentials"] = cached
            self.kumo.store.table(scope, "ec2.instance").put(inst["InstanceId"], inst)
        return {"Code": "Success", "LastUpdated": _iso(cached["LastUpdated"]), "Type": "AWS-HMAC",
                "AccessKeyId": cached["AccessKeyId"], "SecretAccessKey": cached["SecretAccessKey"],
                "Token": cached["Token"], "Expiration": _iso(cached["Expiration"])}


def _iso(epoch: float) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
