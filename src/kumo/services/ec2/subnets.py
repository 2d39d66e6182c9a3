"""Subnets and the addresses handed out in them (AWS keeps the first four and the last of each)."""

from __future__ import annotations

import ipaddress

from ...aws.errors import AwsError
from . import regions
from .defaults import ensure_defaults
from .model import apply_filters, bool_filter, find, find_many, invalid, new_id, page, table, tag_specs
from .vpcs import check_cidr


RESERVED_LOW, RESERVED_HIGH = 4, 1  # AWS keeps the first four and the last address of every subnet


def new_subnet(ctx, vpc: dict, cidr: str, zone: str, tags: list, default_for_az: bool = False) -> dict:
    net = ipaddress.ip_network(cidr)
    subnet_id = new_id("subnet")
    subnet = {
        "SubnetId": subnet_id,
        "SubnetArn": ctx.arn(f"subnet/{subnet_id}", service="ec2"),
        "VpcId": vpc["VpcId"],
        "OwnerId": ctx.account,
        "State": "available",
        "CidrBlock": cidr,
        "AvailabilityZone": zone,
        "AvailabilityZoneId": regions.zone_id(ctx.region, zone),
        "AvailableIpAddressCount": net.num_addresses - RESERVED_LOW - RESERVED_HIGH,
        "DefaultForAz": default_for_az,
        "MapPublicIpOnLaunch": default_for_az,
        "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [],
        "Ipv6Native": False,
        "EnableDns64": False,
        "MapCustomerOwnedIpOnLaunch": False,
        "PrivateDnsNameOptionsOnLaunch": {"HostnameType": "ip-name", "EnableResourceNameDnsARecord": False,
                                          "EnableResourceNameDnsAAAARecord": False},
        "Tags": tags,
        "_used": [],
    }
    table(ctx, "subnet").put(subnet_id, subnet)
    return subnet


def create_subnet(ctx, p):
    ensure_defaults(ctx)
    vpc = find(ctx, "vpc", p["VpcId"])
    if not p.get("CidrBlock"):
        # An IPv6-only subnet (Ipv6Native, Ipv6CidrBlock) needs a VPC with an IPv6 block, which kumo's never have.
        if p.get("Ipv6CidrBlock") or p.get("Ipv6Native"):
            raise invalid(f"An IPv6-only subnet needs a VPC with an IPv6 CIDR block; {vpc['VpcId']} has none.")
        raise AwsError("MissingParameter", "Either 'cidrBlock' or 'ipv6CidrBlock' should be provided.")
    net = check_cidr(p["CidrBlock"], code="InvalidSubnet.Range")
    vpc_net = ipaddress.ip_network(vpc["CidrBlock"])
    if not net.subnet_of(vpc_net):
        raise AwsError("InvalidSubnet.Range", f"The CIDR '{net}' is invalid.")
    for other in table(ctx, "subnet").values():
        if other["VpcId"] == vpc["VpcId"] and net.overlaps(ipaddress.ip_network(other["CidrBlock"])):
            raise AwsError("InvalidSubnet.Conflict", f"The CIDR '{net}' conflicts with another subnet")
    zone = p.get("AvailabilityZone")
    if p.get("AvailabilityZoneId"):
        zone = next((z["ZoneName"] for z in regions.zones(ctx.region) if z["ZoneId"] == p["AvailabilityZoneId"]), None)
    zone = zone or regions.zone_names(ctx.region)[0]
    if zone not in regions.zone_names(ctx.region):
        raise invalid(f"Value ({zone}) for parameter availabilityZone is invalid. "
                      f"Subnets can currently only be created in the following availability zones: "
                      f"{', '.join(regions.zone_names(ctx.region))}.")
    return {"Subnet": new_subnet(ctx, vpc, str(net), zone, tag_specs(p, "subnet"))}


SUBNET_FILTERS = {
    "subnet-id": lambda s: s["SubnetId"],
    "vpc-id": lambda s: s["VpcId"],
    "cidr-block": lambda s: s["CidrBlock"],
    "cidr": lambda s: s["CidrBlock"],
    "availability-zone": lambda s: s["AvailabilityZone"],
    "availabilityZone": lambda s: s["AvailabilityZone"],
    "availability-zone-id": lambda s: s["AvailabilityZoneId"],
    "default-for-az": lambda s: bool_filter(s["DefaultForAz"]),
    "defaultForAz": lambda s: bool_filter(s["DefaultForAz"]),
    "map-public-ip-on-launch": lambda s: bool_filter(s["MapPublicIpOnLaunch"]),
    "state": lambda s: s["State"],
    "owner-id": lambda s: s["OwnerId"],
    "subnet-arn": lambda s: s["SubnetArn"],
}


def describe_subnets(ctx, p):
    ensure_defaults(ctx)
    subnets = find_many(ctx, "subnet", p.get("SubnetIds")) or table(ctx, "subnet").values()
    subnets = apply_filters(subnets, p, SUBNET_FILTERS)
    return page(subnets, p, lambda s: s["SubnetId"], "Subnets", f"subnets/{ctx.account}")


def delete_subnet(ctx, p):
    subnet = find(ctx, "subnet", p["SubnetId"])
    if subnet["_used"]:
        raise AwsError("DependencyViolation", f"The subnet '{subnet['SubnetId']}' has dependencies and cannot be deleted.")
    for rtb in table(ctx, "rtb").values():
        kept = [a for a in rtb["Associations"] if a.get("SubnetId") != subnet["SubnetId"]]
        if len(kept) != len(rtb["Associations"]):
            rtb["Associations"] = kept
            table(ctx, "rtb").put(rtb["RouteTableId"], rtb)
    table(ctx, "subnet").delete(subnet["SubnetId"])
    return {}


def modify_subnet_attribute(ctx, p):
    subnet = find(ctx, "subnet", p["SubnetId"])
    if p.get("MapPublicIpOnLaunch") is not None:
        subnet["MapPublicIpOnLaunch"] = p["MapPublicIpOnLaunch"]["Value"]
    if p.get("AssignIpv6AddressOnCreation") is not None:
        subnet["AssignIpv6AddressOnCreation"] = p["AssignIpv6AddressOnCreation"]["Value"]
    table(ctx, "subnet").put(subnet["SubnetId"], subnet)
    return {}


def allocate_ip(ctx, subnet: dict, wanted: str | None = None) -> str:
    """The next free private address of a subnet (or ``wanted``, if free)."""
    net = ipaddress.ip_network(subnet["CidrBlock"])
    used = set(subnet["_used"])
    if wanted:
        try:
            addr = ipaddress.ip_address(wanted)
        except ValueError:
            raise invalid(f"Value ({wanted}) for parameter privateIpAddress is invalid. "
                          f"{wanted} is not a valid IPv4 address.") from None
        first, last = net.network_address + RESERVED_LOW, net.broadcast_address - RESERVED_HIGH
        if addr not in net or not (first <= addr <= last):
            raise invalid(f"Address {wanted} does not fall within the subnet's address range")
        if wanted in used:
            raise AwsError("InvalidIPAddress.InUse", f"Address {wanted} is in use.")
        ip = wanted
    else:
        ip = None
        for offset in range(RESERVED_LOW, net.num_addresses - RESERVED_HIGH):
            candidate = str(net.network_address + offset)
            if candidate not in used:
                ip = candidate
                break
        if ip is None:
            raise AwsError("InsufficientFreeAddressesInSubnet",
                           f"There are not enough free addresses in subnet '{subnet['SubnetId']}' to satisfy the "
                           f"requested number of instances.")
    subnet["_used"].append(ip)
    subnet["AvailableIpAddressCount"] = net.num_addresses - RESERVED_LOW - RESERVED_HIGH - len(subnet["_used"])
    table(ctx, "subnet").put(subnet["SubnetId"], subnet)
    return ip


def release_ip(ctx, subnet_id: str, ip: str) -> None:
    subnet = table(ctx, "subnet").get(subnet_id)
    if subnet and ip in subnet["_used"]:
        subnet["_used"].remove(ip)
        subnet["AvailableIpAddressCount"] += 1
        table(ctx, "subnet").put(subnet_id, subnet)
