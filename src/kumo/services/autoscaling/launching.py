"""Launching a group's instances through EC2: zones in balance, the right template, the right market.

Instances are launched through EC2's facade (one instance per call), as the
Auto Scaling service-linked role, so they pass the same checks and become
exactly what a user's RunInstances would make, plus the
``aws:autoscaling:groupName`` tag AWS adds.
"""

from __future__ import annotations

import math
from collections import Counter

from ...aws.errors import AwsError
from ..ec2 import internal as ec2
from . import activities
from .model import COUNTED, LEAVING, invalid, template_of, weight

GROUP_TAG = "aws:autoscaling:groupName"

DISTRIBUTION_DEFAULTS = {"OnDemandAllocationStrategy": "prioritized", "OnDemandBaseCapacity": 0,
                         "OnDemandPercentageAboveBaseCapacity": 100, "SpotAllocationStrategy": "lowest-price",
                         "SpotInstancePools": 2}


# -- zones ----------------------------------------------------------------------------------------------
def subnets_by_zone(kumo, scope: str, group: dict) -> dict[str, str]:
    """zone -> subnet the group launches into there (first subnet listed for a zone wins)."""
    out: dict[str, str] = {}
    ids = [s.strip() for s in (group.get("VPCZoneIdentifier") or "").split(",") if s.strip()]
    if ids:
        for sid in ids:
            subnet = ec2.subnet(kumo, scope, sid)
            if subnet is not None:
                out.setdefault(subnet["AvailabilityZone"], sid)
        return out
    vpc_id = ec2.default_vpc_id(kumo, scope)
    for subnet in ec2.subnets(kumo, scope, vpc_id) if vpc_id else []:
        if subnet.get("DefaultForAz") and subnet["AvailabilityZone"] in group["AvailabilityZones"]:
            out.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    return out


def zone_counts(group: dict, zones) -> Counter:
    counts = Counter({z: 0 for z in zones})
    for m in group["_instances"].values():
        if m["LifecycleState"] in COUNTED and m["AvailabilityZone"] in counts:
            counts[m["AvailabilityZone"]] += weight(m)
    return counts


def plan_zones(counts: Counter, n: int) -> list[str]:
    """Zones for ``n`` new instances: each goes where the group has fewest (ties by zone name)."""
    counts = Counter(counts)
    out = []
    for _ in range(n):
        zone = min(sorted(counts), key=lambda z: counts[z])
        counts[zone] += 1
        out.append(zone)
    return out


def imbalance(counts: Counter) -> tuple[str, str] | None:
    """(fullest, emptiest) when zones differ by more than one instance, as AZRebalance corrects."""
    if len(counts) < 2:
        return None
    ordered = sorted(counts, key=lambda z: (counts[z], z))
    low, high = ordered[0], ordered[-1]
    return (high, low) if counts[high] - counts[low] > 1 else None


# -- what to launch -------------------------------------------------------------------------------------
def distribution(group: dict) -> dict:
    mixed = group.get("MixedInstancesPolicy") or {}
    return {**DISTRIBUTION_DEFAULTS, **(mixed.get("InstancesDistribution") or {})}


def wanted_on_demand(dist: dict, total: int) -> int:
    """On-demand units in a group of ``total`` units: the base, then the percentage above it (rounded up)."""
    base = int(dist["OnDemandBaseCapacity"])
    if total <= base:
        return total
    return base + math.ceil((total - base) * int(dist["OnDemandPercentageAboveBaseCapacity"]) / 100)


def choices(group: dict, market: str, index: int) -> list[dict]:
    """Launch choices in preference order: {InstanceType, WeightedCapacity, LaunchTemplate}."""
    mixed = group.get("MixedInstancesPolicy")
    if not mixed:
        return [{"InstanceType": None, "WeightedCapacity": None, "LaunchTemplate": template_of(group)}]
    base_spec = mixed["LaunchTemplate"]["LaunchTemplateSpecification"]
    overrides = mixed["LaunchTemplate"].get("Overrides") or [{}]
    out = [{"InstanceType": o.get("InstanceType"), "WeightedCapacity": o.get("WeightedCapacity"),
            "LaunchTemplate": o.get("LaunchTemplateSpecification") or base_spec} for o in overrides]
    dist = distribution(group)
    if market == "spot" and dist["SpotAllocationStrategy"] == "lowest-price" and len(out) > 1:
        # Spread over SpotInstancePools pools: rotate through the first N choices.
        pools = max(1, min(int(dist.get("SpotInstancePools") or 2), len(out)))
        first = out[index % pools]
        out = [first] + [o for o in out if o is not first]
    return out


def launch_request(kumo, scope: str, group: dict, subnet_id: str, choice: dict,
                   config: dict | None = None) -> ec2.LaunchRequest:
    """What to ask EC2 for: one instance of the group in one subnet.

    ``config`` overrides the group's launch template (an instance refresh's desired configuration).
    """
    propagated = {t["Key"]: t.get("Value", "") for t in group.get("Tags", []) if t.get("PropagateAtLaunch")}
    request = ec2.LaunchRequest(subnet_id=subnet_id, tags=propagated,
                                system_tags={GROUP_TAG: group["AutoScalingGroupName"]})
    spec = (config or {}).get("LaunchTemplate") or choice["LaunchTemplate"]
    if spec:
        request.launch_template = spec
        request.instance_type = choice.get("InstanceType")
        return request
    from .model import LAUNCH_CONFIG

    lc = kumo.store.table(scope, LAUNCH_CONFIG).get(group["LaunchConfigurationName"])
    if lc is None:
        raise invalid(f"Launch configuration {group['LaunchConfigurationName']} not found")
    request.image_id, request.instance_type = lc["ImageId"], lc["InstanceType"]
    request.monitoring = bool((lc.get("InstanceMonitoring") or {}).get("Enabled", True))
    request.ebs_optimized = lc.get("EbsOptimized", False)
    request.key_name = lc.get("KeyName") or None
    request.user_data = lc.get("UserData") or None
    request.security_groups = list(lc.get("SecurityGroups") or [])
    request.instance_profile = lc.get("IamInstanceProfile")
    request.metadata_options = lc.get("MetadataOptions")
    request.block_device_mappings = [{k: v for k, v in m.items() if k in ("DeviceName", "Ebs", "VirtualName",
                                                                        "NoDevice")}
                                     for m in lc.get("BlockDeviceMappings") or []]
    return request


# -- launching ------------------------------------------------------------------------------------------
def launch(kumo, scope: str, group: dict, units: int, *, config: dict | None = None,
           zones: list[str] | None = None) -> tuple[int, str | None]:
    """Launch instances worth ``units`` capacity units; returns (units launched, error message or None).

    Members are added to ``group`` (the caller saves it).  A failed launch leaves a Failed activity.
    """
    subnets = subnets_by_zone(kumo, scope, group)
    if not subnets:
        return 0, "No subnets or Availability Zones are available to the group."
    before = sum(weight(m) for m in group["_instances"].values() if m["LifecycleState"] in COUNTED)
    dist = distribution(group)
    on_demand_now = sum(weight(m) for m in group["_instances"].values()
                        if m["LifecycleState"] not in LEAVING and m.get("_requested", "on-demand") == "on-demand")
    target_total = before + units
    on_demand_needed = max(0, wanted_on_demand(dist, target_total) - on_demand_now) if group.get(
        "MixedInstancesPolicy") else units
    counts = zone_counts(group, subnets)
    launched = 0
    index = len(group["_instances"])
    error = None
    # Every activity of a batch names the whole change, as AWS words it.
    cause = activities.capacity_cause(kumo.clock.now(), before, before + units)
    if group.get("_cause"):
        cause = f"{group['_cause']}  {cause}"
    plan = zones or plan_zones(counts, units)
    for zone in plan:
        if launched >= units:
            break
        if zone not in subnets:
            continue
        market = "on-demand" if on_demand_needed > 0 else "spot"
        instance = None
        for choice in choices(group, market, index):
            try:
                instance = ec2.launch(kumo, scope, launch_request(kumo, scope, group, subnets[zone], choice, config))
                break
            except AwsError as exc:
                error = f"{exc.message.rstrip('.')}. Launching EC2 instance failed."
                continue
        details = {"Subnet ID": subnets[zone], "Availability Zone": zone}
        if instance is None:
            activity = activities.start(kumo, scope, group, "Launching a new EC2 instance.  Status Reason: "
                                        + (error or "unknown"), cause, status="Failed", details=details,
                                        kind="launch")
            activities.finish(kumo, scope, activity["ActivityId"], "Failed", error)
            return launched, error
        iid = instance.instance_id
        w = int(choice.get("WeightedCapacity") or 1) if group.get("MixedInstancesPolicy") else 1
        if market == "spot":
            details["Market"] = "on-demand (Spot requested; kumo has no Spot market yet)"
        activity = activities.start(kumo, scope, group, f"Launching a new EC2 instance: {iid}", cause,
                                    status="PreInService", details=details, instance_id=iid, kind="launch",
                                    progress=30)
        member = {
            "InstanceId": iid,
            "InstanceType": instance.instance_type,
            "AvailabilityZone": zone,
            "LifecycleState": "Pending",
            "HealthStatus": "Healthy",
            "ProtectedFromScaleIn": bool(group.get("NewInstancesProtectedFromScaleIn")),
            "_launched": kumo.clock.now(),
            "_activity": activity["ActivityId"],
            "_requested": market,
            "_template_version": (instance.template or {}).get("Version"),
            "_template_id": (instance.template or {}).get("LaunchTemplateId"),
        }
        if group.get("LaunchConfigurationName") and not (config or {}).get("LaunchTemplate"):
            member["LaunchConfigurationName"] = group["LaunchConfigurationName"]
        else:
            spec = (config or {}).get("LaunchTemplate") or choice["LaunchTemplate"]
            member["LaunchTemplate"] = {"LaunchTemplateId": instance.template["LaunchTemplateId"],
                                        "LaunchTemplateName": instance.template["LaunchTemplateName"],
                                        "Version": spec.get("Version") or "$Default"}
        if group.get("MixedInstancesPolicy") and choice.get("WeightedCapacity"):
            member["WeightedCapacity"] = str(choice["WeightedCapacity"])
        group["_instances"][iid] = member
        launched += w
        index += 1
        if market == "on-demand":
            on_demand_needed -= w
    group.pop("_cause", None)
    return launched, None
