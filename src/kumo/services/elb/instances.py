"""Registered instances: registration, connection draining, the health check and DescribeInstanceHealth."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...dataplane.lb.control import runtime_of
from ..ec2 import internal as ec2
from .dataplane import DRAIN, check_now
from .model import (
    DRAINING, FAILED, IN_SERVICE, INSTANCE_STATES, MAX_INSTANCES, NOT_PASSED, NOT_REGISTERED, REGISTERING,
    WRONG_ZONE, find_lb, group_arn, invalid, parse_target, save,
)


def _instance(ctx, iid: str) -> ec2.Instance | None:
    return ec2.instance(ctx.kumo, ctx.scope, iid)


def _invalid_instance(iid: str) -> AwsError:
    return AwsError("InvalidInstance", f"Could not find EC2 instance {iid}.")


def register_instances_with_load_balancer(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    register(ctx, lb, list(dict.fromkeys(i["InstanceId"] for i in p["Instances"] if i.get("InstanceId"))))
    return {"Instances": lb["Instances"]}


def register(ctx, lb: dict, wanted: list[str]) -> None:
    for iid in wanted:
        inst = _instance(ctx, iid)
        if inst is None or inst.state in ("terminated", "shutting-down"):
            raise _invalid_instance(iid)
        if inst.vpc_id != lb["VPCId"]:
            raise AwsError("InvalidInstance", f"EC2 instance {iid} is not in the same VPC as the load balancer "
                                              f"('{lb['VPCId']}').")
    registered = {i["InstanceId"] for i in lb["Instances"]}
    new = [iid for iid in wanted if iid not in registered]
    if len(registered) + len(new) > MAX_INSTANCES:
        raise AwsError("InvalidInstance", f"A load balancer can have at most {MAX_INSTANCES} registered instances.")
    rt = runtime_of(ctx.kumo)
    for iid in new:
        lb["_draining"].pop(iid, None)  # registering a draining instance again keeps it
        # Its health checks start afresh, but only once the registration is committed: a request that
        # rolls back leaves the health it had.
        ctx.store.after_commit(lambda key=(group_arn(lb), iid): rt.forget_target(*key))
        lb["Instances"].append({"InstanceId": iid})
    save(ctx, lb)
    check_now(ctx.kumo, lb)


def deregister_instances_from_load_balancer(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    deregister(ctx, lb, list(dict.fromkeys(i["InstanceId"] for i in p["Instances"] if i.get("InstanceId"))))
    return {"Instances": lb["Instances"]}


def deregister(ctx, lb: dict, wanted: list[str], *, missing_ok: bool = False) -> None:
    registered = {i["InstanceId"] for i in lb["Instances"]}
    for iid in wanted:
        if iid not in registered and iid not in lb["_draining"] and not missing_ok:
            if _instance(ctx, iid) is None:
                raise _invalid_instance(iid)
            raise AwsError("InvalidInstance", f"EC2 instance {iid} is not registered with load balancer "
                                              f"'{lb['LoadBalancerName']}'.")
    draining = lb["_attributes"]["ConnectionDraining"]
    rt = runtime_of(ctx.kumo)
    now = ctx.now()
    for iid in wanted:
        if iid not in registered:
            continue
        inst = _instance(ctx, iid)
        lb["Instances"] = [i for i in lb["Instances"] if i["InstanceId"] != iid]
        if draining["Enabled"]:
            # In-flight requests finish; new ones go elsewhere until Timeout passes on kumo's clock.
            zone = inst.zone if inst else None
            lb["_draining"][iid] = {"until": now + int(draining.get("Timeout", 300)), "zone": zone}
        else:
            ctx.store.after_commit(lambda key=(group_arn(lb), iid): rt.forget_target(*key))
    save(ctx, lb)
    if lb["_draining"]:
        ctx.controllers.enqueue(DRAIN, (ctx.scope, lb["LoadBalancerName"]),
                                after=min(d["until"] for d in lb["_draining"].values()) - now)
    rt.invalidate()


def configure_health_check(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    hc = {k: p["HealthCheck"][k] for k in ("Target", "Interval", "Timeout", "UnhealthyThreshold", "HealthyThreshold")}
    protocol, port, path = parse_target(hc["Target"])
    hc["Target"] = f"{protocol}:{port}{path}"
    if hc["Timeout"] >= hc["Interval"]:
        raise invalid("HealthCheck Timeout must be less than Interval.")
    lb["HealthCheck"] = hc
    save(ctx, lb)
    check_now(ctx.kumo, lb)
    return {"HealthCheck": hc}


def instance_state(ctx, lb: dict, iid: str) -> tuple[str, str, str]:
    """(State, ReasonCode, Description) of one instance, in DescribeInstanceHealth's words."""
    if iid in lb["_draining"]:
        return DRAINING
    if iid not in {i["InstanceId"] for i in lb["Instances"]}:
        return NOT_REGISTERED
    inst = _instance(ctx, iid)
    name = inst.state if inst else "terminated"
    if name in INSTANCE_STATES:
        return "OutOfService", "Instance", f"Instance is in {INSTANCE_STATES[name]} state."
    if inst.zone not in lb["_nodes"]:
        return WRONG_ZONE
    h = runtime_of(ctx.kumo).health.get((group_arn(lb), iid))
    if h is None or (h.state == "initial" and not h.checked):
        return REGISTERING
    if h.state == "healthy":
        return IN_SERVICE
    if h.state == "unhealthy":
        return FAILED
    return NOT_PASSED


def describe_instance_health(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    asked = [i["InstanceId"] for i in p.get("Instances") or [] if i.get("InstanceId")]
    if asked:
        known = {i["InstanceId"] for i in lb["Instances"]} | set(lb["_draining"])
        for iid in asked:
            if iid not in known and _instance(ctx, iid) is None:
                raise _invalid_instance(iid)
        ids = list(dict.fromkeys(asked))
    else:
        ids = [i["InstanceId"] for i in lb["Instances"]] + [iid for iid in lb["_draining"]]
    out = []
    for iid in ids:
        state, reason, description = instance_state(ctx, lb, iid)
        out.append({"InstanceId": iid, "State": state, "ReasonCode": reason, "Description": description})
    return {"InstanceStates": out}
