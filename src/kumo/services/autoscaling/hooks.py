"""Lifecycle hooks: instances wait in Pending:Wait or Terminating:Wait until told, or until the timeout.

Entering a wait sends each hook's notification (SQS or SNS, AWS's message)
and an EventBridge event.  The wait ends when every hook has a result:
CompleteLifecycleAction gives one, and a hook whose heartbeat timeout (or
global timeout) passes takes its DefaultResult.  ABANDON from any hook ends
the wait at once.
"""

from __future__ import annotations

from ...aws.errors import AwsError
from .model import (
    CONTROLLER, GROUP, HOOK, delete_owned, find_group, invalid, new_uuid, owned_key, split_scope, table,
)
from .notify import exists, iso_ms, send

TRANSITIONS = ("autoscaling:EC2_INSTANCE_LAUNCHING", "autoscaling:EC2_INSTANCE_TERMINATING")
DEFAULT_HEARTBEAT = 3600
MAX_GLOBAL = 172800  # 48 hours, or 100 heartbeats if less


def hooks_of(kumo, scope: str, group_name: str, transition: str | None = None) -> list[dict]:
    return sorted((h for h in kumo.store.table(scope, HOOK).values() if h["AutoScalingGroupName"] == group_name
                   and (transition is None or h["LifecycleTransition"] == transition)),
                  key=lambda h: h["LifecycleHookName"])


def global_timeout(heartbeat: int) -> int:
    return min(100 * heartbeat, MAX_GLOBAL)


# -- the wait (called by the group controller) --------------------------------------------------------
def enter(rec, m: dict, transition: str) -> bool:
    """Start the wait of ``transition`` for member ``m``; False when the group has no such hook."""
    hooks = hooks_of(rec.kumo, rec.scope, rec.group["AutoScalingGroupName"], transition)
    if not hooks:
        return False
    now = rec.now
    token = new_uuid()
    m["LifecycleState"] = "Pending:Wait" if transition.endswith("LAUNCHING") else "Terminating:Wait"
    m["_wait"] = {"transition": transition, "token": token, "results": {},
                  "hooks": {h["LifecycleHookName"]: {"deadline": now + h["HeartbeatTimeout"],
                                                     "global": now + h["GlobalTimeout"],
                                                     "default": h["DefaultResult"]} for h in hooks}}
    if transition.endswith("LAUNCHING"):
        from . import activities

        activities.update(rec.kumo, rec.scope, m.get("_activity"), StatusCode="MidLifecycleAction", Progress=40)
    account, region = split_scope(rec.scope)
    g = rec.group
    for h in hooks:
        launching = transition.endswith("LAUNCHING")
        detail = {"LifecycleActionToken": token, "AutoScalingGroupName": g["AutoScalingGroupName"],
                  "LifecycleHookName": h["LifecycleHookName"], "EC2InstanceId": m["InstanceId"],
                  "LifecycleTransition": transition,
                  "Origin": "EC2" if launching else "AutoScalingGroup",
                  "Destination": "AutoScalingGroup" if launching else "EC2"}
        if h.get("NotificationMetadata"):
            detail["NotificationMetadata"] = h["NotificationMetadata"]
        rec.kumo.events.publish(account, region, "aws.autoscaling",
                                "EC2 Instance-launch Lifecycle Action" if launching
                                else "EC2 Instance-terminate Lifecycle Action", detail,
                                resources=[g["AutoScalingGroupARN"]])
        if h.get("NotificationTargetARN"):
            message = {"Origin": detail["Origin"], "LifecycleHookName": h["LifecycleHookName"],
                       "Destination": detail["Destination"], "AccountId": account, "RequestId": new_uuid(),
                       "LifecycleTransition": transition, "AutoScalingGroupName": g["AutoScalingGroupName"],
                       "Service": "AWS Auto Scaling", "Time": iso_ms(now), "EC2InstanceId": m["InstanceId"],
                       "LifecycleActionToken": token}
            if h.get("NotificationMetadata"):
                message["NotificationMetadata"] = h["NotificationMetadata"]
            send(rec.kumo, h["NotificationTargetARN"], message,
                 subject=f"Auto Scaling:  Lifecycle action '{transition.split('_')[-1]}' for instance "
                         f"{m['InstanceId']} in progress.")
    rec.wake.append(min(x["deadline"] for x in m["_wait"]["hooks"].values()) - now)
    return True


def poll(rec, m: dict) -> str | None:
    """The wait's result once decided (CONTINUE or ABANDON), else None (and when to look again)."""
    wait = m.get("_wait")
    if wait is None:
        return "CONTINUE"
    results = wait["results"]
    for name, h in wait["hooks"].items():
        if name in results:
            continue
        if rec.now >= min(h["deadline"], h["global"]):
            results[name] = h["default"]
    if "ABANDON" in results.values():
        return "ABANDON"
    if len(results) == len(wait["hooks"]):
        return "CONTINUE"
    pending = [min(h["deadline"], h["global"]) for n, h in wait["hooks"].items() if n not in results]
    rec.wake.append(max(0.5, min(pending) - rec.now))
    return None


# -- the API ------------------------------------------------------------------------------------------
def _check_target(ctx, p: dict, existing: dict | None) -> None:
    target = p.get("NotificationTargetARN")
    if not target:
        return
    if not p.get("RoleARN") and not (existing or {}).get("RoleARN"):
        raise invalid("RoleARN is required when NotificationTargetARN is specified for a new lifecycle hook.")
    if not exists(ctx.kumo, target):
        raise invalid(f"Unable to publish test message to notification target {target} using IAM role "
                      f"{p.get('RoleARN') or existing.get('RoleARN')}. Please check your target and role configuration "
                      f"and try to put lifecycle hook again.")


def put(ctx, group: dict, p: dict) -> dict:
    name = p["LifecycleHookName"]
    hooks = table(ctx, HOOK)
    key = owned_key(group["AutoScalingGroupName"], name)
    existing = hooks.get(key)
    transition = p.get("LifecycleTransition") or (existing or {}).get("LifecycleTransition")
    if transition not in TRANSITIONS:
        raise invalid(f"Invalid Lifecycle Transition: {transition}" if transition else
                      "LifecycleTransition must be specified for a new lifecycle hook.")
    if existing is None and len(hooks_of(ctx.kumo, ctx.scope, group["AutoScalingGroupName"])) >= 50:
        raise AwsError("LimitExceeded", f"Lifecycle hook limit exceeded for AutoScalingGroup "
                                        f"{group['AutoScalingGroupName']}: 50 hooks at most.")
    heartbeat = p.get("HeartbeatTimeout") or (existing or {}).get("HeartbeatTimeout") or DEFAULT_HEARTBEAT
    if not 30 <= heartbeat <= 7200:
        raise invalid(f"Heartbeat timeout must be between 30 and 7200 seconds. Provided value: {heartbeat}")
    result = p.get("DefaultResult") or (existing or {}).get("DefaultResult") or "ABANDON"
    if result not in ("CONTINUE", "ABANDON"):
        raise invalid(f"Invalid default result: {result}. Valid values are CONTINUE and ABANDON.")
    _check_target(ctx, p, existing)
    hook = {"LifecycleHookName": name, "AutoScalingGroupName": group["AutoScalingGroupName"],
            "LifecycleTransition": transition, "HeartbeatTimeout": heartbeat,
            "GlobalTimeout": global_timeout(heartbeat), "DefaultResult": result}
    for field in ("NotificationTargetARN", "RoleARN", "NotificationMetadata"):
        value = p.get(field) if p.get(field) is not None else (existing or {}).get(field)
        if value:
            hook[field] = value
    hooks.put(key, hook)
    if p.get("NotificationTargetARN"):
        account, _ = split_scope(ctx.scope)
        send(ctx.kumo, p["NotificationTargetARN"], {
            "AccountId": account, "RequestId": ctx.request_id, "AutoScalingGroupARN": group["AutoScalingGroupARN"],
            "AutoScalingGroupName": group["AutoScalingGroupName"], "Service": "AWS Auto Scaling",
            "Event": "autoscaling:TEST_NOTIFICATION", "Time": iso_ms(ctx.now())})
    return hook


def put_lifecycle_hook(ctx, p):
    put(ctx, find_group(ctx, p["AutoScalingGroupName"]), p)
    return {}


def delete_lifecycle_hook(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    key = owned_key(group["AutoScalingGroupName"], p["LifecycleHookName"])
    if not table(ctx, HOOK).delete(key):
        raise invalid(f"No Lifecycle Hook found for AutoScalingGroup {group['AutoScalingGroupName']} with name "
                      f"{p['LifecycleHookName']}")
    return {}


def describe_lifecycle_hooks(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
    hooks = hooks_of(ctx.kumo, ctx.scope, group["AutoScalingGroupName"])
    names = p.get("LifecycleHookNames")
    if names:
        hooks = [h for h in hooks if h["LifecycleHookName"] in names]
    return {"LifecycleHooks": hooks}


def describe_lifecycle_hook_types(ctx, p):
    return {"LifecycleHookTypes": list(TRANSITIONS)}


def _waiting(ctx, p: dict) -> tuple[dict, dict, str]:
    group = find_group(ctx, p["AutoScalingGroupName"])
    hook_name = p["LifecycleHookName"]
    if owned_key(group["AutoScalingGroupName"], hook_name) not in table(ctx, HOOK):
        raise invalid(f"No Lifecycle Hook found for AutoScalingGroup {group['AutoScalingGroupName']} with name "
                      f"{hook_name}")
    token, iid = p.get("LifecycleActionToken"), p.get("InstanceId")
    if not token and not iid:
        raise invalid("Either LifecycleActionToken or InstanceId must be specified.")
    for m in group["_instances"].values():
        wait = m.get("_wait")
        if not wait or hook_name not in wait["hooks"] or hook_name in wait["results"]:
            continue
        if (token and wait["token"] == token) or (not token and m["InstanceId"] == iid):
            if iid and m["InstanceId"] != iid:
                break
            return group, m, hook_name
    if token:
        raise invalid(f"No active Lifecycle Action found with token {token}")
    raise invalid(f"No active Lifecycle Action found with instance ID {iid}")


def complete_lifecycle_action(ctx, p):
    result = p["LifecycleActionResult"]
    if result not in ("CONTINUE", "ABANDON"):
        raise invalid(f"Invalid Lifecycle Action Result: {result}. Valid values are CONTINUE and ABANDON.")
    group, m, hook_name = _waiting(ctx, p)
    m["_wait"]["results"][hook_name] = result
    table(ctx, GROUP).put(group["AutoScalingGroupName"], group)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, group["AutoScalingGroupName"]))
    return {}


def record_lifecycle_action_heartbeat(ctx, p):
    group, m, hook_name = _waiting(ctx, p)
    h = m["_wait"]["hooks"][hook_name]
    hook = table(ctx, HOOK).get(owned_key(group["AutoScalingGroupName"], hook_name))
    h["deadline"] = min(ctx.now() + hook["HeartbeatTimeout"], h["global"])
    table(ctx, GROUP).put(group["AutoScalingGroupName"], group)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, group["AutoScalingGroupName"]))
    return {}


def delete_for_group(kumo, scope: str, group_name: str) -> None:
    delete_owned(kumo, scope, HOOK, group_name)
