"""Target groups, their attributes, targets, draining and health."""

from __future__ import annotations

import fnmatch
import json

from ...aws.errors import AwsError
from ...dataplane.lb.control import HEALTH, runtime_of
from ..ec2 import internal as ec2
from ..lambda_ import internal as lambda_
from .loadbalancers import _tag
from .model import (
    ALB_PROTOCOLS, LB, NLB_PROTOCOLS, TAGS, TG, check_name, health_defaults, invalid, new_suffix, page, required,
    table, tg_attributes,
)

_TG_INT_ATTRIBUTES = {
    "deregistration_delay.timeout_seconds": (0, 3600),
    "slow_start.duration_seconds": (0, 900),
    "stickiness.lb_cookie.duration_seconds": (1, 604800),
    "stickiness.app_cookie.duration_seconds": (1, 604800),
}


def find_tg(ctx, arn: str) -> dict:
    tg = table(ctx, TG).get(arn)
    if tg is None:
        raise AwsError("TargetGroupNotFound", f"Target groups '{arn}' not found")
    return tg


def view(tg: dict) -> dict:
    return {k: v for k, v in tg.items() if not k.startswith("_") and v is not None}


def create_target_group(ctx, p):
    name = check_name(p["Name"], "Target group")
    target_type = p.get("TargetType") or "instance"
    protocol = p.get("Protocol")
    if target_type != "lambda":
        if not protocol or p.get("Port") is None or not p.get("VpcId"):
            raise invalid("A protocol, port and VPC ID must be specified for target groups of this type")
        if protocol not in ALB_PROTOCOLS + NLB_PROTOCOLS:
            raise invalid(f"Protocol '{protocol}' is not supported for target groups")
        if ec2.vpc(ctx.kumo, ctx.scope, p["VpcId"]) is None:
            raise AwsError("ValidationError", f"The VPC ID '{p['VpcId']}' is not found")
    for other in table(ctx, TG).values():
        if other["TargetGroupName"] == name:
            same = all(other.get(k) == p.get(k) for k in ("Protocol", "Port", "VpcId"))
            if same:
                return {"TargetGroups": [view(other)]}  # AWS answers an identical request with the existing group
            raise AwsError("DuplicateTargetGroupName", "A target group with the same name exists, but with "
                                                       "different settings")
    arn = ctx.arn(f"targetgroup/{name}/{new_suffix()}", service="elasticloadbalancing")
    hc = health_defaults(protocol or "HTTP", target_type, "")
    tg = {
        "TargetGroupArn": arn, "TargetGroupName": name, "Protocol": protocol, "Port": p.get("Port"),
        "VpcId": p.get("VpcId"), "TargetType": target_type, "LoadBalancerArns": [],
        "IpAddressType": p.get("IpAddressType") or ("ipv4" if target_type != "lambda" else None),
        **hc, "_attributes": tg_attributes(protocol or "HTTP", target_type), "_targets": {}, "_draining": {},
    }
    if protocol in ALB_PROTOCOLS:
        tg["ProtocolVersion"] = p.get("ProtocolVersion") or "HTTP1"
    overrides = {
        "HealthCheckProtocol": p.get("HealthCheckProtocol"), "HealthCheckPort": p.get("HealthCheckPort"),
        "HealthCheckEnabled": p.get("HealthCheckEnabled"), "HealthCheckPath": p.get("HealthCheckPath"),
        "HealthCheckIntervalSeconds": p.get("HealthCheckIntervalSeconds"),
        "HealthCheckTimeoutSeconds": p.get("HealthCheckTimeoutSeconds"),
        "HealthyThresholdCount": p.get("HealthyThresholdCount"),
        "UnhealthyThresholdCount": p.get("UnhealthyThresholdCount"),
    }
    tg.update({k: v for k, v in overrides.items() if v is not None})
    if p.get("Matcher"):
        tg["Matcher"] = p["Matcher"]
    _check_health(tg)
    table(ctx, TG).put(arn, tg)
    _tag(ctx, arn, p.get("Tags"))
    return {"TargetGroups": [view(tg)]}


def _check_health(tg: dict) -> None:
    if tg.get("HealthCheckTimeoutSeconds") and tg.get("HealthCheckIntervalSeconds") and \
            tg["HealthCheckTimeoutSeconds"] >= tg["HealthCheckIntervalSeconds"] and tg["TargetType"] != "lambda":
        raise invalid("Health check timeout must be smaller than the interval")
    if tg.get("HealthCheckProtocol") in ("HTTP", "HTTPS") and tg.get("HealthCheckPath") and \
            not tg["HealthCheckPath"].startswith("/"):
        raise invalid("Health check path must begin with a '/' character")


def describe_target_groups(ctx, p):
    tgs = table(ctx, TG).values()
    if p.get("TargetGroupArns"):
        tgs = [find_tg(ctx, a) for a in p["TargetGroupArns"]]
    elif p.get("Names"):
        by_name = {t["TargetGroupName"]: t for t in tgs}
        missing = [n for n in p["Names"] if n not in by_name]
        if missing:
            raise AwsError("TargetGroupNotFound", "One or more target groups not found")
        tgs = [by_name[n] for n in p["Names"]]
    if p.get("LoadBalancerArn"):
        if table(ctx, LB).get(p["LoadBalancerArn"]) is None:
            raise AwsError("LoadBalancerNotFound", f"Load balancer '{p['LoadBalancerArn']}' not found")
        tgs = [t for t in tgs if p["LoadBalancerArn"] in t["LoadBalancerArns"]]
    return page([view(t) for t in tgs], p, lambda t: t["TargetGroupArn"], "TargetGroups", f"tg/{ctx.account}")


def modify_target_group(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    tg = find_tg(ctx, p["TargetGroupArn"])
    for key in ("HealthCheckProtocol", "HealthCheckPort", "HealthCheckPath", "HealthCheckEnabled",
                "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
                "UnhealthyThresholdCount", "Matcher"):
        if p.get(key) is not None:
            tg[key] = p[key]
    _check_health(tg)
    table(ctx, TG).put(tg["TargetGroupArn"], tg)
    ctx.controllers.enqueue(HEALTH, tg["TargetGroupArn"])
    runtime_of(ctx.kumo).invalidate()
    return {"TargetGroups": [view(tg)]}


def delete_target_group(ctx, p):
    tg = table(ctx, TG).get(p["TargetGroupArn"])
    if tg is None:
        return {}
    if tg["LoadBalancerArns"]:
        raise AwsError("ResourceInUse", f"Target group '{tg['TargetGroupArn']}' is currently in use by a listener "
                                        f"or a rule")
    table(ctx, TG).delete(tg["TargetGroupArn"])
    table(ctx, TAGS).delete(tg["TargetGroupArn"])
    runtime_of(ctx.kumo).invalidate()
    return {}


def describe_target_group_attributes(ctx, p):
    tg = find_tg(ctx, p["TargetGroupArn"])
    return {"Attributes": [{"Key": k, "Value": v} for k, v in tg["_attributes"].items()]}


def modify_target_group_attributes(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    tg = find_tg(ctx, p["TargetGroupArn"])
    attrs = dict(tg["_attributes"])
    for i, a in enumerate(p["Attributes"], 1):
        key, value = required(a, "Key", f"attributes.{i}"), a.get("Value", "")
        if key not in attrs:
            raise invalid(f"Target group attribute key '{key}' is not recognized")
        if key in _TG_INT_ATTRIBUTES:
            lo, hi = _TG_INT_ATTRIBUTES[key]
            if not value.isdigit() or not lo <= int(value) <= hi:
                raise invalid(f"'{key}' must be a number between {lo} and {hi}")
        if key.endswith(".enabled") and key != "load_balancing.cross_zone.enabled" and value not in ("true", "false"):
            raise invalid(f"Target group attribute value '{value}' is not valid for '{key}'")
        if key == "stickiness.type":
            allowed = ("lb_cookie", "app_cookie") if tg["Protocol"] in ALB_PROTOCOLS else ("source_ip",)
            if value not in allowed:
                raise invalid(f"Stickiness type '{value}' is not supported for target groups with the "
                              f"{tg['Protocol']} protocol")
        if key == "load_balancing.algorithm.type" and value not in ("round_robin", "least_outstanding_requests",
                                                                    "weighted_random"):
            raise invalid(f"Load balancing algorithm '{value}' is not valid")
        attrs[key] = value
    if attrs.get("stickiness.enabled") == "true" and attrs.get("stickiness.type") == "app_cookie" \
            and not attrs.get("stickiness.app_cookie.cookie_name"):
        raise invalid("An application cookie name must be specified for app_cookie stickiness")
    tg["_attributes"] = attrs
    table(ctx, TG).put(tg["TargetGroupArn"], tg)
    runtime_of(ctx.kumo).invalidate()
    return {"Attributes": [{"Key": k, "Value": v} for k, v in attrs.items()]}


# -- targets ------------------------------------------------------------------------------------------


def target_key(t: dict, tg: dict) -> str:
    port = t.get("Port") or tg.get("Port") or 0
    return f"{t['Id']}:{port}" if tg["TargetType"] != "lambda" else t["Id"]


def _check_target(ctx, tg: dict, t: dict) -> dict:
    kind = tg["TargetType"]
    if kind == "instance":
        inst = ec2.instance(ctx.kumo, ctx.scope, t["Id"])
        if inst is None or inst.state == "terminated":
            raise AwsError("InvalidTarget", f"The following targets are not valid instances: '{t['Id']}'")
        if inst.vpc_id != tg["VpcId"]:
            raise AwsError("InvalidTarget", f"The following targets are not in the target group VPC "
                                            f"'{tg['VpcId']}': '{t['Id']}'")
        return {"Id": t["Id"], "Port": t.get("Port") or tg["Port"], "AvailabilityZone": inst.zone}
    if kind == "ip":
        import ipaddress

        try:
            ipaddress.ip_address(t["Id"])
        except ValueError:
            raise AwsError("InvalidTarget", f"The IP address '{t['Id']}' is not a valid IPv4 address")
        out = {"Id": t["Id"], "Port": t.get("Port") or tg["Port"]}
        out["AvailabilityZone"] = t.get("AvailabilityZone") or _zone_of_ip(ctx, t["Id"]) or "all"
        return out
    if kind == "lambda":
        if not _lambda_allows(ctx.kumo, t["Id"], tg["TargetGroupArn"]):
            raise AwsError("AccessDenied", f"elasticloadbalancing principal does not have permission to invoke "
                                           f"{t['Id']} from target group {tg['TargetGroupArn']}", status=403)
        return {"Id": t["Id"]}
    raise AwsError("InvalidTarget", f"Targets of type '{kind}' are not supported by kumo yet")


def _lambda_allows(kumo, function_arn: str, tg_arn: str) -> bool:
    """Whether the function's resource policy lets Elastic Load Balancing invoke it for this target group."""
    text = lambda_.resource_policy(kumo, function_arn)
    if not text:
        return False

    def listed(value):
        return value if isinstance(value, list) else [value]

    for st in json.loads(text).get("Statement", []):
        principal = st.get("Principal")
        services = listed(principal.get("Service", [])) if isinstance(principal, dict) else [principal]
        if st.get("Effect") != "Allow" or not {"elasticloadbalancing.amazonaws.com", "*"} & set(services):
            continue
        if not any(fnmatch.fnmatchcase("lambda:InvokeFunction", a) for a in listed(st.get("Action", []))):
            continue
        conditions = st.get("Condition") or {}
        source = [v for op in conditions.values() for k, vs in op.items() if k.lower() == "aws:sourcearn"
                  for v in listed(vs)]
        if not source or any(fnmatch.fnmatchcase(tg_arn, v) for v in source):
            return True
    return False


def _zone_of_ip(ctx, ip: str) -> str | None:
    eni = ec2.interface_by_ip(ctx.kumo, ctx.scope, ip)
    return eni.zone if eni else None


def register_targets(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    tg = find_tg(ctx, p["TargetGroupArn"])
    if tg["TargetType"] == "lambda" and len(p["Targets"]) > 1:
        raise invalid("A Lambda target group can hold one function only")
    add_targets(ctx, tg, p["Targets"])
    return {}


def add_targets(ctx, tg: dict, targets: list[dict]) -> None:
    """Register ``targets`` ({Id, Port?, AvailabilityZone?}) after EC2's checks; a draining one comes back."""
    checked = [_check_target(ctx, tg, t) for t in targets]
    rt = runtime_of(ctx.kumo)
    for t in checked:
        key = target_key(t, tg)
        tg["_draining"].pop(key, None)
        if key not in tg["_targets"]:
            # A new registration starts its checks afresh, once the registration is committed.
            ctx.store.after_commit(lambda key=key: rt.forget_target(tg["TargetGroupArn"], key))
        tg["_targets"][key] = t
    table(ctx, TG).put(tg["TargetGroupArn"], tg)
    ctx.controllers.enqueue(HEALTH, tg["TargetGroupArn"])
    rt.invalidate()


def deregister_targets(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    remove_targets(ctx, find_tg(ctx, p["TargetGroupArn"]), p["Targets"])
    return {}


def remove_targets(ctx, tg: dict, targets: list[dict], *, missing_ok: bool = False) -> None:
    """Deregister ``targets``: they drain for the group's deregistration delay while it serves a load balancer."""
    delay = int(tg["_attributes"].get("deregistration_delay.timeout_seconds", "300"))
    now = ctx.now()
    for t in targets:
        key = target_key({**t, "Port": t.get("Port") or tg.get("Port")}, tg)
        current = tg["_targets"].pop(key, None)
        if current is None:
            if key in tg["_draining"] or missing_ok:
                continue
            raise AwsError("InvalidTarget", f"The following targets are not registered: '{t['Id']}'")
        if tg["LoadBalancerArns"] and delay > 0:
            tg["_draining"][key] = {**current, "until": now + delay}
    table(ctx, TG).put(tg["TargetGroupArn"], tg)
    ctx.controllers.enqueue("elb.drain", (ctx.scope, tg["TargetGroupArn"]), after=delay)
    runtime_of(ctx.kumo).invalidate()


def describe_target_health(ctx, p):
    tg = find_tg(ctx, p["TargetGroupArn"])
    wanted = None
    if p.get("Targets"):
        wanted = {target_key({**t, "Port": t.get("Port") or tg.get("Port")}, tg) for t in p["Targets"]}
    return {"TargetHealthDescriptions": health_descriptions(ctx.kumo, ctx.scope, tg, wanted)}


def health_descriptions(kumo, scope: str, tg: dict, wanted: set[str] | None = None) -> list[dict]:
    """TargetHealthDescriptions of the group's targets (those keyed in ``wanted``, else all)."""
    from .dataplane import provider_of

    group = provider_of(kumo).group_spec(scope, tg)
    rt = runtime_of(kumo)
    out = []
    known = {t["key"]: t for t in group["targets"]}
    for key, t in list(tg["_targets"].items()) + list(tg["_draining"].items()):
        if wanted is not None and key not in wanted:
            continue
        spec = known.get(key, {"key": key, "state": "draining"})
        state, reason, description = rt.target_state(group, spec)
        health = {"State": state}
        if reason:
            health["Reason"] = reason
        if description:
            health["Description"] = description
        target = {"Id": t["Id"]}
        if t.get("Port"):
            target["Port"] = t["Port"]
        if t.get("AvailabilityZone"):
            target["AvailabilityZone"] = t["AvailabilityZone"]
        entry = {"Target": target, "TargetHealth": health}
        if tg["TargetType"] != "lambda":
            entry["HealthCheckPort"] = str(t.get("Port")) if tg.get("HealthCheckPort") in (None, "traffic-port") \
                else tg["HealthCheckPort"]
        out.append(entry)
    for key in (wanted or set()) - set(tg["_targets"]) - set(tg["_draining"]):
        target_id, _, port = key.partition(":")
        out.append({"Target": {"Id": target_id, **({"Port": int(port)} if port.isdigit() else {})},
                    "TargetHealth": {"State": "unused", "Reason": "Target.NotRegistered",
                                     "Description": "Target is not registered to the target group"}})
    return out
