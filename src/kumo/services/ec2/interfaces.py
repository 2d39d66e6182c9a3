"""Elastic network interfaces: the private address in a subnet, and kumo's loopback twin."""

from __future__ import annotations

import secrets

from ...aws.errors import AwsError
from . import addresses
from .model import apply_filters, bool_filter, find, find_many, new_id, page, table, tag_specs
from .subnets import allocate_ip, release_ip
from .runtime import runtime


def _mac() -> str:
    return "0e:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(5))


def create(ctx, subnet: dict, groups: list[dict], description: str = "", private_ip: str | None = None,
           public: bool = False, tags: list | None = None, interface_type: str = "interface") -> dict:
    ip = allocate_ip(ctx, subnet, private_ip)
    eni_id = new_id("eni")
    loopback = runtime(ctx).loopback.allocate(ctx.store, eni_id)
    eni = {
        "NetworkInterfaceId": eni_id,
        "SubnetId": subnet["SubnetId"],
        "VpcId": subnet["VpcId"],
        "AvailabilityZone": subnet["AvailabilityZone"],
        "AvailabilityZoneId": subnet.get("AvailabilityZoneId"),
        "Description": description,
        "Groups": [{"GroupId": g["GroupId"], "GroupName": g["GroupName"]} for g in groups],
        "InterfaceType": interface_type,
        "Ipv6Addresses": [],
        "MacAddress": _mac(),
        "OwnerId": ctx.account,
        "PrivateIpAddress": ip,
        "PrivateDnsName": addresses.private_dns(ip, ctx.region),
        "PrivateIpAddresses": [{"Primary": True, "PrivateIpAddress": ip,
                                "PrivateDnsName": addresses.private_dns(ip, ctx.region)}],
        "RequesterManaged": False,
        "SourceDestCheck": True,
        "Status": "available",
        "TagSet": list(tags or []),
        "_loopback": loopback,
    }
    if public:
        association = {"IpOwnerId": "amazon", "PublicIp": loopback,
                       "PublicDnsName": addresses.public_dns(loopback, ctx.region)}
        eni["Association"] = association
        eni["PrivateIpAddresses"][0]["Association"] = association
    table(ctx, "eni").put(eni_id, eni)
    return eni


def attach(ctx, eni: dict, instance_id: str, device_index: int = 0) -> None:
    eni["Attachment"] = {"AttachmentId": new_id("eni-attach"), "AttachTime": ctx.now(),
                         "DeleteOnTermination": device_index == 0, "DeviceIndex": device_index,
                         "NetworkCardIndex": 0, "InstanceId": instance_id, "InstanceOwnerId": ctx.account,
                         "Status": "attached"}
    eni["Status"] = "in-use"
    table(ctx, "eni").put(eni["NetworkInterfaceId"], eni)


def destroy(ctx, eni: dict) -> None:
    release_ip(ctx, eni["SubnetId"], eni["PrivateIpAddress"])
    addresses.LoopbackPlan.release(ctx.store, eni.get("_loopback"))
    table(ctx, "eni").delete(eni["NetworkInterfaceId"])


def view(eni: dict) -> dict:
    return {k: v for k, v in eni.items() if not k.startswith("_")}


def create_network_interface(ctx, p):
    from .security_groups import find_group

    subnet = find(ctx, "subnet", p["SubnetId"])
    groups = [find_group(ctx, g, None) for g in p.get("Groups") or []]
    if not groups:
        groups = [g for g in table(ctx, "sg").values() if g["VpcId"] == subnet["VpcId"] and g["GroupName"] == "default"]
    eni = create(ctx, subnet, groups, p.get("Description") or "", p.get("PrivateIpAddress"),
                 tags=tag_specs(p, "network-interface"), interface_type=p.get("InterfaceType") or "interface")
    return {"NetworkInterface": view(eni)}


def delete_network_interface(ctx, p):
    eni = find(ctx, "eni", p["NetworkInterfaceId"])
    if eni.get("Attachment"):
        raise AwsError("InvalidNetworkInterface.InUse",
                       f"Interface: [{eni['NetworkInterfaceId']}] in use.")
    destroy(ctx, eni)
    return {}


def modify_network_interface_attribute(ctx, p):
    from .security_groups import find_group

    eni = find(ctx, "eni", p["NetworkInterfaceId"])
    if p.get("Groups"):
        eni["Groups"] = [{"GroupId": g["GroupId"], "GroupName": g["GroupName"]}
                         for g in (find_group(ctx, gid, None) for gid in p["Groups"])]
    if p.get("Description") is not None:
        eni["Description"] = p["Description"].get("Value", "")
    if p.get("SourceDestCheck") is not None:
        eni["SourceDestCheck"] = p["SourceDestCheck"]["Value"]
    table(ctx, "eni").put(eni["NetworkInterfaceId"], eni)
    return {}


ENI_FILTERS = {
    "network-interface-id": lambda e: e["NetworkInterfaceId"],
    "subnet-id": lambda e: e["SubnetId"],
    "vpc-id": lambda e: e["VpcId"],
    "availability-zone": lambda e: e["AvailabilityZone"],
    "status": lambda e: e["Status"],
    "private-ip-address": lambda e: e["PrivateIpAddress"],
    "addresses.private-ip-address": lambda e: [a["PrivateIpAddress"] for a in e["PrivateIpAddresses"]],
    "mac-address": lambda e: e["MacAddress"],
    "group-id": lambda e: [g["GroupId"] for g in e["Groups"]],
    "attachment.instance-id": lambda e: (e.get("Attachment") or {}).get("InstanceId"),
    "attachment.status": lambda e: (e.get("Attachment") or {}).get("Status"),
    "description": lambda e: e["Description"],
    "interface-type": lambda e: e["InterfaceType"],
    "owner-id": lambda e: e["OwnerId"],
    "source-dest-check": lambda e: bool_filter(e["SourceDestCheck"]),
    "association.public-ip": lambda e: (e.get("Association") or {}).get("PublicIp"),
}


def _eni_tags(e: dict) -> dict:
    return {t["Key"]: t.get("Value", "") for t in e.get("TagSet") or []}


def describe_network_interfaces(ctx, p):
    enis = find_many(ctx, "eni", p.get("NetworkInterfaceIds")) or table(ctx, "eni").values()
    enis = apply_filters(enis, p, ENI_FILTERS, tags=_eni_tags)
    return page([view(e) for e in enis], p, lambda e: e["NetworkInterfaceId"], "NetworkInterfaces",
                f"eni/{ctx.account}")
