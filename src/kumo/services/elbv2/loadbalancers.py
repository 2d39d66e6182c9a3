"""Application and Network Load Balancers: create, describe, attributes, subnets, tags."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import tags as core_tags
from ...core.ids import random_digits
from ...dataplane.lb.control import runtime_of
from ..ec2 import internal as ec2
from . import access_logs
from .model import (
    LB, LISTENER, RULE, TAGS, TG, check_name, hosted_zone, invalid, lb_attributes, new_suffix, page, required, table,
)


def find_lb(ctx, arn: str) -> dict:
    lb = table(ctx, LB).get(arn)
    if lb is None:
        raise AwsError("LoadBalancerNotFound", f"Load balancer '{arn}' not found")
    return lb


def view(lb: dict) -> dict:
    return {k: v for k, v in lb.items() if not k.startswith("_")}


def _zones(ctx, lb: dict | None, kind: str, subnet_ids: list[str], mappings: list[dict]) -> list[dict]:
    ec2.ensure_defaults(ctx.kumo, ctx.scope)
    ids = list(subnet_ids or []) + [required(m, "SubnetId", f"subnetMappings.{i}")
                                    for i, m in enumerate(mappings or [], 1)]
    subnets = []
    for sid in ids:
        subnet = ec2.subnet(ctx.kumo, ctx.scope, sid)
        if subnet is None:
            raise AwsError("SubnetNotFound", f"The subnet ID '{sid}' is not valid")
        subnets.append(subnet)
    if not subnets:
        raise invalid("At least one subnet must be specified")
    zones = [s["AvailabilityZone"] for s in subnets]
    if len(set(zones)) != len(zones):
        raise invalid("You cannot specify multiple subnets in the same Availability Zone")
    if kind == "application" and len(set(zones)) < 2:
        raise invalid("At least two subnets in two different Availability Zones must be specified")
    if len({s["VpcId"] for s in subnets}) != 1:
        raise invalid("All subnets must be in the same VPC")
    rt = runtime_of(ctx.kumo)
    old = {z["ZoneName"]: z for z in (lb or {}).get("AvailabilityZones", [])}
    out = []
    for subnet in subnets:
        zone = subnet["AvailabilityZone"]
        node = (old.get(zone) or {}).get("_node") or rt.nodes.allocate(ctx.store, f"{(lb or {}).get('LoadBalancerName')}")
        # NLBs have a static address per zone; kumo gives ALBs one too, so users can reach them (docs/elb.md).
        out.append({"ZoneName": zone, "SubnetId": subnet["SubnetId"],
                    "LoadBalancerAddresses": [{"IpAddress": node}], "_node": node})
    for zone, z in old.items():
        if zone not in {o["ZoneName"] for o in out}:
            rt.nodes.release(ctx.store, z.get("_node"))
    return out


def _check_groups(ctx, groups: list[str], vpc_id: str) -> None:
    for gid in groups:
        group = ec2.security_group(ctx.kumo, ctx.scope, gid)
        if group is None:
            raise AwsError("InvalidSecurityGroup", f"Security group '{gid}' does not exist")
        if group.get("VpcId") != vpc_id:
            raise AwsError("InvalidSecurityGroup", f"Security group '{gid}' does not belong to VPC '{vpc_id}'")


def _public_zones(zones: list[dict]) -> list[dict]:
    return [{k: v for k, v in z.items() if not k.startswith("_")} for z in zones]


def create_load_balancer(ctx, p):
    name = check_name(p["Name"], "Load balancer")
    kind = p.get("Type") or "application"
    if kind == "gateway":
        raise AwsError("NotImplemented", "kumo does not implement Gateway Load Balancers.", status=501)
    lbs = table(ctx, LB)
    if any(lb["LoadBalancerName"] == name for lb in lbs.values()):
        raise AwsError("DuplicateLoadBalancerName", "A load balancer with the same name already exists")
    scheme = p.get("Scheme") or "internet-facing"
    short = "app" if kind == "application" else "net"
    suffix = new_suffix()
    arn = ctx.arn(f"loadbalancer/{short}/{name}/{suffix}", service="elasticloadbalancing")
    placeholder = {"LoadBalancerName": name}
    zones = _zones(ctx, placeholder, kind, p.get("Subnets"), p.get("SubnetMappings"))
    vpc_id = ec2.subnet(ctx.kumo, ctx.scope, zones[0]["SubnetId"])["VpcId"]
    groups = list(p.get("SecurityGroups") or [])
    if kind == "application" and not groups:
        default = ec2.default_security_group(ctx.kumo, ctx.scope, vpc_id)
        groups = [default["GroupId"]] if default else []
    _check_groups(ctx, groups, vpc_id)
    prefix = "internal-" if scheme == "internal" else ""
    if kind == "application":
        dns = f"{prefix}{name}-{random_digits(10)}.{ctx.region}.elb.amazonaws.com"
    else:
        dns = f"{prefix}{name}-{suffix}.elb.{ctx.region}.amazonaws.com"
    lb = {
        "LoadBalancerArn": arn, "DNSName": dns, "CanonicalHostedZoneId": hosted_zone(ctx.region, kind),
        "CreatedTime": ctx.now(), "LoadBalancerName": name, "Scheme": scheme, "VpcId": vpc_id,
        "State": {"Code": "provisioning"}, "Type": kind, "AvailabilityZones": zones,
        "IpAddressType": p.get("IpAddressType") or "ipv4",
        "_attributes": lb_attributes(kind),
    }
    if kind == "application" or groups:
        lb["SecurityGroups"] = groups
    lbs.put(arn, lb)
    _tag(ctx, arn, p.get("Tags"))
    runtime_of(ctx.kumo).invalidate()
    return {"LoadBalancers": [view({**lb, "AvailabilityZones": _public_zones(zones)})]}


def describe_load_balancers(ctx, p):
    lbs = table(ctx, LB).values()
    if p.get("LoadBalancerArns"):
        lbs = [find_lb(ctx, a) for a in p["LoadBalancerArns"]]
    elif p.get("Names"):
        by_name = {lb["LoadBalancerName"]: lb for lb in lbs}
        missing = [n for n in p["Names"] if n not in by_name]
        if missing:
            raise AwsError("LoadBalancerNotFound", f"Load balancers '[{', '.join(missing)}]' not found")
        lbs = [by_name[n] for n in p["Names"]]
    out = [view({**lb, "AvailabilityZones": _public_zones(lb["AvailabilityZones"])}) for lb in lbs]
    return page(out, p, lambda lb: lb["LoadBalancerArn"], "LoadBalancers", f"lb/{ctx.account}")


def delete_load_balancer(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    lbs = table(ctx, LB)
    lb = lbs.get(p["LoadBalancerArn"])
    if lb is None:
        return {}  # like AWS, deleting a load balancer that is gone succeeds
    if lb["_attributes"].get("deletion_protection.enabled") == "true":
        raise AwsError("OperationNotPermitted", f"Load balancer '{lb['LoadBalancerArn']}' cannot be deleted "
                                                f"because deletion protection is enabled")
    for listener in table(ctx, LISTENER).values():
        if listener["LoadBalancerArn"] == lb["LoadBalancerArn"]:
            from .listeners import drop_listener

            drop_listener(ctx, listener)
    rt = runtime_of(ctx.kumo)
    for z in lb["AvailabilityZones"]:
        rt.nodes.release(ctx.store, z.get("_node"))
    lbs.delete(lb["LoadBalancerArn"])
    table(ctx, TAGS).delete(lb["LoadBalancerArn"])
    rt.invalidate()
    return {}


_LB_ATTRIBUTE_RULES = {
    "idle_timeout.timeout_seconds": (1, 4000),
    "client_keep_alive.seconds": (60, 604800),
}


def describe_load_balancer_attributes(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerArn"])
    return {"Attributes": [{"Key": k, "Value": v} for k, v in lb["_attributes"].items()]}


def modify_load_balancer_attributes(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    lb = find_lb(ctx, p["LoadBalancerArn"])
    attrs = dict(lb["_attributes"])
    for i, a in enumerate(p["Attributes"], 1):
        key, value = required(a, "Key", f"attributes.{i}"), a.get("Value", "")
        if key not in attrs:
            raise invalid(f"Load balancer attribute key '{key}' is not recognized")
        if key.endswith(".enabled") and value not in ("true", "false"):
            raise invalid(f"Load balancer attribute value '{value}' is not valid for '{key}'")
        if key in _LB_ATTRIBUTE_RULES:
            lo, hi = _LB_ATTRIBUTE_RULES[key]
            if not value.isdigit() or not lo <= int(value) <= hi:
                raise invalid(f"'{key}' must be a number between {lo} and {hi}")
        if key == "load_balancing.cross_zone.enabled" and lb["Type"] == "application" and value != "true":
            raise invalid("Cross-zone load balancing is always on for Application Load Balancers")
        attrs[key] = value
    access_logs.check_enable(ctx, lb, attrs)
    lb["_attributes"] = attrs
    table(ctx, LB).put(lb["LoadBalancerArn"], lb)
    runtime_of(ctx.kumo).invalidate()
    return {"Attributes": [{"Key": k, "Value": v} for k, v in attrs.items()]}


def set_subnets(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    lb = find_lb(ctx, p["LoadBalancerArn"])
    for sid in list(p.get("Subnets") or []) + [m.get("SubnetId") for m in p.get("SubnetMappings") or []]:
        subnet = ec2.subnet(ctx.kumo, ctx.scope, sid) if sid else None
        if subnet is not None and subnet["VpcId"] != lb["VpcId"]:
            raise AwsError("InvalidConfigurationRequest", f"Subnet '{sid}' is not in the VPC '{lb['VpcId']}' of "
                                                          f"the load balancer")
    lb["AvailabilityZones"] = _zones(ctx, lb, lb["Type"], p.get("Subnets"), p.get("SubnetMappings"))
    _check_ip_address_type(ctx, lb, lb["IpAddressType"])
    table(ctx, LB).put(lb["LoadBalancerArn"], lb)
    runtime_of(ctx.kumo).invalidate()
    return {"AvailabilityZones": _public_zones(lb["AvailabilityZones"]), "IpAddressType": lb["IpAddressType"]}


def set_security_groups(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerArn"])
    if lb["Type"] == "network" and not lb.get("SecurityGroups"):
        raise AwsError("InvalidConfigurationRequest", "You cannot set security groups on a Network Load Balancer "
                                                      "that was created without security groups")
    _check_groups(ctx, p["SecurityGroups"], lb["VpcId"])
    lb["SecurityGroups"] = list(p["SecurityGroups"])
    table(ctx, LB).put(lb["LoadBalancerArn"], lb)
    return {"SecurityGroupIds": lb["SecurityGroups"]}


_IP_ADDRESS_TYPES = ("ipv4", "dualstack", "dualstack-without-public-ipv4")


def _check_ip_address_type(ctx, lb: dict, kind: str) -> None:
    if kind not in _IP_ADDRESS_TYPES:
        raise invalid(f"1 validation error detected: Value '{kind}' at 'ipAddressType' failed to satisfy "
                      f"constraint: Member must satisfy enum value set: [{', '.join(_IP_ADDRESS_TYPES)}]")
    if kind == "dualstack-without-public-ipv4" and (lb["Type"] != "application" or lb["Scheme"] == "internal"):
        raise invalid("IP address type 'dualstack-without-public-ipv4' is supported only by internet-facing "
                      "Application Load Balancers")
    if kind != "ipv4":
        for z in lb["AvailabilityZones"]:
            subnet = ec2.subnet(ctx.kumo, ctx.scope, z["SubnetId"]) or {}
            if not subnet.get("Ipv6CidrBlockAssociationSet"):
                raise invalid("You must specify subnets with an associated IPv6 CIDR block.")


def set_ip_address_type(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerArn"])
    _check_ip_address_type(ctx, lb, p["IpAddressType"])
    lb["IpAddressType"] = p["IpAddressType"]
    table(ctx, LB).put(lb["LoadBalancerArn"], lb)
    return {"IpAddressType": lb["IpAddressType"]}


# -- tags (load balancers, target groups, listeners, rules) ----------------------------------------


def _exists(ctx, arn: str) -> bool:
    return any(arn in table(ctx, kind) for kind in (LB, TG, LISTENER, RULE))


def _tag(ctx, arn: str, tags: list | None) -> None:
    if not tags:
        return
    existing = core_tags.to_dict((table(ctx, TAGS).get(arn) or {}).get("Tags"))
    new = core_tags.to_dict(tags)
    try:
        core_tags.validate(new, existing)
    except core_tags.TagError as exc:
        raise AwsError("TooManyTags" if "exceeds" in str(exc) else "ValidationError", str(exc))
    existing.update(new)
    table(ctx, TAGS).put(arn, {"Tags": core_tags.to_list(existing)})


def add_tags(ctx, p):
    for arn in p["ResourceArns"]:
        if not _exists(ctx, arn):
            raise AwsError("LoadBalancerNotFound" if ":loadbalancer/" in arn else "TargetGroupNotFound",
                           f"Resource '{arn}' not found")
    for arn in p["ResourceArns"]:
        _tag(ctx, arn, p["Tags"])
    return {}


def remove_tags(ctx, p):
    for arn in p["ResourceArns"]:
        record = table(ctx, TAGS).get(arn) or {"Tags": []}
        record["Tags"] = [t for t in record["Tags"] if t["Key"] not in set(p["TagKeys"])]
        table(ctx, TAGS).put(arn, record)
    return {}


def describe_tags(ctx, p):
    out = []
    for arn in p["ResourceArns"]:
        if not _exists(ctx, arn):
            raise AwsError("LoadBalancerNotFound" if ":loadbalancer/" in arn else "TargetGroupNotFound",
                           f"Resource '{arn}' not found")
        out.append({"ResourceArn": arn, "Tags": (table(ctx, TAGS).get(arn) or {}).get("Tags", [])})
    return {"TagDescriptions": out}
