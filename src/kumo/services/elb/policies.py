"""Policies of Classic Load Balancers: stickiness (which the data plane applies) and the others (stored).

Only the two stickiness policy types change how traffic flows.  SSL
negotiation, proxy protocol, back-end authentication and public key policies
are kept and described as created, but kumo's listeners do not act on them.
"""

from __future__ import annotations

from ...aws.errors import AwsError
from ...dataplane.lb.control import runtime_of
from .listeners import SECURE, find_listener
from .model import (
    APP_COOKIE_POLICY, L7, LB_COOKIE_POLICY, POLICY_TYPES, SSL_POLICY_TYPE, check_policy_name, find_lb, invalid,
    misconfigured, save,
)

STICKINESS = (LB_COOKIE_POLICY, APP_COOKIE_POLICY)
# AWS's predefined security policies, as DescribeLoadBalancerPolicies lists them without a load balancer name.
# kumo lists their protocols; the cipher switches AWS also returns are not carried.
PREDEFINED = {
    "ELBSecurityPolicy-2016-08": ("Protocol-TLSv1", "Protocol-TLSv1.1", "Protocol-TLSv1.2"),
    "ELBSecurityPolicy-TLS-1-1-2017-01": ("Protocol-TLSv1.1", "Protocol-TLSv1.2"),
    "ELBSecurityPolicy-TLS-1-2-2017-01": ("Protocol-TLSv1.2",),
    "ELBSecurityPolicy-2015-05": ("Protocol-TLSv1", "Protocol-TLSv1.1", "Protocol-TLSv1.2"),
}


def _predefined(name: str) -> dict:
    attrs = [{"AttributeName": a, "AttributeValue": "true"} for a in PREDEFINED[name]]
    attrs.append({"AttributeName": "Server-Defined-Cipher-Order", "AttributeValue": "true"})
    return {"PolicyName": name, "PolicyTypeName": SSL_POLICY_TYPE, "PolicyAttributeDescriptions": attrs}


def _add(lb: dict, policy: dict) -> None:
    name = policy["PolicyName"]
    if name in lb["_policies"]:
        raise AwsError("DuplicatePolicyName", f"Policy '{name}' already exists for load balancer "
                                              f"'{lb['LoadBalancerName']}'.")
    attrs = {a["AttributeName"]: a.get("AttributeValue") for a in policy["PolicyAttributeDescriptions"]}
    kind = policy["PolicyTypeName"]
    if kind == LB_COOKIE_POLICY:
        entry = {"PolicyName": name}
        if attrs.get("CookieExpirationPeriod"):
            entry["CookieExpirationPeriod"] = int(attrs["CookieExpirationPeriod"])
        lb["Policies"]["LBCookieStickinessPolicies"].append(entry)
    elif kind == APP_COOKIE_POLICY:
        lb["Policies"]["AppCookieStickinessPolicies"].append({"PolicyName": name, "CookieName": attrs["CookieName"]})
    else:
        lb["Policies"]["OtherPolicies"].append(name)
    lb["_policies"][name] = policy


def create_lb_cookie_stickiness_policy(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    name = check_policy_name(p["PolicyName"])
    period = p.get("CookieExpirationPeriod")
    if period is not None and period < 0:
        raise invalid("CookieExpirationPeriod must not be negative.")
    attrs = [{"AttributeName": "CookieExpirationPeriod", "AttributeValue": str(period)}] if period else []
    _add(lb, {"PolicyName": name, "PolicyTypeName": LB_COOKIE_POLICY, "PolicyAttributeDescriptions": attrs})
    save(ctx, lb)
    return {}


def create_app_cookie_stickiness_policy(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    name = check_policy_name(p["PolicyName"])
    if not p["CookieName"]:
        raise invalid("CookieName must not be empty.")
    _add(lb, {"PolicyName": name, "PolicyTypeName": APP_COOKIE_POLICY,
              "PolicyAttributeDescriptions": [{"AttributeName": "CookieName", "AttributeValue": p["CookieName"]}]})
    save(ctx, lb)
    return {}


def create_load_balancer_policy(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    name = check_policy_name(p["PolicyName"])
    kind = p["PolicyTypeName"]
    if kind not in POLICY_TYPES:
        raise AwsError("PolicyTypeNotFound", f"Policy type '{kind}' does not exist.")
    attrs = [{"AttributeName": a.get("AttributeName", ""), "AttributeValue": a.get("AttributeValue", "")}
             for a in p.get("PolicyAttributes") or []]
    given = {a["AttributeName"]: a["AttributeValue"] for a in attrs}
    if kind == APP_COOKIE_POLICY and not given.get("CookieName"):
        raise misconfigured("An AppCookieStickinessPolicyType policy needs a CookieName attribute.")
    if kind == LB_COOKIE_POLICY and given.get("CookieExpirationPeriod") and \
            not given["CookieExpirationPeriod"].isdigit():
        raise misconfigured("CookieExpirationPeriod must be a number of seconds.")
    if kind == SSL_POLICY_TYPE and given.get("Reference-Security-Policy") and \
            given["Reference-Security-Policy"] not in PREDEFINED:
        raise misconfigured(f"Reference-Security-Policy '{given['Reference-Security-Policy']}' is not a "
                            f"predefined security policy kumo knows.")
    _add(lb, {"PolicyName": name, "PolicyTypeName": kind, "PolicyAttributeDescriptions": attrs})
    save(ctx, lb)
    return {}


def describe_load_balancer_policies(ctx, p):
    names = p.get("PolicyNames") or []
    if not p.get("LoadBalancerName"):
        catalogue = {n: _predefined(n) for n in PREDEFINED}
        missing = [n for n in names if n not in catalogue]
        if missing:
            raise AwsError("PolicyNotFound", f"There is no policy with name '{missing[0]}'.")
        return {"PolicyDescriptions": [catalogue[n] for n in (names or catalogue)]}
    lb = find_lb(ctx, p["LoadBalancerName"])
    missing = [n for n in names if n not in lb["_policies"]]
    if missing:
        raise AwsError("PolicyNotFound", f"There is no policy with name '{missing[0]}' for load balancer "
                                         f"'{lb['LoadBalancerName']}'.")
    return {"PolicyDescriptions": [lb["_policies"][n] for n in (names or lb["_policies"])]}


def delete_load_balancer_policy(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    name = p["PolicyName"]
    if name not in lb["_policies"]:
        return {}
    users = [ld["Listener"]["LoadBalancerPort"] for ld in lb["ListenerDescriptions"] if name in ld["PolicyNames"]]
    if users:
        raise misconfigured(f"Policy '{name}' is in use by the listener on port {users[0]} and cannot be deleted.")
    del lb["_policies"][name]
    for key in ("LBCookieStickinessPolicies", "AppCookieStickinessPolicies"):
        lb["Policies"][key] = [x for x in lb["Policies"][key] if x["PolicyName"] != name]
    lb["Policies"]["OtherPolicies"] = [x for x in lb["Policies"]["OtherPolicies"] if x != name]
    save(ctx, lb)
    return {}


def set_load_balancer_policies_of_listener(ctx, p):
    lb = find_lb(ctx, p["LoadBalancerName"])
    ld = find_listener(lb, p["LoadBalancerPort"])
    protocol = ld["Listener"]["Protocol"]
    names = list(dict.fromkeys(p["PolicyNames"]))
    kinds = []
    for name in names:
        policy = lb["_policies"].get(name)
        if policy is None:
            raise AwsError("PolicyNotFound", f"There is no policy with name '{name}' for load balancer "
                                             f"'{lb['LoadBalancerName']}'.")
        kind = policy["PolicyTypeName"]
        if kind in STICKINESS and protocol not in L7:
            raise misconfigured(f"{kind} policies apply to HTTP and HTTPS listeners only; the listener on port "
                                f"{p['LoadBalancerPort']} uses {protocol}.")
        if kind == SSL_POLICY_TYPE and protocol not in SECURE:
            raise misconfigured(f"SSLNegotiationPolicyType policies apply to HTTPS and SSL listeners only; the "
                                f"listener on port {p['LoadBalancerPort']} uses {protocol}.")
        if kind not in STICKINESS + (SSL_POLICY_TYPE,):
            raise misconfigured(f"{kind} policies cannot be set on a listener.")
        kinds.append(kind)
    if sum(1 for k in kinds if k in STICKINESS) > 1:
        raise misconfigured("A listener can have only one stickiness policy.")
    if kinds.count(SSL_POLICY_TYPE) > 1:
        raise misconfigured("A listener can have only one SSL negotiation policy.")
    ld["PolicyNames"] = names
    save(ctx, lb)
    runtime_of(ctx.kumo).invalidate()
    return {}
