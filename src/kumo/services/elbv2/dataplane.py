"""What the data plane needs from ELBv2's records: listener specs and target-group specs."""

from __future__ import annotations

from ...core.controllers import Controller
from ...dataplane.lb.control import end_drains
from ..acm.internal import certificate_material
from ..ec2 import internal as ec2
from .access_logs import listener_format
from .model import LB, LISTENER, RULE, TG


def _truthy(value: str | None) -> bool:
    return (value or "").lower() == "true"


class Elbv2Provider:
    def __init__(self, kumo):
        self.kumo = kumo

    def _all(self, kind):
        return self.kumo.store.all(kind)

    # -- listeners ------------------------------------------------------------------------------
    def listeners(self) -> list[dict]:
        lbs = {arn: lb for _, arn, lb in self._all(LB)}
        rules_by_listener: dict[str, list[dict]] = {}
        for _, _, rule in self._all(RULE):
            rules_by_listener.setdefault(rule["_listener"], []).append(rule)
        out = []
        for _, arn, listener in self._all(LISTENER):
            lb = lbs.get(listener["LoadBalancerArn"])
            if lb is None:
                continue
            attrs = lb["_attributes"]
            spec = {
                "id": arn,
                "lb": lb["LoadBalancerArn"],
                "kind": lb["Type"],
                "protocol": listener["Protocol"],
                "port": listener["Port"],
                "addresses": [{"ip": z["_node"], "zone": z["ZoneName"]} for z in lb["AvailabilityZones"]],
                "cross_zone": lb["Type"] == "application" or _truthy(attrs.get("load_balancing.cross_zone.enabled")),
                "idle_timeout": int(attrs.get("idle_timeout.timeout_seconds", "60")) if lb["Type"] == "application"
                else int((listener.get("_attributes") or {}).get("tcp.idle_timeout.seconds", "350")),
                "drop_invalid_headers": _truthy(attrs.get("routing.http.drop_invalid_header_fields.enabled")),
                "tls_headers": _truthy(attrs.get("routing.http.x_amzn_tls_version_and_cipher_suite.enabled")),
                "certificates": self._certificates(listener),
                "access_log": listener_format(lb, listener["Protocol"]),
            }
            if lb["Type"] == "application":
                rules = [{"priority": int(r["Priority"]), "conditions": r["Conditions"], "actions": r["Actions"],
                          "arn": r["RuleArn"]} for r in rules_by_listener.get(arn, [])]
                rules.append({"priority": "default", "conditions": [], "actions": listener["DefaultActions"]})
                spec["rules"] = rules
            else:
                forward = next((a for a in listener["DefaultActions"] if a.get("Type") == "forward"), {})
                groups = (forward.get("ForwardConfig") or {}).get("TargetGroups") or []
                spec["default_group"] = forward.get("TargetGroupArn") or (groups[0]["TargetGroupArn"] if groups
                                                                          else None)
            out.append(spec)
        return out

    def _certificates(self, listener: dict) -> list[dict]:
        if not listener.get("Certificates"):
            return []
        out = []
        arns = [listener["Certificates"][0]["CertificateArn"]] + listener["_extra_certs"]
        for i, arn in enumerate(arns):
            material = certificate_material(self.kumo, arn)
            if material is not None:
                out.append({**material, "default": i == 0})
        return out

    # -- target groups ------------------------------------------------------------------------
    def groups(self) -> list[dict]:
        return [self.group_spec(scope, tg) for scope, _, tg in self._all(TG)]

    def group_spec(self, scope: str, tg: dict) -> dict:
        attrs = tg["_attributes"]
        lbs = [self.kumo.store.table(scope, LB).get(a) for a in tg["LoadBalancerArns"]]
        lbs = [lb for lb in lbs if lb is not None]
        zones = {z["ZoneName"] for lb in lbs for z in lb["AvailabilityZones"]}
        stickiness = {}
        if _truthy(attrs.get("stickiness.enabled")):
            kind = attrs.get("stickiness.type")
            if kind == "lb_cookie":
                stickiness = {"type": "lb_cookie", "cookie": "AWSALB",
                              "duration": int(attrs.get("stickiness.lb_cookie.duration_seconds", "86400"))}
            elif kind == "app_cookie":
                stickiness = {"type": "app_cookie", "cookie_name": attrs.get("stickiness.app_cookie.cookie_name", ""),
                              "duration": int(attrs.get("stickiness.app_cookie.duration_seconds", "86400"))}
            elif kind == "source_ip":
                stickiness = {"type": "source_ip"}
        cross = attrs.get("load_balancing.cross_zone.enabled", "use_load_balancer_configuration")
        targets = [self._target(scope, tg, key, t, zones, bool(lbs)) for key, t in tg["_targets"].items()]
        targets += [{"key": key, "host": None, "port": t.get("Port") or 0, "zone": t.get("AvailabilityZone"),
                     "state": "draining", "reason": "Target.DeregistrationInProgress",
                     "description": "Target deregistration is in progress"} for key, t in tg["_draining"].items()]
        spec = {
            "arn": tg["TargetGroupArn"], "protocol": tg.get("Protocol") or "HTTP", "lbs": tg["LoadBalancerArns"],
            "algorithm": attrs.get("load_balancing.algorithm.type", "round_robin"),
            "slow_start": int(attrs.get("slow_start.duration_seconds", "0")),
            "stickiness": stickiness,
            "cross_zone": None if cross == "use_load_balancer_configuration" else _truthy(cross),
            "proxy_protocol_v2": _truthy(attrs.get("proxy_protocol_v2.enabled")),
            "preserve_client_ip": _truthy(attrs.get("preserve_client_ip.enabled")),
            "health_check": {
                "enabled": tg.get("HealthCheckEnabled", True) and tg["TargetType"] != "lambda",
                "protocol": tg.get("HealthCheckProtocol") or "HTTP",
                "port": tg.get("HealthCheckPort") or "traffic-port",
                "path": tg.get("HealthCheckPath") or "/",
                "matcher": (tg.get("Matcher") or {}).get("HttpCode") or "200",
                "interval": tg.get("HealthCheckIntervalSeconds") or 30,
                "timeout": tg.get("HealthCheckTimeoutSeconds") or 6,
                "healthy_threshold": tg.get("HealthyThresholdCount") or 5,
                "unhealthy_threshold": tg.get("UnhealthyThresholdCount") or 2,
            },
            "targets": targets,
        }
        if tg["TargetType"] == "lambda":
            spec["lambda"] = {"endpoint": self.kumo.endpoint,
                              "multi_value_headers": _truthy(attrs.get("lambda.multi_value_headers.enabled"))}
        return spec

    def _target(self, scope: str, tg: dict, key: str, t: dict, zones: set, used: bool) -> dict:
        spec = {"key": key, "host": None, "port": t.get("Port") or 0, "zone": t.get("AvailabilityZone")}
        if not used:
            return {**spec, "state": "unused", "reason": "Target.NotInUse",
                    "description": "Target group is not configured to receive traffic from the load balancer"}
        if tg["TargetType"] == "instance":
            inst = ec2.instance(self.kumo, scope, t["Id"])
            state = inst.state if inst else "terminated"
            if state != "running":
                if state == "pending":
                    return {**spec, "state": "initial", "reason": "Elb.RegistrationInProgress",
                            "description": "Target registration is in progress"}
                return {**spec, "state": "unused", "reason": "Target.InvalidState",
                        "description": f"Target is in the {state} state"}
            spec["host"] = inst.address
        elif tg["TargetType"] == "ip":
            spec["host"] = t["Id"] if t["Id"].startswith("127.") else self._loopback_of(scope, t["Id"])
        else:  # a function, invoked through kumo's Lambda API (elb/lambda_target.py)
            return {**spec, "host": "lambda", "zone": "all"}
        if spec["zone"] not in (None, "all") and zones and spec["zone"] not in zones:
            return {**spec, "host": None, "state": "unused", "reason": "Target.NotInUse",
                    "description": "Target is in an Availability Zone that is not enabled for the load balancer"}
        return spec

    def served(self) -> None:
        """The workers serve the latest snapshot: load balancers still provisioning are now active."""
        for scope, arn, lb in list(self._all(LB)):
            if lb["State"]["Code"] == "provisioning":
                with self.kumo.store.transaction():
                    lb["State"] = {"Code": "active"}
                    self.kumo.store.table(scope, LB).put(arn, lb)

    def _loopback_of(self, scope: str, ip: str) -> str | None:
        eni = ec2.interface_by_ip(self.kumo, scope, ip)
        return eni.address if eni else None


def provider_of(kumo) -> Elbv2Provider:
    return kumo.services["elbv2"]


class DrainController(Controller):
    """Removes deregistered targets once their deregistration delay has passed on kumo's clock."""

    name = "elb.drain"
    resync_interval = 60.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return [(scope, arn) for scope, arn, tg in self.kumo.store.all(TG) if tg["_draining"]]

    async def reconcile(self, key):
        scope, arn = key
        table = self.kumo.store.table(scope, TG)
        tg = table.get(arn)
        if tg is None or not tg["_draining"]:
            return None
        return end_drains(self.kumo, table, arn, tg, lambda key: arn)
