"""ALB listener rules: conditions and actions, without sockets.

Conditions of a rule are ANDed; the values of one condition are ORed.
host-header, http-header and query-string match case-insensitively,
path-pattern and http-request-method case-sensitively; ``*`` and ``?`` are
wildcards.  Rules are tried by priority, the default rule last.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable
from urllib.parse import parse_qsl


@dataclass
class Request:
    method: str
    path: str
    query: str
    host: str  # without the port
    headers: dict[str, list[str]]  # lower-case names
    source_ip: str
    protocol: str = "http"  # http | https
    port: int = 80


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(out) + r"\Z", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _any(values: list[str], text: str | None, ignore_case: bool) -> bool:
    if text is None:
        return False
    return any(_wildcard(v, ignore_case).match(text) for v in values)


def _condition_values(cond: dict, config_key: str) -> list[str]:
    cfg = cond.get(config_key) or {}
    return list(cfg.get("Values") or cond.get("Values") or [])


def compile_condition(cond: dict) -> Callable[[Request], bool]:
    field_name = cond.get("Field")
    if field_name == "host-header":
        values = _condition_values(cond, "HostHeaderConfig")
        return lambda r: _any(values, r.host, True)
    if field_name == "path-pattern":
        values = _condition_values(cond, "PathPatternConfig")
        return lambda r: _any(values, r.path, False)
    if field_name == "http-request-method":
        values = set(_condition_values(cond, "HttpRequestMethodConfig"))
        return lambda r: r.method in values
    if field_name == "http-header":
        cfg = cond.get("HttpHeaderConfig") or {}
        name = (cfg.get("HttpHeaderName") or "").lower()
        values = list(cfg.get("Values") or [])
        return lambda r: any(_any(values, v, True) for v in r.headers.get(name, []))
    if field_name == "query-string":
        pairs = [(p.get("Key"), p.get("Value", "")) for p in (cond.get("QueryStringConfig") or {}).get("Values") or []]

        def query(r: Request) -> bool:
            given = parse_qsl(r.query, keep_blank_values=True)
            for key, value in pairs:
                for k, v in given:
                    if (key is None or _wildcard(key, True).match(k)) and _wildcard(value, True).match(v):
                        return True
            return False
        return query
    if field_name == "source-ip":
        nets = [ipaddress.ip_network(v, strict=False) for v in _condition_values(cond, "SourceIpConfig")]

        def source(r: Request) -> bool:
            try:
                ip = ipaddress.ip_address(r.source_ip)
            except ValueError:
                return False
            return any(ip in n for n in nets if n.version == ip.version)
        return source
    raise ValueError(f"unsupported condition field {field_name!r}")


@dataclass
class Rule:
    priority: int  # the default rule sorts last
    matchers: list[Callable[[Request], bool]]
    actions: list[dict]
    arn: str = ""

    def matches(self, request: Request) -> bool:
        return all(m(request) for m in self.matchers)


DEFAULT_PRIORITY = 1 << 30


def compile_rules(rules: list[dict]) -> list[Rule]:
    """From [{"priority": int | "default", "conditions": [...], "actions": [...]}], in evaluation order."""
    out = []
    for r in rules:
        for action in r.get("actions") or []:
            if action.get("Type") == "forward":
                action["_groups"] = forward_groups(action)  # once per config, not once per request
        prio = DEFAULT_PRIORITY if r.get("priority") in (None, "default") else int(r["priority"])
        out.append(Rule(prio, [compile_condition(c) for c in r.get("conditions") or []],
                        sorted(r.get("actions") or [], key=lambda a: a.get("Order", 0)), r.get("arn", "")))
    out.sort(key=lambda rule: rule.priority)
    return out


def first_match(rules: list[Rule], request: Request) -> Rule | None:
    for rule in rules:
        if rule.matches(request):
            return rule
    return None


# -- actions -------------------------------------------------------------------------------------


@dataclass
class Redirect:
    status: int
    location: str


def redirect(config: dict, r: Request) -> Redirect:
    """A redirect action, with #{protocol}, #{host}, #{port}, #{path} and #{query} substituted."""
    values = {"protocol": r.protocol, "host": r.host, "port": str(r.port), "path": r.path.lstrip("/"),
              "query": r.query}

    def sub(template: str) -> str:
        return re.sub(r"#\{(protocol|host|port|path|query)\}", lambda m: values[m.group(1)], template)

    protocol = sub(config.get("Protocol") or "#{protocol}").lower()
    host = sub(config.get("Host") or "#{host}")
    port = sub(config.get("Port") or "#{port}")
    path = sub(config.get("Path") or "/#{path}")
    query = sub(config.get("Query") if config.get("Query") is not None else "#{query}")
    default_port = {"http": "80", "https": "443"}.get(protocol)
    netloc = host if port == default_port else f"{host}:{port}"
    location = f"{protocol}://{netloc}{path if path.startswith('/') else '/' + path}"
    if query:
        location += "?" + query
    status = 301 if config.get("StatusCode", "HTTP_301") == "HTTP_301" else 302
    return Redirect(status, location)


@dataclass
class WeightedGroups:
    groups: list[tuple[str, int]]  # (target group arn, weight)
    sticky: bool = False
    sticky_seconds: int = 3600


def forward_groups(action: dict) -> WeightedGroups:
    if action.get("TargetGroupArn") and not (action.get("ForwardConfig") or {}).get("TargetGroups"):
        return WeightedGroups([(action["TargetGroupArn"], 1)])
    cfg = action.get("ForwardConfig") or {}
    groups = [(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in cfg.get("TargetGroups") or []]
    sticky = cfg.get("TargetGroupStickinessConfig") or {}
    return WeightedGroups(groups, bool(sticky.get("Enabled")), int(sticky.get("DurationSeconds") or 3600))


def pick_group(wg: WeightedGroups, roll: float) -> str | None:
    """A target group by weight; ``roll`` is uniform in [0, 1)."""
    total = sum(w for _, w in wg.groups)
    if total <= 0:
        return wg.groups[0][0] if wg.groups else None
    point = roll * total
    for arn, weight in wg.groups:
        if point < weight:
            return arn
        point -= weight
    return wg.groups[-1][0]


__all__ = ["Request", "Rule", "compile_rules", "first_match", "redirect", "forward_groups", "pick_group",
           "WeightedGroups", "Redirect", "field", "Any"]
