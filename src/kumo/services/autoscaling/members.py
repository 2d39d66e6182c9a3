"""Operations on a group's instances: attach, detach, standby, terminate, health, protection, describe."""

from __future__ import annotations

from ...aws.errors import AwsError
from ..ec2 import internal as ec2
from . import activities, balancers, launching
from .groups import member_view
from .model import (
    CONTROLLER, COUNTED, GROUP, capacity, find_group, invalid, page, save_group, table,
)
from .notify import iso


def _owner(ctx, iid: str) -> dict | None:
    for group in table(ctx, GROUP).values():
        if iid in group["_instances"]:
            return group
    return None


def _member(ctx, group: dict, iid: str) -> dict:
    m = group["_instances"].get(iid)
    if m is None:
        raise invalid(f"The instance {iid} is not part of Auto Scaling group {group['AutoScalingGroupName']}.")
    return m


def _activity_view(kumo, scope: str, activity_id: str) -> dict:
    a = activities.get(kumo, scope, activity_id)
    return activities.view(a)


def _done(ctx, group: dict) -> None:
    save_group(ctx, ctx.scope, group)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, group["AutoScalingGroupName"]))


# -- attach / detach ----------------------------------------------------------------------------------------------
def attach_instances(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    ids = list(dict.fromkeys(p.get("InstanceIds") or []))
    subnets = launching.subnets_by_zone(ctx.kumo, ctx.scope, group)
    allowed_subnets = {s.strip() for s in group.get("VPCZoneIdentifier", "").split(",") if s.strip()}
    for iid in ids:
        inst = ec2.instance(ctx.kumo, ctx.scope, iid)
        if inst is None or inst.state != "running":
            raise invalid(f"Instance {iid} is not in the running state; only running instances can be attached.")
        owner = _owner(ctx, iid)
        if owner is not None:
            raise invalid(f"The instance {iid} is already part of Auto Scaling group "
                          f"{owner['AutoScalingGroupName']}.")
        zone = inst.zone
        if zone not in group["AvailabilityZones"] or (allowed_subnets and inst.subnet_id not in allowed_subnets
                                                      and zone not in subnets):
            raise invalid(f"The instance {iid} is not in the group's Availability Zones or subnets.")
    before = int(group["DesiredCapacity"])
    after = before + len(ids)
    if after > group["MaxSize"]:
        raise invalid(f"Attaching {len(ids)} instance(s) would raise the desired capacity of "
                      f"{group['AutoScalingGroupName']} to {after}, above its max size {group['MaxSize']}.")
    now = ctx.now()
    level = before
    for iid in ids:
        propagated = {t["Key"]: t["Value"] for t in group.get("Tags", []) if t["PropagateAtLaunch"]}
        ec2.tag(ctx.kumo, ctx.scope, iid, {**propagated, launching.GROUP_TAG: group["AutoScalingGroupName"]})
        inst = ec2.instance(ctx.kumo, ctx.scope, iid)
        template = inst.template or {}
        m = {"InstanceId": iid, "InstanceType": inst.instance_type,
             "AvailabilityZone": inst.zone, "LifecycleState": "InService",
             "HealthStatus": "Healthy", "ProtectedFromScaleIn": bool(group.get("NewInstancesProtectedFromScaleIn")),
             "_launched": inst.launch_time, "_inservice": now, "_template_id": template.get("LaunchTemplateId"),
             "_template_version": template.get("Version")}
        if template:
            m["LaunchTemplate"] = {"LaunchTemplateId": template["LaunchTemplateId"],
                                   "LaunchTemplateName": template["LaunchTemplateName"],
                                   "Version": template["Version"]}
        group["_instances"][iid] = m
        act = activities.start(ctx.kumo, ctx.scope, group, f"Attaching an existing EC2 instance: {iid}",
                               f"At {iso(now)} an instance was added in response to a user request.  Keeping the "
                               f"capacity at the new {level + 1}.", instance_id=iid,
                               details={"Subnet ID": inst.subnet_id, "Availability Zone": m[
                                   "AvailabilityZone"]})
        level += 1
        if not any(x["ProcessName"] == "AddToLoadBalancer" for x in group["SuspendedProcesses"]):
            balancers.register(ctx.kumo, ctx.scope, group, iid)
        activities.finish(ctx.kumo, ctx.scope, act["ActivityId"])
    group["DesiredCapacity"] = after
    _done(ctx, group)
    return {}


def _take_out(ctx, p, *, allowed: tuple, doing: str, verb: str, description: str, state: str, key: str) -> dict:
    """Detach or move to standby: each instance leaves service by a user request, with its activity."""
    group = find_group(ctx, p["AutoScalingGroupName"])
    members = [_member(ctx, group, iid) for iid in dict.fromkeys(p.get("InstanceIds") or [])]
    for m in members:
        if m["LifecycleState"] not in allowed:
            raise invalid(f"The instance {m['InstanceId']} is not in {' or '.join(allowed)}.")
    decrement = p["ShouldDecrementDesiredCapacity"]
    before = int(group["DesiredCapacity"])
    after = before - sum(1 for m in members if m["LifecycleState"] in COUNTED) if decrement else before
    if after < group["MinSize"]:
        raise invalid(f"{doing} {len(members)} instance(s) would lower the desired capacity of "
                      f"{group['AutoScalingGroupName']} below its min size {group['MinSize']}.")
    now = ctx.now()
    out = []
    level = capacity(group)
    for m in members:
        cause = f"At {iso(now)} instance {m['InstanceId']} was {verb} in response to a user request"
        if decrement and m["LifecycleState"] in COUNTED:
            cause += f", shrinking the capacity from {level} to {level - 1}"
            level -= 1
        act = activities.start(ctx.kumo, ctx.scope, group, f"{description}: {m['InstanceId']}", cause + ".",
                               instance_id=m["InstanceId"], details={"Availability Zone": m["AvailabilityZone"]})
        m["LifecycleState"] = state
        m[key] = act["ActivityId"]
        out.append(activities.view(act))
    group["DesiredCapacity"] = after
    _done(ctx, group)
    return {"Activities": out}


def detach_instances(ctx, p):
    return _take_out(ctx, p, allowed=("InService", "Standby"), doing="Detaching", verb="detached",
                     description="Detaching EC2 instance", state="Detaching", key="_activity")


# -- standby ----------------------------------------------------------------------------------------------------------
def enter_standby(ctx, p):
    return _take_out(ctx, p, allowed=("InService",), doing="Putting in standby", verb="moved to standby",
                     description="Moving EC2 instance to Standby", state="EnteringStandby", key="_standby_activity")


def exit_standby(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    members = [_member(ctx, group, iid) for iid in dict.fromkeys(p.get("InstanceIds") or [])]
    for m in members:
        if m["LifecycleState"] != "Standby":
            raise invalid(f"The instance {m['InstanceId']} is not in Standby.")
    before = int(group["DesiredCapacity"])
    after = before + len(members)
    if after > group["MaxSize"]:
        raise invalid(f"Moving {len(members)} instance(s) out of standby would raise the desired capacity of "
                      f"{group['AutoScalingGroupName']} above its max size {group['MaxSize']}.")
    now = ctx.now()
    out = []
    level = before
    for m in members:
        cause = (f"At {iso(now)} instance {m['InstanceId']} was moved out of standby in response to a user request, "
                 f"increasing the capacity from {level} to {level + 1}.")
        level += 1
        act = activities.start(ctx.kumo, ctx.scope, group, f"Moving EC2 instance out of Standby: {m['InstanceId']}",
                               cause, status="PreInService", instance_id=m["InstanceId"],
                               details={"Availability Zone": m["AvailabilityZone"]})
        m["LifecycleState"] = "Pending"
        m["_activity"] = act["ActivityId"]
        out.append(activities.view(act))
    group["DesiredCapacity"] = after
    _done(ctx, group)
    return {"Activities": out}


# -- terminate, health, protection --------------------------------------------------------------------------------------
def terminate_instance_in_auto_scaling_group(ctx, p):
    iid = p["InstanceId"]
    group = _owner(ctx, iid)
    if group is None:
        raise invalid(f"Instance Id not found - No managed instance found for instance ID: {iid}")
    if group.get("Status"):
        raise AwsError("ScalingActivityInProgress", f"AutoScalingGroup {group['AutoScalingGroupName']} is pending "
                                                    f"delete.")
    m = group["_instances"][iid]
    if m["LifecycleState"] not in ("InService", "Standby", "Pending", "Pending:Wait", "Pending:Proceed"):
        raise AwsError("ScalingActivityInProgress", f"The instance {iid} is already leaving the group "
                                                    f"({m['LifecycleState']}).")
    decrement = p["ShouldDecrementDesiredCapacity"]
    now = ctx.now()
    before = int(group["DesiredCapacity"])
    counted = m["LifecycleState"] in COUNTED
    if decrement and counted:
        if before - 1 < group["MinSize"]:
            raise invalid(f"Currently, desired capacity is {before} and min size is {group['MinSize']}.  "
                          f"Terminating instance without replacement will violate group's min size constraint.  "
                          f"Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.")
        group["DesiredCapacity"] = before - 1
        cause = (f"At {iso(now)} instance {iid} was taken out of service in response to a user request, shrinking "
                 f"the capacity from {before} to {before - 1}.")
    else:
        cause = f"At {iso(now)} instance {iid} was taken out of service in response to a user request."
    if m["LifecycleState"] == "Standby":
        balancers.deregister(ctx.kumo, ctx.scope, group, iid)
    m["LifecycleState"] = "Terminating"
    act = activities.start(ctx.kumo, ctx.scope, group, f"Terminating EC2 instance: {iid}", cause, instance_id=iid,
                           kind="terminate", details={"Availability Zone": m["AvailabilityZone"]})
    m["_term_activity"] = act["ActivityId"]
    _done(ctx, group)
    return {"Activity": activities.view(act)}


def set_instance_health(ctx, p):
    iid = p["InstanceId"]
    group = _owner(ctx, iid)
    if group is None:
        raise invalid(f"Instance Id not found - No managed instance found for instance ID: {iid}")
    status = p["HealthStatus"]
    if status not in ("Healthy", "Unhealthy"):
        raise invalid(f"Valid values for HealthStatus are 'Healthy' and 'Unhealthy'. Provided value: {status}")
    m = group["_instances"][iid]
    respect = p.get("ShouldRespectGracePeriod", True)
    grace = int(group.get("HealthCheckGracePeriod") or 0)
    if respect and status == "Unhealthy" and m.get("_inservice") is not None and \
            ctx.now() - m["_inservice"] < grace:
        return {}  # within the grace period the report is ignored, as AWS does
    m["HealthStatus"] = status
    if status == "Unhealthy":
        m["_health_cause"] = "a user health-check"
    else:
        m.pop("_health_cause", None)
    _done(ctx, group)
    return {}


def set_instance_protection(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    members = [_member(ctx, group, iid) for iid in dict.fromkeys(p["InstanceIds"])]
    for m in members:
        m["ProtectedFromScaleIn"] = bool(p["ProtectedFromScaleIn"])
    _done(ctx, group)
    return {}


def describe_auto_scaling_instances(ctx, p):
    ids = p.get("InstanceIds")
    items = []
    for group in sorted(table(ctx, GROUP).values(), key=lambda g: g["AutoScalingGroupName"]):
        for m in group["_instances"].values():
            if ids and m["InstanceId"] not in ids:
                continue
            view = member_view(m)
            view["AutoScalingGroupName"] = group["AutoScalingGroupName"]
            view["HealthStatus"] = m["HealthStatus"].upper()  # this call answers HEALTHY / UNHEALTHY
            items.append(view)
    items.sort(key=lambda v: v["InstanceId"])
    return page(items, p, lambda v: v["InstanceId"], "AutoScalingInstances", f"asg-instances/{ctx.scope}/{ids}")


