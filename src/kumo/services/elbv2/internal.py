"""ELBv2 for the rest of kumo: register and deregister instances in target groups, and read their health.

Auto Scaling keeps its groups' members registered through these.  They make the
same checks and changes as RegisterTargets / DeregisterTargets (a deregistered
target drains for the group's deregistration delay) and answer health as
DescribeTargetHealth does.  Writes run inside the caller's store transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...aws.context import internal_context
from .model import TG


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    target_type: str  # instance, ip, lambda, alb
    vpc_id: str | None


def _ctx(kumo, scope: str, caller: str = "autoscaling"):
    account, region = scope.split("/", 1)
    return internal_context(kumo, "elbv2", account, region, caller=caller)


def target_group(kumo, scope: str, arn: str) -> TargetGroup | None:
    tg = kumo.store.table(scope, TG).get(arn)
    if tg is None:
        return None
    return TargetGroup(arn, tg.get("TargetType") or "instance", tg.get("VpcId"))


def _find(kumo, scope: str, arn: str) -> dict:
    from .targetgroups import find_tg

    return find_tg(_ctx(kumo, scope), arn)


def register(kumo, scope: str, arn: str, instance_id: str) -> None:
    """Register the instance at the group's port; raises AwsError as RegisterTargets would refuse it."""
    from .targetgroups import add_targets

    add_targets(_ctx(kumo, scope), _find(kumo, scope, arn), [{"Id": instance_id}])


def deregister(kumo, scope: str, arn: str, instance_id: str) -> None:
    """Deregister the instance (it drains); nothing happens if it is not registered or the group is gone."""
    from .targetgroups import remove_targets

    tg = kumo.store.table(scope, TG).get(arn)
    if tg is not None:
        remove_targets(_ctx(kumo, scope), tg, [{"Id": instance_id}], missing_ok=True)


def target_states(kumo, scope: str, arn: str) -> list[tuple[str, str]]:
    """(target id, TargetHealth.State) of each registered or draining target, as DescribeTargetHealth lists
    them (an instance registered on two ports appears twice); empty if the group is gone."""
    from .targetgroups import health_descriptions

    tg = kumo.store.table(scope, TG).get(arn)
    if tg is None:
        return []
    return [(h["Target"]["Id"], h["TargetHealth"]["State"]) for h in health_descriptions(kumo, scope, tg)]


def draining(kumo, scope: str, arn: str, instance_id: str) -> bool:
    """True while the group still drains the instance (on any port)."""
    tg = kumo.store.table(scope, TG).get(arn)
    return tg is not None and any(key.split(":")[0] == instance_id for key in tg.get("_draining", {}))


__all__ = ["TargetGroup", "deregister", "draining", "register", "target_group", "target_states"]
