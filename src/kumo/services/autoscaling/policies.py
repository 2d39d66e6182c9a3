"""Scaling policies: simple, step and target tracking, run by alarms, by ExecutePolicy, on the clock.

A CloudWatch alarm naming a policy ARN reaches ``alarm_action`` through
``kumo.actions``, with the alarm; the policy then reads the breaching metric
value from the alarm's own metric and changes the group's desired capacity.
Target tracking policies own two alarms (AlarmHigh, AlarmLow) that kumo
creates, updates and deletes with the policy, as AWS does.
"""

from __future__ import annotations

import logging
import re

from ...aws.errors import AwsError
from ..cloudwatch import internal as cloudwatch
from . import scaling
from .model import (
    CONTROLLER, GROUP, MAX_POLICIES, POLICY, capacity, delete_owned, find_group, invalid, owned_key, page,
    policy_arn, suspended, table,
)

log = logging.getLogger("kumo.autoscaling")

POLICY_TYPES = ("SimpleScaling", "StepScaling", "TargetTrackingScaling", "PredictiveScaling")
PREDEFINED = {
    "ASGAverageCPUUtilization": ("AWS/EC2", "CPUUtilization", "Average"),
    "ASGAverageNetworkIn": ("AWS/EC2", "NetworkIn", "Average"),
    "ASGAverageNetworkOut": ("AWS/EC2", "NetworkOut", "Average"),
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum"),
}
HIGH_PERIODS = 3  # the managed alarms AWS creates: 3 of 3 one-minute periods above the target ...
LOW_PERIODS = 15  # ... and 15 of 15 below 90% of it
LOW_FRACTION = 0.9
_ARN = re.compile(r"^arn:aws:autoscaling:([a-z0-9-]+):(\d{12}):scalingPolicy:[0-9a-f-]{36}:"
                  r"autoScalingGroupName/(.+):policyName/(.+)$")


def find_policy(ctx, group_name: str | None, name: str) -> dict:
    policies = table(ctx, POLICY)
    if name.startswith("arn:"):
        found = next((p for p in policies.values() if p["PolicyARN"] == name), None)
    else:
        found = policies.get(owned_key(group_name or "", name))
    if found is None:
        raise invalid(f"No such policy {name} for AutoScalingGroup {group_name}" if group_name else
                      f"No such policy {name}")
    return found


# -- target tracking's alarms -------------------------------------------------------------------------
def _metric_of(config: dict) -> dict:
    """The alarm metric fields of a target tracking configuration."""
    predefined = config.get("PredefinedMetricSpecification")
    if predefined:
        kind = predefined["PredefinedMetricType"]
        namespace, name, stat = PREDEFINED[kind]
        if kind == "ALBRequestCountPerTarget":
            label = predefined.get("ResourceLabel") or ""
            lb, _, tg = label.partition("/targetgroup/")
            dims = [{"Name": "LoadBalancer", "Value": lb}, {"Name": "TargetGroup", "Value": f"targetgroup/{tg}"}]
        else:
            dims = None  # filled with the group's name by the caller
        return {"Namespace": namespace, "MetricName": name, "Statistic": stat, "Dimensions": dims}
    custom = config["CustomizedMetricSpecification"]
    if custom.get("Metrics"):
        queries = []
        for q in custom["Metrics"]:
            item = {"Id": q["Id"], "ReturnData": q.get("ReturnData", True)}
            if q.get("Label"):
                item["Label"] = q["Label"]
            if q.get("Expression"):
                item["Expression"] = q["Expression"]
                item["Period"] = 60
            if q.get("MetricStat"):
                stat = {"Metric": q["MetricStat"]["Metric"], "Period": 60, "Stat": q["MetricStat"]["Stat"]}
                if q["MetricStat"].get("Unit"):
                    stat["Unit"] = q["MetricStat"]["Unit"]
                item["MetricStat"] = stat
            queries.append(item)
        return {"Metrics": queries}
    out = {"Namespace": custom["Namespace"], "MetricName": custom["MetricName"],
           "Statistic": custom.get("Statistic") or "Average", "Dimensions": custom.get("Dimensions") or []}
    if custom.get("Unit"):
        out["Unit"] = custom["Unit"]
    return out


def _check_tracking(config: dict | None) -> None:
    if not config:
        raise invalid("TargetTrackingConfiguration is required for a target tracking scaling policy.")
    predefined = config.get("PredefinedMetricSpecification")
    custom = config.get("CustomizedMetricSpecification")
    if bool(predefined) == bool(custom):
        raise invalid("Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be "
                      "specified.")
    if predefined:
        kind = predefined.get("PredefinedMetricType")
        if kind not in PREDEFINED:
            raise invalid(f"Unsupported predefined metric type: {kind}")
        if kind == "ALBRequestCountPerTarget":
            label = predefined.get("ResourceLabel") or ""
            if not re.match(r"^app/[^/]+/[0-9a-f]+/targetgroup/[^/]+/[0-9a-f]+$", label):
                raise invalid("ResourceLabel must be specified for predefined metric type ALBRequestCountPerTarget, "
                              "in the form app/<load-balancer-name>/<load-balancer-id>/targetgroup/"
                              "<target-group-name>/<target-group-id>.")
        elif predefined.get("ResourceLabel"):
            raise invalid(f"ResourceLabel is only valid for ALBRequestCountPerTarget, not {kind}.")
    elif custom and not custom.get("Metrics") and not (custom.get("MetricName") and custom.get("Namespace")):
        raise invalid("A customized metric specification needs MetricName and Namespace, or Metrics.")
    if config.get("TargetValue") is None:
        raise invalid("TargetValue must be specified for a target tracking scaling policy.")


def _sync_alarms(ctx, group: dict, policy: dict) -> None:
    """Create or update the policy's AlarmHigh and AlarmLow (AlarmLow only if scale-in is enabled)."""
    config = policy["TargetTrackingConfiguration"]
    metric = _metric_of(config)
    if metric.get("Dimensions") is None:
        metric["Dimensions"] = [{"Name": "AutoScalingGroupName", "Value": group["AutoScalingGroupName"]}]
    target = float(config["TargetValue"])
    existing = {a["AlarmName"]: a for a in policy.get("Alarms", [])}
    names = policy.setdefault("_alarm_names", {})
    suffix = policy["PolicyARN"].split(":")[6]
    names.setdefault("high", f"TargetTracking-{group['AutoScalingGroupName']}-AlarmHigh-{suffix}")
    names.setdefault("low", f"TargetTracking-{group['AutoScalingGroupName']}-AlarmLow-{suffix}")
    wanted = {"high": (HIGH_PERIODS, target, "GreaterThanThreshold")}
    if not config.get("DisableScaleIn"):
        wanted["low"] = (LOW_PERIODS, target * LOW_FRACTION, "LessThanThreshold")
    alarms = []
    for which, (periods, threshold, comparison) in wanted.items():
        params = {"AlarmName": names[which], "AlarmActions": [policy["PolicyARN"]],
                  "AlarmDescription": f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy "
                                      f"{policy['PolicyARN']}.",
                  "EvaluationPeriods": periods, "DatapointsToAlarm": periods, "Threshold": threshold,
                  "ComparisonOperator": comparison, "ActionsEnabled": policy.get("Enabled", True)}
        if "Metrics" in metric:
            params["Metrics"] = metric["Metrics"]
        else:
            params.update(Namespace=metric["Namespace"], MetricName=metric["MetricName"],
                          Statistic=metric["Statistic"], Dimensions=metric["Dimensions"], Period=60)
            if metric.get("Unit"):
                params["Unit"] = metric["Unit"]
        arn = cloudwatch.put_metric_alarm(ctx.kumo, ctx.scope, params)
        alarms.append({"AlarmName": names[which], "AlarmARN": arn})
    stale = [n for n in existing if n not in {a["AlarmName"] for a in alarms}]
    if stale:
        cloudwatch.delete_alarms(ctx.kumo, ctx.scope, stale)
    policy["Alarms"] = alarms


def _delete_alarms(kumo, scope: str, policy: dict) -> None:
    if policy.get("PolicyType") != "TargetTrackingScaling" or not policy.get("Alarms"):
        return
    cloudwatch.delete_alarms(kumo, scope, [a["AlarmName"] for a in policy["Alarms"]])


# -- the API ------------------------------------------------------------------------------------------
def put_scaling_policy(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    gname = group["AutoScalingGroupName"]
    name = p["PolicyName"]
    kind = p.get("PolicyType") or "SimpleScaling"
    if kind == "PredictiveScaling":
        raise AwsError("NotImplemented", "Predictive scaling policies are not implemented by kumo: they need "
                                         "forecasts from 14 days of history.", status=501, sender_fault=False)
    policies = table(ctx, POLICY)
    key = owned_key(gname, name)
    existing = policies.get(key)
    if existing is None and sum(1 for x in policies.values() if x["AutoScalingGroupName"] == gname) >= MAX_POLICIES:
        raise AwsError("LimitExceeded", f"Scaling policy limit exceeded for AutoScalingGroup {gname}.")
    if existing is not None and existing["PolicyType"] != kind:
        raise invalid(f"The policy type of policy {name} cannot be changed from {existing['PolicyType']} to {kind}.")
    policy = {"AutoScalingGroupName": gname, "PolicyName": name,
              "PolicyARN": existing["PolicyARN"] if existing else policy_arn(ctx.region, ctx.account, gname, name),
              "PolicyType": kind, "Enabled": p.get("Enabled", True), "Alarms": (existing or {}).get("Alarms", [])}
    if existing and existing.get("_alarm_names"):
        policy["_alarm_names"] = existing["_alarm_names"]
    adjustment_type = p.get("AdjustmentType")
    if adjustment_type is not None and adjustment_type not in scaling.ADJUSTMENT_TYPES:
        raise invalid(f"Invalid adjustment type {adjustment_type}. Valid values are "
                      f"{', '.join(scaling.ADJUSTMENT_TYPES)}.")
    magnitude = p.get("MinAdjustmentMagnitude") or p.get("MinAdjustmentStep")
    if magnitude is not None and adjustment_type != "PercentChangeInCapacity":
        raise invalid("MinAdjustmentMagnitude is only valid with the PercentChangeInCapacity adjustment type.")
    if kind == "SimpleScaling":
        if p.get("ScalingAdjustment") is None:
            raise invalid("ScalingAdjustment is required for a simple scaling policy.")
        if not adjustment_type:
            raise invalid("AdjustmentType is required for a simple scaling policy.")
        for field in ("StepAdjustments", "TargetTrackingConfiguration", "EstimatedInstanceWarmup",
                      "MetricAggregationType"):
            if p.get(field) is not None:
                raise invalid(f"{field} is not supported for policy type SimpleScaling.")
        if adjustment_type == "ExactCapacity" and p["ScalingAdjustment"] < 0:
            raise invalid("ScalingAdjustment must not be negative with the ExactCapacity adjustment type.")
        policy.update(AdjustmentType=adjustment_type, ScalingAdjustment=p["ScalingAdjustment"])
        if p.get("Cooldown") is not None:
            policy["Cooldown"] = p["Cooldown"]
    elif kind == "StepScaling":
        if not adjustment_type:
            raise invalid("AdjustmentType is required for a step scaling policy.")
        for field in ("ScalingAdjustment", "Cooldown", "TargetTrackingConfiguration"):
            if p.get(field) is not None:
                raise invalid(f"{field} is not supported for policy type StepScaling.")
        why = scaling.check_steps(p.get("StepAdjustments") or [])
        if why:
            raise invalid(why)
        aggregation = p.get("MetricAggregationType") or "Average"
        if aggregation not in ("Minimum", "Maximum", "Average"):
            raise invalid(f"Invalid metric aggregation type: {aggregation}")
        policy.update(AdjustmentType=adjustment_type, StepAdjustments=p["StepAdjustments"],
                      MetricAggregationType=aggregation)
        if p.get("EstimatedInstanceWarmup") is not None:
            policy["EstimatedInstanceWarmup"] = p["EstimatedInstanceWarmup"]
    else:
        for field in ("AdjustmentType", "ScalingAdjustment", "Cooldown", "StepAdjustments", "MetricAggregationType",
                      "MinAdjustmentMagnitude"):
            if p.get(field) is not None:
                raise invalid(f"{field} is not supported for policy type TargetTrackingScaling.")
        _check_tracking(p.get("TargetTrackingConfiguration"))
        config = dict(p["TargetTrackingConfiguration"])
        config.setdefault("DisableScaleIn", False)
        policy["TargetTrackingConfiguration"] = config
        if p.get("EstimatedInstanceWarmup") is not None:
            policy["EstimatedInstanceWarmup"] = p["EstimatedInstanceWarmup"]
    if magnitude is not None:
        policy["MinAdjustmentMagnitude"] = magnitude
    if kind == "TargetTrackingScaling":
        _sync_alarms(ctx, group, policy)
    policies.put(key, policy)
    out = {"PolicyARN": policy["PolicyARN"]}
    if kind == "TargetTrackingScaling":
        out["Alarms"] = policy["Alarms"]
    return out


def _alarms_naming(ctx, arn: str) -> list[dict]:
    return cloudwatch.alarms_with_action(ctx.kumo, ctx.scope, arn)


def _view(ctx, policy: dict) -> dict:
    out = {k: v for k, v in policy.items() if not k.startswith("_")}
    if policy["PolicyType"] != "TargetTrackingScaling":
        out["Alarms"] = _alarms_naming(ctx, policy["PolicyARN"])
    return out


def describe_policies(ctx, p):
    policies = table(ctx, POLICY).values()
    if p.get("AutoScalingGroupName"):
        find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
        policies = [x for x in policies if x["AutoScalingGroupName"] == p["AutoScalingGroupName"]]
    names = p.get("PolicyNames")
    if names:
        policies = [x for x in policies if x["PolicyName"] in names or x["PolicyARN"] in names]
    types = p.get("PolicyTypes")
    if types:
        policies = [x for x in policies if x["PolicyType"] in types]
    policies = sorted(policies, key=lambda x: (x["AutoScalingGroupName"], x["PolicyName"]))
    return page([_view(ctx, x) for x in policies], p, lambda x: f"{x['AutoScalingGroupName']}\x00{x['PolicyName']}",
                "ScalingPolicies", f"policies/{ctx.scope}/{p.get('AutoScalingGroupName')}")


def delete_policy(ctx, p):
    group_name = p.get("AutoScalingGroupName")
    policy = find_policy(ctx, group_name, p["PolicyName"])
    _delete_alarms(ctx.kumo, ctx.scope, policy)
    table(ctx, POLICY).delete(owned_key(policy["AutoScalingGroupName"], policy["PolicyName"]))
    return {}


def execute_policy(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"]) if p.get("AutoScalingGroupName") else None
    policy = find_policy(ctx, group["AutoScalingGroupName"] if group else None, p["PolicyName"])
    group = group or find_group(ctx, policy["AutoScalingGroupName"])
    if policy["PolicyType"] == "TargetTrackingScaling":
        raise invalid("ExecutePolicy is not supported for target tracking scaling policies.")
    if policy["PolicyType"] == "StepScaling":
        if p.get("MetricValue") is None or p.get("BreachThreshold") is None:
            raise invalid("MetricValue and BreachThreshold are required for a step scaling policy.")
        if p.get("HonorCooldown"):
            raise invalid("HonorCooldown is not supported for step scaling policies.")
    elif p.get("MetricValue") is not None or p.get("BreachThreshold") is not None:
        raise invalid("MetricValue and BreachThreshold are only valid for step scaling policies.")
    if not policy.get("Enabled", True):
        raise invalid(f"The policy {policy['PolicyName']} is disabled.")
    if policy["PolicyType"] == "SimpleScaling" and p.get("HonorCooldown") and in_cooldown(ctx.kumo, group):
        raise AwsError("ScalingActivityInProgress", "Scaling activity is in progress and blocks this action: the "
                                                    "group is in its cooldown period.")
    cause = f"a user request executed policy {policy['PolicyName']}"
    run(ctx.kumo, ctx.scope, group, policy, cause, metric=p.get("MetricValue"), threshold=p.get("BreachThreshold"),
        honor_cooldown=bool(p.get("HonorCooldown")))
    return {}


# -- running a policy ------------------------------------------------------------------------------------
def in_cooldown(kumo, group: dict) -> bool:
    cooldown = group.get("_cooldown")
    if not cooldown:
        return False
    pending = any(m["LifecycleState"] in ("Pending", "Pending:Wait", "Pending:Proceed")
                  for m in group["_instances"].values())
    return pending or kumo.clock.now() < cooldown["until"]


def warmup_of(group: dict, policy: dict) -> float:
    if policy.get("EstimatedInstanceWarmup") is not None:
        return float(policy["EstimatedInstanceWarmup"])
    if group.get("DefaultInstanceWarmup") is not None:
        return float(group["DefaultInstanceWarmup"])
    return float(group.get("DefaultCooldown", 300))


def warming(kumo, group: dict, policy: dict) -> int:
    """Capacity still warming up: launching, or in service for less than the warm-up."""
    now = kumo.clock.now()
    warm = warmup_of(group, policy)
    return sum(int(m.get("WeightedCapacity") or 1) for m in group["_instances"].values()
               if m["LifecycleState"] in ("Pending", "Pending:Wait", "Pending:Proceed")
               or (m["LifecycleState"] == "InService" and now - m.get("_inservice", now) < warm))


def run(kumo, scope: str, group: dict, policy: dict, cause: str, *, metric: float | None = None,
        threshold: float | None = None, which: str | None = None, honor_cooldown: bool = True) -> bool:
    """Apply a policy to its group; True when the desired capacity changed."""
    now = kumo.clock.now()
    desired = int(group["DesiredCapacity"])
    low, high = int(group["MinSize"]), int(group["MaxSize"])
    kind = policy["PolicyType"]
    if kind == "SimpleScaling":
        if honor_cooldown and in_cooldown(kumo, group):
            return False
        new = scaling.adjust(desired, policy["AdjustmentType"], policy["ScalingAdjustment"],
                             policy.get("MinAdjustmentMagnitude"))
    elif kind == "StepScaling":
        step = scaling.step_adjustment(policy["StepAdjustments"], float(metric), float(threshold))
        if step is None:
            return False
        adj = step["ScalingAdjustment"]
        if adj > 0 or policy["AdjustmentType"] == "ExactCapacity":
            # Warming instances are not part of the capacity a scale out builds on: repeated breaches in the
            # same step make one activity, a bigger step adds only the difference.
            base = desired - warming(kumo, group, policy)
            new = scaling.adjust(base, policy["AdjustmentType"], adj, policy.get("MinAdjustmentMagnitude"))
            if adj > 0 and new <= desired:
                return False
        else:
            new = scaling.adjust(desired, policy["AdjustmentType"], adj, policy.get("MinAdjustmentMagnitude"))
    else:
        target = float(policy["TargetTrackingConfiguration"]["TargetValue"])
        if metric is None:
            return False
        if which == "high":
            base = max(1, capacity(group) - warming(kumo, group, policy))
            new = scaling.tracking_capacity(base, float(metric), target)
            if new <= desired:
                return False
        else:
            if policy["TargetTrackingConfiguration"].get("DisableScaleIn"):
                return False
            if warming(kumo, group, policy) or now < group.get("_last_scaled", -1e18) + group.get(
                    "DefaultCooldown", 300):
                return False  # scale in waits for warm-up and the cooldown after the last change
            new = max(scaling.tracking_capacity(desired, float(metric), target), scaling.scale_in_floor(desired))
            if new >= desired:
                return False
    new = scaling.clamp(new, low, high)
    if new == desired:
        return False
    from .groups import set_desired

    set_desired(kumo, scope, group, new, f"{cause}")
    group["_last_scaled"] = now
    if kind == "SimpleScaling":
        length = float(policy.get("Cooldown") if policy.get("Cooldown") is not None else group.get("DefaultCooldown",
                                                                                                    300))
        group["_cooldown"] = {"length": length, "until": now + length}
    kumo.store.table(scope, GROUP).put(group["AutoScalingGroupName"], group)
    kumo.controllers.enqueue(CONTROLLER, (scope, group["AutoScalingGroupName"]))
    return True


def alarm_action(kumo):
    """The handler of alarm actions naming a scaling policy ARN."""

    async def act(arn: str, context: dict) -> None:
        m = _ARN.match(arn)
        if not m:
            raise LookupError(f"not a scaling policy ARN: {arn}")
        region, account, group_name, policy_name = m.groups()
        scope = f"{account}/{region}"
        with kumo.store.transaction():
            policy = kumo.store.table(scope, POLICY).get(owned_key(group_name, policy_name))
            if policy is None or policy["PolicyARN"] != arn:
                raise LookupError(f"No scaling policy {policy_name} for AutoScalingGroup {group_name}")
            group = kumo.store.table(scope, GROUP).get(group_name)
            if group is None or group.get("Status"):
                raise LookupError(f"AutoScalingGroup {group_name} not found")
            if suspended(group, "AlarmNotification") or not policy.get("Enabled", True):
                return
            alarm = cloudwatch.alarm(kumo, scope, context.get("AlarmName", "")) or \
                (context.get("kumo") or {}).get("alarm") or {}
            # The alarm's metric now, as the alarm itself evaluates it (the breach size of a step policy).
            metric = cloudwatch.latest_value(kumo, scope, alarm) if alarm else None
            threshold = alarm.get("Threshold")
            which = None
            names = policy.get("_alarm_names") or {}
            if alarm.get("AlarmName") == names.get("high"):
                which = "high"
            elif alarm.get("AlarmName") == names.get("low"):
                which = "low"
            if policy["PolicyType"] == "StepScaling" and (metric is None or threshold is None):
                return
            state = context.get("NewStateValue") or alarm.get("StateValue")
            cause = f"a monitor alarm {alarm.get('AlarmName', '')} in state {state} triggered policy {policy_name}"
            run(kumo, scope, group, policy, cause, metric=metric, threshold=threshold, which=which)

    return act


def delete_for_group(kumo, scope: str, group_name: str) -> None:
    for policy in delete_owned(kumo, scope, POLICY, group_name):
        _delete_alarms(kumo, scope, policy)

