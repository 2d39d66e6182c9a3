"""Wildcards, ARNs, principals and policy variables: how a statement's elements match a request.

* Actions match case-insensitively; ``*`` and ``?`` are wildcards.
* Resources match as ARNs (as ArnLike does): each of the six colon-separated parts on its
  own, case-sensitively, wildcards allowed in any part; a bare ``*`` matches everything.
* Policy variables (``${aws:username}``, ``${aws:PrincipalTag/team}``, ``${s3:prefix, 'default'}``
  and the escapes ``${*}``, ``${?}``, ``${$}``) are substituted from the request context in
  2012-10-17 documents; a variable with no value and no default makes that value match nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .context import Context

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
# Placeholders for substituted escapes, so a literal "*" from ${*} is not a wildcard.
_LITERAL = {"*": "\x00", "?": "\x01"}


@lru_cache(maxsize=8192)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern:
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "\x00":
            out.append(re.escape("*"))
        elif ch == "\x01":
            out.append(re.escape("?"))
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def substitute(text: str, context: Context, enabled: bool = True) -> str | None:
    """``text`` with its policy variables filled in; None if one has no value (and no default)."""
    if not enabled or "${" not in text:
        return text
    missing = False

    def fill(m: re.Match) -> str:
        nonlocal missing
        body = m.group(1).strip()
        if body in _ESCAPES:
            return _LITERAL.get(body, body)
        key, default = body, None
        if "," in body:
            key, _, rest = body.partition(",")
            key, rest = key.strip(), rest.strip()
            if len(rest) >= 2 and rest[0] == rest[-1] == "'":
                default = rest[1:-1]
        values = context.get(key)
        if values:
            return values[0]
        if default is not None:
            return default
        missing = True
        return ""

    out = _VARIABLE.sub(fill, text)
    return None if missing else out


def action_matches(patterns: tuple[str, ...], action: str) -> bool:
    return any(p == "*" or glob_match(p, action, ignore_case=True) for p in patterns)


def arn_like(pattern: str, arn: str) -> bool:
    """ArnLike: the six parts of the ARN compared one by one, wildcards allowed in each."""
    if pattern == "*":
        return True
    p_parts = pattern.split(":", 5)
    a_parts = arn.split(":", 5)
    if len(p_parts) != 6 or len(a_parts) != 6:
        return glob_match(pattern, arn)
    return all(glob_match(p, a) for p, a in zip(p_parts, a_parts))


def resource_matches(patterns: tuple[str, ...], resource: str, context: Context, variables: bool) -> bool:
    for pattern in patterns:
        filled = substitute(pattern, context, variables)
        if filled is None:
            continue
        if resource == "*":
            # An action without a resource type matches only the wildcard resource.
            if filled == "*":
                return True
            continue
        if arn_like(filled, resource):
            return True
    return False


# -- principals ------------------------------------------------------------------------------------------

DIRECT, ROLE, ACCOUNT = "direct", "role", "account"


def principal_match(principal: dict, caller) -> str | None:
    """How a Principal element names the caller: DIRECT (its own ARN, or everyone), ROLE (the role
    behind an assumed-role session), ACCOUNT (its account), or None when it does not name it.

    The strength matters within one account: a resource policy that names the caller directly
    grants on its own; one that names the account delegates to the account's identity policies.
    """
    best = None
    for kind, values in principal.items():
        for value in values:
            got = _one(kind, value, caller)
            if got == DIRECT:
                return DIRECT
            if got == ROLE or (got == ACCOUNT and best is None):
                best = got
    return best


def _one(kind: str, value: str, caller) -> str | None:
    if kind == "*":
        return DIRECT
    if kind == "Service":
        return DIRECT if caller.kind == "service" and caller.service == value else None
    if kind == "Federated":
        return DIRECT if caller.arn == value else None
    if kind != "AWS":
        return None
    if value == "*":
        return DIRECT
    if caller.kind == "service":
        return None
    if value == caller.account or value == f"arn:aws:iam::{caller.account}:root":
        return DIRECT if caller.kind == "root" else ACCOUNT
    if value == caller.arn:
        return DIRECT
    if caller.role_arn and value == caller.role_arn:
        return ROLE
    return None
