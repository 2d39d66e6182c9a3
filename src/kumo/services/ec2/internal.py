"""EC2 for the rest of kumo: launch and terminate instances, read their state, address and health, and the
network (default VPC, subnets, security groups, zones) and catalogue (types, images, key pairs) they use.

Auto Scaling launches and terminates through these; the load balancers read instances' state, zone and
loopback address and check subnets and security groups.  Records come back as the API shapes EC2 answers
with (``_``-prefixed fields stripped) or as the small ``Instance`` below; never EC2's own records.
Calls that write (launch, terminate, tag) run inside the caller's store transaction, like a handler.
EC2's own helpers take a request context, so the facade makes one for EC2 acting on behalf of the
calling service (its service-linked role); the caller never sees or builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...aws.context import internal_context
from ...core import tags as tagging
from . import instance_types, regions

INSTANCE = "ec2.instance"
GONE = ("shutting-down", "terminated")


@dataclass(frozen=True)
class Instance:
    instance_id: str
    state: str  # pending, running, stopping, stopped, shutting-down, terminated
    instance_type: str
    image_id: str
    subnet_id: str
    vpc_id: str
    zone: str
    launch_time: float
    key_name: str | None = None
    security_group_ids: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    address: str | None = None  # the loopback address its workloads listen on (what a load balancer sends to)
    template: dict | None = None  # {LaunchTemplateId, LaunchTemplateName, Version} it was launched from


@dataclass
class LaunchRequest:
    """One instance to launch, as RunInstances members (a launch template, or the fields of a launch config)."""

    subnet_id: str
    launch_template: dict | None = None  # LaunchTemplateSpecification: id or name, and Version
    instance_type: str | None = None  # overrides the template's
    image_id: str | None = None
    key_name: str | None = None
    user_data: str | None = None  # base64
    security_groups: list[str] = field(default_factory=list)  # ids (sg-...) or names
    instance_profile: str | None = None  # name or ARN
    metadata_options: dict | None = None
    block_device_mappings: list[dict] = field(default_factory=list)
    monitoring: bool | None = None
    ebs_optimized: bool | None = None
    tags: dict[str, str] = field(default_factory=dict)  # on the instance and its volume
    system_tags: dict[str, str] = field(default_factory=dict)  # aws:-reserved tags the caller's service adds

    def params(self) -> dict:
        p: dict = {"MinCount": 1, "MaxCount": 1, "SubnetId": self.subnet_id}
        if self.launch_template:
            p["LaunchTemplate"] = {k: v for k, v in self.launch_template.items()
                                   if k in ("LaunchTemplateId", "LaunchTemplateName", "Version") and v}
            p["LaunchTemplate"].setdefault("Version", "$Default")
        for key, value in (("InstanceType", self.instance_type), ("ImageId", self.image_id),
                           ("KeyName", self.key_name), ("UserData", self.user_data),
                           ("MetadataOptions", self.metadata_options), ("EbsOptimized", self.ebs_optimized)):
            if value is not None and value != "":
                p[key] = value
        if self.monitoring is not None:
            p["Monitoring"] = {"Enabled": self.monitoring}
        ids = [g for g in self.security_groups if g.startswith("sg-")]
        names = [g for g in self.security_groups if not g.startswith("sg-")]
        if ids:
            p["SecurityGroupIds"] = ids
        if names:
            p["SecurityGroups"] = names
        if self.instance_profile:
            p["IamInstanceProfile"] = {"Arn": self.instance_profile} if self.instance_profile.startswith("arn:") \
                else {"Name": self.instance_profile}
        if self.block_device_mappings:
            p["BlockDeviceMappings"] = self.block_device_mappings
        if self.tags:
            p["TagSpecifications"] = [{"ResourceType": "instance", "Tags": tagging.to_list(self.tags)},
                                      {"ResourceType": "volume", "Tags": tagging.to_list(self.tags)}]
        return p


def _ctx(kumo, scope: str, caller: str = "autoscaling"):
    account, region = scope.split("/", 1)
    return internal_context(kumo, "ec2", account, region, caller=caller)


def _public(record: dict | None) -> dict | None:
    return None if record is None else {k: v for k, v in record.items() if not k.startswith("_")}


# -- instances ------------------------------------------------------------------------------------------
def _instance(inst: dict) -> Instance:
    return Instance(
        instance_id=inst["InstanceId"], state=inst["State"]["Name"], instance_type=inst["InstanceType"],
        image_id=inst["ImageId"], subnet_id=inst.get("SubnetId", ""), vpc_id=inst.get("VpcId", ""),
        zone=inst["Placement"]["AvailabilityZone"], launch_time=inst["LaunchTime"], key_name=inst.get("KeyName"),
        security_group_ids=tuple(g["GroupId"] for g in inst.get("SecurityGroups", [])),
        tags=tagging.to_dict(inst.get("Tags")), address=inst.get("_loopback"),
        template=dict(inst["_template"]) if inst.get("_template") else None)


def instance(kumo, scope: str, instance_id: str) -> Instance | None:
    """The instance as it is now; None if EC2 does not know it (a terminated one stays a while, as on AWS)."""
    inst = kumo.store.table(scope, INSTANCE).get(instance_id)
    return _instance(inst) if inst is not None else None


def launch(kumo, scope: str, request: LaunchRequest, *, caller: str = "autoscaling") -> Instance:
    """Launch one instance exactly as RunInstances would (same checks, records and controller).

    Raises AwsError with EC2's refusal (bad template, no capacity in the subnet, unknown image ...).
    """
    from .instances import launch as run

    ctx = _ctx(kumo, scope, caller)
    _, ids = run(ctx, request.params(), system_tags=request.system_tags or None)
    return instance(kumo, scope, ids[0])


def terminate(kumo, scope: str, instance_id: str, why: str = "User initiated") -> None:
    """Terminate the instance as TerminateInstances does for its owner (ignored when already going)."""
    from .instance_ops import terminate_instance

    inst = kumo.store.table(scope, INSTANCE).get(instance_id)
    if inst is None or inst["State"]["Name"] in GONE:
        return
    terminate_instance(kumo, inst, why, {"Code": "Client.UserInitiatedShutdown",
                                         "Message": "Client.UserInitiatedShutdown: User initiated shutdown"},
                       scope=scope)


def tag(kumo, scope: str, instance_id: str, put: dict[str, str] | None = None, remove=()) -> None:
    """Set ``put`` and remove the keys ``remove`` on the instance's tags (system tags included)."""
    table = kumo.store.table(scope, INSTANCE)
    inst = table.get(instance_id)
    if inst is None:
        return
    drop = set(remove) | set(put or {})
    inst["Tags"] = [t for t in inst.get("Tags", []) if t["Key"] not in drop] + tagging.to_list(put)
    table.put(instance_id, inst)


def status_checks(kumo, scope: str, instance_id: str) -> tuple[str, str]:
    """(instance status, system status) as DescribeInstanceStatus reports them: ok, impaired, initializing,
    not-applicable (not running)."""
    from .instance_ops import status_of

    inst = kumo.store.table(scope, INSTANCE).get(instance_id)
    if inst is None:
        return "not-applicable", "not-applicable"
    status = status_of(_ctx(kumo, scope), inst)
    return status["InstanceStatus"]["Status"], status["SystemStatus"]["Status"]


@dataclass(frozen=True)
class Interface:
    interface_id: str
    private_ip: str
    zone: str
    address: str | None  # the loopback address standing for the private IP


def interface_by_ip(kumo, scope: str, private_ip: str) -> Interface | None:
    """The network interface holding a private IP of the region's VPCs (an ip target of a load balancer)."""
    for eni in kumo.store.table(scope, "ec2.network-interface").values():
        if eni["PrivateIpAddress"] == private_ip:
            return Interface(eni["NetworkInterfaceId"], private_ip, eni["AvailabilityZone"], eni.get("_loopback"))
    return None


# -- network --------------------------------------------------------------------------------------------
def ensure_defaults(kumo, scope: str) -> None:
    """Make the account's default VPC in the region (subnets, security group, gateway) if not yet there."""
    from .defaults import ensure_defaults as ensure

    ensure(_ctx(kumo, scope))


def default_vpc_id(kumo, scope: str) -> str | None:
    from .defaults import default_vpc

    return (default_vpc(_ctx(kumo, scope)) or {}).get("VpcId")


def vpc(kumo, scope: str, vpc_id: str) -> dict | None:
    return _public(kumo.store.table(scope, "ec2.vpc").get(vpc_id))


def subnet(kumo, scope: str, subnet_id: str) -> dict | None:
    """The subnet as DescribeSubnets shows it; None if unknown."""
    return _public(kumo.store.table(scope, "ec2.subnet").get(subnet_id))


def subnets(kumo, scope: str, vpc_id: str | None = None) -> list[dict]:
    """The region's subnets (of one VPC if given), as DescribeSubnets shows them, by id."""
    found = [s for s in kumo.store.table(scope, "ec2.subnet").values() if vpc_id is None or s["VpcId"] == vpc_id]
    return [_public(s) for s in sorted(found, key=lambda s: s["SubnetId"])]


def security_group(kumo, scope: str, group_id: str) -> dict | None:
    return _public(kumo.store.table(scope, "ec2.security-group").get(group_id))


def default_security_group(kumo, scope: str, vpc_id: str) -> dict | None:
    return next((_public(g) for g in kumo.store.table(scope, "ec2.security-group").values()
                 if g["VpcId"] == vpc_id and g["GroupName"] == "default"), None)


def zone_names(region: str) -> list[str]:
    return regions.zone_names(region)


# -- catalogue ------------------------------------------------------------------------------------------
def instance_type_exists(name: str) -> bool:
    return instance_types.exists(name)


def check_image(kumo, scope: str, image_id: str) -> None:
    """Raises EC2's AwsError (InvalidAMIID.*) unless the image can be launched by this account."""
    from .images import find_image

    find_image(_ctx(kumo, scope), image_id)


def builtin_images() -> list[dict]:
    """kumo's own public images (the same ids in every region), as DescribeImages shows them."""
    from .images import BUILTIN

    return [_public(image) for image in BUILTIN.values()]


def check_key_pair(kumo, scope: str, name: str) -> None:
    """Raises EC2's AwsError (InvalidKeyPair.NotFound) unless the key pair exists."""
    from .keypairs import find_by_name

    find_by_name(_ctx(kumo, scope), name)


@dataclass(frozen=True)
class TemplateVersion:
    template_id: str
    template_name: str
    version: int


def launch_template(kumo, scope: str, spec: dict) -> TemplateVersion:
    """Resolve a LaunchTemplateSpecification (id or name; a number, $Default or $Latest).

    Raises EC2's AwsError when the template or version does not exist.
    """
    from .launch_templates import resolve

    lt, version = resolve(_ctx(kumo, scope), spec)
    return TemplateVersion(lt["LaunchTemplateId"], lt["LaunchTemplateName"], version["VersionNumber"])


__all__ = ["GONE", "Instance", "Interface", "LaunchRequest", "TemplateVersion", "interface_by_ip", "builtin_images",
           "check_image", "check_key_pair", "default_security_group", "default_vpc_id", "ensure_defaults",
           "instance", "instance_type_exists", "launch", "launch_template", "security_group", "status_checks",
           "subnet", "subnets", "tag", "terminate", "vpc", "zone_names"]
