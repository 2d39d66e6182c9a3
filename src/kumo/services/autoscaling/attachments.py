"""A group's load balancers and target groups (traffic sources): attach, detach, describe with their state."""

from __future__ import annotations

from ...aws.errors import AwsError
from ..elb import internal as elb
from ..elbv2 import internal as elbv2
from . import balancers
from .model import MAX_LOAD_BALANCERS, MAX_TARGET_GROUPS, find_group, page, save_group


def _attach(ctx, group: dict, target_groups: list[str], load_balancers: list[str]) -> None:
    balancers.check_target_groups(ctx.kumo, ctx, target_groups)
    balancers.check_load_balancers(ctx.kumo, ctx, load_balancers)
    new_tgs = [a for a in target_groups if a not in group["TargetGroupARNs"]]
    new_lbs = [n for n in load_balancers if n not in group["LoadBalancerNames"]]
    if len(group["TargetGroupARNs"]) + len(new_tgs) > MAX_TARGET_GROUPS or \
            len(group["LoadBalancerNames"]) + len(new_lbs) > MAX_LOAD_BALANCERS:
        raise AwsError("LimitExceeded", "Too many load balancers or target groups for one Auto Scaling group.")
    group["TargetGroupARNs"] += new_tgs
    group["LoadBalancerNames"] += new_lbs
    only_new = {**group, "TargetGroupARNs": new_tgs, "LoadBalancerNames": new_lbs}
    for m in group["_instances"].values():
        if m["LifecycleState"] == "InService":
            balancers.register(ctx.kumo, ctx.scope, only_new, m["InstanceId"])
    save_group(ctx, ctx.scope, group)


def _detach(ctx, group: dict, target_groups: list[str], load_balancers: list[str]) -> None:
    tgs = [a for a in target_groups if a in group["TargetGroupARNs"]]
    lbs = [n for n in load_balancers if n in group["LoadBalancerNames"]]
    for m in group["_instances"].values():
        balancers.deregister(ctx.kumo, ctx.scope, group, m["InstanceId"], target_groups=tgs, load_balancers=lbs)
    group["TargetGroupARNs"] = [a for a in group["TargetGroupARNs"] if a not in tgs]
    group["LoadBalancerNames"] = [n for n in group["LoadBalancerNames"] if n not in lbs]
    save_group(ctx, ctx.scope, group)


def attach_load_balancer_target_groups(ctx, p):
    _attach(ctx, find_group(ctx, p["AutoScalingGroupName"]), p["TargetGroupARNs"], [])
    return {}


def detach_load_balancer_target_groups(ctx, p):
    _detach(ctx, find_group(ctx, p["AutoScalingGroupName"]), p["TargetGroupARNs"], [])
    return {}


def attach_load_balancers(ctx, p):
    _attach(ctx, find_group(ctx, p["AutoScalingGroupName"]), [], p["LoadBalancerNames"])
    return {}


def detach_load_balancers(ctx, p):
    _detach(ctx, find_group(ctx, p["AutoScalingGroupName"]), [], p["LoadBalancerNames"])
    return {}


def split_sources(sources: list[dict]) -> tuple[list[str], list[str]]:
    tgs, lbs = [], []
    for s in sources:
        kind = s.get("Type") or "elbv2"
        if kind == "elbv2":
            tgs.append(s["Identifier"])
        elif kind == "elb":
            lbs.append(s["Identifier"])
        else:
            raise AwsError("NotImplemented", f"Traffic sources of type {kind} are not implemented by kumo.",
                           status=501, sender_fault=False)
    return tgs, lbs


def attach_traffic_sources(ctx, p):
    _attach(ctx, find_group(ctx, p["AutoScalingGroupName"]), *split_sources(p["TrafficSources"]))
    return {}


def detach_traffic_sources(ctx, p):
    _detach(ctx, find_group(ctx, p["AutoScalingGroupName"]), *split_sources(p["TrafficSources"]))
    return {}


def _attachment_state(ctx, group: dict, tg: str | None = None, lb: str | None = None) -> str:
    """Added, or InService once at least one member passes that load balancer's health check."""
    ids = {m["InstanceId"] for m in group["_instances"].values() if m["LifecycleState"] == "InService"}
    if not ids:
        return "Added"
    if tg:
        healthy = any(iid in ids and state == "healthy" for iid, state in elbv2.target_states(ctx.kumo, ctx.scope, tg))
    else:
        healthy = any((health := elb.instance_health(ctx.kumo, ctx.scope, lb, i)) is not None and health.in_service
                      for i in ids)
    return "InService" if healthy else "Added"


def describe_load_balancer_target_groups(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
    items = [{"LoadBalancerTargetGroupARN": a, "State": _attachment_state(ctx, group, tg=a)}
             for a in group["TargetGroupARNs"]]
    return page(items, p, lambda x: x["LoadBalancerTargetGroupARN"], "LoadBalancerTargetGroups",
                f"tgs/{ctx.scope}/{group['AutoScalingGroupName']}", default=100)


def describe_load_balancers(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
    items = [{"LoadBalancerName": n, "State": _attachment_state(ctx, group, lb=n)}
             for n in group["LoadBalancerNames"]]
    return page(items, p, lambda x: x["LoadBalancerName"], "LoadBalancers",
                f"lbs/{ctx.scope}/{group['AutoScalingGroupName']}", default=100)


def describe_traffic_sources(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
    kind = p.get("TrafficSourceType")
    items = []
    if kind in (None, "elbv2"):
        items += [{"TrafficSource": a, "Identifier": a, "Type": "elbv2",
                   "State": _attachment_state(ctx, group, tg=a)} for a in group["TargetGroupARNs"]]
    if kind in (None, "elb"):
        items += [{"TrafficSource": n, "Identifier": n, "Type": "elb",
                   "State": _attachment_state(ctx, group, lb=n)} for n in group["LoadBalancerNames"]]
    return page(items, p, lambda x: x["Identifier"], "TrafficSources",
                f"traffic/{ctx.scope}/{group['AutoScalingGroupName']}/{kind}")
