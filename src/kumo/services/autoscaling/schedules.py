"""Scheduled actions: change a group's size at a time, or on a cron recurrence in a time zone.

The scheduler is a controller keyed by action; each reconcile applies a due
action and sleeps on kumo's clock until the next firing.  A one-time action
is deleted once it has run; a recurring one ends at its EndTime.  While the
ScheduledActions process is suspended, firings that pass are skipped, as on
AWS.
"""

from __future__ import annotations

import datetime as dt

from ...core.controllers import Controller
from . import activities, recurrence
from .model import (
    CONTROLLER, GROUP, MAX_SCHEDULED, SCHEDULER, SCHEDULED, find_group, invalid, owned_key, page, scheduled_arn,
    suspended, table,
)


def _epoch(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    return float(value)


def _build(ctx, group: dict, p: dict) -> dict:
    name = p["ScheduledActionName"]
    now = ctx.now()
    start = _epoch(p.get("StartTime") or p.get("Time"))
    end = _epoch(p.get("EndTime"))
    sizes = {k: p[k] for k in ("MinSize", "MaxSize", "DesiredCapacity") if p.get(k) is not None}
    if not sizes:
        raise invalid("At least one of MinSize, MaxSize or DesiredCapacity must be specified.")
    lo = sizes.get("MinSize", group["MinSize"])
    hi = sizes.get("MaxSize", group["MaxSize"])
    if lo > hi:
        raise invalid(f"Max bound, {hi}, must be greater than or equal to min bound, {lo}")
    if "DesiredCapacity" in sizes and not lo <= sizes["DesiredCapacity"] <= hi and \
            {"MinSize", "MaxSize"} <= set(sizes):
        raise invalid(f"Desired capacity:{sizes['DesiredCapacity']} must be between the specified min size:{lo} and "
                      f"max size:{hi}")
    rule = None
    if p.get("Recurrence"):
        try:
            rule = recurrence.parse(p["Recurrence"], p.get("TimeZone"))
        except recurrence.RecurrenceError as exc:
            raise invalid(str(exc))
    elif p.get("TimeZone"):
        try:
            recurrence.zone(p["TimeZone"])
        except recurrence.RecurrenceError as exc:
            raise invalid(str(exc))
    if rule is None:
        if start is None:
            raise invalid("A scheduled action needs a StartTime (or Time) or a Recurrence.")
        if start < now:
            raise invalid("Given start time is in the past")
    if start is not None and end is not None and end <= start:
        raise invalid("Start time cannot be after end time")
    if end is not None and end < now:
        raise invalid("Given end time is in the past")
    nxt = start if rule is None else rule.next_after(max(now, (start or now) - 1e-6))
    if rule is not None and nxt is None:
        raise invalid(f"Invalid recurrence string: {p['Recurrence']} never fires")
    action = {"AutoScalingGroupName": group["AutoScalingGroupName"], "ScheduledActionName": name,
              "ScheduledActionARN": scheduled_arn(ctx.region, ctx.account, group["AutoScalingGroupName"], name),
              "_next": nxt, "_start": start}
    if rule is not None:
        action["Recurrence"] = p["Recurrence"]
    if p.get("TimeZone"):
        action["TimeZone"] = p["TimeZone"]
    if end is not None:
        action["EndTime"] = end
    action.update(sizes)
    return action


def _save(ctx, action: dict) -> None:
    key = owned_key(action["AutoScalingGroupName"], action["ScheduledActionName"])
    existing = table(ctx, SCHEDULED).get(key)
    if existing:
        action["ScheduledActionARN"] = existing["ScheduledActionARN"]
    elif sum(1 for a in table(ctx, SCHEDULED).values()
             if a["AutoScalingGroupName"] == action["AutoScalingGroupName"]) >= MAX_SCHEDULED:
        from ...aws.errors import AwsError

        raise AwsError("LimitExceeded", f"Scheduled action limit exceeded for AutoScalingGroup "
                                        f"{action['AutoScalingGroupName']}: {MAX_SCHEDULED} at most.")
    table(ctx, SCHEDULED).put(key, action)
    ctx.controllers.enqueue(SCHEDULER, (ctx.scope, key))


def put_scheduled_update_group_action(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    _save(ctx, _build(ctx, group, p))
    return {}


def batch_put_scheduled_update_group_action(ctx, p):
    from ...aws.errors import AwsError

    group = find_group(ctx, p["AutoScalingGroupName"])
    failed = []
    for item in p["ScheduledUpdateGroupActions"]:
        try:
            _save(ctx, _build(ctx, group, item))
        except AwsError as exc:
            failed.append({"ScheduledActionName": item["ScheduledActionName"], "ErrorCode": exc.code,
                           "ErrorMessage": exc.message})
    return {"FailedScheduledUpdateGroupActions": failed}


def delete_scheduled_action(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
    if not table(ctx, SCHEDULED).delete(owned_key(group["AutoScalingGroupName"], p["ScheduledActionName"])):
        raise invalid(f"Scheduled Update Group Action name not found - Could not find scheduled action "
                      f"{p['ScheduledActionName']} for AutoScalingGroup {group['AutoScalingGroupName']}")
    return {}


def batch_delete_scheduled_action(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
    failed = []
    for name in p["ScheduledActionNames"]:
        if not table(ctx, SCHEDULED).delete(owned_key(group["AutoScalingGroupName"], name)):
            failed.append({"ScheduledActionName": name, "ErrorCode": "ValidationError",
                           "ErrorMessage": f"Could not find scheduled action {name}"})
    return {"FailedScheduledActions": failed}


def view(action: dict) -> dict:
    out = {k: v for k, v in action.items() if not k.startswith("_")}
    out["StartTime"] = action["_next"]
    out["Time"] = action["_next"]
    return out


def describe_scheduled_actions(ctx, p):
    actions = table(ctx, SCHEDULED).values()
    if p.get("AutoScalingGroupName"):
        find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
        actions = [a for a in actions if a["AutoScalingGroupName"] == p["AutoScalingGroupName"]]
    names = p.get("ScheduledActionNames")
    if names:
        actions = [a for a in actions if a["ScheduledActionName"] in names]
    start, end = _epoch(p.get("StartTime")), _epoch(p.get("EndTime"))
    if start is not None:
        actions = [a for a in actions if a["_next"] >= start]
    if end is not None:
        actions = [a for a in actions if a["_next"] <= end]
    actions = sorted(actions, key=lambda a: (a["AutoScalingGroupName"], a["ScheduledActionName"]))
    return page([view(a) for a in actions], p, lambda a: f"{a['AutoScalingGroupName']}\x00{a['ScheduledActionName']}",
                "ScheduledUpdateGroupActions", f"scheduled/{ctx.scope}/{p.get('AutoScalingGroupName')}")


def apply(kumo, scope: str, group: dict, action: dict, at: float) -> None:
    lo = action.get("MinSize", group["MinSize"])
    hi = action.get("MaxSize", group["MaxSize"])
    desired = action.get("DesiredCapacity", group["DesiredCapacity"])
    desired = min(max(desired, lo), hi)
    group["MinSize"], group["MaxSize"] = lo, hi
    from .groups import set_desired

    set_desired(kumo, scope, group, desired, "a scheduled action " + activities.constraints(lo, hi, desired))
    kumo.store.table(scope, GROUP).put(group["AutoScalingGroupName"], group)
    kumo.controllers.enqueue(CONTROLLER, (scope, group["AutoScalingGroupName"]))


class Scheduler(Controller):
    name = SCHEDULER
    resync_interval = 300.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        for scope, key, _ in self.kumo.store.all(SCHEDULED):
            yield (scope, key)

    async def reconcile(self, key):
        scope, action_key = key
        store = self.kumo.store
        with store.transaction():
            actions = store.table(scope, SCHEDULED)
            action = actions.get(action_key)
            if action is None:
                return None
            now = self.kumo.clock.now()
            if now < action["_next"]:
                return action["_next"] - now
            group = store.table(scope, GROUP).get(action["AutoScalingGroupName"])
            if group is None:
                actions.delete(action_key)
                return None
            if not group.get("Status") and not suspended(group, "ScheduledActions"):
                apply(self.kumo, scope, group, action, now)
            if not action.get("Recurrence"):
                actions.delete(action_key)
                return None
            rule = recurrence.parse(action["Recurrence"], action.get("TimeZone"))
            nxt = rule.next_after(now)
            if nxt is None or (action.get("EndTime") is not None and nxt > action["EndTime"]):
                actions.delete(action_key)
                return None
            action["_next"] = nxt
            actions.put(action_key, action)
            return nxt - now
