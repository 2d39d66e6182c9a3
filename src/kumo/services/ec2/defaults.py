"""The default VPC each account has in each region (made on first use), and the account attributes naming it."""

from __future__ import annotations

import ipaddress

from . import regions
from .model import new_id, table


DEFAULT_VPC_CIDR = "172.31.0.0/16"


def ensure_defaults(ctx) -> None:
    """Create this account's default VPC in this region on first use, as AWS has it from the start."""
    marker = table(ctx, "vpc")
    if any(v.get("IsDefault") for v in marker.values()) or ctx.table("defaults", service="ec2").get("vpc"):
        return
    from .route_tables import main_route_table
    from .security_groups import create_default_group
    from .subnets import new_subnet
    from .vpcs import vpc_record

    vpc = vpc_record(ctx, DEFAULT_VPC_CIDR, True, [])
    marker.put(vpc["VpcId"], vpc)
    ctx.table("defaults", service="ec2").put("vpc", {"VpcId": vpc["VpcId"]})
    net = ipaddress.ip_network(DEFAULT_VPC_CIDR)
    for zone, cidr in zip(regions.zone_names(ctx.region), net.subnets(new_prefix=20)):
        new_subnet(ctx, vpc, str(cidr), zone, [], default_for_az=True)
    create_default_group(ctx, vpc["VpcId"])
    igw = {"InternetGatewayId": new_id("igw"), "OwnerId": ctx.account, "Tags": [],
           "Attachments": [{"State": "available", "VpcId": vpc["VpcId"]}]}
    table(ctx, "igw").put(igw["InternetGatewayId"], igw)
    rtb = main_route_table(ctx, vpc)
    rtb["Routes"].append({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw["InternetGatewayId"],
                          "Origin": "CreateRoute", "State": "active"})
    table(ctx, "rtb").put(rtb["RouteTableId"], rtb)


def default_vpc(ctx) -> dict | None:
    ensure_defaults(ctx)
    return next((v for v in table(ctx, "vpc").values() if v.get("IsDefault")), None)


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
