"""Launching a group's instances through EC2: zones in balance, the right template, the right market.

Instances are launched by EC2's own RunInstances (one call per zone and
instance type), as the Auto Scaling service-linked role, so they are exactly
what a user's RunInstances would make, plus the ``aws:autoscaling:groupName``
tag AWS adds.
"""

from __future__ import annotations

import math
from collections import Counter

from ...aws.errors import AwsError
from ...core import tags as tagging
from . import activities
from .model import COUNTED, LEAVING, as_service, invalid, template_of, weight

GROUP_TAG = "aws:autoscaling:groupName"

DISTRIBUTION_DEFAULTS = {"OnDemandAllocationStrategy": "prioritized", "OnDemandBaseCapacity": 0,
                         "OnDemandPercentageAboveBaseCapacity": 100, "SpotAllocationStrategy": "lowest-price",
                         "SpotInstancePools": 2}


def ec2_context(kumo, scope: str, operation: str = "RunInstances"):
    return as_service(kumo, scope, "ec2", operation)


# -- zones ----------------------------------------------------------------------------------------------
def subnets_by_zone(ec2ctx, group: dict) -> dict[str, str]:
    """zone -> subnet the group launches into there (first subnet listed for a zone wins)."""
    from ..ec2.model import table as ec2_table
    from ..ec2.defaults import default_vpc

    out: dict[str, str] = {}
    ids = [s.strip() for s in (group.get("VPCZoneIdentifier") or "").split(",") if s.strip()]
    if ids:
        subnets = ec2_table(ec2ctx, "subnet")
        for sid in ids:
            subnet = subnets.get(sid)
            if subnet is not None:
                out.setdefault(subnet["AvailabilityZone"], sid)
        return out
    vpc = default_vpc(ec2ctx)
    for subnet in ec2_table(ec2ctx, "subnet").values():
        if vpc and subnet["VpcId"] == vpc["VpcId"] and subnet.get("DefaultForAz") and \
                subnet["AvailabilityZone"] in group["AvailabilityZones"]:
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


def launch_params(kumo, ec2ctx, group: dict, subnet_id: str, choice: dict, count: int,
                  config: dict | None = None) -> dict:
    """RunInstances parameters for ``count`` instances of the group in one subnet.

    ``config`` overrides the group's launch template (an instance refresh's desired configuration).
    """
    params: dict = {"MinCount": count, "MaxCount": count, "SubnetId": subnet_id}
    spec = (config or {}).get("LaunchTemplate") or choice["LaunchTemplate"]
    if spec:
        params["LaunchTemplate"] = {k: v for k, v in spec.items() if k in ("LaunchTemplateId", "LaunchTemplateName",
                                                                           "Version") and v}
        params["LaunchTemplate"].setdefault("Version", "$Default")
        if choice.get("InstanceType"):
            params["InstanceType"] = choice["InstanceType"]
    else:
        from .model import LAUNCH_CONFIG

        lc = kumo.store.table(ec2ctx.scope, LAUNCH_CONFIG).get(group["LaunchConfigurationName"])
        if lc is None:
            raise invalid(f"Launch configuration {group['LaunchConfigurationName']} not found")
        params.update(ImageId=lc["ImageId"], InstanceType=lc["InstanceType"],
                      Monitoring={"Enabled": bool((lc.get("InstanceMonitoring") or {}).get("Enabled", True))},
                      EbsOptimized=lc.get("EbsOptimized", False))
        if lc.get("KeyName"):
            params["KeyName"] = lc["KeyName"]
        if lc.get("UserData"):
            params["UserData"] = lc["UserData"]
        groups = lc.get("SecurityGroups") or []
        if groups:
            ids = [g for g in groups if g.startswith("sg-")]
            names = [g for g in groups if not g.startswith("sg-")]
            if ids:
                params["SecurityGroupIds"] = ids
            if names:
                params["SecurityGroups"] = names
        profile = lc.get("IamInstanceProfile")
        if profile:
            params["IamInstanceProfile"] = {"Arn": profile} if profile.startswith("arn:") else {"Name": profile}
        if lc.get("MetadataOptions"):
            params["MetadataOptions"] = lc["MetadataOptions"]
        if lc.get("BlockDeviceMappings"):
            params["BlockDeviceMappings"] = [{k: v for k, v in m.items() if k in ("DeviceName", "Ebs",
                                                                                   "VirtualName", "NoDevice")}
                                             for m in lc["BlockDeviceMappings"]]
    propagated = {t["Key"]: t.get("Value", "") for t in group.get("Tags", []) if t.get("PropagateAtLaunch")}
    if propagated:
        params["TagSpecifications"] = [{"ResourceType": "instance", "Tags": tagging.to_list(propagated)},
                                       {"ResourceType": "volume", "Tags": tagging.to_list(propagated)}]
    return params


# -- launching ------------------------------------------------------------------------------------------
def launch(kumo, scope: str, group: dict, units: int, *, config: dict | None = None,
           zones: list[str] | None = None) -> tuple[int, str | None]:
    """Launch instances worth ``units`` capacity units; returns (units launched, error message or None).

    Members are added to ``group`` (the caller saves it).  A failed launch leaves a Failed activity.
    """
    from ..ec2.instances import run_instances
    from ..ec2.lifecycle import KIND as EC2_INSTANCE

    ec2ctx = ec2_context(kumo, scope)
    subnets = subnets_by_zone(ec2ctx, group)
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
                params = launch_params(kumo, ec2ctx, group, subnets[zone], choice, 1, config)
                result = run_instances(ec2ctx, params)
                instance = result["Instances"][0]
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
        iid = instance["InstanceId"]
        ec2_table = kumo.store.table(scope, EC2_INSTANCE)
        record = ec2_table.get(iid)
        record["Tags"] = [t for t in record.get("Tags", []) if t["Key"] != GROUP_TAG] + \
            [{"Key": GROUP_TAG, "Value": group["AutoScalingGroupName"]}]
        ec2_table.put(iid, record)
        w = int(choice.get("WeightedCapacity") or 1) if group.get("MixedInstancesPolicy") else 1
        if market == "spot":
            details["Market"] = "on-demand (Spot requested; kumo has no Spot market yet)"
        activity = activities.start(kumo, scope, group, f"Launching a new EC2 instance: {iid}", cause,
                                    status="PreInService", details=details, instance_id=iid, kind="launch",
                                    progress=30)
        member = {
            "InstanceId": iid,
            "InstanceType": record["InstanceType"],
            "AvailabilityZone": zone,
            "LifecycleState": "Pending",
            "HealthStatus": "Healthy",
            "ProtectedFromScaleIn": bool(group.get("NewInstancesProtectedFromScaleIn")),
            "_launched": kumo.clock.now(),
            "_activity": activity["ActivityId"],
            "_requested": market,
            "_template_version": (record.get("_template") or {}).get("Version"),
            "_template_id": (record.get("_template") or {}).get("LaunchTemplateId"),
        }
        if group.get("LaunchConfigurationName") and not (config or {}).get("LaunchTemplate"):
            member["LaunchConfigurationName"] = group["LaunchConfigurationName"]
        else:
            spec = (config or {}).get("LaunchTemplate") or choice["LaunchTemplate"]
            member["LaunchTemplate"] = {"LaunchTemplateId": record["_template"]["LaunchTemplateId"],
                                        "LaunchTemplateName": record["_template"]["LaunchTemplateName"],
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
