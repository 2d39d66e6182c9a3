"""Classic Load Balancers: create, describe, delete; their zones, subnets and security groups."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import pagination
from ...core.ids import random_digits
from ...dataplane.lb.control import runtime_of
from ..ec2 import internal as ec2
from . import listeners as L
from .dataplane import check_now
from .model import (
    MAX_LOAD_BALANCERS, check_name, default_attributes, find_lb, group_arn, hosted_zone, invalid, misconfigured,
    not_found, save, table, view,
)
from .tags import merge_tags


def _subnets_by_id(ctx, ids: list[str]) -> list[dict]:
    found = []
    for sid in ids:
        subnet = ec2.subnet(ctx.kumo, ctx.scope, sid)
        if subnet is None:
            raise AwsError("SubnetNotFound", f"One or more of the specified subnets do not exist: '{sid}'.")
        found.append(subnet)
    if len({s["VpcId"] for s in found}) > 1:
        raise misconfigured("All subnets of a load balancer must belong to the same VPC.")
    zones = [s["AvailabilityZone"] for s in found]
    if len(set(zones)) != len(zones):
        raise misconfigured("You can attach only one subnet per Availability Zone.")
    return found


def _subnets_for_zones(ctx, vpc_id: str | None, zones: list[str]) -> list[dict]:
    """The subnet a zone name stands for: the default subnet of the zone (in the load balancer's VPC)."""
    vpc_id = vpc_id or ec2.default_vpc_id(ctx.kumo, ctx.scope)
    unknown = [z for z in zones if z not in ec2.zone_names(ctx.region)]
    if unknown:
        raise invalid(f"Invalid Availability Zone: {unknown[0]}")
    out = []
    for zone in dict.fromkeys(zones):
        candidates = [s for s in ec2.subnets(ctx.kumo, ctx.scope, vpc_id) if s["AvailabilityZone"] == zone]
        candidates.sort(key=lambda s: (not s.get("DefaultForAz"), s["SubnetId"]))
        if not candidates:
            raise misconfigured(f"The load balancer's VPC '{vpc_id}' has no subnet in {zone}.")
        out.append(candidates[0])
    return out


def _current(lb: dict) -> list[dict]:
    """The load balancer's own subnets as it recorded them (EC2 may have forgotten one since)."""
    return [{"SubnetId": sid, "AvailabilityZone": zone, "VpcId": lb["VPCId"]}
            for sid, zone in zip(lb["Subnets"], lb["AvailabilityZones"])]


def set_subnets(ctx, lb: dict, subnets: list[dict]) -> None:
    """Make ``subnets`` the load balancer's, with one node address per zone (kept for zones it already had)."""
    if not subnets:
        raise misconfigured("A load balancer must keep at least one Availability Zone.")
    if lb.get("VPCId") and any(s["VpcId"] != lb["VPCId"] for s in subnets):
        raise AwsError("InvalidSubnet", f"Subnets must belong to the load balancer's VPC '{lb['VPCId']}'.")
    rt = runtime_of(ctx.kumo)
    old = dict(lb.get("_nodes") or {})
    nodes = {}
    for s in subnets:
        zone = s["AvailabilityZone"]
        nodes[zone] = old.pop(zone, None) or rt.nodes.allocate(ctx.store, f"elb:{ctx.scope}/{lb['LoadBalancerName']}")
    for ip in old.values():
        rt.nodes.release(ctx.store, ip)
    ordered = sorted(subnets, key=lambda s: s["AvailabilityZone"])
    lb["Subnets"] = [s["SubnetId"] for s in ordered]
    lb["AvailabilityZones"] = [s["AvailabilityZone"] for s in ordered]
    lb["_nodes"] = nodes


def _check_groups(ctx, vpc_id: str, ids: list[str]) -> list[dict]:
    found = []
    for gid in dict.fromkeys(ids):
        group = ec2.security_group(ctx.kumo, ctx.scope, gid)
        if group is None or group["VpcId"] != vpc_id:
            raise AwsError("InvalidSecurityGroup", f"One or more of the specified security groups do not exist "
                                                   f"in the load balancer's VPC: '{gid}'.")
        found.append(group)
    return found


def _apply_groups(lb: dict, groups: list[dict], account: str) -> None:
    lb["SecurityGroups"] = [g["GroupId"] for g in groups]
    # The group to name in instances' rules to admit this load balancer: its first security group.
    if groups:
        lb["SourceSecurityGroup"] = {"OwnerAlias": account, "GroupName": groups[0]["GroupName"]}
    else:
        lb.pop("SourceSecurityGroup", None)


def create_load_balancer(ctx, p):
    name = check_name(p["LoadBalancerName"])
    scheme = p.get("Scheme") or "internet-facing"
    if scheme not in ("internet-facing", "internal"):
        raise AwsError("InvalidScheme", f"Scheme '{scheme}' is not valid: use internet-facing or internal.")
    listeners = L.check_listeners(ctx, p["Listeners"])
    lbs = table(ctx)
    existing = lbs.get(name)
    if existing is not None:
        by_port = sorted(listeners, key=lambda x: x["LoadBalancerPort"])
        same = [ld["Listener"] for ld in existing["ListenerDescriptions"]] == by_port and existing["Scheme"] == scheme
        if same:  # AWS answers a repeated identical request with the existing load balancer
            return {"DNSName": existing["DNSName"]}
        raise AwsError("DuplicateLoadBalancerName", f"Load Balancer named '{name}' already exists and it is "
                                                    f"configured with different parameters.")
    if len(lbs) >= MAX_LOAD_BALANCERS:
        raise AwsError("TooManyLoadBalancers", f"Exceeded quota of account {ctx.account}: at most "
                                               f"{MAX_LOAD_BALANCERS} load balancers per region.")
    if p.get("Subnets") and p.get("AvailabilityZones"):
        raise invalid("Specify either Subnets or AvailabilityZones, not both.")
    if p.get("Subnets"):
        subnets = _subnets_by_id(ctx, p["Subnets"])
    elif p.get("AvailabilityZones"):
        subnets = _subnets_for_zones(ctx, None, p["AvailabilityZones"])
    else:
        raise invalid("Either AvailabilityZones or Subnets must be specified.")
    vpc_id = subnets[0]["VpcId"]
    if p.get("SecurityGroups"):
        groups = _check_groups(ctx, vpc_id, p["SecurityGroups"])
    else:  # created through the API without groups, a load balancer gets its VPC's default group
        default = ec2.default_security_group(ctx.kumo, ctx.scope, vpc_id)
        groups = [default] if default else []
    prefix = "internal-" if scheme == "internal" else ""
    dns = f"{prefix}{name}-{random_digits(10)}.{ctx.region}.elb.amazonaws.com"
    lb = {
        "LoadBalancerName": name, "DNSName": dns, "CanonicalHostedZoneName": dns,
        "CanonicalHostedZoneNameID": hosted_zone(ctx.region),
        "ListenerDescriptions": [], "Policies": {"AppCookieStickinessPolicies": [],
                                                 "LBCookieStickinessPolicies": [], "OtherPolicies": []},
        "BackendServerDescriptions": [], "AvailabilityZones": [], "Subnets": [], "VPCId": vpc_id,
        "Instances": [],
        # Defaults of a load balancer created through the API (a TCP check of the first listener's port).
        "HealthCheck": {"Target": f"TCP:{listeners[0]['InstancePort']}", "Interval": 30, "Timeout": 5,
                        "UnhealthyThreshold": 2, "HealthyThreshold": 10},
        "SecurityGroups": [], "CreatedTime": ctx.now(), "Scheme": scheme,
        "_arn": ctx.arn(f"loadbalancer/{name}", service="elasticloadbalancing"),
        "_nodes": {}, "_attributes": default_attributes(), "_policies": {}, "_draining": {}, "_tags": {},
    }
    _apply_groups(lb, groups, ctx.account)
    if p.get("Tags"):
        lb["_tags"] = merge_tags({}, p["Tags"])
    set_subnets(ctx, lb, subnets)
    for listener in listeners:
        L.add_listener(ctx, lb, listener)
    save(ctx, lb)
    check_now(ctx.kumo, lb)
    return {"DNSName": dns}


def describe_load_balancers(ctx, p):
    lbs = table(ctx)
    if p.get("LoadBalancerNames"):
        items = []
        for name in dict.fromkeys(p["LoadBalancerNames"]):
            if name not in lbs:
                raise not_found(name)
            items.append(lbs.get(name))
    else:
        items = sorted(lbs.values(), key=lambda lb: (lb["CreatedTime"], lb["LoadBalancerName"]))
    try:
        chunk, marker = pagination.paginate(items, p.get("PageSize"), p.get("Marker"),
                                            lambda lb: lb["LoadBalancerName"], f"elb/{ctx.scope}", default_limit=400)
    except pagination.InvalidToken:
        raise invalid("The Marker is not valid.")
    out = {"LoadBalancerDescriptions": [view(lb) for lb in chunk]}
    if marker:
        out["NextMarker"] = marker
    return out


def delete_load_balancer(ctx, p):
    lb = table(ctx).get(p["LoadBalancerName"])
    if lb is None:
        return {}  # as on AWS, deleting a load balancer that does not exist succeeds
    rt = runtime_of(ctx.kumo)
    for ld in lb["ListenerDescriptions"]:
        L.release_certificate(ctx, lb, ld["Listener"])
    for ip in lb["_nodes"].values():
        rt.nodes.release(ctx.store, ip)
    for iid in [i["InstanceId"] for i in lb["Instances"]] + list(lb["_draining"]):
        rt.forget_target(group_arn(lb), iid)
    table(ctx).delete(lb["LoadBalancerName"])
    rt.invalidate()
    return {}


# -- zones, subnets, security groups -----------------------------------------------------------------


def enable_availability_zones_for_load_balancer(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    current = _current(lb)
    have = {s["AvailabilityZone"] for s in current}
    added = _subnets_for_zones(ctx, lb["VPCId"], [z for z in p["AvailabilityZones"] if z not in have])
    set_subnets(ctx, lb, current + added)
    save(ctx, lb)
    check_now(ctx.kumo, lb)
    return {"AvailabilityZones": lb["AvailabilityZones"]}


def disable_availability_zones_for_load_balancer(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    unknown = [z for z in p["AvailabilityZones"] if z not in ec2.zone_names(ctx.region)]
    if unknown:
        raise invalid(f"Invalid Availability Zone: {unknown[0]}")
    keep = [s for s in _current(lb) if s["AvailabilityZone"] not in p["AvailabilityZones"]]
    if not keep:
        raise misconfigured("Cannot disable all Availability Zones of a load balancer.")
    set_subnets(ctx, lb, keep)
    save(ctx, lb)
    check_now(ctx.kumo, lb)
    return {"AvailabilityZones": lb["AvailabilityZones"]}


def attach_load_balancer_to_subnets(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    new = _subnets_by_id(ctx, p["Subnets"])
    if any(s["VpcId"] != lb["VPCId"] for s in new):
        raise AwsError("InvalidSubnet", f"Subnets must belong to the load balancer's VPC '{lb['VPCId']}'.")
    current = [s for s in _current(lb) if s["SubnetId"] not in {n["SubnetId"] for n in new}]
    taken = {s["AvailabilityZone"]: s["SubnetId"] for s in current}
    for s in new:
        if s["AvailabilityZone"] in taken:
            raise misconfigured(f"Load balancer '{lb['LoadBalancerName']}' already has subnet "
                                f"'{taken[s['AvailabilityZone']]}' in {s['AvailabilityZone']}: only one subnet per "
                                f"Availability Zone is allowed.")
    set_subnets(ctx, lb, current + new)
    save(ctx, lb)
    check_now(ctx.kumo, lb)
    return {"Subnets": lb["Subnets"]}


def detach_load_balancer_from_subnets(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    keep = [s for s in _current(lb) if s["SubnetId"] not in p["Subnets"]]
    if not keep:
        raise misconfigured("Cannot detach all subnets of a load balancer.")
    set_subnets(ctx, lb, keep)
    save(ctx, lb)
    check_now(ctx.kumo, lb)
    return {"Subnets": lb["Subnets"]}


def apply_security_groups_to_load_balancer(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    _apply_groups(lb, _check_groups(ctx, lb["VPCId"], p["SecurityGroups"]), ctx.account)
    save(ctx, lb)
    return {"SecurityGroups": lb["SecurityGroups"]}
