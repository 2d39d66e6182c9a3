"""Auto Scaling's records, names and the rules every operation shares.

A group's record holds its members (``_instances``: instance id -> member),
so one write changes a group and its instances together.  Members carry the
lifecycle state AWS shows (Pending, Pending:Wait, InService, Terminating ...)
plus kumo's bookkeeping (when they came into service, the activity that
launched them, why they are leaving).
"""

from __future__ import annotations

import uuid

from ...aws.errors import AwsError
from ...core.arns import arn as make_arn

GROUP = "autoscaling.group"
LAUNCH_CONFIG = "autoscaling.launch-config"
POLICY = "autoscaling.policy"
SCHEDULED = "autoscaling.scheduled-action"
HOOK = "autoscaling.lifecycle-hook"
ACTIVITY = "autoscaling.activity"
REFRESH = "autoscaling.instance-refresh"
NOTIFICATION = "autoscaling.notification"

CONTROLLER = "autoscaling.groups"
SCHEDULER = "autoscaling.schedules"

PROCESSES = ("Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance", "HealthCheck",
             "InstanceRefresh", "ReplaceUnhealthy", "ScheduledActions")
TERMINATION_POLICIES = ("Default", "AllocationStrategy", "OldestLaunchTemplate", "OldestLaunchConfiguration",
                        "ClosestToNextInstanceHour", "NewestInstance", "OldestInstance")
GROUP_METRICS = ("GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
                 "GroupPendingInstances", "GroupStandbyInstances", "GroupTerminatingInstances",
                 "GroupTotalInstances", "GroupInServiceCapacity", "GroupPendingCapacity", "GroupStandbyCapacity",
                 "GroupTerminatingCapacity", "GroupTotalCapacity", "WarmPoolDesiredCapacity",
                 "WarmPoolWarmedCapacity", "WarmPoolPendingCapacity", "WarmPoolTerminatingCapacity",
                 "WarmPoolTotalCapacity", "GroupAndWarmPoolDesiredCapacity", "GroupAndWarmPoolTotalCapacity")

# Members in these states count toward desired capacity; Standby and the way out do not.
COUNTED = ("Pending", "Pending:Wait", "Pending:Proceed", "InService")
LEAVING = ("Terminating", "Terminating:Wait", "Terminating:Proceed", "Terminated", "Detaching")

DEFAULT_COOLDOWN = 300
MAX_GROUPS = 500  # DescribeAccountLimits
MAX_LAUNCH_CONFIGS = 200
MAX_HOOKS = 50  # per group
MAX_SCHEDULED = 125  # per group
MAX_POLICIES = 50  # per group
MAX_TARGET_GROUPS = 50  # per group
MAX_LOAD_BALANCERS = 50  # classic, per group

def invalid(message: str) -> AwsError:
    return AwsError("ValidationError", message)


def table(ctx, kind: str):
    return ctx.store.table(ctx.scope, kind)


def new_uuid() -> str:
    return str(uuid.uuid4())


def group_arn(region: str, account: str, name: str) -> str:
    return make_arn("autoscaling", region, account, f"autoScalingGroup:{new_uuid()}:autoScalingGroupName/{name}")


def policy_arn(region: str, account: str, group: str, name: str) -> str:
    return make_arn("autoscaling", region, account,
                    f"scalingPolicy:{new_uuid()}:autoScalingGroupName/{group}:policyName/{name}")


def launch_config_arn(region: str, account: str, name: str) -> str:
    return make_arn("autoscaling", region, account,
                    f"launchConfiguration:{new_uuid()}:launchConfigurationName/{name}")


def scheduled_arn(region: str, account: str, group: str, name: str) -> str:
    return make_arn("autoscaling", region, account,
                    f"scheduledUpdateGroupAction:{new_uuid()}:autoScalingGroupName/{group}:"
                    f"scheduledActionName/{name}")


def not_found(name: str) -> AwsError:
    return invalid(f"AutoScalingGroup name not found - AutoScalingGroup {name} not found")


def owned_key(group: str, name: str) -> str:
    """Store key of what a group owns by name: a hook, policy, scheduled action or notification topic."""
    return f"{group}\x00{name}"


def delete_owned(kumo, scope: str, kind: str, group_name: str) -> list[dict]:
    """Delete every ``kind`` record the group owns; returns them."""
    t = kumo.store.table(scope, kind)
    gone = []
    for key, item in t.items():
        if item["AutoScalingGroupName"] == group_name:
            t.delete(key)
            gone.append(item)
    return gone


def find_group(ctx, name: str, *, deleting_ok: bool = False) -> dict:
    """The group named ``name`` (or by its ARN), refusing one being deleted unless asked."""
    groups = table(ctx, GROUP)
    group = groups.get(name)
    if group is None and name and name.startswith("arn:"):
        group = next((g for g in groups.values() if g["AutoScalingGroupARN"] == name), None)
    if group is None:
        raise not_found(name)
    if group.get("Status") and not deleting_ok:
        raise AwsError("ScalingActivityInProgress", f"AutoScalingGroup {name} is pending delete.")
    return group


def save_group(ctx_or_kumo, scope: str, group: dict) -> None:
    store = ctx_or_kumo.store
    store.table(scope, GROUP).put(group["AutoScalingGroupName"], group)


def members(group: dict) -> list[dict]:
    return list(group["_instances"].values())


def weight(member: dict) -> int:
    return int(member.get("WeightedCapacity") or 1)


def capacity(group: dict, states=COUNTED) -> int:
    """Capacity units of members in ``states`` (instance weights count, as with MixedInstancesPolicy)."""
    return sum(weight(m) for m in group["_instances"].values() if m["LifecycleState"] in states)


def suspended(group: dict, process: str) -> bool:
    return any(p["ProcessName"] == process for p in group.get("SuspendedProcesses", []))


def split_scope(scope: str) -> tuple[str, str]:
    account, _, region = scope.partition("/")
    return account, region


def template_of(group: dict) -> dict | None:
    """The launch template specification a group launches from (directly or through a mixed policy)."""
    if group.get("LaunchTemplate"):
        return group["LaunchTemplate"]
    mixed = group.get("MixedInstancesPolicy")
    if mixed:
        return mixed["LaunchTemplate"]["LaunchTemplateSpecification"]
    return None


def max_records(p: dict, maximum: int = 100) -> int | None:
    """MaxRecords as given, refused as AWS refuses it outside 1..maximum (the model sets no bounds)."""
    limit = p.get("MaxRecords")
    if limit is not None and not 1 <= limit <= maximum:
        bound = "greater than or equal to 1" if limit < 1 else f"less than or equal to {maximum}"
        raise invalid(f"1 validation error detected: Value '{limit}' at 'maxRecords' failed to satisfy constraint: "
                      f"Member must have value {bound}")
    return limit


def page(items: list, p: dict, key, field: str, context: str, default: int = 50, maximum: int = 100) -> dict:
    """One page of a Describe call (MaxRecords, NextToken), refusing what AWS refuses."""
    from ...core import pagination

    limit = max_records(p, maximum)
    try:
        chunk, token = pagination.paginate(items, limit, p.get("NextToken"), key, context, default)
    except pagination.InvalidToken:
        raise AwsError("InvalidNextToken", "The token is not valid.")
    out = {field: chunk}
    if token:
        out["NextToken"] = token
    return out
