"""VPCs, subnets, internet gateways and route tables; the default VPC of every region."""

from __future__ import annotations

import ipaddress

from ...aws.errors import AwsError
from . import regions
from .model import (
    apply_filters, bool_filter, find, find_many, invalid, new_id, page, table, tag_specs,
)

DEFAULT_VPC_CIDR = "172.31.0.0/16"
RESERVED_LOW, RESERVED_HIGH = 4, 1  # AWS keeps the first four and the last address of every subnet


def _vpc_record(ctx, cidr: str, default: bool, tags: list, tenancy: str = "default") -> dict:
    vpc_id = new_id("vpc")
    return {
        "VpcId": vpc_id,
        "OwnerId": ctx.account,
        "State": "available",
        "CidrBlock": cidr,
        "CidrBlockAssociationSet": [{"AssociationId": new_id("vpc-cidr-assoc"), "CidrBlock": cidr,
                                     "CidrBlockState": {"State": "associated"}}],
        "InstanceTenancy": tenancy,
        "IsDefault": default,
        "DhcpOptionsId": "default",
        "Tags": tags,
        "_dns_support": True,
        "_dns_hostnames": default,
    }


def ensure_defaults(ctx) -> None:
    """Create this account's default VPC in this region on first use, as AWS has it from the start."""
    marker = table(ctx, "vpc")
    if any(v.get("IsDefault") for v in marker.values()) or ctx.table("defaults", service="ec2").get("vpc"):
        return
    vpc = _vpc_record(ctx, DEFAULT_VPC_CIDR, True, [])
    marker.put(vpc["VpcId"], vpc)
    ctx.table("defaults", service="ec2").put("vpc", {"VpcId": vpc["VpcId"]})
    net = ipaddress.ip_network(DEFAULT_VPC_CIDR)
    for zone, cidr in zip(regions.zone_names(ctx.region), net.subnets(new_prefix=20)):
        _create_subnet(ctx, vpc, str(cidr), zone, [], default_for_az=True)
    from .security_groups import create_default_group

    create_default_group(ctx, vpc["VpcId"])
    igw = {"InternetGatewayId": new_id("igw"), "OwnerId": ctx.account, "Tags": [],
           "Attachments": [{"State": "available", "VpcId": vpc["VpcId"]}]}
    table(ctx, "igw").put(igw["InternetGatewayId"], igw)
    rtb = _main_route_table(ctx, vpc)
    rtb["Routes"].append({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw["InternetGatewayId"],
                          "Origin": "CreateRoute", "State": "active"})
    table(ctx, "rtb").put(rtb["RouteTableId"], rtb)


def default_vpc(ctx) -> dict | None:
    ensure_defaults(ctx)
    return next((v for v in table(ctx, "vpc").values() if v.get("IsDefault")), None)


def _main_route_table(ctx, vpc: dict) -> dict:
    rtb_id = new_id("rtb")
    rtb = {
        "RouteTableId": rtb_id,
        "VpcId": vpc["VpcId"],
        "OwnerId": ctx.account,
        "Routes": [{"DestinationCidrBlock": vpc["CidrBlock"], "GatewayId": "local", "Origin": "CreateRouteTable",
                    "State": "active"}],
        "Associations": [{"Main": True, "RouteTableAssociationId": new_id("rtbassoc"), "RouteTableId": rtb_id,
                          "AssociationState": {"State": "associated"}}],
        "PropagatingVgws": [],
        "Tags": [],
    }
    table(ctx, "rtb").put(rtb_id, rtb)
    return rtb


# -- VPCs ---------------------------------------------------------------------------------------


def _check_cidr(cidr: str, low: int = 16, high: int = 28, code: str = "InvalidVpc.Range") -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        raise AwsError("InvalidParameterValue", f"Value ({cidr}) for parameter cidrBlock is invalid. "
                                                "This is not a valid CIDR block.")
    if net.version != 4 or not (low <= net.prefixlen <= high):
        raise AwsError(code, f"The CIDR '{cidr}' is invalid.")
    return net


def create_vpc(ctx, p):
    ensure_defaults(ctx)
    if not p.get("CidrBlock"):
        raise AwsError("MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
    net = _check_cidr(p["CidrBlock"])
    vpc = _vpc_record(ctx, str(net), False, tag_specs(p, "vpc"), p.get("InstanceTenancy") or "default")
    table(ctx, "vpc").put(vpc["VpcId"], vpc)
    _main_route_table(ctx, vpc)
    from .security_groups import create_default_group

    create_default_group(ctx, vpc["VpcId"])
    return {"Vpc": vpc}


VPC_FILTERS = {
    "vpc-id": lambda v: v["VpcId"],
    "cidr": lambda v: v["CidrBlock"],
    "cidr-block-association.cidr-block": lambda v: [a["CidrBlock"] for a in v["CidrBlockAssociationSet"]],
    "is-default": lambda v: bool_filter(v["IsDefault"]),
    "state": lambda v: v["State"],
    "owner-id": lambda v: v["OwnerId"],
    "dhcp-options-id": lambda v: v["DhcpOptionsId"],
}


def describe_vpcs(ctx, p):
    ensure_defaults(ctx)
    vpcs = find_many(ctx, "vpc", p.get("VpcIds")) or table(ctx, "vpc").values()
    vpcs = apply_filters(vpcs, p, VPC_FILTERS)
    return page(vpcs, p, lambda v: v["VpcId"], "Vpcs", f"vpcs/{ctx.account}")


def delete_vpc(ctx, p):
    vpc = find(ctx, "vpc", p["VpcId"])
    vpc_id = vpc["VpcId"]
    if any(s["VpcId"] == vpc_id for s in table(ctx, "subnet").values()):
        raise AwsError("DependencyViolation", f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
    if any(a.get("VpcId") == vpc_id for g in table(ctx, "igw").values() for a in g["Attachments"]):
        raise AwsError("DependencyViolation", f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
    for rtb in table(ctx, "rtb").values():
        if rtb["VpcId"] == vpc_id:
            if not any(a.get("Main") for a in rtb["Associations"]):
                raise AwsError("DependencyViolation", f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
    for sg in table(ctx, "sg").values():
        if sg["VpcId"] == vpc_id and sg["GroupName"] != "default":
            raise AwsError("DependencyViolation", f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
    for rtb in table(ctx, "rtb").values():
        if rtb["VpcId"] == vpc_id:
            table(ctx, "rtb").delete(rtb["RouteTableId"])
    for sg in table(ctx, "sg").values():
        if sg["VpcId"] == vpc_id:
            table(ctx, "sg").delete(sg["GroupId"])
    table(ctx, "vpc").delete(vpc_id)
    return {}


def modify_vpc_attribute(ctx, p):
    vpc = find(ctx, "vpc", p["VpcId"])
    if p.get("EnableDnsSupport") is not None:
        vpc["_dns_support"] = p["EnableDnsSupport"]["Value"]
    if p.get("EnableDnsHostnames") is not None:
        vpc["_dns_hostnames"] = p["EnableDnsHostnames"]["Value"]
    table(ctx, "vpc").put(vpc["VpcId"], vpc)
    return {}


def describe_vpc_attribute(ctx, p):
    vpc = find(ctx, "vpc", p["VpcId"])
    attr = p["Attribute"]
    out = {"VpcId": vpc["VpcId"]}
    if attr == "enableDnsSupport":
        out["EnableDnsSupport"] = {"Value": vpc["_dns_support"]}
    elif attr == "enableDnsHostnames":
        out["EnableDnsHostnames"] = {"Value": vpc["_dns_hostnames"]}
    elif attr == "enableNetworkAddressUsageMetrics":
        out["EnableNetworkAddressUsageMetrics"] = {"Value": False}
    return out


# -- subnets -------------------------------------------------------------------------------------


def _create_subnet(ctx, vpc: dict, cidr: str, zone: str, tags: list, default_for_az: bool = False) -> dict:
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
    net = _check_cidr(p["CidrBlock"], code="InvalidSubnet.Range")
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
    return {"Subnet": _create_subnet(ctx, vpc, str(net), zone, tag_specs(p, "subnet"))}


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


# -- internet gateways ------------------------------------------------------------------------


def create_internet_gateway(ctx, p):
    igw = {"InternetGatewayId": new_id("igw"), "OwnerId": ctx.account, "Attachments": [],
           "Tags": tag_specs(p, "internet-gateway")}
    table(ctx, "igw").put(igw["InternetGatewayId"], igw)
    return {"InternetGateway": igw}


def attach_internet_gateway(ctx, p):
    igw = find(ctx, "igw", p["InternetGatewayId"])
    vpc = find(ctx, "vpc", p["VpcId"])
    if igw["Attachments"]:
        raise AwsError("Resource.AlreadyAssociated",
                       f"resource {igw['InternetGatewayId']} is already attached to network "
                       f"{igw['Attachments'][0]['VpcId']}")
    for other in table(ctx, "igw").values():
        if any(a["VpcId"] == vpc["VpcId"] for a in other["Attachments"]):
            raise AwsError("Resource.AlreadyAssociated",
                           f"resource {vpc['VpcId']} is already attached to network {other['InternetGatewayId']}")
    igw["Attachments"] = [{"State": "available", "VpcId": vpc["VpcId"]}]
    table(ctx, "igw").put(igw["InternetGatewayId"], igw)
    return {}


def detach_internet_gateway(ctx, p):
    igw = find(ctx, "igw", p["InternetGatewayId"])
    if not any(a["VpcId"] == p["VpcId"] for a in igw["Attachments"]):
        raise AwsError("Gateway.NotAttached",
                       f"resource {igw['InternetGatewayId']} is not attached to network {p['VpcId']}")
    igw["Attachments"] = []
    table(ctx, "igw").put(igw["InternetGatewayId"], igw)
    return {}


def delete_internet_gateway(ctx, p):
    igw = find(ctx, "igw", p["InternetGatewayId"])
    if igw["Attachments"]:
        raise AwsError("DependencyViolation",
                       f"The internetGateway '{igw['InternetGatewayId']}' has dependencies and cannot be deleted.")
    table(ctx, "igw").delete(igw["InternetGatewayId"])
    return {}


IGW_FILTERS = {
    "internet-gateway-id": lambda g: g["InternetGatewayId"],
    "attachment.vpc-id": lambda g: [a["VpcId"] for a in g["Attachments"]],
    "attachment.state": lambda g: [a["State"] for a in g["Attachments"]],
    "owner-id": lambda g: g["OwnerId"],
}


def describe_internet_gateways(ctx, p):
    ensure_defaults(ctx)
    igws = find_many(ctx, "igw", p.get("InternetGatewayIds")) or table(ctx, "igw").values()
    igws = apply_filters(igws, p, IGW_FILTERS)
    return page(igws, p, lambda g: g["InternetGatewayId"], "InternetGateways", f"igw/{ctx.account}")


# -- route tables --------------------------------------------------------------------------------


def create_route_table(ctx, p):
    vpc = find(ctx, "vpc", p["VpcId"])
    rtb = {
        "RouteTableId": new_id("rtb"), "VpcId": vpc["VpcId"], "OwnerId": ctx.account,
        "Routes": [{"DestinationCidrBlock": vpc["CidrBlock"], "GatewayId": "local", "Origin": "CreateRouteTable",
                    "State": "active"}],
        "Associations": [], "PropagatingVgws": [], "Tags": tag_specs(p, "route-table"),
    }
    table(ctx, "rtb").put(rtb["RouteTableId"], rtb)
    return {"RouteTable": rtb}


def delete_route_table(ctx, p):
    rtb = find(ctx, "rtb", p["RouteTableId"])
    if rtb["Associations"]:
        raise AwsError("DependencyViolation",
                       f"The routeTable '{rtb['RouteTableId']}' has dependencies and cannot be deleted.")
    table(ctx, "rtb").delete(rtb["RouteTableId"])
    return {}


def _route_target(p: dict) -> dict:
    target = {}
    for key in ("GatewayId", "NatGatewayId", "InstanceId", "NetworkInterfaceId", "VpcPeeringConnectionId",
                "TransitGatewayId", "EgressOnlyInternetGatewayId", "LocalGatewayId", "CarrierGatewayId"):
        if p.get(key):
            target[key] = p[key]
    if not target:
        raise AwsError("MissingParameter", "The request must contain exactly one of gatewayId, natGatewayId, "
                                           "networkInterfaceId, vpcPeeringConnectionId or instanceId")
    return target


def create_route(ctx, p):
    rtb = find(ctx, "rtb", p["RouteTableId"])
    dest = p.get("DestinationCidrBlock") or p.get("DestinationIpv6CidrBlock")
    if not dest:
        raise AwsError("MissingParameter", "The request must contain the parameter destinationCidrBlock")
    target = _route_target(p)
    if target.get("GatewayId", "").startswith("igw-"):
        find(ctx, "igw", target["GatewayId"])
    key = "DestinationCidrBlock" if p.get("DestinationCidrBlock") else "DestinationIpv6CidrBlock"
    if any(r.get(key) == dest for r in rtb["Routes"]):
        raise AwsError("RouteAlreadyExists", f"The route identified by {dest} already exists.")
    rtb["Routes"].append({key: dest, **target, "Origin": "CreateRoute", "State": "active"})
    table(ctx, "rtb").put(rtb["RouteTableId"], rtb)
    return {"Return": True}


def replace_route(ctx, p):
    rtb = find(ctx, "rtb", p["RouteTableId"])
    dest = p.get("DestinationCidrBlock") or p.get("DestinationIpv6CidrBlock")
    for route in rtb["Routes"]:
        if dest in (route.get("DestinationCidrBlock"), route.get("DestinationIpv6CidrBlock")):
            for k in [k for k in route if k.endswith("Id")]:
                del route[k]
            route.update(_route_target(p))
            table(ctx, "rtb").put(rtb["RouteTableId"], rtb)
            return {}
    raise AwsError("InvalidRoute.NotFound", f"no route with destination-cidr-block {dest} in route table "
                                            f"{rtb['RouteTableId']}")


def delete_route(ctx, p):
    rtb = find(ctx, "rtb", p["RouteTableId"])
    dest = p.get("DestinationCidrBlock") or p.get("DestinationIpv6CidrBlock")
    kept = [r for r in rtb["Routes"] if dest not in (r.get("DestinationCidrBlock"), r.get("DestinationIpv6CidrBlock"))
            or r.get("GatewayId") == "local"]
    if len(kept) == len(rtb["Routes"]):
        raise AwsError("InvalidRoute.NotFound", f"no route with destination-cidr-block {dest} in route table "
                                                f"{rtb['RouteTableId']}")
    rtb["Routes"] = kept
    table(ctx, "rtb").put(rtb["RouteTableId"], rtb)
    return {}


def associate_route_table(ctx, p):
    rtb = find(ctx, "rtb", p["RouteTableId"])
    if not p.get("SubnetId"):
        raise AwsError("MissingParameter", "The request must contain the parameter subnetId")
    subnet = find(ctx, "subnet", p["SubnetId"])
    for other in table(ctx, "rtb").values():
        if any(a.get("SubnetId") == subnet["SubnetId"] for a in other["Associations"]):
            raise AwsError("Resource.AlreadyAssociated",
                           f"the specified association for route table {other['RouteTableId']} conflicts with "
                           f"an existing association")
    assoc_id = new_id("rtbassoc")
    rtb["Associations"].append({"Main": False, "RouteTableAssociationId": assoc_id,
                                "RouteTableId": rtb["RouteTableId"], "SubnetId": subnet["SubnetId"],
                                "AssociationState": {"State": "associated"}})
    table(ctx, "rtb").put(rtb["RouteTableId"], rtb)
    return {"AssociationId": assoc_id, "AssociationState": {"State": "associated"}}


def disassociate_route_table(ctx, p):
    for rtb in table(ctx, "rtb").values():
        for assoc in rtb["Associations"]:
            if assoc["RouteTableAssociationId"] == p["AssociationId"]:
                if assoc.get("Main"):
                    raise invalid("cannot disassociate the main route table association")
                rtb["Associations"].remove(assoc)
                table(ctx, "rtb").put(rtb["RouteTableId"], rtb)
                return {}
    raise AwsError("InvalidAssociationID.NotFound", f"The association ID '{p['AssociationId']}' does not exist")


def replace_route_table_association(ctx, p):
    new = find(ctx, "rtb", p["RouteTableId"])
    for rtb in table(ctx, "rtb").values():
        for assoc in rtb["Associations"]:
            if assoc["RouteTableAssociationId"] != p["AssociationId"]:
                continue
            if rtb["VpcId"] != new["VpcId"]:
                raise invalid("The route table and the association belong to different VPCs")
            rtb["Associations"].remove(assoc)
            table(ctx, "rtb").put(rtb["RouteTableId"], rtb)
            moved = dict(assoc, RouteTableAssociationId=new_id("rtbassoc"), RouteTableId=new["RouteTableId"])
            new = table(ctx, "rtb").get(new["RouteTableId"])
            new["Associations"].append(moved)
            table(ctx, "rtb").put(new["RouteTableId"], new)
            return {"NewAssociationId": moved["RouteTableAssociationId"], "AssociationState": {"State": "associated"}}
    raise AwsError("InvalidAssociationID.NotFound", f"The association ID '{p['AssociationId']}' does not exist")


RTB_FILTERS = {
    "route-table-id": lambda r: r["RouteTableId"],
    "vpc-id": lambda r: r["VpcId"],
    "association.subnet-id": lambda r: [a.get("SubnetId") for a in r["Associations"]],
    "association.route-table-association-id": lambda r: [a["RouteTableAssociationId"] for a in r["Associations"]],
    "association.main": lambda r: [bool_filter(a.get("Main")) for a in r["Associations"]],
    "route.destination-cidr-block": lambda r: [x.get("DestinationCidrBlock") for x in r["Routes"]],
    "route.gateway-id": lambda r: [x.get("GatewayId") for x in r["Routes"]],
    "owner-id": lambda r: r["OwnerId"],
}


def describe_route_tables(ctx, p):
    ensure_defaults(ctx)
    rtbs = find_many(ctx, "rtb", p.get("RouteTableIds")) or table(ctx, "rtb").values()
    rtbs = apply_filters(rtbs, p, RTB_FILTERS)
    return page(rtbs, p, lambda r: r["RouteTableId"], "RouteTables", f"rtb/{ctx.account}")


# -- regions and zones ---------------------------------------------------------------------------


def describe_availability_zones(ctx, p):
    zones = regions.zones(ctx.region)
    names, ids = p.get("ZoneNames"), p.get("ZoneIds")
    for name in names or []:
        if name not in [z["ZoneName"] for z in zones]:
            raise invalid(f"The zone '{name}' does not exist.")
    if names:
        zones = [z for z in zones if z["ZoneName"] in names]
    if ids:
        zones = [z for z in zones if z["ZoneId"] in ids]
    zones = apply_filters(zones, p, {
        "zone-name": lambda z: z["ZoneName"], "zone-id": lambda z: z["ZoneId"], "state": lambda z: z["State"],
        "region-name": lambda z: z["RegionName"], "zone-type": lambda z: z["ZoneType"],
        "group-name": lambda z: z["GroupName"], "opt-in-status": lambda z: z["OptInStatus"],
    })
    return {"AvailabilityZones": zones}


def describe_regions(ctx, p):
    out = [{"RegionName": r, "Endpoint": regions.endpoint(r), "OptInStatus": "opt-in-not-required"}
           for r in regions.REGIONS]
    if p.get("RegionNames"):
        unknown = [r for r in p["RegionNames"] if not regions.known(r)]
        if unknown:
            raise invalid(f"Invalid region names: {', '.join(unknown)}")
        out = [r for r in out if r["RegionName"] in p["RegionNames"]]
    out = apply_filters(out, p, {"region-name": lambda r: r["RegionName"], "endpoint": lambda r: r["Endpoint"],
                                 "opt-in-status": lambda r: r["OptInStatus"]})
    return {"Regions": out}


def describe_account_attributes(ctx, p):
    vpc = default_vpc(ctx)
    attrs = {
        "supported-platforms": ["VPC"],
        "default-vpc": [vpc["VpcId"] if vpc else "none"],
        "max-instances": ["1000"],
        "vpc-max-security-groups-per-interface": ["5"],
        "max-elastic-ips": ["5"],
        "vpc-max-elastic-ips": ["5"],
    }
    wanted = p.get("AttributeNames") or list(attrs)
    return {"AccountAttributes": [
        {"AttributeName": name, "AttributeValues": [{"AttributeValue": v} for v in attrs[name]]}
        for name in wanted if name in attrs
    ]}
