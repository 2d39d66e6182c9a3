"""RunInstances: validate a launch, record the instances as pending, and hand them to the controller."""

from __future__ import annotations

import base64
import copy

from ...aws.errors import AwsError
from ...core import tags as tagging
from ..iam import internal as iam
from . import image_aliases, instance_types, interfaces, launch_templates, regions
from .images import create_root_volume, find_image
from .keypairs import find_by_name
from .lifecycle import CONTROLLER, publish_state, set_state
from .model import find, invalid, new_id, table, tag_specs
from .defaults import default_vpc, ensure_defaults

MAX_USER_DATA = 16 * 1024
DEFAULT_TYPE = "m1.small"  # what EC2 launches when no type is given


def _merge_template(ctx, p: dict) -> dict:
    """The request over its launch template's data: explicit parameters win, as on AWS."""
    if not p.get("LaunchTemplate"):
        return dict(p)
    lt, version = launch_templates.resolve(ctx, p["LaunchTemplate"])
    data = copy.deepcopy(version["LaunchTemplateData"])
    merged = dict(data)
    for key, value in p.items():
        if value is not None and key != "LaunchTemplate":
            merged[key] = value
    if data.get("TagSpecifications") and p.get("TagSpecifications"):
        merged["TagSpecifications"] = data["TagSpecifications"] + p["TagSpecifications"]
    merged["_template"] = {"LaunchTemplateId": lt["LaunchTemplateId"], "LaunchTemplateName": lt["LaunchTemplateName"],
                           "Version": str(version["VersionNumber"])}
    if data.get("SecurityGroups") and not p.get("SecurityGroups"):
        merged["SecurityGroups"] = data["SecurityGroups"]
    return merged


def _placement_subnet(ctx, p: dict, nic: dict | None) -> dict:
    subnet_id = (nic or {}).get("SubnetId") or p.get("SubnetId")
    if subnet_id:
        return find(ctx, "subnet", subnet_id)
    zone = (p.get("Placement") or {}).get("AvailabilityZone")
    vpc = default_vpc(ctx)
    if vpc is None:
        raise AwsError("VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic "
                                            "and default VPC.")
    candidates = [s for s in table(ctx, "subnet").values() if s["VpcId"] == vpc["VpcId"] and s.get("DefaultForAz")]
    if zone:
        if zone not in regions.zone_names(ctx.region):
            raise invalid(f"Invalid availability zone: [{zone}]")
        candidates = [s for s in candidates if s["AvailabilityZone"] == zone]
    if not candidates:
        raise AwsError("MissingInput", "No subnets found for the default VPC")
    return candidates[0]


def _groups(ctx, p: dict, nic: dict | None, subnet: dict) -> list[dict]:
    ids = list((nic or {}).get("Groups") or p.get("SecurityGroupIds") or [])
    groups = [find(ctx, "sg", g) for g in ids]
    for name in p.get("SecurityGroups") or []:
        match = next((g for g in table(ctx, "sg").values() if g["GroupName"] == name and g["VpcId"] == subnet["VpcId"]),
                     None)
        if match is None:
            raise AwsError("InvalidGroup.NotFound", f"The security group '{name}' does not exist in VPC "
                                                    f"'{subnet['VpcId']}'")
        groups.append(match)
    for g in groups:
        if g["VpcId"] != subnet["VpcId"]:
            raise AwsError("InvalidParameter", f"Security group {g['GroupId']} and subnet {subnet['SubnetId']} belong "
                                               f"to different networks.")
    if not groups:
        groups = [g for g in table(ctx, "sg").values() if g["VpcId"] == subnet["VpcId"] and g["GroupName"] == "default"]
    return groups


def _instance_profile(ctx, spec: dict | None) -> dict | None:
    if not spec:
        return None
    name = spec.get("Name") or (spec.get("Arn") or "").rsplit("/", 1)[-1]
    profile = iam.instance_profile(ctx.store, ctx.account, name)
    if profile is None or (spec.get("Arn") and spec["Arn"] != profile.arn):
        which = "name" if spec.get("Name") else "arn"
        raise invalid(f"Value ({spec.get('Name') or spec.get('Arn')}) for parameter iamInstanceProfile.{which} is "
                      f"invalid. Invalid IAM Instance Profile {which}")
    return {"Arn": profile.arn, "Id": profile.profile_id}


def _user_data(raw) -> str | None:
    if raw in (None, ""):
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        size = len(base64.b64decode(text, validate=True))
    except Exception:
        text = base64.b64encode(text.encode()).decode()  # clients that skipped the encoding
        size = len(base64.b64decode(text))
    if size > MAX_USER_DATA:
        raise invalid(f"User data is limited to {MAX_USER_DATA} bytes")
    return text


def _metadata_options(p: dict, image: dict) -> dict:
    given = p.get("MetadataOptions") or {}
    v2_image = image.get("ImdsSupport") == "v2.0"
    options = {
        "State": "applied",
        "HttpTokens": given.get("HttpTokens") or ("required" if v2_image else "optional"),
        "HttpPutResponseHopLimit": given.get("HttpPutResponseHopLimit") or (2 if v2_image else 1),
        "HttpEndpoint": given.get("HttpEndpoint") or "enabled",
        "HttpProtocolIpv6": given.get("HttpProtocolIpv6") or "disabled",
        "InstanceMetadataTags": given.get("InstanceMetadataTags") or "disabled",
    }
    for key, allowed in (("HttpTokens", ("optional", "required")), ("HttpEndpoint", ("enabled", "disabled")),
                         ("InstanceMetadataTags", ("enabled", "disabled"))):
        if options[key] not in allowed:
            raise invalid(f"Value ({options[key]}) for parameter {key} is invalid.")
    return options


def run_instances(ctx, p):
    from .instance_view import reservation_view

    ensure_defaults(ctx)
    token = p.get("ClientToken")
    tokens = ctx.table("client-token", service="ec2")
    if token and token in tokens:
        return reservation_view(ctx, tokens.get(token)["ReservationId"])
    reservation_id, _ = launch(ctx, p)
    if token:
        tokens.put(token, {"ReservationId": reservation_id})
    return reservation_view(ctx, reservation_id)


def launch(ctx, p: dict, system_tags: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """Launch what RunInstances parameters ``p`` ask for; returns (reservation id, instance ids).

    ``system_tags`` are AWS-reserved tags (``aws:...``) the caller's service adds, such as Auto Scaling's
    group name; a user cannot set those.
    """
    ensure_defaults(ctx)
    token = p.get("ClientToken")
    p = _merge_template(ctx, p)
    if image_aliases.is_alias(p.get("ImageId")):
        p["ImageId"] = image_aliases.resolve(ctx, p["ImageId"])
    if not p.get("ImageId"):
        raise AwsError("MissingParameter", "The request must contain the parameter ImageId")
    image = find_image(ctx, p["ImageId"])
    if image["State"] != "available":
        raise AwsError("InvalidAMIID.Unavailable", f"AMI '{image['ImageId']}' is pending, and cannot be run")
    itype = p.get("InstanceType") or DEFAULT_TYPE
    if not instance_types.exists(itype):
        raise invalid(f"Invalid value '{itype}' for InstanceType.")
    lo, hi = p.get("MinCount", 1), p.get("MaxCount", 1)
    if lo < 1 or hi < lo:
        raise invalid(f"Value ({lo}) for parameter minCount is invalid. Expected a value between 1 and {hi}.")
    nics = p.get("NetworkInterfaces") or []
    primary = next((n for n in nics if n.get("DeviceIndex", 0) == 0), None)
    subnet = _placement_subnet(ctx, p, primary)
    zone_given = (p.get("Placement") or {}).get("AvailabilityZone")
    if zone_given and zone_given != subnet["AvailabilityZone"]:
        raise invalid(f"Subnet {subnet['SubnetId']} is in {subnet['AvailabilityZone']}, not {zone_given}")
    groups = _groups(ctx, p, primary, subnet)
    key = find_by_name(ctx, p["KeyName"]) if p.get("KeyName") else None
    profile = _instance_profile(ctx, p.get("IamInstanceProfile"))
    user_data = _user_data(p.get("UserData"))
    options = _metadata_options(p, image)
    public = subnet["MapPublicIpOnLaunch"]
    if primary is not None and primary.get("AssociatePublicIpAddress") is not None:
        public = primary["AssociatePublicIpAddress"]
    if p.get("PrivateIpAddress") and hi > 1:
        raise AwsError("InvalidParameterCombination", "Cannot specify a private IP address when launching more than "
                                                      "one instance")
    free = subnet["AvailableIpAddressCount"]
    count = min(hi, free)
    if count < lo:
        raise AwsError("InsufficientFreeAddressesInSubnet",
                       f"There are not enough free addresses in subnet '{subnet['SubnetId']}' to satisfy the requested "
                       f"number of instances.")
    instance_tags = tag_specs(p, "instance")
    volume_tags = tag_specs(p, "volume")
    template = p.get("_template")
    if template:
        instance_tags = tagging.to_list({**tagging.to_dict(instance_tags), "aws:ec2launchtemplate:id":
                                         template["LaunchTemplateId"], "aws:ec2launchtemplate:version":
                                         template["Version"]})
    if system_tags:
        instance_tags = tagging.to_list({**tagging.to_dict(instance_tags), **system_tags})
    placement = dict(p.get("Placement") or {})
    reservation_id = new_id("r")
    root = next((m for m in p.get("BlockDeviceMappings") or [] if m.get("DeviceName") == "/dev/xvda"), None)
    root_ebs = (root or {}).get("Ebs") or {}
    credit = (p.get("CreditSpecification") or {}).get("CpuCredits") or \
        ("standard" if itype.startswith("t2.") else "unlimited" if itype.startswith("t") else None)
    ids = []
    for index in range(count):
        instance_id = new_id("i")
        eni = interfaces.create(ctx, subnet, groups, "Primary network interface",
                                p.get("PrivateIpAddress") or (primary or {}).get("PrivateIpAddress"), public)
        interfaces.attach(ctx, eni, instance_id, 0)
        info = instance_types.info(itype)
        inst = {
            "InstanceId": instance_id,
            "ImageId": image["ImageId"],
            "InstanceType": itype,
            "KeyName": key["KeyName"] if key else None,
            "LaunchTime": ctx.now(),
            "AmiLaunchIndex": index,
            "Placement": {"AvailabilityZone": subnet["AvailabilityZone"], "GroupName": placement.get("GroupName", ""),
                          "Tenancy": placement.get("Tenancy") or "default",
                          "_zone_id": subnet.get("AvailabilityZoneId", "")},
            "PrivateDnsName": eni["PrivateDnsName"],
            "PrivateIpAddress": eni["PrivateIpAddress"],
            "PublicDnsName": (eni.get("Association") or {}).get("PublicDnsName", ""),
            "PublicIpAddress": (eni.get("Association") or {}).get("PublicIp"),
            "State": {"Code": 0, "Name": "pending"},
            "StateTransitionReason": "",
            "StateReason": {"Code": "pending", "Message": "pending"},
            "SubnetId": subnet["SubnetId"],
            "VpcId": subnet["VpcId"],
            "Architecture": image["Architecture"],
            "ClientToken": token or "",
            "EbsOptimized": bool(p.get("EbsOptimized")),
            "EnaSupport": True,
            "Hypervisor": "xen",
            "IamInstanceProfile": profile,
            "RootDeviceName": "/dev/xvda",
            "RootDeviceType": "ebs",
            "SecurityGroups": [{"GroupId": g["GroupId"], "GroupName": g["GroupName"]} for g in groups],
            "SourceDestCheck": True,
            "Tags": instance_tags,
            "VirtualizationType": "hvm",
            "CpuOptions": {"CoreCount": info["VCpuInfo"]["DefaultCores"],
                           "ThreadsPerCore": info["VCpuInfo"]["DefaultThreadsPerCore"]},
            "CapacityReservationSpecification": {"CapacityReservationPreference": "open"},
            "HibernationOptions": {"Configured": bool((p.get("HibernationOptions") or {}).get("Configured"))},
            "MetadataOptions": options,
            "EnclaveOptions": {"Enabled": False},
            "Monitoring": {"State": "enabled" if (p.get("Monitoring") or {}).get("Enabled") else "disabled"},
            "ProductCodes": [],
            "PlatformDetails": "Linux/UNIX",
            "UsageOperation": "RunInstances",
            "UsageOperationUpdateTime": ctx.now(),
            "PrivateDnsNameOptions": {"HostnameType": "ip-name", "EnableResourceNameDnsARecord": False,
                                      "EnableResourceNameDnsAAAARecord": False},
            "MaintenanceOptions": {"AutoRecovery": "default"},
            "BootMode": "uefi-preferred",
            "CurrentInstanceBootMode": "uefi",
            "_reservation": reservation_id,
            "_requester": None,
            "_desired": "running",
            "_eni": eni["NetworkInterfaceId"],
            "_loopback": eni["_loopback"],
            "_userdata": user_data,
            "_credit": credit,
            "_shutdown_behavior": p.get("InstanceInitiatedShutdownBehavior") or "stop",
            "_no_terminate": bool(p.get("DisableApiTermination")),
            "_no_stop": bool(p.get("DisableApiStop")),
            "_public_key": key.get("_public") if key else None,
            "_host": new_id("h"),
            "_template": template,
        }
        if not inst["KeyName"]:
            del inst["KeyName"]
        if not profile:
            del inst["IamInstanceProfile"]
        volume = create_root_volume(ctx, inst, image, root_ebs.get("VolumeSize") or 8,
                                    root_ebs.get("VolumeType") or "gp3", root_ebs.get("DeleteOnTermination", True))
        if volume_tags:
            volume["Tags"] = volume_tags
            table(ctx, "vol").put(volume["VolumeId"], volume)
        inst["_root_volume"] = volume["VolumeId"]
        table(ctx, "i").put(instance_id, inst)
        ids.append(instance_id)
    reservations = ctx.table("reservation", service="ec2")
    reservations.put(reservation_id, {"ReservationId": reservation_id, "OwnerId": ctx.account, "Instances": ids})
    for instance_id in ids:
        inst = table(ctx, "i").get(instance_id)
        publish_state(ctx.kumo, ctx.scope, inst)
        ctx.controllers.enqueue(CONTROLLER, (ctx.scope, instance_id))
    return reservation_id, ids


__all__ = ["launch", "run_instances", "set_state"]
