"""Listeners, their certificates, and listener rules."""

from __future__ import annotations

import copy

from ...aws.errors import AwsError
from ...dataplane.lb import rules as R
from ...dataplane.lb.control import HEALTH, runtime_of
from . import conditions as limits
from .loadbalancers import _tag, find_lb
from .model import (
    ALB_PROTOCOLS, LB, LISTENER, NLB_PROTOCOLS, RULE, TAGS, TG, invalid, new_suffix, page, required, table,
)

SSL_POLICY = "ELBSecurityPolicy-2016-08"
_ACTIONS = ("forward", "redirect", "fixed-response")
_CONDITIONS = ("host-header", "path-pattern", "http-header", "http-request-method", "query-string", "source-ip")


def find_listener(ctx, arn: str) -> dict:
    listener = table(ctx, LISTENER).get(arn)
    if listener is None:
        raise AwsError("ListenerNotFound", f"Listener '{arn}' not found")
    return listener


def find_rule(ctx, arn: str) -> dict:
    rule = table(ctx, RULE).get(arn)
    if rule is None:
        raise AwsError("RuleNotFound", "One or more rules not found")
    return rule


def _certificates(ctx, certs: list | None) -> list[dict]:
    from ..acm.internal import certificate_material

    out = []
    for c in certs or []:
        arn = c.get("CertificateArn")
        if not arn or certificate_material(ctx.kumo, arn) is None:
            raise AwsError("CertificateNotFound", f"Certificate '{arn}' not found")
        out.append({"CertificateArn": arn})
    return out


def _check_actions(ctx, lb: dict, actions: list[dict], protocol: str) -> list[dict]:
    if not actions:
        raise invalid("At least one action must be specified")
    checked = []
    for action in actions:
        kind = action.get("Type")
        if kind not in _ACTIONS:
            if kind and kind.startswith("authenticate"):
                raise AwsError("NotImplemented", f"kumo does not implement '{kind}' actions.", status=501)
            raise invalid(f"Action type '{kind}' is not valid")
        if kind in ("redirect", "fixed-response") and lb["Type"] == "network":
            raise invalid(f"Action type '{kind}' is not supported by Network Load Balancers")
        if kind == "forward":
            arns = [action["TargetGroupArn"]] if action.get("TargetGroupArn") else \
                [g["TargetGroupArn"] for g in (action.get("ForwardConfig") or {}).get("TargetGroups") or []]
            if not arns:
                raise invalid("A target group ARN must be specified")
            for arn in arns:
                tg = table(ctx, TG).get(arn)
                if tg is None:
                    raise AwsError("TargetGroupNotFound", f"Target groups '{arn}' not found")
                expected = ALB_PROTOCOLS if lb["Type"] == "application" else NLB_PROTOCOLS
                if tg["TargetType"] != "lambda" and tg["Protocol"] not in expected:
                    raise AwsError("IncompatibleProtocols",
                                   f"The protocol of target group '{tg['TargetGroupName']}' is not compatible with "
                                   f"a {lb['Type']} load balancer")
                others = [a for a in tg["LoadBalancerArns"] if a != lb["LoadBalancerArn"]]
                other_types = {table(ctx, LB).get(a, {}).get("Type") for a in others}
                if other_types - {lb["Type"], None}:
                    raise invalid(f"Target group '{arn}' is associated with a load balancer of another type")
            if action.get("TargetGroupArn") and not action.get("ForwardConfig"):
                action = {**action, "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": action["TargetGroupArn"],
                                                                        "Weight": 1}],
                                                      "TargetGroupStickinessConfig": {"Enabled": False}}}
        if kind == "redirect":
            cfg = action.get("RedirectConfig") or {}
            if cfg.get("StatusCode") not in ("HTTP_301", "HTTP_302"):
                raise invalid("Redirect status code must be HTTP_301 or HTTP_302")
        if kind == "fixed-response":
            cfg = action.get("FixedResponseConfig") or {}
            code = str(cfg.get("StatusCode", ""))
            if not (code.isdigit() and 200 <= int(code) <= 599):
                raise invalid("Fixed response status code must be 2XX, 4XX or 5XX")
        checked.append(action)
    return checked


def _forwarded_groups(actions: list[dict]) -> set[str]:
    out = set()
    for action in actions:
        if action.get("Type") == "forward":
            out |= {g["TargetGroupArn"] for g in (action.get("ForwardConfig") or {}).get("TargetGroups") or []}
            if action.get("TargetGroupArn"):
                out.add(action["TargetGroupArn"])
    return out


def refresh_associations(ctx) -> None:
    """Each target group's LoadBalancerArns, from the actions that forward to it."""
    used: dict[str, set[str]] = {}
    for listener in table(ctx, LISTENER).values():
        arns = _forwarded_groups(listener["DefaultActions"])
        for rule in table(ctx, RULE).values():
            if rule["_listener"] == listener["ListenerArn"]:
                arns |= _forwarded_groups(rule["Actions"])
        for arn in arns:
            used.setdefault(arn, set()).add(listener["LoadBalancerArn"])
    for tg in table(ctx, TG).values():
        new = sorted(used.get(tg["TargetGroupArn"], set()))
        if new != tg["LoadBalancerArns"]:
            tg["LoadBalancerArns"] = new
            table(ctx, TG).put(tg["TargetGroupArn"], tg)
            if new:  # a group that now serves a load balancer is checked at once
                ctx.controllers.enqueue(HEALTH, tg["TargetGroupArn"])


def _check_protocol(lb: dict, protocol: str, port: int, certs: list) -> None:
    allowed = ALB_PROTOCOLS if lb["Type"] == "application" else NLB_PROTOCOLS
    if protocol not in allowed:
        raise invalid(f"Listener protocol '{protocol}' must be one of '{', '.join(allowed)}'")
    if protocol in ("HTTPS", "TLS") and not certs:
        raise AwsError("CertificateNotFound", "A certificate must be specified for HTTPS and TLS listeners")


def create_listener(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    lb = find_lb(ctx, p["LoadBalancerArn"])
    protocol = p.get("Protocol") or ("HTTP" if lb["Type"] == "application" else "TCP")
    port = p.get("Port") or (443 if protocol in ("HTTPS", "TLS") else 80)
    certs = _certificates(ctx, p.get("Certificates"))
    _check_protocol(lb, protocol, port, certs)
    for other in table(ctx, LISTENER).values():
        if other["LoadBalancerArn"] == lb["LoadBalancerArn"] and other["Port"] == port:
            same = other["Protocol"] == protocol or "TCP_UDP" in (other["Protocol"], protocol) \
                or {"TCP", "TLS"} & {other["Protocol"]} and {"TCP", "TLS"} & {protocol}
            if same:
                raise AwsError("DuplicateListener", "A listener already exists on this port for this load balancer")
    actions = _check_actions(ctx, lb, copy.deepcopy(p["DefaultActions"]), protocol)
    lb_part = lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
    arn = ctx.arn(f"listener/{lb_part}/{new_suffix()}", service="elasticloadbalancing")
    listener = {"ListenerArn": arn, "LoadBalancerArn": lb["LoadBalancerArn"], "Port": port, "Protocol": protocol,
                "DefaultActions": actions, "_extra_certs": []}
    if certs:
        listener["Certificates"] = certs[:1]
        listener["SslPolicy"] = p.get("SslPolicy") or SSL_POLICY
        listener["_extra_certs"] = [c["CertificateArn"] for c in certs[1:]]
    if p.get("AlpnPolicy"):
        listener["AlpnPolicy"] = p["AlpnPolicy"]
    table(ctx, LISTENER).put(arn, listener)
    _mark_certs(ctx, listener, True)
    _tag(ctx, arn, p.get("Tags"))
    refresh_associations(ctx)
    runtime_of(ctx.kumo).invalidate()
    return {"Listeners": [view(listener)]}


def _mark_certs(ctx, listener: dict, in_use: bool) -> None:
    from ..acm.internal import mark_in_use

    for arn in [c["CertificateArn"] for c in listener.get("Certificates") or []] + listener["_extra_certs"]:
        mark_in_use(ctx.kumo, arn, listener["LoadBalancerArn"], in_use)


def view(listener: dict) -> dict:
    return {k: v for k, v in listener.items() if not k.startswith("_")}


def describe_listeners(ctx, p):
    if p.get("ListenerArns"):
        items = [find_listener(ctx, a) for a in p["ListenerArns"]]
    elif p.get("LoadBalancerArn"):
        find_lb(ctx, p["LoadBalancerArn"])
        items = [x for x in table(ctx, LISTENER).values() if x["LoadBalancerArn"] == p["LoadBalancerArn"]]
    else:
        raise invalid("You must specify either listener ARNs or a load balancer ARN")
    return page([view(x) for x in items], p, lambda x: x["ListenerArn"], "Listeners", f"listeners/{ctx.account}")


def modify_listener(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    listener = find_listener(ctx, p["ListenerArn"])
    lb = find_lb(ctx, listener["LoadBalancerArn"])
    _mark_certs(ctx, listener, False)
    protocol = p.get("Protocol") or listener["Protocol"]
    port = p.get("Port") or listener["Port"]
    certs = _certificates(ctx, p["Certificates"]) if p.get("Certificates") else listener.get("Certificates") or []
    _check_protocol(lb, protocol, port, certs)
    listener.update({"Protocol": protocol, "Port": port})
    if certs:
        listener["Certificates"] = certs[:1]
        listener["SslPolicy"] = p.get("SslPolicy") or listener.get("SslPolicy") or SSL_POLICY
    else:
        listener.pop("Certificates", None)
        listener.pop("SslPolicy", None)
    if p.get("DefaultActions"):
        listener["DefaultActions"] = _check_actions(ctx, lb, copy.deepcopy(p["DefaultActions"]), protocol)
    table(ctx, LISTENER).put(listener["ListenerArn"], listener)
    _mark_certs(ctx, listener, True)
    refresh_associations(ctx)
    runtime_of(ctx.kumo).invalidate()
    return {"Listeners": [view(listener)]}


def drop_listener(ctx, listener: dict) -> None:
    _mark_certs(ctx, listener, False)
    for rule in table(ctx, RULE).values():
        if rule["_listener"] == listener["ListenerArn"]:
            table(ctx, RULE).delete(rule["RuleArn"])
            table(ctx, TAGS).delete(rule["RuleArn"])
    table(ctx, LISTENER).delete(listener["ListenerArn"])
    table(ctx, TAGS).delete(listener["ListenerArn"])
    refresh_associations(ctx)


def delete_listener(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    drop_listener(ctx, find_listener(ctx, p["ListenerArn"]))
    runtime_of(ctx.kumo).invalidate()
    return {}


def add_listener_certificates(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    listener = find_listener(ctx, p["ListenerArn"])
    certs = _certificates(ctx, p["Certificates"])
    for c in certs:
        if c["CertificateArn"] not in listener["_extra_certs"]:
            listener["_extra_certs"].append(c["CertificateArn"])
    table(ctx, LISTENER).put(listener["ListenerArn"], listener)
    _mark_certs(ctx, listener, True)
    runtime_of(ctx.kumo).invalidate()
    return {"Certificates": [{"CertificateArn": a, "IsDefault": False} for a in listener["_extra_certs"]]}


def remove_listener_certificates(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    listener = find_listener(ctx, p["ListenerArn"])
    from ..acm.internal import mark_in_use

    default = {c["CertificateArn"] for c in listener.get("Certificates") or []}
    for c in p["Certificates"]:
        if c.get("CertificateArn") in default:
            raise AwsError("OperationNotPermitted", "The default certificate cannot be removed from a listener; "
                                                    "change it with ModifyListener")
    for c in p["Certificates"]:
        if c["CertificateArn"] in listener["_extra_certs"]:
            listener["_extra_certs"].remove(c["CertificateArn"])
            mark_in_use(ctx.kumo, c["CertificateArn"], listener["LoadBalancerArn"], False)
    table(ctx, LISTENER).put(listener["ListenerArn"], listener)
    runtime_of(ctx.kumo).invalidate()
    return {}


def describe_listener_certificates(ctx, p):
    listener = find_listener(ctx, p["ListenerArn"])
    certs = [{"CertificateArn": c["CertificateArn"], "IsDefault": True} for c in listener.get("Certificates") or []]
    certs += [{"CertificateArn": a, "IsDefault": False} for a in listener["_extra_certs"]]
    return {"Certificates": certs}


def describe_ssl_policies(ctx, p):
    policies = [{"Name": SSL_POLICY, "SslProtocols": ["TLSv1", "TLSv1.1", "TLSv1.2"],
                 "Ciphers": [{"Name": "ECDHE-RSA-AES128-GCM-SHA256", "Priority": 1}],
                 "SupportedLoadBalancerTypes": ["application", "network"]},
                {"Name": "ELBSecurityPolicy-TLS13-1-2-2021-06", "SslProtocols": ["TLSv1.2", "TLSv1.3"],
                 "Ciphers": [{"Name": "TLS_AES_128_GCM_SHA256", "Priority": 1}],
                 "SupportedLoadBalancerTypes": ["application", "network"]}]
    if p.get("Names"):
        known = {x["Name"] for x in policies}
        missing = [n for n in p["Names"] if n not in known]
        if missing:
            raise AwsError("SSLPolicyNotFound", f"One or more SSL policies not found: '{', '.join(missing)}'")
        policies = [x for x in policies if x["Name"] in p["Names"]]
    if p.get("LoadBalancerType"):
        policies = [x for x in policies if p["LoadBalancerType"] in x["SupportedLoadBalancerTypes"]]
    return {"SslPolicies": policies}


# -- rules --------------------------------------------------------------------------------------------


def _check_conditions(conditions: list[dict]) -> list[dict]:
    for cond in conditions:
        if cond.get("Field") not in _CONDITIONS:
            raise invalid(f"Condition field '{cond.get('Field')}' must be one of '{', '.join(_CONDITIONS)}'")
        try:
            R.compile_condition(cond)
        except ValueError as exc:
            raise invalid(f"A condition is not valid: {exc}")
    limits.check(conditions)
    return conditions


def _default_rule(listener: dict) -> dict:
    return {"RuleArn": listener["ListenerArn"].replace(":listener/", ":listener-rule/") + "/default",
            "Priority": "default", "Conditions": [], "Actions": listener["DefaultActions"], "IsDefault": True}


def create_rule(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    listener = find_listener(ctx, p["ListenerArn"])
    lb = find_lb(ctx, listener["LoadBalancerArn"])
    if lb["Type"] != "application":
        raise invalid("Rules are supported by Application Load Balancers only")
    priority = p["Priority"]
    if any(r["_listener"] == listener["ListenerArn"] and r["Priority"] == str(priority)
           for r in table(ctx, RULE).values()):
        raise AwsError("PriorityInUse", f"Priority '{priority}' is currently in use")
    conditions = _check_conditions(copy.deepcopy(p["Conditions"]))
    actions = _check_actions(ctx, lb, copy.deepcopy(p["Actions"]), listener["Protocol"])
    listener_part = listener["ListenerArn"].split(":listener/", 1)[1]
    arn = ctx.arn(f"listener-rule/{listener_part}/{new_suffix()}", service="elasticloadbalancing")
    rule = {"RuleArn": arn, "Priority": str(priority), "Conditions": conditions, "Actions": actions,
            "IsDefault": False, "_listener": listener["ListenerArn"]}
    table(ctx, RULE).put(arn, rule)
    _tag(ctx, arn, p.get("Tags"))
    refresh_associations(ctx)
    runtime_of(ctx.kumo).invalidate()
    return {"Rules": [rule_view(rule)]}


def rule_view(rule: dict) -> dict:
    return {k: v for k, v in rule.items() if not k.startswith("_")}


def describe_rules(ctx, p):
    if p.get("RuleArns"):
        rules = []
        for arn in p["RuleArns"]:
            if arn.endswith("/default"):
                listener = find_listener(ctx, arn[:-len("/default")].replace(":listener-rule/", ":listener/"))
                rules.append(_default_rule(listener))
            else:
                rules.append(rule_view(find_rule(ctx, arn)))
    elif p.get("ListenerArn"):
        listener = find_listener(ctx, p["ListenerArn"])
        rules = sorted((rule_view(r) for r in table(ctx, RULE).values() if r["_listener"] == listener["ListenerArn"]),
                       key=lambda r: int(r["Priority"]))
        rules.append(_default_rule(listener))
    else:
        raise invalid("You must specify either listener rule ARNs or a listener ARN")
    return page(rules, p, lambda r: r["RuleArn"], "Rules", f"rules/{ctx.account}")


def modify_rule(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    rule = find_rule(ctx, p["RuleArn"])
    listener = find_listener(ctx, rule["_listener"])
    lb = find_lb(ctx, listener["LoadBalancerArn"])
    if p.get("Conditions") is not None:
        rule["Conditions"] = _check_conditions(copy.deepcopy(p["Conditions"]))
    if p.get("Actions") is not None:
        rule["Actions"] = _check_actions(ctx, lb, copy.deepcopy(p["Actions"]), listener["Protocol"])
    table(ctx, RULE).put(rule["RuleArn"], rule)
    refresh_associations(ctx)
    runtime_of(ctx.kumo).invalidate()
    return {"Rules": [rule_view(rule)]}


def delete_rule(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    if p["RuleArn"].endswith("/default"):
        raise AwsError("OperationNotPermitted", "Default rules cannot be deleted")
    rule = find_rule(ctx, p["RuleArn"])
    table(ctx, RULE).delete(rule["RuleArn"])
    table(ctx, TAGS).delete(rule["RuleArn"])
    refresh_associations(ctx)
    runtime_of(ctx.kumo).invalidate()
    return {}


def set_rule_priorities(ctx, p):
    ctx.after(runtime_of(ctx.kumo).settle)
    pairs = [(required(x, "RuleArn", f"rulePriorities.{i}"), required(x, "Priority", f"rulePriorities.{i}"))
             for i, x in enumerate(p["RulePriorities"], 1)]
    rules = [find_rule(ctx, arn) for arn, _ in pairs]
    new = {arn: str(priority) for arn, priority in pairs}
    listener_arns = {r["_listener"] for r in rules}
    for arn in listener_arns:
        taken = [new.get(r["RuleArn"], r["Priority"]) for r in table(ctx, RULE).values() if r["_listener"] == arn]
        if len(taken) != len(set(taken)):
            raise AwsError("PriorityInUse", "A priority is used by more than one rule")
    for rule in rules:
        rule["Priority"] = new[rule["RuleArn"]]
        table(ctx, RULE).put(rule["RuleArn"], rule)
    runtime_of(ctx.kumo).invalidate()
    return {"Rules": [rule_view(r) for r in rules]}
