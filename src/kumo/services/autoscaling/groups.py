"""Auto Scaling groups: create, update, describe, delete; desired capacity; tags; suspended processes."""

from __future__ import annotations

from ...aws.context import internal_context
from ...aws.errors import AwsError
from ...core import tags as tagging
from . import activities, balancers
from .model import (
    CONTROLLER, GROUP, GROUP_METRICS, LAUNCH_CONFIG, MAX_GROUPS, MAX_LOAD_BALANCERS, MAX_TARGET_GROUPS,
    NOTIFICATION, PROCESSES, SCHEDULED, TERMINATION_POLICIES, find_group, group_arn, invalid, page, save_group,
    split_scope, table,
)
from .notify import iso

HEALTH_CHECK_TYPES = ("EC2", "ELB", "VPC_LATTICE", "EBS")
DEFAULT_PROCESS_REASON = "User suspended at {when}"


def _ec2(ctx):
    return internal_context(ctx.kumo, "ec2", ctx.account, ctx.region)


# -- checks -----------------------------------------------------------------------------------------------
def _check_sizes(min_size: int, max_size: int, desired: int | None) -> None:
    if min_size > max_size:
        raise invalid(f"Max bound, {max_size}, must be greater than or equal to min bound, {min_size}")
    if desired is not None and not min_size <= desired <= max_size:
        raise invalid(f"Desired capacity:{desired} must be between the specified min size:{min_size} and max "
                      f"size:{max_size}")


def _check_template(ctx, spec: dict) -> dict:
    from ..ec2 import launch_templates

    if not spec.get("LaunchTemplateId") and not spec.get("LaunchTemplateName"):
        raise invalid("You must use a valid fully-formed launch template. A launch template ID or name is required.")
    try:
        lt, _ = launch_templates.resolve(_ec2(ctx), spec)
    except AwsError as exc:
        raise invalid(f"You must use a valid fully-formed launch template. {exc.message}")
    out = {"LaunchTemplateId": lt["LaunchTemplateId"], "LaunchTemplateName": lt["LaunchTemplateName"]}
    out["Version"] = spec.get("Version") or "$Default"
    return out


def _check_mixed(ctx, mixed: dict) -> dict:
    mixed = dict(mixed)
    lt = dict(mixed.get("LaunchTemplate") or {})
    if not lt.get("LaunchTemplateSpecification"):
        raise invalid("A MixedInstancesPolicy needs a LaunchTemplate with a LaunchTemplateSpecification.")
    lt["LaunchTemplateSpecification"] = _check_template(ctx, lt["LaunchTemplateSpecification"])
    from ..ec2 import instance_types

    overrides = []
    for o in lt.get("Overrides") or []:
        o = dict(o)
        if o.get("InstanceType") and not instance_types.exists(o["InstanceType"]):
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
    from ..ec2 import regions
    from ..ec2.model import table as ec2_table

    subnets = [s.strip() for s in (p.get("VPCZoneIdentifier") or "").split(",") if s.strip()]
    if subnets:
        known = ec2_table(_ec2(ctx), "subnet")
        zones, vpcs = [], set()
        for sid in subnets:
            subnet = known.get(sid)
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
    valid = regions.zone_names(ctx.region)
    for z in zones:
        if z not in valid:
            raise invalid(f"The availability zone {z} is not legal")
    from ..ec2.network import ensure_defaults

    ensure_defaults(_ec2(ctx))
    return None, sorted(set(zones))


def _check_tags(ctx, name: str, raw: list[dict], existing: list[dict] | None = None) -> list[dict]:
    tags = {t["Key"]: t for t in existing or []}
    for t in raw or []:
        key = t.get("Key")
        if not key:
            raise invalid("Tag key must be specified.")
        if key.lower().startswith("aws:"):
            raise invalid(f"Tag keys starting with 'aws:' are reserved for system use: '{key}'.")
        if len(key) > 128 or len(t.get("Value") or "") > 256:
            raise invalid(f"Tag key or value too long: '{key}'.")
        tags[key] = {"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": key,
                     "Value": t.get("Value") or "", "PropagateAtLaunch": bool(t.get("PropagateAtLaunch", False))}
    if len(tags) > tagging.MAX_TAGS:
        raise AwsError("LimitExceeded", f"The number of tags exceeds the limit of {tagging.MAX_TAGS}.")
    return list(tags.values())


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
        from ..ec2.model import find

        inst = find(_ec2(ctx), "i", p["InstanceId"])
        from .launch_configs import create_launch_configuration

        create_launch_configuration(ctx, {"LaunchConfigurationName": name, "InstanceId": inst["InstanceId"]})
        group["LaunchConfigurationName"] = name
        if not p.get("VPCZoneIdentifier") and not p.get("AvailabilityZones"):
            p = {**p, "VPCZoneIdentifier": inst["SubnetId"]}
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
    target_groups = list(dict.fromkeys(p.get("TargetGroupARNs") or []))
    load_balancers = list(dict.fromkeys(p.get("LoadBalancerNames") or []))
    for source in p.get("TrafficSources") or []:
        kind = source.get("Type") or "elbv2"
        if kind == "elbv2":
            target_groups.append(source["Identifier"])
        elif kind == "elb":
            load_balancers.append(source["Identifier"])
        else:
            raise AwsError("NotImplemented", f"Traffic sources of type {kind} are not implemented by kumo.",
                           status=501, sender_fault=False)
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
        "Tags": _check_tags(ctx, name, p.get("Tags")),
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
    out = {k: v for k, v in group.items() if not k.startswith("_")}
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
    return page([group_view(g) for g in items], p, lambda g: g["AutoScalingGroupName"], "AutoScalingGroups",
                f"groups/{ctx.scope}/{names}/{p.get('Filters')}")


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
        t = kumo.store.table(scope, kind)
        for key, item in t.items():
            if item["AutoScalingGroupName"] == name:
                t.delete(key)


# -- tags --------------------------------------------------------------------------------------------------------
def _groups_of_tags(ctx, tags: list[dict]) -> dict[str, list[dict]]:
    by_group: dict[str, list[dict]] = {}
    for t in tags:
        if (t.get("ResourceType") or "auto-scaling-group") != "auto-scaling-group":
            raise invalid(f"Invalid resource type: {t.get('ResourceType')}")
        if not t.get("ResourceId"):
            raise invalid("ResourceId must be specified for each tag.")
        by_group.setdefault(t["ResourceId"], []).append(t)
    return by_group


def create_or_update_tags(ctx, p):
    for name, tags in _groups_of_tags(ctx, p["Tags"]).items():
        group = find_group(ctx, name)
        group["Tags"] = _check_tags(ctx, name, tags, group.get("Tags"))
        save_group(ctx, ctx.scope, group)
    return {}


def delete_tags(ctx, p):
    for name, tags in _groups_of_tags(ctx, p["Tags"]).items():
        group = find_group(ctx, name)
        keys = {t["Key"] for t in tags}
        group["Tags"] = [t for t in group.get("Tags", []) if t["Key"] not in keys]
        save_group(ctx, ctx.scope, group)
    return {}


def describe_tags(ctx, p):
    fields = {"auto-scaling-group": "ResourceId", "key": "Key", "value": "Value",
              "propagate-at-launch": "PropagateAtLaunch"}
    tags = [t for g in sorted(table(ctx, GROUP).values(), key=lambda g: g["AutoScalingGroupName"])
            for t in sorted(g.get("Tags", []), key=lambda t: t["Key"])]
    for f in p.get("Filters") or []:
        field = fields.get(f.get("Name"))
        if field is None:
            raise invalid(f"Filter type {f.get('Name')} is not correct. Allowed Filter types are: auto-scaling-group "
                          f"key value propagate-at-launch")
        values = [v.lower() for v in f.get("Values") or []] if field == "PropagateAtLaunch" else f.get("Values") or []
        tags = [t for t in tags if (str(t[field]).lower() if field == "PropagateAtLaunch" else t[field]) in values]
    return page(tags, p, lambda t: f"{t['ResourceId']}\x00{t['Key']}", "Tags", f"tags/{ctx.scope}/{p.get('Filters')}")


# -- processes and metrics collection ----------------------------------------------------------------------------
def _processes(p: dict) -> list[str]:
    names = p.get("ScalingProcesses") or list(PROCESSES)
    for n in names:
        if n not in PROCESSES:
            raise invalid(f"Process {n} is not a valid scaling process. Valid processes: {', '.join(PROCESSES)}")
    return names


def suspend_processes(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    have = {x["ProcessName"] for x in group["SuspendedProcesses"]}
    reason = DEFAULT_PROCESS_REASON.format(when=iso(ctx.now()))
    for name in _processes(p):
        if name not in have:
            group["SuspendedProcesses"].append({"ProcessName": name, "SuspensionReason": reason})
    save_group(ctx, ctx.scope, group)
    return {}


def resume_processes(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    names = set(_processes(p))
    group["SuspendedProcesses"] = [x for x in group["SuspendedProcesses"] if x["ProcessName"] not in names]
    save_group(ctx, ctx.scope, group)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, group["AutoScalingGroupName"]))
    return {}


def describe_scaling_process_types(ctx, p):
    return {"Processes": [{"ProcessName": n} for n in PROCESSES]}


def enable_metrics_collection(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    if p["Granularity"] != "1Minute":
        raise invalid(f"Invalid granularity {p['Granularity']}: the only valid value is 1Minute.")
    names = p.get("Metrics") or list(GROUP_METRICS)
    for n in names:
        if n not in GROUP_METRICS:
            raise invalid(f"Metric {n} is not a valid group metric.")
    have = {m["Metric"] for m in group["EnabledMetrics"]}
    group["EnabledMetrics"] += [{"Metric": n, "Granularity": "1Minute"} for n in names if n not in have]
    save_group(ctx, ctx.scope, group)
    return {}


def disable_metrics_collection(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    names = set(p.get("Metrics") or GROUP_METRICS)
    group["EnabledMetrics"] = [m for m in group["EnabledMetrics"] if m["Metric"] not in names]
    save_group(ctx, ctx.scope, group)
    return {}


def describe_metric_collection_types(ctx, p):
    return {"Metrics": [{"Metric": n} for n in GROUP_METRICS], "Granularities": [{"Granularity": "1Minute"}]}


# -- catalogues and limits -----------------------------------------------------------------------------------------
def describe_adjustment_types(ctx, p):
    from .scaling import ADJUSTMENT_TYPES

    return {"AdjustmentTypes": [{"AdjustmentType": t} for t in ADJUSTMENT_TYPES]}


def describe_termination_policy_types(ctx, p):
    return {"TerminationPolicyTypes": list(TERMINATION_POLICIES)}


def describe_account_limits(ctx, p):
    from .model import MAX_LAUNCH_CONFIGS

    return {"MaxNumberOfAutoScalingGroups": MAX_GROUPS, "MaxNumberOfLaunchConfigurations": MAX_LAUNCH_CONFIGS,
            "NumberOfAutoScalingGroups": len(table(ctx, GROUP)),
            "NumberOfLaunchConfigurations": len(table(ctx, LAUNCH_CONFIG))}


# -- load balancers and target groups --------------------------------------------------------------------------------
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


def _split_sources(sources: list[dict]) -> tuple[list[str], list[str]]:
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
    _attach(ctx, find_group(ctx, p["AutoScalingGroupName"]), *_split_sources(p["TrafficSources"]))
    return {}


def detach_traffic_sources(ctx, p):
    _detach(ctx, find_group(ctx, p["AutoScalingGroupName"]), *_split_sources(p["TrafficSources"]))
    return {}


def _attachment_state(ctx, group: dict, tg: str | None = None, lb: str | None = None) -> str:
    """Added, or InService once at least one member passes that load balancer's health check."""
    ids = {m["InstanceId"] for m in group["_instances"].values() if m["LifecycleState"] == "InService"}
    if not ids:
        return "Added"
    account, region = split_scope(ctx.scope)
    if tg:
        from ..elbv2.targetgroups import describe_target_health

        try:
            health = describe_target_health(internal_context(ctx.kumo, "elbv2", account, region),
                                            {"TargetGroupArn": tg})
        except AwsError:
            return "Added"
        healthy = any(h["Target"]["Id"] in ids and h["TargetHealth"]["State"] == "healthy"
                      for h in health["TargetHealthDescriptions"])
    else:
        from ..elb.instances import instance_state
        from ..elb.model import IN_SERVICE, LB as CLASSIC

        record = ctx.store.table(ctx.scope, CLASSIC).get(lb)
        elb_ctx = internal_context(ctx.kumo, "elb", account, region)
        healthy = record is not None and any(instance_state(elb_ctx, record, i) == IN_SERVICE for i in ids)
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


