"""What the load balancer data plane needs from Classic records, and the draining of deregistered instances.

Each Classic Load Balancer becomes:

* one *health group* (``<lb arn>#instances``): its registered instances, probed
  with the load balancer's HealthCheck.  Classic health is per instance, not
  per listener, so there is exactly one set of checks per load balancer;
* one *routing group* per listener (``<lb arn>#listener/<port>``): the same
  instances at the listener's InstancePort, with the listener's stickiness.
  Its targets carry the health group's verdicts as explicit states, so the
  health checks run once and every listener routes by them;
* one listener spec per listener (kind ``classic``) on one node address per
  enabled Availability Zone.
"""

from __future__ import annotations

from aiohttp import web

from ...core.controllers import Controller
from ...dataplane.lb.control import HEALTH, end_drains, runtime_of
from ..acm.internal import certificate_material
from ..ec2 import internal as ec2
from .access_logs import listener_format
from .model import APP_COOKIE_POLICY, LB, LB_COOKIE_POLICY, L7, group_arn, parse_target

DRAIN = "elb.classic.drain"
# EC2 states in which an instance cannot take traffic; Classic reports them by name.
NOT_RUNNING = {"pending", "stopping", "stopped", "shutting-down", "terminated"}


def listener_id(lb: dict, port: int) -> str:
    return f"{lb['_arn']}#listener/{port}"


def health_check_spec(hc: dict) -> dict:
    protocol, port, path = parse_target(hc["Target"])
    return {
        # SSL checks are TCP connects: kumo's probes complete TLS for HTTPS checks only.
        "enabled": True, "protocol": protocol if protocol in L7 else "TCP", "port": port, "path": path or "/",
        "matcher": "200",  # "Any answer other than 200 OK within the timeout period is considered unhealthy."
        "interval": hc["Interval"], "timeout": hc["Timeout"],
        "healthy_threshold": hc["HealthyThreshold"], "unhealthy_threshold": hc["UnhealthyThreshold"],
        # A new Classic instance is OutOfService until it passes HealthyThreshold checks in a row.
        "initial_passes": hc["HealthyThreshold"],
    }


class ClassicProvider:
    def __init__(self, kumo):
        self.kumo = kumo

    def _lbs(self):
        return list(self.kumo.store.all(LB))

    # -- listeners ------------------------------------------------------------------------------
    def listeners(self) -> list[dict]:
        out = []
        for _, _, lb in self._lbs():
            attrs = lb["_attributes"]
            addresses = [{"ip": ip, "zone": zone} for zone, ip in sorted(lb["_nodes"].items())]
            for ld in lb["ListenerDescriptions"]:
                listener = ld["Listener"]
                port = listener["LoadBalancerPort"]
                spec = {
                    "id": listener_id(lb, port), "lb": lb["_arn"], "kind": "classic",
                    "protocol": listener["Protocol"], "port": port, "addresses": addresses,
                    "cross_zone": bool(attrs["CrossZoneLoadBalancing"]["Enabled"]),
                    "idle_timeout": int(attrs["ConnectionSettings"]["IdleTimeout"]),
                    "drop_invalid_headers": False, "tls_headers": False,
                    "certificates": self._certificates(listener),
                    "access_log": listener_format(lb, listener["Protocol"]), "lb_name": lb["LoadBalancerName"],
                }
                if listener["Protocol"] in L7:
                    spec["rules"] = [{"priority": "default", "conditions": [], "actions": [
                        {"Type": "forward", "TargetGroupArn": listener_id(lb, port)}]}]
                else:
                    spec["default_group"] = listener_id(lb, port)
                out.append(spec)
        return out

    def _certificates(self, listener: dict) -> list[dict]:
        arn = listener.get("SSLCertificateId")
        if not arn:
            return []
        material = certificate_material(self.kumo, arn)
        return [{**material, "default": True}] if material is not None else []

    # -- groups --------------------------------------------------------------------------------
    def groups(self) -> list[dict]:
        rt = runtime_of(self.kumo)
        out = []
        for scope, _, lb in self._lbs():
            health = self.health_group(scope, lb)
            out.append(health)
            verdicts = {t["key"]: (t, rt.target_state(health, t)[0]) for t in health["targets"]}
            for ld in lb["ListenerDescriptions"]:
                out.append(self._routing_group(lb, ld, verdicts))
        return out

    def health_group(self, scope: str, lb: dict) -> dict:
        rt = runtime_of(self.kumo)
        key = group_arn(lb)
        hc = health_check_spec(lb["HealthCheck"])
        targets = []
        for ref in lb["Instances"]:
            iid = ref["InstanceId"]
            inst = ec2.instance(self.kumo, scope, iid)
            state = inst.state if inst else "terminated"
            zone = inst.zone if inst else None
            spec = {"key": iid, "host": None, "port": hc["port"], "zone": zone}
            if state in NOT_RUNNING or zone not in lb["_nodes"]:
                # Its checks start afresh once it runs (again) in an enabled zone, as a new registration.
                rt.forget_target(key, iid)
                targets.append({**spec, "state": "unused"})
            else:
                targets.append({**spec, "host": inst.address})
        for iid, d in lb["_draining"].items():
            # Draining instances stay in the data plane (never chosen) so it can count what is still in flight.
            inst = ec2.instance(self.kumo, scope, iid)
            host = inst.address if inst and inst.state not in NOT_RUNNING else None
            targets.append({"key": iid, "host": host, "port": hc["port"], "zone": d.get("zone"), "state": "draining"})
        return {"arn": key, "protocol": hc["protocol"], "lbs": [lb["_arn"]], "algorithm": "round_robin",
                "slow_start": 0, "stickiness": {}, "cross_zone": None, "proxy_protocol_v2": False,
                "preserve_client_ip": False, "health_check": hc, "targets": targets}

    def _routing_group(self, lb: dict, ld: dict, verdicts: dict) -> dict:
        listener = ld["Listener"]
        targets = []
        for key, (t, state) in verdicts.items():
            routed = t["host"] if state != "unused" else None
            targets.append({"key": key, "host": routed, "port": listener["InstancePort"], "zone": t["zone"],
                            "state": state})
        l7 = listener["Protocol"] in L7
        return {
            "arn": listener_id(lb, listener["LoadBalancerPort"]), "protocol": listener["InstanceProtocol"],
            "lbs": [lb["_arn"]],
            # Classic nodes pick by least outstanding requests for HTTP(S) listeners, round robin for TCP/SSL.
            "algorithm": "least_outstanding_requests" if l7 else "round_robin",
            "slow_start": 0, "stickiness": self._stickiness(lb, ld) if l7 else {}, "cross_zone": None,
            "proxy_protocol_v2": False, "preserve_client_ip": False,
            # Classic routes only to InService instances: with none, HTTP gets 503 and TCP a closed connection.
            "fail_open": False,
            # The verdicts come from the health group; this group runs no checks of its own.
            "health_check": {"enabled": False}, "targets": targets,
        }

    @staticmethod
    def _stickiness(lb: dict, ld: dict) -> dict:
        for name in ld["PolicyNames"]:
            policy = lb["_policies"].get(name) or {}
            attrs = {a["AttributeName"]: a.get("AttributeValue") for a in policy.get("PolicyAttributeDescriptions", [])}
            if policy.get("PolicyTypeName") == LB_COOKIE_POLICY:
                period = attrs.get("CookieExpirationPeriod")
                # No period: the AWSELB cookie lasts for the browser session (no Expires).
                return {"type": "lb_cookie", "cookie": "AWSELB", "duration": int(period) if period else None}
            if policy.get("PolicyTypeName") == APP_COOKIE_POLICY:
                return {"type": "app_cookie", "cookie": "AWSELB", "cookie_name": attrs.get("CookieName", ""),
                        "duration": None}
        return {}


def classic_endpoint(kumo):
    """``GET /_kumo/dataplane/lb/classic``: each Classic Load Balancer's node addresses, the way users reach it.

    Classic's API has no field for a node's address and its DNS name does not
    resolve until kumo serves Route 53, so this is where clients find them.
    Optional query parameters ``account``, ``region`` and ``name`` narrow the list.
    """

    async def handler(request: web.Request) -> web.Response:
        q = request.query
        rt = runtime_of(kumo)
        out = []
        for scope, name, lb in kumo.store.all(LB):
            account, _, region = scope.partition("/")
            if any(q.get(k) and q[k] != v for k, v in (("account", account), ("region", region), ("name", name))):
                continue
            out.append({
                "account": account, "region": region, "name": name, "arn": lb["_arn"], "dns_name": lb["DNSName"],
                "nodes": [{"zone": zone, "ip": ip} for zone, ip in sorted(lb["_nodes"].items())],
                "listeners": [{
                    "protocol": ld["Listener"]["Protocol"], "port": ld["Listener"]["LoadBalancerPort"],
                    "urls": [f"{ld['Listener']['Protocol'].lower()}://{ip}:{ld['Listener']['LoadBalancerPort']}/"
                             for ip in sorted(lb["_nodes"].values())] if ld["Listener"]["Protocol"] in L7 else [],
                    "bind_error": rt.dataplane.bind_errors.get(listener_id(lb, ld["Listener"]["LoadBalancerPort"])),
                } for ld in lb["ListenerDescriptions"]],
            })
        return web.json_response({"load_balancers": out})

    return handler


class DrainController(Controller):
    """Completes the deregistration of a draining instance once no request or connection to it is left in
    flight on any data plane worker, or once ConnectionDraining's Timeout has passed, whichever is first."""

    name = DRAIN
    resync_interval = 60.0

    def __init__(self, kumo):
        self.kumo = kumo

    def wake(self) -> None:
        """The workers reported on draining instances: look again now rather than at the timeout."""
        for key in self.keys():
            self.kumo.controllers.enqueue(DRAIN, key)

    def keys(self):
        return [(scope, name) for scope, name, lb in self.kumo.store.all(LB) if lb["_draining"]]

    async def reconcile(self, key):
        scope, name = key
        table = self.kumo.store.table(scope, LB)
        lb = table.get(name)
        if lb is None or not lb["_draining"]:
            return None
        rt = runtime_of(self.kumo)
        return end_drains(self.kumo, table, name, lb, lambda iid: group_arn(lb),
                          lambda iid: rt.in_flight(lb["_arn"] + "#listener/", iid) == 0)


def check_now(kumo, lb: dict) -> None:
    """Ask for a round of health checks of this load balancer's instances and a fresh data plane snapshot."""
    kumo.controllers.enqueue(HEALTH, group_arn(lb))
    runtime_of(kumo).invalidate()
