"""Scaling activities: the history DescribeScalingActivities shows, in AWS's words.

Every launch and termination is an activity whose StatusCode moves as the
instance does (PreInService, MidLifecycleAction, WaitingForELBConnectionDraining
... Successful or Failed).  When one ends, the group's notification
configurations and EventBridge hear of it, in AWS's formats.
"""

from __future__ import annotations

import itertools
import json

from ...aws.errors import AwsError
from ...core import pagination
from .model import ACTIVITY, GROUP, NOTIFICATION, max_records, new_uuid, split_scope
from .notify import iso, send

RETENTION = 6 * 7 * 86400  # AWS keeps six weeks of activities
_seq = itertools.count()



# Cause fragments, as AWS words them.
def capacity_cause(at: float, before: int, after: int) -> str:
    if after >= before:
        return (f"At {iso(at)} an instance was started in response to a difference between desired and actual "
                f"capacity, increasing the capacity from {before} to {after}.")
    return (f"At {iso(at)} an instance was taken out of service in response to a difference between desired and "
            f"actual capacity, shrinking the capacity from {before} to {after}.")


def desired_cause(at: float, what: str, before: int, after: int) -> str:
    """``what`` changed the desired capacity: 'a user request explicitly set group desired capacity' ..."""
    return f"At {iso(at)} {what} changing the desired capacity from {before} to {after}."


def constraints(min_size, max_size, desired) -> str:
    return f"update of AutoScalingGroup constraints to min: {min_size}, max: {max_size}, desired: {desired}"


def selected(at: float, instance_id: str) -> str:
    return f"At {iso(at)} instance {instance_id} was selected for termination."


def _table(kumo, scope: str):
    return kumo.store.table(scope, ACTIVITY)


def start(kumo, scope: str, group: dict, description: str, cause: str, *, status: str = "InProgress",
          details: dict | None = None, instance_id: str | None = None, kind: str | None = None,
          progress: int = 0) -> dict:
    activity = {
        "ActivityId": new_uuid(),
        "AutoScalingGroupName": group["AutoScalingGroupName"],
        "AutoScalingGroupARN": group["AutoScalingGroupARN"],
        "Description": description,
        "Cause": cause,
        "StartTime": kumo.clock.now(),
        "StatusCode": status,
        "Progress": progress,
        "Details": json.dumps(details or {}, separators=(",", ":")),
        "_seq": next(_seq),
        "_instance": instance_id,
        "_kind": kind,
        "_group_created": group["CreatedTime"],
    }
    _table(kumo, scope).put(activity["ActivityId"], activity)
    return activity


def get(kumo, scope: str, activity_id: str | None) -> dict | None:
    return _table(kumo, scope).get(activity_id) if activity_id else None


def update(kumo, scope: str, activity_id: str | None, **fields) -> None:
    activity = get(kumo, scope, activity_id)
    if activity is None or activity.get("EndTime"):
        return
    activity.update(fields)
    _table(kumo, scope).put(activity_id, activity)


def finish(kumo, scope: str, activity_id: str | None, status: str = "Successful", message: str | None = None,
           cause_suffix: str | None = None) -> None:
    activity = get(kumo, scope, activity_id)
    if activity is None or activity.get("EndTime"):
        return
    activity["StatusCode"] = status
    activity["Progress"] = 100
    activity["EndTime"] = kumo.clock.now()
    if message:
        activity["StatusMessage"] = message
    if cause_suffix:
        activity["Cause"] = f"{activity['Cause']}  {cause_suffix}"
    _table(kumo, scope).put(activity_id, activity)
    if activity.get("_kind") in ("launch", "terminate") and (activity.get("_instance") or status == "Failed"):
        _announce(kumo, scope, activity)


def _announce(kumo, scope: str, activity: dict) -> None:
    """EventBridge and notification configurations hear of a finished launch or termination."""
    account, region = split_scope(scope)
    ok = activity["StatusCode"] == "Successful"
    launch = activity["_kind"] == "launch"
    detail_type = {(True, True): "EC2 Instance Launch Successful", (True, False): "EC2 Instance Launch Unsuccessful",
                   (False, True): "EC2 Instance Terminate Successful",
                   (False, False): "EC2 Instance Terminate Unsuccessful"}[(launch, ok)]
    detail = {
        "Origin": "EC2" if launch else "AutoScalingGroup",
        "Destination": "AutoScalingGroup" if launch else "EC2",
        "StatusCode": activity["StatusCode"],
        "Description": activity["Description"],
        "AutoScalingGroupName": activity["AutoScalingGroupName"],
        "ActivityId": activity["ActivityId"],
        "Details": json.loads(activity["Details"] or "{}"),
        "RequestId": activity["ActivityId"],
        "StatusMessage": activity.get("StatusMessage", ""),
        "EndTime": iso(activity["EndTime"]),
        "EC2InstanceId": activity.get("_instance") or "",
        "StartTime": iso(activity["StartTime"]),
        "Cause": activity["Cause"],
    }
    resources = [activity["AutoScalingGroupARN"]]
    if activity.get("_instance"):
        resources.append(f"arn:aws:ec2:{region}:{account}:instance/{activity['_instance']}")
    kumo.events.publish(account, region, "aws.autoscaling", detail_type, detail, resources=resources)
    event = {(True, True): "autoscaling:EC2_INSTANCE_LAUNCH", (True, False): "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
             (False, True): "autoscaling:EC2_INSTANCE_TERMINATE",
             (False, False): "autoscaling:EC2_INSTANCE_TERMINATE_ERROR"}[(launch, ok)]
    word = {(True, True): "launch", (True, False): "launch error", (False, True): "termination",
            (False, False): "termination error"}[(launch, ok)]
    for config in kumo.store.table(scope, NOTIFICATION).values():
        if config["AutoScalingGroupName"] != activity["AutoScalingGroupName"] or event not in config["Types"]:
            continue
        message = {"Origin": detail["Origin"], "Destination": detail["Destination"], "Progress": 50,
                   "AccountId": account, "Description": activity["Description"],
                   "RequestId": activity["ActivityId"], "EndTime": iso(activity["EndTime"]),
                   "AutoScalingGroupARN": activity["AutoScalingGroupARN"], "ActivityId": activity["ActivityId"],
                   "StartTime": iso(activity["StartTime"]), "Service": "AWS Auto Scaling",
                   "Time": iso(kumo.clock.now()), "EC2InstanceId": activity.get("_instance") or "",
                   "StatusCode": activity["StatusCode"], "StatusMessage": activity.get("StatusMessage", ""),
                   "Details": detail["Details"], "AutoScalingGroupName": activity["AutoScalingGroupName"],
                   "Cause": activity["Cause"], "Event": event}
        send(kumo, config["TopicARN"], message,
             subject=f'Auto Scaling: {word} for group "{activity["AutoScalingGroupName"]}"')


def prune(kumo, scope: str) -> None:
    cutoff = kumo.clock.now() - RETENTION
    t = _table(kumo, scope)
    for key, activity in t.items():
        if activity.get("EndTime") and activity["EndTime"] < cutoff:
            t.delete(key)


def view(activity: dict) -> dict:
    out = {k: v for k, v in activity.items() if not k.startswith("_")}
    out.setdefault("StatusMessage", None)
    if out["StatusMessage"] is None:
        del out["StatusMessage"]
    return out


def describe_scaling_activities(ctx, p):
    groups = ctx.store.table(ctx.scope, GROUP)
    name = p.get("AutoScalingGroupName")
    live = {g["AutoScalingGroupName"]: g["CreatedTime"] for g in groups.values()}
    wanted_ids = set(p.get("ActivityIds") or [])
    found = []
    for activity in _table(ctx.kumo, ctx.scope).values():
        if wanted_ids and activity["ActivityId"] not in wanted_ids:
            continue
        group_name = activity["AutoScalingGroupName"]
        if name and group_name != name:
            continue
        deleted = live.get(group_name) != activity.get("_group_created")
        if deleted and not p.get("IncludeDeletedGroups") and not wanted_ids:
            continue
        item = view(activity)
        if deleted:
            item["AutoScalingGroupState"] = "Deleted"
        found.append((activity["StartTime"], activity["_seq"], item))
    found.sort(key=lambda x: (x[0], x[1]), reverse=True)
    limit = max_records(p) or 100
    start_at = 0
    context = f"activities/{ctx.scope}/{name}"
    if p.get("NextToken"):
        try:
            last = pagination.decode(p["NextToken"], context)
        except pagination.InvalidToken:
            raise AwsError("InvalidNextToken", "The token is not valid.")
        ids = [item["ActivityId"] for _, _, item in found]
        start_at = ids.index(last) + 1 if last in ids else len(ids)
    page = found[start_at:start_at + limit]
    out = {"Activities": [item for _, _, item in page]}
    if start_at + limit < len(found):
        out["NextToken"] = pagination.encode(page[-1][2]["ActivityId"], context)
    return out
