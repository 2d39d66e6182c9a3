"""Route tables: each VPC's main table, routes and subnet associations."""

from __future__ import annotations

from ...aws.errors import AwsError
from .defaults import ensure_defaults
from .model import apply_filters, bool_filter, find, find_many, invalid, new_id, page, table, tag_specs


def main_route_table(ctx, vpc: dict) -> dict:
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
