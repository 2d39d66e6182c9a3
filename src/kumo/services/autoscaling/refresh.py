"""Instance refresh: replace a group's instances in rolling batches, never below MinHealthyPercentage.

With MaxHealthyPercentage 100 a batch terminates old instances first (as many
as the minimum healthy percentage allows, at least one) and the capacity loop
launches their replacements from the desired configuration.  Above 100, the
group first grows by the headroom (``_refresh_extra``) with new instances,
then terminates as many old ones once the new are in service and warmed up,
so healthy capacity never drops below desired.  Checkpoints pause the
refresh; cancel stops it; rollback runs the same machine back to the
configuration the refresh started from.
"""

from __future__ import annotations

import copy
import math

from ...aws.errors import AwsError
from ..ec2 import internal as ec2
from . import activities
from .model import (
    COUNTED, CONTROLLER, GROUP, REFRESH, find_group, invalid, new_uuid, split_scope, table,
)

ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
DONE = ("Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed")
DEFAULT_MIN_HEALTHY = 90
DEFAULT_MAX_HEALTHY = 100
DEFAULT_CHECKPOINT_DELAY = 3600


# -- seams for the group controller ---------------------------------------------------------------------
def current(kumo, scope: str, group_name: str) -> dict | None:
    for r in kumo.store.table(scope, REFRESH).values():
        if r["AutoScalingGroupName"] == group_name and r["Status"] in ACTIVE:
            return r
    return None


def active(rec) -> bool:
    return current(rec.kumo, rec.scope, rec.group["AutoScalingGroupName"]) is not None


def _resolve(rec_or_ctx, spec: dict) -> ec2.TemplateVersion:
    return ec2.launch_template(rec_or_ctx.kumo, rec_or_ctx.scope, spec)


def resolved_version(rec, spec: dict) -> int | None:
    try:
        return _resolve(rec, spec).version
    except AwsError:
        return None


def template_id(rec, spec: dict) -> str | None:
    try:
        return _resolve(rec, spec).template_id
    except AwsError:
        return None


def launch_config(rec) -> dict | None:
    """The configuration new instances launch from while a refresh (or its rollback) runs."""
    r = current(rec.kumo, rec.scope, rec.group["AutoScalingGroupName"])
    if r is None or r["Status"] == "Cancelling":
        return None
    return r.get("_config")


def launch_failed(rec, error: str) -> None:
    r = current(rec.kumo, rec.scope, rec.group["AutoScalingGroupName"])
    if r is None or r["Status"] not in ("InProgress", "RollbackInProgress"):
        return
    r["_launch_failures"] = r.get("_launch_failures", 0) + 1
    if r["_launch_failures"] >= 3:
        _fail(rec, r, f"Instance refresh failed: instances could not be launched: {error}")


# -- matching --------------------------------------------------------------------------------------------
def _matches(ctx, g: dict, m: dict, config: dict | None) -> bool:
    """Whether member ``m`` of group ``g`` already runs the configuration ``config`` (SkipMatching)."""
    spec = (config or {}).get("LaunchTemplate") or ((config or {}).get("MixedInstancesPolicy") or {}).get(
        "LaunchTemplate", {}).get("LaunchTemplateSpecification")
    if spec is None:
        from .model import template_of

        spec = template_of(g)
    if spec is None:
        return m.get("LaunchConfigurationName") == g.get("LaunchConfigurationName")
    try:
        lt = _resolve(ctx, spec)
    except AwsError:
        return False
    return m.get("_template_id") == lt.template_id and str(m.get("_template_version")) == str(lt.version)


# -- the step --------------------------------------------------------------------------------------------
def step(rec) -> None:
    r = current(rec.kumo, rec.scope, rec.group["AutoScalingGroupName"])
    if r is None:
        return
    g = rec.group
    kumo, scope, now = rec.kumo, rec.scope, rec.now
    refreshes = kumo.store.table(scope, REFRESH)
    if r["Status"] == "Cancelling":
        g.pop("_refresh_extra", None)
        _end(rec, r, "Cancelled", "Instance refresh cancelled.", "EC2 Auto Scaling Instance Refresh Cancelled")
        return
    if r["Status"] == "Pending":
        r["Status"] = "InProgress"
        r["StatusReason"] = "Instance refresh in progress."
        _event(rec, r, "EC2 Auto Scaling Instance Refresh Started")
    if r.get("_paused_until"):
        if now < r["_paused_until"]:
            rec.wake.append(r["_paused_until"] - now)
            refreshes.put(r["InstanceRefreshId"], r)
            return
        r.pop("_paused_until")
        r["StatusReason"] = "Instance refresh in progress."
    prefs = r["Preferences"]
    warmup = int(prefs.get("InstanceWarmup") or 0)
    members = g["_instances"]
    remaining = [iid for iid in r["_targets"] if iid in members and members[iid]["LifecycleState"] in COUNTED]
    new = [m for m in members.values() if m["InstanceId"] not in r["_targets"] and m["LifecycleState"] in COUNTED]
    warming = [m for m in new if m["LifecycleState"] != "InService" or now - m.get("_inservice", now) < warmup]
    leaving = [iid for iid in r["_targets"] if iid in members and members[iid]["LifecycleState"] not in COUNTED]
    total = max(1, r["_total"])
    done = r["_total"] - len(remaining)
    settled = max(0, done - len(warming))
    r["PercentageComplete"] = min(100, math.floor(100 * settled / total)) if r["_total"] else 100
    r["InstancesToUpdate"] = len(remaining)
    r["ProgressDetails"] = {"LivePoolProgress": {"PercentageComplete": r["PercentageComplete"],
                                                 "InstancesToUpdate": len(remaining)}}
    if warming:
        left = [m.get("_inservice", now) + warmup - now for m in warming if m["LifecycleState"] == "InService"]
        rec.wake.append(max(0.5, min(left) if left else 1.0))
        refreshes.put(r["InstanceRefreshId"], r)
        return
    checkpoints = [p for p in prefs.get("CheckpointPercentages") or [] if p not in r["_checkpoints_done"]]
    if checkpoints and r["PercentageComplete"] >= checkpoints[0] and r["PercentageComplete"] < 100:
        r["_checkpoints_done"].append(checkpoints[0])
        delay = int(prefs.get("CheckpointDelay") or DEFAULT_CHECKPOINT_DELAY)
        r["_paused_until"] = now + delay
        r["StatusReason"] = (f"Waiting for checkpoint. Percentage complete: {r['PercentageComplete']}%. "
                             f"Checkpoint delay: {delay} seconds.")
        _event(rec, r, "EC2 Auto Scaling Instance Refresh Checkpoint Reached")
        rec.wake.append(delay)
        refreshes.put(r["InstanceRefreshId"], r)
        return
    if not remaining:
        if leaving:
            rec.wake.append(1.0)
            refreshes.put(r["InstanceRefreshId"], r)
            return
        g.pop("_refresh_extra", None)
        if r["Status"] == "RollbackInProgress":
            _apply_config(g, r.get("_config"))
            _end(rec, r, "RollbackSuccessful", "Instance refresh rollback succeeded.",
                 "EC2 Auto Scaling Instance Refresh Rollback Succeeded")
        else:
            _apply_config(g, r.get("DesiredConfiguration"))
            _end(rec, r, "Successful", "Instance refresh succeeded.", "EC2 Auto Scaling Instance Refresh Succeeded")
        return
    if leaving:  # the previous batch is still on its way out
        rec.wake.append(1.0)
        refreshes.put(r["InstanceRefreshId"], r)
        return
    desired = int(g["DesiredCapacity"])
    min_healthy = math.ceil(desired * int(prefs["MinHealthyPercentage"]) / 100)
    max_total = math.floor(desired * int(prefs["MaxHealthyPercentage"]) / 100)
    headroom = max(0, max_total - desired)
    healthy = sum(1 for m in members.values() if m["LifecycleState"] == "InService" and m["HealthStatus"] == "Healthy")
    if headroom:
        extra = min(headroom, len(remaining))
        if g.get("_refresh_extra", 0) < extra and len(new) < extra:
            g["_refresh_extra"] = extra  # launch first; terminate on the next step, once they are warm
            rec.wake.append(0.5)
            refreshes.put(r["InstanceRefreshId"], r)
            return
        batch = min(len(remaining), max(1, healthy - min_healthy))
        if len(remaining) <= g.get("_refresh_extra", 0):
            g["_refresh_extra"] = max(0, len(remaining) - batch)
    else:
        batch = min(len(remaining), max(1, healthy - min_healthy))
    protected = prefs.get("ScaleInProtectedInstances", "Ignore")
    candidates = [members[iid] for iid in remaining]
    if protected == "Ignore":
        candidates = [m for m in candidates if not m.get("ProtectedFromScaleIn")] or []
    candidates.sort(key=lambda m: (m["HealthStatus"] == "Healthy", m.get("_launched", 0)))
    for m in candidates[:batch]:
        rec.begin_terminate(m, f"At {activities.iso(now)} an instance was taken out of service in response to an "
                               f"instance refresh.  At {activities.iso(now)} instance {m['InstanceId']} was selected "
                               f"for termination.")
    if not candidates:
        r["_targets"] = [iid for iid in r["_targets"] if iid not in remaining]  # only protected ones are left
    rec.wake.append(1.0)
    refreshes.put(r["InstanceRefreshId"], r)


def _apply_config(g: dict, config: dict | None) -> None:
    if not config:
        return
    if config.get("LaunchTemplate"):
        g["LaunchTemplate"] = config["LaunchTemplate"]
        g.pop("LaunchConfigurationName", None)
        g.pop("MixedInstancesPolicy", None)
    if config.get("MixedInstancesPolicy"):
        g["MixedInstancesPolicy"] = config["MixedInstancesPolicy"]
        g.pop("LaunchTemplate", None)
        g.pop("LaunchConfigurationName", None)


def _end(rec, r: dict, status: str, reason: str, event: str) -> None:
    r["Status"] = status
    r["StatusReason"] = reason
    r["EndTime"] = rec.now
    if status in ("Successful", "RollbackSuccessful"):
        r["PercentageComplete"] = 100
        r["InstancesToUpdate"] = 0
        r["ProgressDetails"] = {"LivePoolProgress": {"PercentageComplete": 100, "InstancesToUpdate": 0}}
    rec.kumo.store.table(rec.scope, REFRESH).put(r["InstanceRefreshId"], r)
    _event(rec, r, event)


def _fail(rec, r: dict, reason: str) -> None:
    if r["Preferences"].get("AutoRollback") and r["Status"] == "InProgress" and r.get("_previous"):
        _start_rollback(rec.kumo, rec.scope, rec.group, r, reason)
        _event(rec, r, "EC2 Auto Scaling Instance Refresh Rollback Started")
        return
    rec.group.pop("_refresh_extra", None)
    failed = "RollbackFailed" if r["Status"] == "RollbackInProgress" else "Failed"
    _end(rec, r, failed, reason, "EC2 Auto Scaling Instance Refresh Rollback Failed" if failed == "RollbackFailed"
         else "EC2 Auto Scaling Instance Refresh Failed")


def _event(rec, r: dict, detail_type: str) -> None:
    account, region = split_scope(rec.scope)
    detail = {"InstanceRefreshId": r["InstanceRefreshId"], "AutoScalingGroupName": r["AutoScalingGroupName"]}
    if "Checkpoint" in detail_type:
        detail["CheckpointPercentage"] = r["_checkpoints_done"][-1]
        detail["CheckpointDelay"] = r["Preferences"].get("CheckpointDelay", DEFAULT_CHECKPOINT_DELAY)
    rec.kumo.events.publish(account, region, "aws.autoscaling", detail_type, detail,
                            resources=[rec.group["AutoScalingGroupARN"]])


def _start_rollback(kumo, scope: str, g: dict, r: dict, reason: str) -> None:
    members = g["_instances"]
    r["Status"] = "RollbackInProgress"
    r["StatusReason"] = reason
    r["RollbackDetails"] = {"RollbackReason": reason, "RollbackStartTime": kumo.clock.now(),
                            "PercentageCompleteOnRollback": r.get("PercentageComplete", 0),
                            "InstancesToUpdateOnRollback": r.get("InstancesToUpdate", 0)}
    new = [iid for iid, m in members.items() if iid not in r["_targets"] and m["LifecycleState"] in COUNTED]
    r["_targets"] = new
    r["_total"] = len(new)
    r["_config"] = r["_previous"]
    r["_checkpoints_done"] = []
    r.pop("_paused_until", None)
    r["_launch_failures"] = 0
    g.pop("_refresh_extra", None)


# -- the API ----------------------------------------------------------------------------------------------
def _check_preferences(prefs: dict) -> dict:
    out = dict(prefs or {})
    lo = out.get("MinHealthyPercentage")
    hi = out.get("MaxHealthyPercentage")
    lo = DEFAULT_MIN_HEALTHY if lo is None else lo
    hi = DEFAULT_MAX_HEALTHY if hi is None else hi
    if not 0 <= lo <= 100:
        raise invalid(f"MinHealthyPercentage must be between 0 and 100. Provided value: {lo}")
    if not 100 <= hi <= 200:
        raise invalid(f"MaxHealthyPercentage must be between 100 and 200. Provided value: {hi}")
    if hi - lo > 100:
        raise invalid("The difference between MaxHealthyPercentage and MinHealthyPercentage cannot be greater than "
                      "100.")
    if lo == 100 and hi == 100:
        raise invalid("MinHealthyPercentage and MaxHealthyPercentage cannot both be 100: the refresh could never "
                      "replace an instance.")
    cps = out.get("CheckpointPercentages") or []
    if cps and (sorted(set(cps)) != list(cps) or any(not 1 <= c <= 100 for c in cps)):
        raise invalid("CheckpointPercentages must be unique values between 1 and 100 in ascending order.")
    out["MinHealthyPercentage"], out["MaxHealthyPercentage"] = lo, hi
    out.setdefault("SkipMatching", False)
    out.setdefault("AutoRollback", False)
    out.setdefault("ScaleInProtectedInstances", "Ignore")
    out.setdefault("StandbyInstances", "Ignore")
    if cps:
        out.setdefault("CheckpointDelay", DEFAULT_CHECKPOINT_DELAY)
    return out


def start_instance_refresh(ctx, p):
    g = find_group(ctx, p["AutoScalingGroupName"])
    name = g["AutoScalingGroupName"]
    if current(ctx.kumo, ctx.scope, name) is not None:
        raise AwsError("InstanceRefreshInProgress", "An Instance Refresh is already in progress and blocks the "
                                                    "execution of this Instance Refresh.")
    strategy = p.get("Strategy") or "Rolling"
    if strategy != "Rolling":
        raise invalid(f"Strategy {strategy} is not supported; kumo implements the Rolling strategy.")
    prefs = _check_preferences(p.get("Preferences"))
    if prefs.get("InstanceWarmup") is None:
        prefs["InstanceWarmup"] = g.get("DefaultInstanceWarmup") if g.get("DefaultInstanceWarmup") is not None \
            else g.get("HealthCheckGracePeriod", 0)
    desired_config = p.get("DesiredConfiguration") or None
    if desired_config:
        spec = desired_config.get("LaunchTemplate") or ((desired_config.get("MixedInstancesPolicy") or {}).get(
            "LaunchTemplate") or {}).get("LaunchTemplateSpecification")
        if spec:
            try:
                _resolve(ctx, spec)
            except AwsError as exc:
                raise invalid(f"You must use a valid fully-formed launch template. {exc.message}")
    elif prefs["SkipMatching"] and not g.get("LaunchTemplate") and not g.get("MixedInstancesPolicy"):
        raise invalid("SkipMatching requires the group or the desired configuration to use a launch template.")
    if prefs["AutoRollback"] and not desired_config:
        raise invalid("AutoRollback requires a DesiredConfiguration to roll back from.")

    counted = [m for m in g["_instances"].values() if m["LifecycleState"] in COUNTED]
    targets = [m["InstanceId"] for m in counted if not (prefs["SkipMatching"] and _matches(ctx, g, m, desired_config))]
    previous = None
    if desired_config:
        previous = {k: copy.deepcopy(g[k]) for k in ("LaunchTemplate", "MixedInstancesPolicy") if g.get(k)}
    r = {
        "InstanceRefreshId": new_uuid(),
        "AutoScalingGroupName": name,
        "Status": "Pending",
        "StatusReason": "Waiting for the instance refresh to start.",
        "StartTime": ctx.now(),
        "PercentageComplete": 0,
        "InstancesToUpdate": len(targets),
        "Preferences": prefs,
        "Strategy": strategy,
        "ProgressDetails": {"LivePoolProgress": {"PercentageComplete": 0, "InstancesToUpdate": len(targets)}},
        "_targets": targets,
        "_total": len(targets),
        "_checkpoints_done": [],
        "_config": desired_config,
        "_previous": previous,
    }
    if desired_config:
        r["DesiredConfiguration"] = desired_config
    table(ctx, REFRESH).put(r["InstanceRefreshId"], r)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, name))
    return {"InstanceRefreshId": r["InstanceRefreshId"]}


def _view(r: dict) -> dict:
    out = {k: v for k, v in r.items() if not k.startswith("_")}
    if out.get("Status") in ACTIVE and out.get("Status") != "Pending":
        out.pop("EndTime", None)
    return out


def describe_instance_refreshes(ctx, p):
    from .model import page

    g = find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
    ids = set(p.get("InstanceRefreshIds") or [])
    items = [r for r in table(ctx, REFRESH).values() if r["AutoScalingGroupName"] == g["AutoScalingGroupName"]
             and (not ids or r["InstanceRefreshId"] in ids)]
    items.sort(key=lambda r: r["StartTime"], reverse=True)
    result = page([_view(r) for r in items], p, lambda r: r["InstanceRefreshId"], "InstanceRefreshes",
                  f"refresh/{ctx.scope}/{g['AutoScalingGroupName']}")
    return result


def cancel_instance_refresh(ctx, p):
    g = find_group(ctx, p["AutoScalingGroupName"])
    r = current(ctx.kumo, ctx.scope, g["AutoScalingGroupName"])
    if r is None or r["Status"] == "Cancelling":
        raise AwsError("ActiveInstanceRefreshNotFound", f"No in progress or pending Instance Refresh found for Auto "
                                                        f"Scaling group {g['AutoScalingGroupName']}")
    r["Status"] = "Cancelling"
    r["StatusReason"] = "Cancelling the instance refresh."
    table(ctx, REFRESH).put(r["InstanceRefreshId"], r)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, g["AutoScalingGroupName"]))
    return {"InstanceRefreshId": r["InstanceRefreshId"]}


def rollback_instance_refresh(ctx, p):
    g = find_group(ctx, p["AutoScalingGroupName"])
    r = current(ctx.kumo, ctx.scope, g["AutoScalingGroupName"])
    if r is None or r["Status"] not in ("Pending", "InProgress", "Baking"):
        raise AwsError("ActiveInstanceRefreshNotFound", f"No in progress or pending Instance Refresh found for Auto "
                                                        f"Scaling group {g['AutoScalingGroupName']}")
    if not r.get("_previous"):
        raise AwsError("IrreversibleInstanceRefresh", "The instance refresh cannot be rolled back: it was started "
                                                      "without a DesiredConfiguration.")
    _start_rollback(ctx.kumo, ctx.scope, g, r, "Rollback requested by user.")
    table(ctx, REFRESH).put(r["InstanceRefreshId"], r)
    table(ctx, GROUP).put(g["AutoScalingGroupName"], g)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, g["AutoScalingGroupName"]))
    account, region = split_scope(ctx.scope)
    ctx.kumo.events.publish(account, region, "aws.autoscaling", "EC2 Auto Scaling Instance Refresh Rollback Started",
                            {"InstanceRefreshId": r["InstanceRefreshId"],
                             "AutoScalingGroupName": g["AutoScalingGroupName"]},
                            resources=[g["AutoScalingGroupARN"]])
    return {"InstanceRefreshId": r["InstanceRefreshId"]}


def delete_for_group(kumo, scope: str, group_name: str) -> None:
    t = kumo.store.table(scope, REFRESH)
    for key, r in t.items():
        if r["AutoScalingGroupName"] == group_name and r["Status"] in ACTIVE:
            r["Status"] = "Cancelled"
            r["StatusReason"] = "The Auto Scaling group was deleted."
            r["EndTime"] = kumo.clock.now()
            t.put(key, r)
