"""Listener attributes and load balancer capacity reservations.

Listener attributes are AWS's per listener type, with AWS's defaults; a Network Load Balancer TCP listener's
``tcp.idle_timeout.seconds`` (60-6000, default 350) is applied by the data plane, which closes idle
connections after it.  An Application Load Balancer listener's header attributes (mTLS / TLS header names,
response headers, ``routing.http.response.server.enabled``) are stored and answered; the data plane does not
rewrite headers by them yet (docs/compute.md).

A capacity reservation records the minimum capacity units asked for; kumo's load balancers do not scale by
capacity units, so every zone reports the reservation ``provisioned`` at once.  Decreases are limited as
AWS limits them: DECREASES_PER_DAY a day, on kumo's clock.
"""

from __future__ import annotations

from ...aws.errors import AwsError
from ...dataplane.lb.control import runtime_of
from .listeners import find_listener
from .loadbalancers import find_lb
from .model import LB, LISTENER, invalid, table

_MTLS = ("serial_number", "issuer", "subject", "validity", "leaf")
ALB_LISTENER = {
    **{f"routing.http.request.x_amzn_mtls_clientcert_{n}.header_name":
       f"X-Amzn-Mtls-Clientcert-{'-'.join(w.capitalize() for w in n.split('_'))}" for n in _MTLS},
    "routing.http.request.x_amzn_mtls_clientcert.header_name": "X-Amzn-Mtls-Clientcert",
    "routing.http.request.x_amzn_tls_version.header_name": "X-Amzn-Tls-Version",
    "routing.http.request.x_amzn_tls_cipher_suite.header_name": "X-Amzn-Tls-Cipher-Suite",
    "routing.http.response.server.enabled": "true",
    "routing.http.response.strict_transport_security.header_value": "",
    "routing.http.response.access_control_allow_origin.header_value": "",
    "routing.http.response.access_control_allow_methods.header_value": "",
    "routing.http.response.access_control_allow_headers.header_value": "",
    "routing.http.response.access_control_allow_credentials.header_value": "",
    "routing.http.response.access_control_expose_headers.header_value": "",
    "routing.http.response.access_control_max_age.header_value": "",
    "routing.http.response.content_security_policy.header_value": "",
    "routing.http.response.x_content_type_options.header_value": "",
    "routing.http.response.x_frame_options.header_value": "",
}
NLB_TCP_LISTENER = {"tcp.idle_timeout.seconds": "350"}
DECREASES_PER_DAY = 4
MIN_UNITS = {"application": 100, "network": 2750}
MAX_UNITS = {"application": 1500, "network": 45000}


def defaults(lb: dict, listener: dict) -> dict[str, str]:
    if lb["Type"] == "application":
        return dict(ALB_LISTENER)
    if lb["Type"] == "network" and listener["Protocol"] == "TCP":
        return dict(NLB_TCP_LISTENER)
    return {}


def listener_attributes(lb: dict, listener: dict) -> dict[str, str]:
    return {**defaults(lb, listener), **(listener.get("_attributes") or {})}


def _check(lb: dict, listener: dict, key: str, value: str) -> None:
    known = defaults(lb, listener)
    if key not in known:
        raise invalid(f"The attribute '{key}' is not supported by {lb['Type']} load balancer "
                      f"{listener['Protocol']} listeners")
    if key == "tcp.idle_timeout.seconds" and not (value.isdigit() and 60 <= int(value) <= 6000):
        raise invalid(f"The value of '{key}' must be an integer between 60 and 6000")
    if key == "routing.http.response.server.enabled" and value not in ("true", "false"):
        raise invalid(f"The value of '{key}' must be true or false")
    if key.endswith(".header_name") and not (0 < len(value) <= 40 and value.replace("-", "").isalnum()):
        raise invalid(f"The value of '{key}' must be a header name of 1-40 letters, digits and hyphens")


def _shown(attrs: dict) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in sorted(attrs.items())]


def describe_listener_attributes(ctx, p):
    listener = find_listener(ctx, p["ListenerArn"])
    lb = find_lb(ctx, listener["LoadBalancerArn"])
    return {"Attributes": _shown(listener_attributes(lb, listener))}


def modify_listener_attributes(ctx, p):
    listener = find_listener(ctx, p["ListenerArn"])
    lb = find_lb(ctx, listener["LoadBalancerArn"])
    changed = {}
    for item in p["Attributes"]:
        key, value = item.get("Key") or "", item.get("Value", "")
        _check(lb, listener, key, value)
        changed[key] = value
    listener["_attributes"] = {**(listener.get("_attributes") or {}), **changed}
    table(ctx, LISTENER).put(listener["ListenerArn"], listener)
    runtime_of(ctx.kumo).invalidate()
    ctx.after(runtime_of(ctx.kumo).settle)
    return {"Attributes": _shown(changed)}


# -- capacity reservations --------------------------------------------------------------------------------


def _reservation_view(lb: dict, now: float) -> dict:
    reservation = lb.get("_capacity") or {}
    recent = [t for t in reservation.get("decreases", []) if now - t < 86400]
    out = {"DecreaseRequestsRemaining": DECREASES_PER_DAY - len(recent), "CapacityReservationState": []}
    if reservation.get("modified") is not None:
        out["LastModifiedTime"] = reservation["modified"]
    units = reservation.get("units")
    if units:
        out["MinimumLoadBalancerCapacity"] = {"CapacityUnits": units}
        zones = lb.get("AvailabilityZones") or []
        out["CapacityReservationState"] = [
            {"AvailabilityZone": z["ZoneName"], "EffectiveCapacityUnits": units / max(1, len(zones)),
             "State": {"Code": "provisioned"}} for z in zones]
    return out


def describe_capacity_reservation(ctx, p):
    return _reservation_view(find_lb(ctx, p["LoadBalancerArn"]), ctx.now())


def modify_capacity_reservation(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerArn"])
    now = ctx.now()
    wanted = (p.get("MinimumLoadBalancerCapacity") or {}).get("CapacityUnits")
    reset = p.get("ResetCapacityReservation")
    if (wanted is None) == (not reset):
        raise invalid("Specify either MinimumLoadBalancerCapacity or ResetCapacityReservation")
    if lb["Type"] not in MIN_UNITS:
        raise AwsError("OperationNotPermitted", f"Capacity reservations are not available for {lb['Type']} "
                                                f"load balancers")
    reservation = dict(lb.get("_capacity") or {})
    current = reservation.get("units") or 0
    if wanted is not None and not MIN_UNITS[lb["Type"]] <= wanted <= MAX_UNITS[lb["Type"]]:
        raise AwsError("InvalidConfigurationRequest", f"CapacityUnits must be between {MIN_UNITS[lb['Type']]} and "
                                                      f"{MAX_UNITS[lb['Type']]} for {lb['Type']} load balancers")
    new = None if reset else wanted
    if (new or 0) < current:
        recent = [t for t in reservation.get("decreases", []) if now - t < 86400]
        if len(recent) >= DECREASES_PER_DAY:
            raise AwsError("CapacityDecreaseRequestLimitExceeded",
                           f"You can decrease the capacity reservation at most {DECREASES_PER_DAY} times a day")
        reservation["decreases"] = recent + [now]
    reservation.update(units=new, modified=now)
    lb["_capacity"] = reservation
    table(ctx, LB).put(lb["LoadBalancerArn"], lb)
    return _reservation_view(lb, now)
