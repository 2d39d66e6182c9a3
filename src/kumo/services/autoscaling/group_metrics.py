"""Group metrics (EnableMetricsCollection): AWS/AutoScaling datapoints, one a minute, on kumo's clock."""

from __future__ import annotations

import logging

from ...core.hub import Datapoint
from .model import GROUP, split_scope

log = logging.getLogger("kumo.autoscaling")
MINUTE = 60.0

_STATES = {
    "InService": ("InService",),
    "Pending": ("Pending", "Pending:Wait", "Pending:Proceed"),
    "Standby": ("Standby", "EnteringStandby"),
    "Terminating": ("Terminating", "Terminating:Wait", "Terminating:Proceed"),
}


def values(group: dict) -> dict[str, float]:
    """Every group metric AWS defines, for this group now."""
    members = list(group["_instances"].values())

    def count(states, weighted=False):
        return float(sum(int(m.get("WeightedCapacity") or 1) if weighted else 1
                         for m in members if m["LifecycleState"] in states))

    out = {"GroupMinSize": float(group["MinSize"]), "GroupMaxSize": float(group["MaxSize"]),
           "GroupDesiredCapacity": float(group["DesiredCapacity"])}
    for name, states in _STATES.items():
        out[f"Group{name}Instances"] = count(states)
        out[f"Group{name}Capacity"] = count(states, weighted=True)
    every = [s for states in _STATES.values() for s in states]
    out["GroupTotalInstances"] = count(every)
    out["GroupTotalCapacity"] = count(every, weighted=True)
    out["GroupAndWarmPoolDesiredCapacity"] = out["GroupDesiredCapacity"]
    out["GroupAndWarmPoolTotalCapacity"] = out["GroupTotalCapacity"]
    for name in ("WarmPoolDesiredCapacity", "WarmPoolWarmedCapacity", "WarmPoolPendingCapacity",
                 "WarmPoolTerminatingCapacity", "WarmPoolTotalCapacity"):
        out[name] = 0.0  # kumo has no warm pools: the pool is empty
    return out


class GroupMetrics:
    def __init__(self, kumo):
        self.kumo = kumo
        self._timer = None

    def start(self) -> None:
        now = self.kumo.clock.now()
        self._timer = self.kumo.clock.call_at((now // MINUTE + 1) * MINUTE, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _tick(self) -> None:
        try:
            self.publish(self.kumo.clock.now())
        except Exception:
            log.exception("publishing group metrics failed")
        finally:
            self.start()

    def publish(self, at: float) -> None:
        points = []
        stamp = at // MINUTE * MINUTE - MINUTE  # the minute that just closed, as EC2 stamps its metrics
        for scope, name, group in self.kumo.store.all(GROUP):
            enabled = {m["Metric"] for m in group.get("EnabledMetrics", [])}
            if not enabled or group.get("Status"):
                continue
            account, region = split_scope(scope)
            for metric, value in values(group).items():
                if metric in enabled:
                    points.append(Datapoint(account, region, "AWS/AutoScaling", metric, value, stamp,
                                            {"AutoScalingGroupName": name}, "None"))
        if points:
            self.kumo.metrics.put(points)
