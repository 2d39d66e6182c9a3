"""The group controller: keeps every group's real instances at its desired capacity, healthy and balanced.

One reconcile of a group, on kumo's clock:

1. follow each member through its lifecycle (Pending -> [Pending:Wait] ->
   InService -> Terminating -> [Terminating:Wait] -> Terminated), driving EC2
   and the load balancers as it goes;
2. run the health checks (EC2 status, and ELB when HealthCheckType is ELB)
   after the grace period, and replace what is unhealthy;
3. take the next step of an instance refresh;
4. launch or terminate to meet the desired capacity, then rebalance zones.

Each step honours the group's suspended processes.  A reconcile returns how
long until it must look again (a hook's deadline, a drain, a warm-up), and
EC2 state changes wake it at once.
"""

from __future__ import annotations

import logging

from ...core.controllers import Controller
from ...core.store import Store
from ..ec2 import internal as ec2
from . import activities, balancers, hooks, launching, refresh
from .model import CONTROLLER, COUNTED, GROUP, LEAVING, capacity, suspended, template_of
from .termination import Context as TerminationContext, choose

log = logging.getLogger("kumo.autoscaling")

POLL = 10.0  # simulated seconds between health checks of a group
GONE = ("terminated", "shutting-down")
DOWN = ("terminated", "shutting-down", "stopping", "stopped")


class GroupController(Controller):
    name = CONTROLLER
    resync_interval = 60.0
    max_backoff = 60.0

    def __init__(self, kumo):
        self.kumo = kumo
        self.store: Store = kumo.store

    def keys(self):
        for scope, name, _ in self.store.all(GROUP):
            yield (scope, name)

    async def reconcile(self, key):
        scope, name = key
        with self.store.transaction():
            group = self.store.table(scope, GROUP).get(name)
            if group is None:
                return None
            wait = Reconcile(self.kumo, scope, group).run()
        return wait

    def on_event(self, event: dict) -> None:
        """EC2 state changes wake the group of the instance at once."""
        if event.get("source") != "aws.ec2" or event.get("detail-type") != "EC2 Instance State-change Notification":
            return
        iid = (event.get("detail") or {}).get("instance-id")
        scope = f"{event.get('account')}/{event.get('region')}"
        inst = ec2.instance(self.kumo, scope, iid) if iid else None
        if inst is None:
            return
        group = inst.tags.get(launching.GROUP_TAG)
        if group:
            self.kumo.controllers.enqueue(CONTROLLER, (scope, group))


class Reconcile:
    """One pass over one group (inside a store transaction)."""

    def __init__(self, kumo, scope: str, group: dict):
        self.kumo = kumo
        self.scope = scope
        self.group = group
        self.now = kumo.clock.now()
        self.wake: list[float] = [POLL]

    # -- the pass ---------------------------------------------------------------------------------
    def run(self) -> float | None:
        g = self.group
        for m in list(g["_instances"].values()):
            self.follow(m)
        if g.get("Status"):
            return self.delete_step()
        if not suspended(g, "HealthCheck"):
            self.health_checks()
        if not suspended(g, "ReplaceUnhealthy") and not suspended(g, "Terminate"):
            self.replace_unhealthy()
        if not suspended(g, "InstanceRefresh"):
            refresh.step(self)
        self.meet_capacity()
        if not suspended(g, "AZRebalance"):
            self.rebalance()
        self.save()
        return max(0.5, min(self.wake))

    def save(self) -> None:
        self.kumo.store.table(self.scope, GROUP).put(self.group["AutoScalingGroupName"], self.group)

    def record(self, iid: str) -> ec2.Instance | None:
        return ec2.instance(self.kumo, self.scope, iid)

    def ec2_state(self, iid: str) -> str:
        rec = self.record(iid)
        return rec.state if rec else "terminated"

    # -- lifecycle of one member -------------------------------------------------------------------
    def follow(self, m: dict) -> None:
        state = m["LifecycleState"]
        ec2_state = self.ec2_state(m["InstanceId"])
        if state == "Pending":
            if ec2_state == "running":
                if hooks.enter(self, m, "autoscaling:EC2_INSTANCE_LAUNCHING"):
                    return
                self.in_service(m)
            elif ec2_state in DOWN:
                m["HealthStatus"] = "Unhealthy"
                m["_health_cause"] = "an EC2 health check indicating it has been terminated or stopped"
        elif state == "Pending:Wait":
            result = hooks.poll(self, m)
            if result == "CONTINUE":
                m["LifecycleState"] = "Pending:Proceed"
                self.in_service(m)
            elif result == "ABANDON":
                activities.finish(self.kumo, self.scope, m.get("_activity"), "Failed",
                                  f"Instance failed to complete user's Lifecycle Action: Lifecycle Action with token "
                                  f"{m['_wait']['token']} was abandoned: Lifecycle Action Completed with ABANDON "
                                  f"Result")
                m.pop("_activity", None)
                self.begin_terminate(m, f"At {activities.iso(self.now)} an instance was taken out of service in "
                                        f"response to a launch lifecycle action that was abandoned.", hooks_run=True)
        elif state == "Pending:Proceed":
            self.in_service(m)
        elif state in ("Terminating", "Terminating:Wait", "Terminating:Proceed"):
            self.leave(m, ec2_state)
        elif state == "EnteringStandby":
            balancers.deregister(self.kumo, self.scope, self.group, m["InstanceId"])
            m["LifecycleState"] = "Standby"
            activities.finish(self.kumo, self.scope, m.pop("_standby_activity", None))
        elif state == "Detaching":
            if not m.get("_deregistered"):
                balancers.deregister(self.kumo, self.scope, self.group, m["InstanceId"])
                m["_deregistered"] = True
            if balancers.draining(self.kumo, self.scope, self.group, m["InstanceId"]):
                self.wake.append(5.0)
                return
            self.drop(m)
            ec2.tag(self.kumo, self.scope, m["InstanceId"], remove={launching.GROUP_TAG})
            activities.finish(self.kumo, self.scope, m.get("_activity"))

    def in_service(self, m: dict) -> None:
        g = self.group
        if not suspended(g, "AddToLoadBalancer"):
            balancers.register(self.kumo, self.scope, g, m["InstanceId"])
        m["LifecycleState"] = "InService"
        m["_inservice"] = self.now
        m.pop("_wait", None)
        m.pop("_rebalancing", None)
        activities.finish(self.kumo, self.scope, m.pop("_activity", None))
        cooldown = g.get("_cooldown")
        if cooldown:  # a simple policy's cooldown runs from when its instances come into service
            cooldown["until"] = max(cooldown["until"], self.now + cooldown["length"])

    def begin_terminate(self, m: dict, cause: str, *, hooks_run: bool = False) -> None:
        m["LifecycleState"] = "Terminating"
        if hooks_run:
            m["_no_hooks"] = True
        act = activities.start(self.kumo, self.scope, self.group, f"Terminating EC2 instance: {m['InstanceId']}",
                               cause, details={"Subnet ID": self._subnet(m), "Availability Zone":
                                               m["AvailabilityZone"]}, instance_id=m["InstanceId"],
                               kind="terminate")
        m["_term_activity"] = act["ActivityId"]

    def _subnet(self, m: dict) -> str:
        rec = self.record(m["InstanceId"])
        return rec.subnet_id if rec else ""

    def leave(self, m: dict, ec2_state: str) -> None:
        iid = m["InstanceId"]
        act = m.get("_term_activity")
        if m["LifecycleState"] == "Terminating":
            if not m.get("_deregistered"):
                balancers.deregister(self.kumo, self.scope, self.group, iid)
                m["_deregistered"] = True
            if balancers.draining(self.kumo, self.scope, self.group, iid) and ec2_state not in GONE:
                activities.update(self.kumo, self.scope, act, StatusCode="WaitingForELBConnectionDraining")
                self.wake.append(5.0)
                return
            if not m.get("_no_hooks") and ec2_state not in GONE and \
                    hooks.enter(self, m, "autoscaling:EC2_INSTANCE_TERMINATING"):
                activities.update(self.kumo, self.scope, act, StatusCode="MidLifecycleAction")
                return
            m["LifecycleState"] = "Terminating:Proceed"
        elif m["LifecycleState"] == "Terminating:Wait":
            if ec2_state not in GONE and hooks.poll(self, m) is None:
                return
            m["LifecycleState"] = "Terminating:Proceed"
        if ec2_state not in GONE:
            ec2.terminate(self.kumo, self.scope, iid)
            activities.update(self.kumo, self.scope, act, StatusCode="InProgress", Progress=50)
            self.wake.append(1.0)
            return
        if ec2_state == "terminated":
            self.drop(m)
            activities.finish(self.kumo, self.scope, act)
        else:
            self.wake.append(1.0)

    def drop(self, m: dict) -> None:
        self.group["_instances"].pop(m["InstanceId"], None)

    # -- health ------------------------------------------------------------------------------------
    def health_checks(self) -> None:
        g = self.group
        grace = int(g.get("HealthCheckGracePeriod") or 0)
        in_service = [m for m in g["_instances"].values() if m["LifecycleState"] == "InService"
                      and m["HealthStatus"] == "Healthy"]
        settled = {m["InstanceId"] for m in in_service if self.now - m.get("_inservice", self.now) >= grace}
        in_grace = [m.get("_inservice", self.now) + grace - self.now for m in in_service
                    if m["InstanceId"] not in settled]
        if in_grace:  # look again when the first grace period ends
            self.wake.append(max(0.5, min(in_grace)))
        for m in in_service:
            state = self.ec2_state(m["InstanceId"])
            if state in DOWN:
                self.unhealthy(m, "an EC2 health check indicating it has been terminated or stopped")
            elif state == "running" and m["InstanceId"] in settled:
                if "impaired" in ec2.status_checks(self.kumo, self.scope, m["InstanceId"]):
                    self.unhealthy(m, "an EC2 instance status checks failure")
        if g.get("HealthCheckType") == "ELB":
            ids = {m["InstanceId"] for m in in_service if m["HealthStatus"] == "Healthy"} & settled
            if ids:
                for iid in balancers.unhealthy(self.kumo, self.scope, g, ids):
                    self.unhealthy(g["_instances"][iid], "an ELB system health check failure")

    def unhealthy(self, m: dict, why: str) -> None:
        m["HealthStatus"] = "Unhealthy"
        m["_health_cause"] = why

    def replace_unhealthy(self) -> None:
        for m in list(self.group["_instances"].values()):
            if m["HealthStatus"] == "Unhealthy" and m["LifecycleState"] in ("InService", "Pending"):
                why = m.get("_health_cause") or "a health check failure"
                self.begin_terminate(m, f"At {activities.iso(self.now)} an instance was taken out of service in "
                                        f"response to {why}.")

    # -- capacity ------------------------------------------------------------------------------------
    def target(self) -> int:
        return int(self.group["DesiredCapacity"]) + int(self.group.get("_refresh_extra", 0))

    def meet_capacity(self) -> None:
        g = self.group
        have = capacity(g, COUNTED)
        want = self.target()
        if have < want and not suspended(g, "Launch"):
            failures = int(g.get("_launch_failures", 0))
            if failures and self.now < g.get("_launch_retry_at", 0):
                self.wake.append(g["_launch_retry_at"] - self.now)
                return
            launched, error = launching.launch(self.kumo, self.scope, g, want - have,
                                               config=refresh.launch_config(self))
            if error:
                g["_launch_failures"] = failures + 1
                delay = min(300.0, 10.0 * 2 ** failures)
                g["_launch_retry_at"] = self.now + delay
                self.wake.append(delay)
                refresh.launch_failed(self, error)
            else:
                g.pop("_launch_failures", None)
                g.pop("_launch_retry_at", None)
            if launched:
                self.wake.append(0.5)
        elif have > want and not suspended(g, "Terminate"):
            if any(m.get("_rebalancing") for m in g["_instances"].values() if m["LifecycleState"] != "InService"):
                return  # rebalancing launches first and terminates once the new instance is in service
            self.scale_in(have - want)

    def termination_context(self) -> TerminationContext:
        g = self.group
        spec = template_of(g) or {}
        version = None
        if spec:
            version = refresh.resolved_version(self, spec)
        mixed = g.get("MixedInstancesPolicy") or {}
        overrides = tuple(o.get("InstanceType") for o in (mixed.get("LaunchTemplate") or {}).get("Overrides", [])
                          if o.get("InstanceType"))
        excess = 0
        if mixed:
            total = capacity(g, COUNTED)
            od = sum(int(m.get("WeightedCapacity") or 1) for m in g["_instances"].values()
                     if m["LifecycleState"] in COUNTED and m.get("_requested", "on-demand") == "on-demand")
            excess = od - launching.wanted_on_demand(launching.distribution(g), max(0, total - 1))
        return TerminationContext(now=self.now, template_id=refresh.template_id(self, spec) if spec else None,
                                  template_version=version, launch_config=g.get("LaunchConfigurationName"),
                                  overrides=overrides, on_demand_excess=excess)

    def scale_in(self, units: int) -> None:
        g = self.group
        counted = [m for m in g["_instances"].values() if m["LifecycleState"] in COUNTED]
        candidates = [m for m in counted if not m.get("ProtectedFromScaleIn")]
        # Instances still launching go first only if nothing in service can go (AWS prefers InService victims).
        ordered = [m for m in candidates if m["LifecycleState"] == "InService"] or candidates
        if not ordered:
            return
        before = capacity(g, COUNTED)
        victims = []
        removed = 0
        for victim in choose(counted, ordered, len(ordered), g.get("TerminationPolicies") or ["Default"],
                             self.termination_context()):
            if removed >= units:
                break
            victims.append(victim)
            removed += int(victim.get("WeightedCapacity") or 1)
        prefix = f"{g['_cause']}  " if g.get("_cause") else ""
        for victim in victims:
            cause = prefix + activities.capacity_cause(self.now, before, before - removed) + "  " + \
                activities.selected(self.now, victim["InstanceId"])
            self.begin_terminate(victim, cause)
        g.pop("_cause", None)

    def rebalance(self) -> None:
        g = self.group
        if suspended(g, "Launch") or suspended(g, "Terminate"):
            return
        if any(m["LifecycleState"] not in ("InService", "Standby") for m in g["_instances"].values()):
            return  # one thing at a time: rebalancing waits for launches and terminations to finish
        if capacity(g, COUNTED) != self.target() or refresh.active(self):
            return
        zones = launching.subnets_by_zone(self.kumo, self.scope, g)
        counts = launching.zone_counts(g, zones)
        skew = launching.imbalance(counts)
        if skew is None:
            return
        high, low = skew
        g["_cause"] = (f"At {activities.iso(self.now)} an instance was launched to aid in balancing the group's "
                       f"zones.")
        before = set(g["_instances"])
        launched, _ = launching.launch(self.kumo, self.scope, g, 1, zones=[low])
        for iid in set(g["_instances"]) - before:
            g["_instances"][iid]["_rebalancing"] = True
        if launched:
            # The scale-in that follows takes the surplus from the fullest zone.
            g["_cause"] = (f"At {activities.iso(self.now)} an instance was taken out of service in response to an "
                           f"Availability Zone rebalancing operation.")
            self.wake.append(0.5)

    # -- deletion ------------------------------------------------------------------------------------
    def delete_step(self) -> float | None:
        g = self.group
        for m in list(g["_instances"].values()):
            if m["LifecycleState"] not in LEAVING:
                m["_no_hooks"] = True
                self.begin_terminate(m, f"At {activities.iso(self.now)} an instance was taken out of service in "
                                        f"response to a user request to delete the group.")
        for m in list(g["_instances"].values()):
            self.follow(m)
        if g["_instances"]:
            self.save()
            return 1.0
        from .groups import purge

        purge(self.kumo, self.scope, g)
        return None
