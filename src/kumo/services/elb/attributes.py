"""Load balancer attributes (cross-zone, draining, idle timeout, access logs) and the account's limits.

Cross-zone load balancing, connection draining and the idle timeout change
how kumo's data plane behaves; access logs are written to S3 (access_logs.py).
"""

from __future__ import annotations

import copy

from ...aws.errors import AwsError
from ...core import pagination
from ...dataplane.lb.control import runtime_of
from . import access_logs
from .model import MAX_INSTANCES, MAX_LISTENERS, MAX_LOAD_BALANCERS, find_lb, invalid, misconfigured, save

_DESYNC_MODES = ("monitor", "defensive", "strictest")


def describe_load_balancer_attributes(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    return {"LoadBalancerAttributes": lb["_attributes"]}


def modify_load_balancer_attributes(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    attrs = copy.deepcopy(lb["_attributes"])
    given = p["LoadBalancerAttributes"]
    if "CrossZoneLoadBalancing" in given:
        attrs["CrossZoneLoadBalancing"] = {"Enabled": bool(given["CrossZoneLoadBalancing"]["Enabled"])}
    if "ConnectionDraining" in given:
        cd = given["ConnectionDraining"]
        timeout = cd.get("Timeout", attrs["ConnectionDraining"].get("Timeout", 300))
        if not 1 <= int(timeout) <= 3600:
            raise invalid("ConnectionDraining Timeout must be between 1 and 3600 seconds.")
        attrs["ConnectionDraining"] = {"Enabled": bool(cd["Enabled"]), "Timeout": int(timeout)}
    if "ConnectionSettings" in given:
        attrs["ConnectionSettings"] = {"IdleTimeout": int(given["ConnectionSettings"]["IdleTimeout"])}
    if "AccessLog" in given:
        log = {k: v for k, v in given["AccessLog"].items() if v is not None}
        if log.get("Enabled") and not log.get("S3BucketName"):
            raise misconfigured("An S3BucketName is required to enable access logs.")
        if "EmitInterval" in log and log["EmitInterval"] not in (5, 60):
            raise invalid("AccessLog EmitInterval must be 5 or 60 minutes.")
        if log.get("Enabled"):
            log.setdefault("EmitInterval", 60)
        access_logs.check_enable(ctx, lb, log)
        attrs["AccessLog"] = log
    for extra in given.get("AdditionalAttributes") or []:
        key, value = extra.get("Key"), extra.get("Value")
        if key != "elb.http.desyncmitigationmode":
            raise AwsError("LoadBalancerAttributeNotFound", f"Load balancer attribute '{key}' does not exist.")
        if value not in _DESYNC_MODES:
            raise invalid(f"'{value}' is not a valid value for {key}: use {', '.join(_DESYNC_MODES)}.")
        attrs["AdditionalAttributes"] = [{"Key": key, "Value": value}]
    lb["_attributes"] = attrs
    save(ctx, lb)
    runtime_of(ctx.kumo).invalidate()
    return {"LoadBalancerName": lb["LoadBalancerName"], "LoadBalancerAttributes": attrs}


def describe_account_limits(ctx, p):
    limits = [{"Name": "classic-load-balancers", "Max": str(MAX_LOAD_BALANCERS)},
              {"Name": "classic-listeners", "Max": str(MAX_LISTENERS)},
              {"Name": "classic-registered-instances", "Max": str(MAX_INSTANCES)}]
    try:
        chunk, marker = pagination.paginate(limits, p.get("PageSize"), p.get("Marker"), lambda x: x["Name"],
                                            "elb/limits", default_limit=400)
    except pagination.InvalidToken:
        raise invalid("The Marker is not valid.")
    out = {"Limits": chunk}
    if marker:
        out["NextMarker"] = marker
    return out
