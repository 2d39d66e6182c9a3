"""Internet gateways and their attachment to VPCs."""

from __future__ import annotations

from ...aws.errors import AwsError
from .defaults import ensure_defaults
from .model import apply_filters, find, find_many, new_id, page, table, tag_specs


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
