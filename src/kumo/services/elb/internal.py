"""Classic ELB for the rest of kumo: register and deregister instances, and read their health.

Auto Scaling keeps its groups' members registered through these.  They make the
same checks and changes as RegisterInstancesWithLoadBalancer /
DeregisterInstancesFromLoadBalancer (connection draining included) and answer
health in DescribeInstanceHealth's words.  Writes run inside the caller's store
transaction.
"""

from __future__ import annotations

from typing import NamedTuple

from ...aws.context import internal_context
from .model import FAILED, IN_SERVICE, LB


class InstanceHealth(NamedTuple):
    state: str  # InService or OutOfService
    reason: str  # ReasonCode: ELB, Instance or N/A
    description: str

    @property
    def in_service(self) -> bool:
        return tuple(self) == IN_SERVICE

    @property
    def failed(self) -> bool:
        """Failing the load balancer's health check (not merely registering, draining or stopped)."""
        return tuple(self) == FAILED


def _ctx(kumo, scope: str, caller: str = "autoscaling"):
    account, region = scope.split("/", 1)
    return internal_context(kumo, "elb", account, region, caller=caller)


def exists(kumo, scope: str, name: str) -> bool:
    return kumo.store.table(scope, LB).get(name) is not None


def register(kumo, scope: str, name: str, instance_id: str) -> None:
    """Register the instance; raises AwsError as RegisterInstancesWithLoadBalancer would refuse it."""
    from .instances import register as add
    from .model import find_lb

    ctx = _ctx(kumo, scope)
    add(ctx, find_lb(ctx, name), [instance_id])


def deregister(kumo, scope: str, name: str, instance_id: str) -> None:
    """Deregister the instance (it drains if the load balancer drains); ignored if not registered or gone."""
    from .instances import deregister as remove

    lb = kumo.store.table(scope, LB).get(name)
    if lb is not None:
        remove(_ctx(kumo, scope), lb, [instance_id], missing_ok=True)


def instance_health(kumo, scope: str, name: str, instance_id: str) -> InstanceHealth | None:
    """The instance's health as DescribeInstanceHealth gives it; None if the load balancer is gone."""
    from .instances import instance_state

    lb = kumo.store.table(scope, LB).get(name)
    if lb is None:
        return None
    return InstanceHealth(*instance_state(_ctx(kumo, scope), lb, instance_id))


def draining(kumo, scope: str, name: str, instance_id: str) -> bool:
    lb = kumo.store.table(scope, LB).get(name)
    return lb is not None and instance_id in lb.get("_draining", {})


__all__ = ["InstanceHealth", "deregister", "draining", "exists", "instance_health", "register"]
