"""VPCs: create, describe, delete, and their DNS attributes."""

from __future__ import annotations

import ipaddress

from ...aws.errors import AwsError
from .defaults import ensure_defaults
from .model import apply_filters, bool_filter, find, find_many, new_id, page, table, tag_specs
from .route_tables import main_route_table


def vpc_record(ctx, cidr: str, default: bool, tags: list, tenancy: str = "default") -> dict:
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


def check_cidr(cidr: str, low: int = 16, high: int = 28, code: str = "InvalidVpc.Range") -> ipaddress.IPv4Network:
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
    net = check_cidr(p["CidrBlock"])
    vpc = vpc_record(ctx, str(net), False, tag_specs(p, "vpc"), p.get("InstanceTenancy") or "default")
    table(ctx, "vpc").put(vpc["VpcId"], vpc)
    main_route_table(ctx, vpc)
    from .security_groups import create_default_group

    create_default_group(ctx, vpc["VpcId"])
    return {"Vpc": vpc}


VPC_FILTERS = {
    "vpc-id": lambda v: v["VpcId"],
    "cidr": lambda v: v["CidrBlock"],
    "cidr-block-association.cidr-block": lambda v: [a["CidrBlock"] for a in v["CidrBlockAssociationSet"]],
    "is-default": lambda v: bool_filter(v["IsDefault"]),
    "isDefault": lambda v: bool_filter(v["IsDefault"]),  # AWS takes it too; Terraform's default-VPC lookup sends it
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
