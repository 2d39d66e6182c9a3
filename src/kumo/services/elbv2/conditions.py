"""AWS's documented limits on listener rule conditions (Application Load Balancer quotas and condition types).

* at most one host-header, path-pattern, http-request-method and source-ip condition a rule (http-header
  and query-string may repeat);
* at most 5 condition values a rule in all (each query-string key/value pair, each CIDR counts), and at
  most 5 wildcards (``*`` and ``?``) a rule;
* a host name: 1-128 of A-Z a-z 0-9 - . * ?; a path pattern: 1-128 of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?;
  an HTTP header name 1-40 characters of a token, its values up to 128; a method 1-40 of A-Z _ -; a
  query-string key or value up to 128; a source IP a CIDR block.
"""

from __future__ import annotations

import ipaddress
import re

from .model import invalid

MAX_VALUES = 5
MAX_WILDCARDS = 5
MAX_LENGTH = 128
_ONCE = ("host-header", "path-pattern", "http-request-method", "source-ip")
_HOST = re.compile(r"^[A-Za-z0-9\-.*?]+$")
_PATH = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]+$")
_HEADER = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,40}$")
_METHOD = re.compile(r"^[A-Z_\-]{1,40}$")
_CONFIG = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig",
           "http-request-method": "HttpRequestMethodConfig", "source-ip": "SourceIpConfig"}


def _values(cond: dict) -> list[str]:
    field = cond["Field"]
    if field == "http-header":
        return list((cond.get("HttpHeaderConfig") or {}).get("Values") or [])
    if field == "query-string":
        return [f"{p.get('Key') or ''}={p.get('Value', '')}" for p in
                (cond.get("QueryStringConfig") or {}).get("Values") or []]
    return list(((cond.get(_CONFIG[field]) or {}).get("Values")) or cond.get("Values") or [])


def _check_value(field: str, value: str, cond: dict) -> None:
    if field == "host-header":
        ok = 0 < len(value) <= MAX_LENGTH and _HOST.match(value)
    elif field == "path-pattern":
        ok = 0 < len(value) <= MAX_LENGTH and _PATH.match(value)
    elif field == "http-request-method":
        ok = _METHOD.match(value)
    elif field == "http-header":
        ok = len(value) <= MAX_LENGTH
    elif field == "query-string":
        ok = all(len(p.get(k) or "") <= MAX_LENGTH for p in (cond.get("QueryStringConfig") or {}).get("Values") or []
                 for k in ("Key", "Value"))
    else:
        try:
            ipaddress.ip_network(value, strict=False)
            ok = "/" in value
        except ValueError:
            ok = False
    if not ok:
        raise invalid(f"The condition value '{value}' is not valid for the '{field}' condition")


def check(conditions: list[dict]) -> None:
    seen, values, wildcards = set(), 0, 0
    for cond in conditions:
        field = cond["Field"]
        if field in _ONCE:
            if field in seen:
                raise invalid(f"A rule can only have one '{field}' condition")
            seen.add(field)
        if field == "http-header":
            name = (cond.get("HttpHeaderConfig") or {}).get("HttpHeaderName") or ""
            if not _HEADER.match(name):
                raise invalid(f"The HTTP header name '{name}' is not valid")
        given = _values(cond)
        if not given:
            raise invalid(f"A '{field}' condition must have at least one value")
        for value in given:
            _check_value(field, value, cond)
        values += len(given)
        if field not in ("source-ip", "http-request-method"):
            wildcards += sum(v.count("*") + v.count("?") for v in given)
    if values > MAX_VALUES:
        raise invalid(f"A rule can only have '{MAX_VALUES}' condition values")
    if wildcards > MAX_WILDCARDS:
        raise invalid(f"A rule can only have '{MAX_WILDCARDS}' wildcards")
