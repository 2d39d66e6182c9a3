"""Condition operators, by IAM's rules.

* Every key of a Condition block must hold (AND); any of a key's values may match (OR).
* Keys compare case-insensitively; values as the operator says (String* case-sensitive,
  ...IgnoreCase and Bool not; Arn* per ARN part).
* A key absent from the request: the condition is false, except for negated operators
  (StringNotEquals, ArnNotLike, NotIpAddress ...), which are true, ``...IfExists``, which is
  true, ForAllValues, which is true, and Null, which tests exactly that.
* ForAnyValue / ForAllValues compare each value of a multivalued key against the policy's
  values: at least one, or every one, must match.
"""

from __future__ import annotations

import base64
import datetime as _dt
import ipaddress
from functools import lru_cache
from typing import Callable

from .context import Context
from .document import Condition
from .matching import arn_like, glob_match, substitute


def _string_equals(ctx: str, pol: str) -> bool:
    return ctx == pol


def _string_ignore_case(ctx: str, pol: str) -> bool:
    return ctx.casefold() == pol.casefold()


def _string_like(ctx: str, pol: str) -> bool:
    return glob_match(pol, ctx)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric(compare: Callable[[float, float], bool]):
    def match(ctx: str, pol: str) -> bool:
        a, b = _number(ctx), _number(pol)
        return a is not None and b is not None and compare(a, b)
    return match


def parse_date(text: str) -> float | None:
    """ISO 8601 (with or without time and zone) or epoch seconds, as a timestamp."""
    text = text.strip()
    number = _number(text)
    if number is not None:
        return number
    try:
        when = _dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.timestamp()


def _date(compare: Callable[[float, float], bool]):
    def match(ctx: str, pol: str) -> bool:
        a, b = parse_date(ctx), parse_date(pol)
        return a is not None and b is not None and compare(a, b)
    return match


def _bool(ctx: str, pol: str) -> bool:
    return ctx.lower() == pol.lower()


def _binary(ctx: str, pol: str) -> bool:
    try:
        return base64.b64decode(ctx) == base64.b64decode(pol)
    except ValueError:
        return False


def _arn(ctx: str, pol: str) -> bool:
    return arn_like(pol, ctx)


@lru_cache(maxsize=4096)
def _network(text: str):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _ip(ctx: str, pol: str) -> bool:
    address, network = _address(ctx), _network(pol)
    return address is not None and network is not None and address.version == network.version \
        and address in network


# operator -> (match of one context value against one policy value, negated, policy values take variables)
OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool, bool]] = {
    "StringEquals": (_string_equals, False, True),
    "StringNotEquals": (_string_equals, True, True),
    "StringEqualsIgnoreCase": (_string_ignore_case, False, True),
    "StringNotEqualsIgnoreCase": (_string_ignore_case, True, True),
    "StringLike": (_string_like, False, True),
    "StringNotLike": (_string_like, True, True),
    "NumericEquals": (_numeric(lambda a, b: a == b), False, False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True, False),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False, False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False, False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False, False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False, False),
    "DateEquals": (_date(lambda a, b: a == b), False, False),
    "DateNotEquals": (_date(lambda a, b: a == b), True, False),
    "DateLessThan": (_date(lambda a, b: a < b), False, False),
    "DateLessThanEquals": (_date(lambda a, b: a <= b), False, False),
    "DateGreaterThan": (_date(lambda a, b: a > b), False, False),
    "DateGreaterThanEquals": (_date(lambda a, b: a >= b), False, False),
    "Bool": (_bool, False, True),
    "BinaryEquals": (_binary, False, False),
    "IpAddress": (_ip, False, False),
    "NotIpAddress": (_ip, True, False),
    "ArnEquals": (_arn, False, True),
    "ArnLike": (_arn, False, True),
    "ArnNotEquals": (_arn, True, True),
    "ArnNotLike": (_arn, True, True),
}
_LOWER = {name.lower(): name for name in OPERATORS}


class UnknownOperator(ValueError):
    pass


def split_operator(operator: str) -> tuple[str | None, str, bool]:
    """(set qualifier or None, base operator, if-exists) of ``ForAnyValue:StringLikeIfExists``."""
    qualifier = None
    if ":" in operator:
        qualifier, _, operator = operator.partition(":")
        if qualifier.lower() not in ("foranyvalue", "forallvalues"):
            raise UnknownOperator(qualifier)
        qualifier = "ForAnyValue" if qualifier.lower() == "foranyvalue" else "ForAllValues"
    if_exists = operator.lower().endswith("ifexists") and operator.lower() != "null"
    base = operator[:-8] if if_exists else operator
    if base.lower() == "null":
        return qualifier, "Null", False
    if base.lower() not in _LOWER:
        raise UnknownOperator(operator)
    return qualifier, _LOWER[base.lower()], if_exists


def holds(condition: Condition, context: Context, variables: bool, missing: set[str]) -> bool:
    """Whether one key of a Condition block holds; keys the request lacks are added to ``missing``."""
    try:
        qualifier, base, if_exists = split_operator(condition.operator)
    except UnknownOperator:
        return False  # IAM refuses such documents; one that slipped through grants nothing
    values = context.get(condition.key)
    if base == "Null":
        want_absent = any(v.lower() == "true" for v in condition.values)
        return (not values) == want_absent
    match, negated, takes_variables = OPERATORS[base]
    if not values:
        if if_exists or qualifier == "ForAllValues":
            return True
        if negated:
            return True
        missing.add(condition.key)
        return False
    policy_values = []
    for v in condition.values:
        filled = substitute(v, context, variables and takes_variables)
        if filled is not None:
            policy_values.append(filled)

    def any_policy(value: str) -> bool:
        return any(match(value, p) for p in policy_values)

    if qualifier == "ForAllValues":
        return all((not any_policy(v)) if negated else any_policy(v) for v in values)
    if qualifier == "ForAnyValue":
        return any((not any_policy(v)) if negated else any_policy(v) for v in values)
    hit = any(any_policy(v) for v in values)
    return not hit if negated else hit


def all_hold(conditions, context: Context, variables: bool, missing: set[str]) -> bool:
    ok = True
    for condition in conditions:
        # Every key is checked, not just up to the first failure, so the simulator can report
        # every context value the statement needed.
        if not holds(condition, context, variables, missing):
            ok = False
    return ok
