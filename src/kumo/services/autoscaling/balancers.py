"""A group's load balancers: registering members, draining them, and reading their ELB health.

Target groups (ELBv2) and Classic Load Balancers are driven through their
services' facades, which make the same checks and changes as a user's
RegisterTargets / RegisterInstancesWithLoadBalancer.
"""

from __future__ import annotations

import logging

from ...aws.errors import AwsError
from ..elb import internal as elb
from ..elbv2 import internal as elbv2

log = logging.getLogger("kumo.autoscaling")


def register(kumo, scope: str, group: dict, instance_id: str) -> None:
    for arn in group.get("TargetGroupARNs", []):
        try:
            elbv2.register(kumo, scope, arn, instance_id)
        except AwsError as exc:
            log.warning("group %s: could not register %s with %s: %s", group["AutoScalingGroupName"], instance_id,
                        arn, exc.message)
    for name in group.get("LoadBalancerNames", []):
        try:
            elb.register(kumo, scope, name, instance_id)
        except AwsError as exc:
            log.warning("group %s: could not register %s with %s: %s", group["AutoScalingGroupName"], instance_id,
                        name, exc.message)


def deregister(kumo, scope: str, group: dict, instance_id: str, target_groups=None, load_balancers=None) -> None:
    for arn in group.get("TargetGroupARNs", []) if target_groups is None else target_groups:
        elbv2.deregister(kumo, scope, arn, instance_id)
    for name in group.get("LoadBalancerNames", []) if load_balancers is None else load_balancers:
        elb.deregister(kumo, scope, name, instance_id)


def draining(kumo, scope: str, group: dict, instance_id: str) -> bool:
    """True while any of the group's load balancers still drains the instance."""
    return any(elbv2.draining(kumo, scope, arn, instance_id) for arn in group.get("TargetGroupARNs", [])) or \
        any(elb.draining(kumo, scope, name, instance_id) for name in group.get("LoadBalancerNames", []))


def unhealthy(kumo, scope: str, group: dict, instance_ids: set[str]) -> dict[str, str]:
    """Instances that a load balancer of the group reports as failing its health check -> which one."""
    out: dict[str, str] = {}
    for arn in group.get("TargetGroupARNs", []):
        for iid, state in elbv2.target_states(kumo, scope, arn):
            if iid in instance_ids and state == "unhealthy":
                out.setdefault(iid, arn)
    for name in group.get("LoadBalancerNames", []):
        for iid in instance_ids:
            health = elb.instance_health(kumo, scope, name, iid)
            if health is not None and health.failed:
                out.setdefault(iid, name)
    return out


def check_target_groups(kumo, ctx, arns: list[str]) -> None:
    from .model import invalid

    for arn in arns:
        tg = elbv2.target_group(kumo, ctx.scope, arn)
        if tg is None:
            raise invalid(f"Provided Target Groups may not be valid. Please ensure they exist and try again. "
                          f"Target group {arn} not found.")
        if tg.target_type != "instance":
            raise invalid(f"Target group {arn} has target type '{tg.target_type}'; Auto Scaling needs target "
                          f"type 'instance'.")


def check_load_balancers(kumo, ctx, names: list[str]) -> None:
    from .model import invalid

    for name in names:
        if not elb.exists(kumo, ctx.scope, name):
            raise invalid(f"Provided Load Balancers may not be valid. Please ensure they exist and try again. "
                          f"LoadBalancer {name} not found.")
