"""Listeners of Classic Load Balancers and their certificates."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...dataplane.lb.control import runtime_of
from .model import (
    DEFAULT_SSL_POLICY, FRONT_PROTOCOLS, L7, MAX_LISTENERS, SSL_POLICY_TYPE, check_listener_port, find_lb, invalid,
    misconfigured, save,
)

SECURE = ("HTTPS", "SSL")


def _certificate(ctx, arn: str | None, protocol: str, port: int) -> str:
    if not arn:
        raise invalid(f"An SSLCertificateId is required for the {protocol} listener on port {port}.")
    from ..acm.internal import certificate_material

    # Only ACM certificates are served: kumo's IAM keeps no server certificates.
    if certificate_material(ctx.kumo, arn) is None:
        raise AwsError("CertificateNotFound", f"The specified ARN does not refer to a valid SSL certificate in AWS "
                                              f"Certificate Manager: '{arn}'.")
    return arn


def check_listener(ctx, raw: dict) -> dict:
    """A listener as AWS stores it: protocols upper-cased, InstanceProtocol filled in, certificate checked."""
    protocol = (raw.get("Protocol") or "").upper()
    port = raw["LoadBalancerPort"]
    if protocol not in FRONT_PROTOCOLS:
        raise AwsError("UnsupportedProtocol", f"Protocol '{raw.get('Protocol')}' is not supported: use HTTP, "
                                              f"HTTPS, TCP or SSL.")
    check_listener_port(port)
    # Unless told otherwise the load balancer terminates TLS and talks plain HTTP or TCP to the instances.
    instance_protocol = (raw.get("InstanceProtocol") or ("HTTP" if protocol in L7 else "TCP")).upper()
    if instance_protocol not in FRONT_PROTOCOLS:
        raise AwsError("UnsupportedProtocol", f"InstanceProtocol '{raw.get('InstanceProtocol')}' is not supported.")
    if (protocol in L7) != (instance_protocol in L7):
        raise misconfigured(f"InstanceProtocol {instance_protocol} is not compatible with listener protocol "
                            f"{protocol}: HTTP and HTTPS pair with HTTP or HTTPS, TCP and SSL with TCP or SSL.")
    if instance_protocol in SECURE:
        raise AwsError("NotImplemented", "kumo's load balancers do not encrypt traffic to instances yet "
                                         "(InstanceProtocol HTTPS or SSL).", status=501)
    listener = {"Protocol": protocol, "LoadBalancerPort": port, "InstanceProtocol": instance_protocol,
                "InstancePort": raw["InstancePort"]}
    if protocol in SECURE:
        listener["SSLCertificateId"] = _certificate(ctx, raw.get("SSLCertificateId"), protocol, port)
    return listener


def check_listeners(ctx, raws: list[dict]) -> list[dict]:
    if not raws:
        raise invalid("At least one listener must be specified.")
    listeners = [check_listener(ctx, r) for r in raws]
    seen: dict[int, dict] = {}
    for listener in listeners:
        other = seen.setdefault(listener["LoadBalancerPort"], listener)
        if other != listener:
            raise AwsError("DuplicateListener", f"Listeners on LoadBalancerPort {listener['LoadBalancerPort']} are "
                                                f"given twice with different settings.")
    return list(seen.values())


def _check_instance_port_security(lb: dict, listener: dict) -> None:
    """Listeners sharing an InstancePort agree on whether the traffic to it is encrypted (AWS's rule)."""
    for ld in lb["ListenerDescriptions"]:
        other = ld["Listener"]
        if other["InstancePort"] == listener["InstancePort"] and \
                (other["InstanceProtocol"] in SECURE) != (listener["InstanceProtocol"] in SECURE):
            raise misconfigured(f"InstancePort {listener['InstancePort']} is used by another listener with "
                                f"InstanceProtocol {other['InstanceProtocol']}; both must be secure or both not.")


def add_listener(ctx, lb: dict, listener: dict) -> None:
    """Add a checked listener to the record (an identical one already there is left as it is)."""
    for ld in lb["ListenerDescriptions"]:
        if ld["Listener"]["LoadBalancerPort"] == listener["LoadBalancerPort"]:
            if ld["Listener"] == listener:
                return
            raise AwsError("DuplicateListener", f"A listener already exists for {lb['LoadBalancerName']} with "
                                                f"LoadBalancerPort {listener['LoadBalancerPort']}, but with a "
                                                f"different InstancePort, Protocol, or SSLCertificateId")
    if len(lb["ListenerDescriptions"]) >= MAX_LISTENERS:
        raise misconfigured(f"A load balancer can have at most {MAX_LISTENERS} listeners.")
    _check_instance_port_security(lb, listener)
    policies = []
    if listener["Protocol"] in SECURE:
        # AWS gives a new HTTPS/SSL listener its default security policy as a policy of the load balancer.
        _ensure_default_ssl_policy(lb)
        policies.append(DEFAULT_SSL_POLICY)
        _mark_certificate(ctx, lb, listener["SSLCertificateId"], True)
    lb["ListenerDescriptions"].append({"Listener": listener, "PolicyNames": policies})
    lb["ListenerDescriptions"].sort(key=lambda ld: ld["Listener"]["LoadBalancerPort"])


def _ensure_default_ssl_policy(lb: dict) -> None:
    if DEFAULT_SSL_POLICY in lb["_policies"]:
        return
    lb["_policies"][DEFAULT_SSL_POLICY] = {
        "PolicyName": DEFAULT_SSL_POLICY, "PolicyTypeName": SSL_POLICY_TYPE,
        "PolicyAttributeDescriptions": [{"AttributeName": "Reference-Security-Policy",
                                         "AttributeValue": DEFAULT_SSL_POLICY}],
    }
    lb["Policies"]["OtherPolicies"].append(DEFAULT_SSL_POLICY)


def _mark_certificate(ctx, lb: dict, arn: str | None, in_use: bool) -> None:
    if not arn:
        return
    if not in_use and any(ld["Listener"].get("SSLCertificateId") == arn for ld in lb["ListenerDescriptions"]):
        return  # another listener still serves it
    from ..acm.internal import mark_in_use

    mark_in_use(ctx.kumo, arn, lb["_arn"], in_use)


def release_certificate(ctx, lb: dict, listener: dict) -> None:
    """Tell ACM a listener no longer serves its certificate (call once the listener left the record)."""
    _mark_certificate(ctx, lb, listener.get("SSLCertificateId"), False)


def find_listener(lb: dict, port: int) -> dict:
    for ld in lb["ListenerDescriptions"]:
        if ld["Listener"]["LoadBalancerPort"] == port:
            return ld
    raise AwsError("ListenerNotFound", f"There is no listener on port {port} for load balancer "
                                       f"'{lb['LoadBalancerName']}'.")


# -- operations ----------------------------------------------------------------------------------------


def create_load_balancer_listeners(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    for listener in check_listeners(ctx, p["Listeners"]):
        add_listener(ctx, lb, listener)
    save(ctx, lb)
    runtime_of(ctx.kumo).invalidate()
    return {}


def delete_load_balancer_listeners(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    ports = set(p["LoadBalancerPorts"])
    gone = [ld for ld in lb["ListenerDescriptions"] if ld["Listener"]["LoadBalancerPort"] in ports]
    lb["ListenerDescriptions"] = [ld for ld in lb["ListenerDescriptions"] if ld not in gone]
    for ld in gone:
        release_certificate(ctx, lb, ld["Listener"])
    save(ctx, lb)
    runtime_of(ctx.kumo).invalidate()
    return {}


def set_load_balancer_listener_ssl_certificate(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    ld = find_listener(lb, p["LoadBalancerPort"])
    listener = ld["Listener"]
    if listener["Protocol"] not in SECURE:
        raise misconfigured(f"The listener on port {listener['LoadBalancerPort']} uses {listener['Protocol']}: only "
                            f"HTTPS and SSL listeners have a certificate.")
    arn = _certificate(ctx, p["SSLCertificateId"], listener["Protocol"], listener["LoadBalancerPort"])
    old = listener["SSLCertificateId"]
    listener["SSLCertificateId"] = arn
    release_certificate(ctx, lb, {"SSLCertificateId": old})
    _mark_certificate(ctx, lb, arn, True)
    save(ctx, lb)
    runtime_of(ctx.kumo).invalidate()
    return {}
