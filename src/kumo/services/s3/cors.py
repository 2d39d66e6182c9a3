"""CORS: S3's checks on PutBucketCors, and which rule answers a request from a browser.

Pure logic.  S3 takes the first rule (in order) whose AllowedOrigins match the ``Origin``, whose
AllowedMethods hold the method (the preflight's ``Access-Control-Request-Method``), and whose
AllowedHeaders match every header the preflight names.  An AllowedOrigin or AllowedHeader may hold one
``*``, matching any run of characters; headers compare case-insensitively, origins exactly.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ...aws.errors import AwsError

METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
MAX_RULES = 100
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
               "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
               "whitelisted by the resource's CORS spec.")


def check(config: dict) -> list[dict]:
    """The rules of a CORSConfiguration, or AwsError as S3 answers PutBucketCors."""
    rules = list((config or {}).get("CORSRules") or [])
    if not rules:
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                       "published schema", status=400)
    if len(rules) > MAX_RULES:
        raise AwsError("InvalidRequest", f"The number of CORS rules should not exceed allowed limit of {MAX_RULES} "
                       "rules.", status=400)
    for rule in rules:
        for method in rule.get("AllowedMethods") or []:
            if method not in METHODS:
                raise AwsError("InvalidRequest", f"Found unsupported HTTP method in CORS config. Unsupported method "
                               f"is {method}", status=400)
        for origin in rule.get("AllowedOrigins") or []:
            if origin.count("*") > 1:
                raise AwsError("InvalidRequest", f'AllowedOrigin "{origin}" can not have more than one wildcard.',
                               status=400)
        for header in rule.get("AllowedHeaders") or []:
            if header.count("*") > 1:
                raise AwsError("InvalidRequest", f'AllowedHeader "{header}" can not have more than one wildcard.',
                               status=400)
        if not rule.get("AllowedMethods") or not rule.get("AllowedOrigins"):
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", status=400)
    return rules


@lru_cache(maxsize=512)
def _pattern(text: str, fold: bool) -> re.Pattern:
    return re.compile("^" + ".*".join(re.escape(part) for part in text.split("*")) + "$",
                      re.IGNORECASE if fold else 0)


def _origin_matches(allowed: str, origin: str) -> bool:
    return allowed == "*" or bool(_pattern(allowed, False).match(origin))


def _header_matches(allowed: list[str], header: str) -> bool:
    return any(_pattern(a, True).match(header) for a in allowed)


def request_headers(value: str | None) -> list[str]:
    """The header names an Access-Control-Request-Headers value lists, lower-cased."""
    return [h.strip().lower() for h in (value or "").split(",") if h.strip()]


def find_rule(rules: list[dict], origin: str, method: str, headers: list[str] = ()) -> dict | None:
    for rule in rules:
        if method not in (rule.get("AllowedMethods") or []):
            continue
        if not any(_origin_matches(o, origin) for o in rule.get("AllowedOrigins") or []):
            continue
        allowed = rule.get("AllowedHeaders") or []
        if all(_header_matches(allowed, h) for h in headers):
            return rule
    return None


def _allow_origin(rule: dict, origin: str) -> tuple[str, bool]:
    """(Access-Control-Allow-Origin, whether credentials are allowed): a rule allowing every origin answers
    ``*`` and no credentials, as S3 does; any other echoes the origin."""
    if "*" in (rule.get("AllowedOrigins") or []):
        return "*", False
    return origin, True


def preflight_headers(rule: dict, origin: str, method: str, headers: list[str]) -> dict[str, str]:
    """The headers of S3's 200 answer to a preflight the rule allows."""
    allow_origin, credentials = _allow_origin(rule, origin)
    out = {"Access-Control-Allow-Origin": allow_origin,
           "Access-Control-Allow-Methods": ", ".join(rule.get("AllowedMethods") or []),
           "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"}
    if credentials:
        out["Access-Control-Allow-Credentials"] = "true"
    if headers:
        out["Access-Control-Allow-Headers"] = ", ".join(headers)
    if rule.get("ExposeHeaders"):
        out["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeaders"])
    if rule.get("MaxAgeSeconds") is not None:
        out["Access-Control-Max-Age"] = str(rule["MaxAgeSeconds"])
    return out


def actual_headers(rules: list[dict], origin: str | None, method: str) -> dict[str, str]:
    """The CORS headers S3 adds to an actual (non-preflight) request's answer; none when no rule matches."""
    if not origin or not rules:
        return {}
    rule = find_rule(rules, origin, method)
    if rule is None:
        return {}
    allow_origin, credentials = _allow_origin(rule, origin)
    out = {"Access-Control-Allow-Origin": allow_origin,
           "Access-Control-Allow-Methods": ", ".join(rule.get("AllowedMethods") or []),
           "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"}
    if credentials:
        out["Access-Control-Allow-Credentials"] = "true"
    if rule.get("ExposeHeaders"):
        out["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeaders"])
    if rule.get("MaxAgeSeconds") is not None:
        out["Access-Control-Max-Age"] = str(rule["MaxAgeSeconds"])
    return out


def preflight(rules: list[dict] | None, origin: str | None, method: str | None,
              headers_value: str | None) -> tuple[int, dict[str, str], tuple[str, str] | None]:
    """S3's answer to an OPTIONS preflight: (status, headers, (error code, message) or None)."""
    if not origin:
        return 400, {}, ("BadRequest", "Insufficient information. Origin request header needed.")
    if not method:
        return 400, {}, ("BadRequest", "Invalid Access-Control-Request-Method: null")
    if method not in METHODS:
        return 400, {}, ("BadRequest", f"Invalid Access-Control-Request-Method: {method}")
    if not rules:
        return 403, {}, ("AccessForbidden", NOT_ENABLED)
    headers = request_headers(headers_value)
    rule = find_rule(rules, origin, method, headers)
    if rule is None:
        return 403, {}, ("AccessForbidden", NOT_ALLOWED)
    return 200, preflight_headers(rule, origin, method, headers), None
