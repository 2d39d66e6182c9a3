"""Auto Scaling groups: create, update, describe, delete, and their desired capacity."""

from __future__ import annotations

from ...aws.errors import AwsError
from ..ec2 import internal as ec2
from . import activities, balancers
from .attachments import split_sources
from .model import (
    CONTROLLER, GROUP, LAUNCH_CONFIG, MAX_GROUPS, MAX_LOAD_BALANCERS, MAX_TARGET_GROUPS, NOTIFICATION, SCHEDULED,
    TERMINATION_POLICIES, delete_owned, find_group, group_arn, invalid, page, save_group, table,
)
from .tags import check_tags

HEALTH_CHECK_TYPES = ("EC2", "ELB", "VPC_LATTICE", "EBS")


# -- checks -----------------------------------------------------------------------------------------------
def _check_sizes(min_size: int, max_size: int, desired: int | None) -> None:
    if min_size > max_size:
        raise invalid(f"Max bound, {max_size}, must be greater than or equal to min bound, {min_size}")
    if desired is not None and not min_size <= desired <= max_size:
        raise invalid(f"Desired capacity:{desired} must be between the specified min size:{min_size} and max "
                      f"size:{max_size}")


def _check_template(ctx, spec: dict) -> dict:
    if not spec.get("LaunchTemplateId") and not spec.get("LaunchTemplateName"):
        raise invalid("You must use a valid fully-formed launch template. A launch template ID or name is required.")
    try:
        lt = ec2.launch_template(ctx.kumo, ctx.scope, spec)
    except AwsError as exc:
        raise invalid(f"You must use a valid fully-formed launch template. {exc.message}")
    out = {"LaunchTemplateId": lt.template_id, "LaunchTemplateName": lt.template_name}
    out["Version"] = spec.get("Version") or "$Default"
    return out


def _check_mixed(ctx, mixed: dict) -> dict:
    mixed = dict(mixed)
    lt = dict(mixed.get("LaunchTemplate") or {})
    if not lt.get("LaunchTemplateSpecification"):
        raise invalid("A MixedInstancesPolicy needs a LaunchTemplate with a LaunchTemplateSpecification.")
    lt["LaunchTemplateSpecification"] = _check_template(ctx, lt["LaunchTemplateSpecification"])
    overrides = []
    for o in lt.get("Overrides") or []:
        o = dict(o)
        if o.get("InstanceType") and not ec2.instance_type_exists(o["InstanceType"]):
            raise invalid(f"Invalid instance type: {o['InstanceType']}")
        if o.get("InstanceRequirements"):
            raise AwsError("NotImplemented", "Attribute-based instance type selection (InstanceRequirements) is not "
                                             "implemented by kumo.", status=501, sender_fault=False)
        if o.get("LaunchTemplateSpecification"):
            o["LaunchTemplateSpecification"] = _check_template(ctx, o["LaunchTemplateSpecification"])
        if o.get("WeightedCapacity") is not None:
            try:
                if not 1 <= int(o["WeightedCapacity"]) <= 999:
                    raise ValueError
            except ValueError:
                raise invalid(f"WeightedCapacity must be a number between 1 and 999: {o['WeightedCapacity']}")
        overrides.append(o)
    if overrides:
        lt["Overrides"] = overrides
    mixed["LaunchTemplate"] = lt
    from .launching import DISTRIBUTION_DEFAULTS

    dist = {**DISTRIBUTION_DEFAULTS, **(mixed.get("InstancesDistribution") or {})}
    if not 0 <= int(dist["OnDemandPercentageAboveBaseCapacity"]) <= 100:
        raise invalid("OnDemandPercentageAboveBaseCapacity must be between 0 and 100.")
    if dist["OnDemandAllocationStrategy"] not in ("prioritized", "lowest-price"):
        raise invalid(f"Invalid OnDemandAllocationStrategy: {dist['OnDemandAllocationStrategy']}")
    if dist["SpotAllocationStrategy"] not in ("lowest-price", "capacity-optimized", "capacity-optimized-prioritized",
                                              "price-capacity-optimized"):
        raise invalid(f"Invalid SpotAllocationStrategy: {dist['SpotAllocationStrategy']}")
    if dist["SpotAllocationStrategy"] != "lowest-price":
        dist.pop("SpotInstancePools", None)
    mixed["InstancesDistribution"] = dist
    return mixed


def _check_placement(ctx, p: dict) -> tuple[str | None, list[str]]:
    """(VPCZoneIdentifier, AvailabilityZones) from what the request gives."""
    subnets = [s.strip() for s in (p.get("VPCZoneIdentifier") or "").split(",") if s.strip()]
    if subnets:
        zones, vpcs = [], set()
        for sid in subnets:
            subnet = ec2.subnet(ctx.kumo, ctx.scope, sid)
            if subnet is None:
                raise invalid(f"The subnet ID '{sid}' does not exist")
            vpcs.add(subnet["VpcId"])
            if subnet["AvailabilityZone"] not in zones:
                zones.append(subnet["AvailabilityZone"])
        if len(vpcs) > 1:
            raise invalid("The subnets of an Auto Scaling group must all belong to the same VPC.")
        given = p.get("AvailabilityZones")
        if given and set(given) - set(zones):
            raise invalid("The availability zones of the specified subnets and the Auto Scaling group do not match")
        return ",".join(subnets), sorted(zones)
    zones = p.get("AvailabilityZones") or []
    if not zones:
        raise invalid("At least one Availability Zone or VPC Subnet is required.")
    valid = ec2.zone_names(ctx.region)
    for z in zones:
        if z not in valid:
            raise invalid(f"The availability zone {z} is not legal")
    ec2.ensure_defaults(ctx.kumo, ctx.scope)
    return None, sorted(set(zones))


def _check_policies(policies: list[str] | None) -> list[str]:
    out = list(policies or ["Default"])
    for name in out:
        if name not in TERMINATION_POLICIES and not name.startswith("arn:aws:lambda:"):
            raise invalid(f"Invalid termination policy: {name}")
        if name.startswith("arn:aws:lambda:"):
            raise AwsError("NotImplemented", "Custom termination policies (Lambda) are not implemented by kumo.",
                           status=501, sender_fault=False)
    return out


# -- create -------------------------------------------------------------------------------------------------
def create_auto_scaling_group(ctx, p):
    name = p["AutoScalingGroupName"]
    groups = table(ctx, GROUP)
    if name in groups:
        raise AwsError("AlreadyExists", f"AutoScalingGroup by this name already exists - A group with the name "
                                        f"{name} already exists")
    if len(groups) >= MAX_GROUPS:
        raise AwsError("LimitExceeded", f"You have reached your limit of {MAX_GROUPS} Auto Scaling groups.")
    sources = [k for k in ("LaunchConfigurationName", "LaunchTemplate", "MixedInstancesPolicy", "InstanceId")
               if p.get(k)]
    if len(sources) != 1:
        raise invalid("Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or "
                      "MixedInstancesPolicy parameter.")
    min_size, max_size = p["MinSize"], p["MaxSize"]
    desired = p.get("DesiredCapacity")
    _check_sizes(min_size, max_size, desired)
    group = {"AutoScalingGroupName": name, "AutoScalingGroupARN": group_arn(ctx.region, ctx.account, name)}
    if p.get("InstanceId"):
        from .launch_configs import create_launch_configuration, source_instance

        inst = source_instance(ctx, p["InstanceId"])
        create_launch_configuration(ctx, {"LaunchConfigurationName": name, "InstanceId": inst.instance_id})
        group["LaunchConfigurationName"] = name
        if not p.get("VPCZoneIdentifier") and not p.get("AvailabilityZones"):
            p = {**p, "VPCZoneIdentifier": inst.subnet_id}
    elif p.get("LaunchConfigurationName"):
        if p["LaunchConfigurationName"] not in table(ctx, LAUNCH_CONFIG):
            raise invalid(f"Launch configuration name not found - Launch configuration {p['LaunchConfigurationName']} "
                          f"not found")
        group["LaunchConfigurationName"] = p["LaunchConfigurationName"]
    elif p.get("LaunchTemplate"):
        group["LaunchTemplate"] = _check_template(ctx, p["LaunchTemplate"])
    else:
        group["MixedInstancesPolicy"] = _check_mixed(ctx, p["MixedInstancesPolicy"])
    subnets, zones = _check_placement(ctx, p)
    health = p.get("HealthCheckType") or "EC2"
    if health not in HEALTH_CHECK_TYPES:
        raise invalid(f"Invalid health check type: {health}")
    from_sources = split_sources(p.get("TrafficSources") or [])
    target_groups = list(dict.fromkeys((p.get("TargetGroupARNs") or []) + from_sources[0]))
    load_balancers = list(dict.fromkeys((p.get("LoadBalancerNames") or []) + from_sources[1]))
    if len(target_groups) > MAX_TARGET_GROUPS or len(load_balancers) > MAX_LOAD_BALANCERS:
        raise AwsError("LimitExceeded", "Too many load balancers or target groups for one Auto Scaling group.")
    balancers.check_target_groups(ctx.kumo, ctx, target_groups)
    balancers.check_load_balancers(ctx.kumo, ctx, load_balancers)
    for field in ("DefaultCooldown", "HealthCheckGracePeriod", "DefaultInstanceWarmup", "MaxInstanceLifetime"):
        if p.get(field) is not None and p[field] < 0:
            raise invalid(f"{field} must not be negative.")
    if p.get("MaxInstanceLifetime") not in (None, 0) and not 86400 <= p["MaxInstanceLifetime"] <= 31536000:
        raise invalid("MaxInstanceLifetime must be 0, or between 86400 and 31536000 seconds.")
    if p.get("PlacementGroup"):
        # kumo's EC2 has no placement groups yet, so no name can be one.
        raise invalid(f"Placement group {p['PlacementGroup']} does not exist.")
    group.update({
        "MinSize": min_size,
        "MaxSize": max_size,
        "DesiredCapacity": desired if desired is not None else min_size,
        "DefaultCooldown": p.get("DefaultCooldown") if p.get("DefaultCooldown") is not None else 300,
        "AvailabilityZones": zones,
        "LoadBalancerNames": load_balancers,
        "TargetGroupARNs": target_groups,
        "HealthCheckType": health,
        "HealthCheckGracePeriod": p.get("HealthCheckGracePeriod") or 0,
        "CreatedTime": ctx.now(),
        "SuspendedProcesses": [],
        "VPCZoneIdentifier": subnets or "",
        "EnabledMetrics": [],
        "Tags": check_tags(ctx, name, p.get("Tags")),
        "TerminationPolicies": _check_policies(p.get("TerminationPolicies")),
        "NewInstancesProtectedFromScaleIn": bool(p.get("NewInstancesProtectedFromScaleIn")),
        "ServiceLinkedRoleARN": p.get("ServiceLinkedRoleARN") or
        f"arn:aws:iam::{ctx.account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
        "CapacityRebalance": bool(p.get("CapacityRebalance")),
        "_instances": {},
    })
    for field in ("PlacementGroup", "MaxInstanceLifetime", "Context", "DesiredCapacityType", "DefaultInstanceWarmup",
                  "InstanceMaintenancePolicy"):
        if p.get(field) is not None:
            group[field] = p[field]
    group["_cause"] = activities.desired_cause(ctx.now(), "a user request created an AutoScalingGroup", 0,
                                               group["DesiredCapacity"])
    groups.put(name, group)
    for spec in p.get("LifecycleHookSpecificationList") or []:
        from .hooks import put

        put(ctx, group, spec)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, name))
    return {}


# -- describe -------------------------------------------------------------------------------------------------
def member_view(m: dict) -> dict:
    out = {k: m[k] for k in ("InstanceId", "InstanceType", "AvailabilityZone", "LifecycleState", "HealthStatus",
                             "ProtectedFromScaleIn") if k in m}
    for k in ("LaunchConfigurationName", "LaunchTemplate", "WeightedCapacity"):
        if m.get(k):
            out[k] = m[k]
    return out


def group_view(group: dict) -> dict:
    # A shallow copy: the serializer writes only the model's members, never internal "_" fields.
    out = dict(group)
    out["Instances"] = [member_view(m) for m in sorted(group["_instances"].values(), key=lambda m: m["InstanceId"])]
    out["TrafficSources"] = [{"Identifier": a, "Type": "elbv2"} for a in group["TargetGroupARNs"]] + \
        [{"Identifier": n, "Type": "elb"} for n in group["LoadBalancerNames"]]
    return out


def _matches_filters(group: dict, filters: list[dict]) -> bool:
    tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
    for f in filters or []:
        name, values = f.get("Name", ""), f.get("Values") or []
        if name == "tag-key":
            if not set(values) & set(tags):
                return False
        elif name == "tag-value":
            if not set(values) & set(tags.values()):
                return False
        elif name.startswith("tag:"):
            if tags.get(name[4:]) not in values:
                return False
        else:
            raise invalid(f"Filter type {name} is not correct. Allowed Filter types are: tag-key tag-value tag:<key>")
    return True


def describe_auto_scaling_groups(ctx, p):
    groups = table(ctx, GROUP)
    names = p.get("AutoScalingGroupNames")
    items = [groups.get(n) for n in names] if names else sorted(groups.values(),
                                                                key=lambda g: g["AutoScalingGroupName"])
    items = [g for g in items if g is not None and _matches_filters(g, p.get("Filters"))]
    # The page first, then the views of its groups only.
    out = page(items, p, lambda g: g["AutoScalingGroupName"], "AutoScalingGroups",
               f"groups/{ctx.scope}/{names}/{p.get('Filters')}")
    out["AutoScalingGroups"] = [group_view(g) for g in out["AutoScalingGroups"]]
    return out


# -- update ------------------------------------------------------------------------------------------------------
def set_desired(kumo, scope: str, group: dict, new: int, what: str) -> None:
    old = int(group["DesiredCapacity"])
    group["DesiredCapacity"] = new
    if new != old:
        group["_cause"] = activities.desired_cause(kumo.clock.now(), what, old, new)


def update_auto_scaling_group(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    sources = [k for k in ("LaunchConfigurationName", "LaunchTemplate", "MixedInstancesPolicy") if p.get(k)]
    if len(sources) > 1:
        raise invalid("Valid requests must contain at most one of LaunchTemplate, LaunchConfigurationName or "
                      "MixedInstancesPolicy.")
    if p.get("LaunchConfigurationName"):
        if p["LaunchConfigurationName"] not in table(ctx, LAUNCH_CONFIG):
            raise invalid(f"Launch configuration name not found - Launch configuration {p['LaunchConfigurationName']} "
                          f"not found")
        group["LaunchConfigurationName"] = p["LaunchConfigurationName"]
        group.pop("LaunchTemplate", None)
        group.pop("MixedInstancesPolicy", None)
    elif p.get("LaunchTemplate"):
        group["LaunchTemplate"] = _check_template(ctx, p["LaunchTemplate"])
        group.pop("LaunchConfigurationName", None)
        group.pop("MixedInstancesPolicy", None)
    elif p.get("MixedInstancesPolicy"):
        group["MixedInstancesPolicy"] = _check_mixed(ctx, p["MixedInstancesPolicy"])
        group.pop("LaunchConfigurationName", None)
        group.pop("LaunchTemplate", None)
    min_size = p.get("MinSize", group["MinSize"])
    max_size = p.get("MaxSize", group["MaxSize"])
    desired = p.get("DesiredCapacity")
    _check_sizes(min_size, max_size, desired)
    old = int(group["DesiredCapacity"])
    if desired is None:
        # A new bound that excludes the current desired capacity moves it, as AWS does.
        desired = min(max(old, min_size), max_size)
    if p.get("VPCZoneIdentifier") or p.get("AvailabilityZones"):
        subnets, zones = _check_placement(ctx, {"VPCZoneIdentifier": p.get("VPCZoneIdentifier") or (
            group["VPCZoneIdentifier"] if not p.get("AvailabilityZones") else None),
            "AvailabilityZones": p.get("AvailabilityZones")})
        group["VPCZoneIdentifier"] = subnets or ""
        group["AvailabilityZones"] = zones
    if p.get("PlacementGroup"):
        raise invalid(f"Placement group {p['PlacementGroup']} does not exist.")
    if p.get("HealthCheckType"):
        if p["HealthCheckType"] not in HEALTH_CHECK_TYPES:
            raise invalid(f"Invalid health check type: {p['HealthCheckType']}")
        group["HealthCheckType"] = p["HealthCheckType"]
    if p.get("TerminationPolicies"):
        group["TerminationPolicies"] = _check_policies(p["TerminationPolicies"])
    for field in ("DefaultCooldown", "HealthCheckGracePeriod", "NewInstancesProtectedFromScaleIn",
                  "ServiceLinkedRoleARN", "MaxInstanceLifetime", "CapacityRebalance", "Context",
                  "DesiredCapacityType", "DefaultInstanceWarmup", "InstanceMaintenancePolicy"):
        if p.get(field) is not None:
            if isinstance(p[field], int) and not isinstance(p[field], bool) and p[field] < 0:
                raise invalid(f"{field} must not be negative.")
            group[field] = p[field]
    group["MinSize"], group["MaxSize"] = min_size, max_size
    set_desired(ctx.kumo, ctx.scope, group, desired,
                "a user request " + activities.constraints(min_size, max_size, desired))
    save_group(ctx, ctx.scope, group)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, group["AutoScalingGroupName"]))
    return {}


def set_desired_capacity(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    new = p["DesiredCapacity"]
    if new > group["MaxSize"]:
        raise invalid(f"New SetDesiredCapacity value {new} is above max value {group['MaxSize']} for the "
                      f"AutoScalingGroup.")
    if new < group["MinSize"]:
        raise invalid(f"New SetDesiredCapacity value {new} is below min value {group['MinSize']} for the "
                      f"AutoScalingGroup.")
    if p.get("HonorCooldown"):
        from .policies import in_cooldown

        if in_cooldown(ctx.kumo, group):
            raise AwsError("ScalingActivityInProgress", "Scaling activity is in progress and blocks this action: the "
                                                        "group is in its cooldown period.")
    set_desired(ctx.kumo, ctx.scope, group, new, "a user request explicitly set group desired capacity")
    group["_last_scaled"] = ctx.now()
    if p.get("HonorCooldown"):
        length = float(group.get("DefaultCooldown", 300))
        group["_cooldown"] = {"length": length, "until": ctx.now() + length}
    save_group(ctx, ctx.scope, group)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, group["AutoScalingGroupName"]))
    return {}


# -- delete ------------------------------------------------------------------------------------------------------
def delete_auto_scaling_group(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
    if group.get("Status"):
        return {}
    if not p.get("ForceDelete"):
        if group["_instances"]:
            raise AwsError("ResourceInUse", "You cannot delete an AutoScalingGroup while there are instances or "
                                            "pending Spot instance request(s) still in the group.")
    group["Status"] = "Delete in progress"
    save_group(ctx, ctx.scope, group)
    from . import refresh

    refresh.delete_for_group(ctx.kumo, ctx.scope, group["AutoScalingGroupName"])
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, group["AutoScalingGroupName"]))
    return {}


def purge(kumo, scope: str, group: dict) -> None:
    """The group is empty: remove it and everything attached to it."""
    from . import hooks, policies

    name = group["AutoScalingGroupName"]
    kumo.store.table(scope, GROUP).delete(name)
    policies.delete_for_group(kumo, scope, name)
    hooks.delete_for_group(kumo, scope, name)
    for kind in (SCHEDULED, NOTIFICATION):
        delete_owned(kumo, scope, kind, name)
