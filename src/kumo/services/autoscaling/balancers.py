"""A group's load balancers: registering members, draining them, and reading their ELB health.

Target groups (ELBv2) and Classic Load Balancers are driven through their
own services' handlers, as the Auto Scaling service-linked role, so a member
is registered exactly as a user's RegisterTargets would register it.
"""

from __future__ import annotations

import logging

from ...aws.errors import AwsError
from .model import as_service

log = logging.getLogger("kumo.autoscaling")


def _ctx(kumo, scope: str, service: str):
    return as_service(kumo, scope, service)


def register(kumo, scope: str, group: dict, instance_id: str) -> None:
    from ..elb.instances import register_instances_with_load_balancer
    from ..elbv2.targetgroups import register_targets

    for arn in group.get("TargetGroupARNs", []):
        try:
            register_targets(_ctx(kumo, scope, "elbv2"), {"TargetGroupArn": arn, "Targets": [{"Id": instance_id}]})
        except AwsError as exc:
            log.warning("group %s: could not register %s with %s: %s", group["AutoScalingGroupName"], instance_id,
                        arn, exc.message)
    for name in group.get("LoadBalancerNames", []):
        try:
            register_instances_with_load_balancer(_ctx(kumo, scope, "elb"), {
                "LoadBalancerName": name, "Instances": [{"InstanceId": instance_id}]})
        except AwsError as exc:
            log.warning("group %s: could not register %s with %s: %s", group["AutoScalingGroupName"], instance_id,
                        name, exc.message)


def deregister(kumo, scope: str, group: dict, instance_id: str, target_groups=None, load_balancers=None) -> None:
    from ..elb.instances import deregister_instances_from_load_balancer
    from ..elbv2.targetgroups import deregister_targets

    for arn in group.get("TargetGroupARNs", []) if target_groups is None else target_groups:
        try:
            deregister_targets(_ctx(kumo, scope, "elbv2"), {"TargetGroupArn": arn, "Targets": [{"Id": instance_id}]})
        except AwsError:
            pass  # not registered (any more), or the target group is gone
    for name in group.get("LoadBalancerNames", []) if load_balancers is None else load_balancers:
        try:
            deregister_instances_from_load_balancer(_ctx(kumo, scope, "elb"), {
                "LoadBalancerName": name, "Instances": [{"InstanceId": instance_id}]})
        except AwsError:
            pass


def draining(kumo, scope: str, group: dict, instance_id: str) -> bool:
    """True while any of the group's load balancers still drains the instance."""
    from ..elb.model import LB as CLASSIC
    from ..elbv2.model import TG

    tgs = kumo.store.table(scope, TG)
    for arn in group.get("TargetGroupARNs", []):
        tg = tgs.get(arn)
        if tg and any(key.split(":")[0] == instance_id for key in tg.get("_draining", {})):
            return True
    lbs = kumo.store.table(scope, CLASSIC)
    for name in group.get("LoadBalancerNames", []):
        lb = lbs.get(name)
        if lb and instance_id in lb.get("_draining", {}):
            return True
    return False


def unhealthy(kumo, scope: str, group: dict, instance_ids: set[str]) -> dict[str, str]:
    """Instances that a load balancer of the group reports as failing its health check -> which one."""
    from ..elb.instances import instance_state
    from ..elb.model import FAILED, LB as CLASSIC
    from ..elbv2.targetgroups import describe_target_health

    out: dict[str, str] = {}
    for arn in group.get("TargetGroupARNs", []):
        try:
            health = describe_target_health(_ctx(kumo, scope, "elbv2"), {"TargetGroupArn": arn})
        except AwsError:
            continue
        for h in health["TargetHealthDescriptions"]:
            iid = h["Target"]["Id"]
            if iid in instance_ids and h["TargetHealth"]["State"] == "unhealthy":
                out.setdefault(iid, arn)
    if group.get("LoadBalancerNames"):
        ctx = _ctx(kumo, scope, "elb")
        lbs = kumo.store.table(scope, CLASSIC)
        for name in group["LoadBalancerNames"]:
            lb = lbs.get(name)
            if lb is None:
                continue
            for iid in instance_ids:
                if instance_state(ctx, lb, iid) == FAILED:
                    out.setdefault(iid, name)
    return out


def check_target_groups(kumo, ctx, arns: list[str]) -> None:
    from ..elbv2.model import TG

    tgs = kumo.store.table(ctx.scope, TG)
    for arn in arns:
        tg = tgs.get(arn)
        if tg is None:
            from .model import invalid

            raise invalid(f"Provided Target Groups may not be valid. Please ensure they exist and try again. "
                          f"Target group {arn} not found.")
        if tg.get("TargetType") != "instance":
            from .model import invalid

            raise invalid(f"Target group {arn} has target type '{tg.get('TargetType')}'; Auto Scaling needs target "
                          f"type 'instance'.")


def check_load_balancers(kumo, ctx, names: list[str]) -> None:
    from ..elb.model import LB as CLASSIC

    lbs = kumo.store.table(ctx.scope, CLASSIC)
    for name in names:
        if name not in lbs:
            from .model import invalid

            raise invalid(f"Provided Load Balancers may not be valid. Please ensure they exist and try again. "
                          f"LoadBalancer {name} not found.")
